//! Routes, limits, access and validation, in-process: `sentimentd::app` and
//! `sentimentd::socket_app` called with `tower::ServiceExt::oneshot` on the state
//! `serve` builds, over a data directory holding a model trained on a few inline
//! texts (see `common::app`). No process, socket or SST-2: what needs them (crashes,
//! full disks, load, raw bytes on sockets, the Unix socket itself, the browser, the
//! commands, accuracy and learning) stays in the other test files.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod dashboard;
mod limits;
mod pages;
mod routes;
mod serving;
mod validation;
