//! The daemon's wire types: the protocol crate, which the daemon serves from.
//!
//! The console talks only the public API (docs/ARCHITECTURE.md: it must not reach into
//! the daemon's internals), and reads it through the same types the daemon writes, so
//! a field renamed on one side fails to compile on the other. What the console can
//! live without from an older daemon is `#[serde(default)]` there.

pub use sentiment_protocol::*;
