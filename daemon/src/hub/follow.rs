//! Replicas follow the Hub: every `hub.poll_interval` (and on `POST /admin/hub/poll`)
//! the daemon reads the model repository's `registry.json`; when its current version
//! differs from the one served here, that version is downloaded, checked (the artifact
//! must load: signature and SHA-256), added to the local registry under the Hub's
//! number, made current and hot-swapped in. A Hub error or a bad artifact is logged
//! and the daemon keeps serving what it serves; the next poll tries again.

use serde::Serialize;
use utoipa::ToSchema;

/// How a poll of the model repository ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollReport {
    /// switched, unchanged, no_current or failed.
    pub outcome: String,
    /// The version served after the poll.
    pub version: String,
    /// What happened, in words.
    pub message: String,
    pub at_unix_ms: i64,
}
