//! The Hugging Face Hub: where base datasets come from and, when one machine is not
//! enough, where model versions and feedback live.
//!
//! `hf-hub` does the talking (retries with backoff, the content-addressed cache,
//! commits); this module adds our configuration ([`HubConfig`]), errors an operator can
//! act on ([`HubError`]) and the few operations the service needs ([`HubClient`]).
//! Tests point `HF_ENDPOINT` at [`test_server::TestHub`], a local Hub-compatible server.

mod base_data;
mod client;
mod commit;
mod config;
mod error;
mod feedback;
mod models;
#[cfg(any(test, feature = "test-support"))]
pub mod test_server;

pub use base_data::{BaseDataset, BASE_DATA_PATTERNS};
pub use client::HubClient;
pub use config::{HubConfig, DEFAULT_BASE_DATASET, DEFAULT_ENDPOINT};
pub use error::HubError;
pub use feedback::{
    merge_feedback, parse_shard, shard_csv, shard_path, validate_node_id, SharedFeedback,
    FEEDBACK_DIR, SHARD_COLUMNS, SHARD_PATTERN,
};
pub use models::{Followed, PushReport, RemoteIndex, RemoteVersion, INDEX_FILE};

#[cfg(test)]
mod tests;
