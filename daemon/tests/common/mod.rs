//! The harness of the integration tests:
//!
//! - [`daemon`]: the real `sentimentd serve` as a process, and the one-shot commands;
//! - [`http`]: a small HTTP/1.1 client over TCP or the Unix socket;
//! - [`fixtures`]: data (the shared SST-2 directory, a small base dataset, an inline
//!   model, keys and config files);
//! - [`learning`]: feedback that teaches a retrain, feedback that harms it;
//! - [`app`]: the service in-process (`sentimentd::app` called with `oneshot`), for
//!   tests of routes, limits and validation that need no process.

#![allow(dead_code, unused_imports)]

pub mod app;
pub mod daemon;
pub mod fixtures;
pub mod http;
pub mod learning;

pub use daemon::*;
pub use fixtures::*;
pub use http::*;
pub use learning::*;
