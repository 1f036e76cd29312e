//! Data for the sentiment service: everything it keeps or reads, none of the maths
//! (that is `sentiment-core`).
//!
//! - Datasets: reading labelled text from TSV, CSV, JSON Lines and Parquet (the
//!   Hugging Face Hub layout), writing it back, locating the train/validation/test
//!   files of a dataset directory, stratified splitting and de-duplication.
//! - [`store`]: the SQLite store of predictions, feedback, the review queue and
//!   feedback shards.
//! - [`registry`]: the model registry (versions, records, the current pointer).
//! - [`hub`]: the Hugging Face Hub client (models, feedback shards, datasets), and a
//!   Hub-compatible test server behind the `test-support` feature.

mod dedupe;
mod error;
mod example;
mod format;
pub mod hub;
mod quiet_panic;
mod read;
pub mod registry;
mod split;
mod splits;
pub mod store;
mod write;

pub use dedupe::{dedupe, DedupeReport};
pub use error::DataError;
pub use example::Example;
pub use format::Format;
pub use read::{read_examples, read_many, Dataset, MalformedPolicy, MalformedRow, ReadOptions};
pub use split::stratified_split;
pub use splits::{locate_splits, SplitFiles};
pub use write::{escape_formula, write_examples};

/// Re-exported so that users of this crate can name labels without depending on
/// `sentiment-core` directly.
pub use sentiment_core::Label;

#[cfg(test)]
pub(crate) mod test_support;
