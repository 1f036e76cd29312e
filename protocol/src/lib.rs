//! The wire types of `sentimentd`'s HTTP API, shared by the daemon (which serves them)
//! and the operator console (which reads them), so that the two cannot drift apart: a
//! renamed field is a compile error on both sides, not a silent zero.
//!
//! Every type is `Serialize + Deserialize`. Fields that a daemon of an earlier
//! protocol version did not send are `#[serde(default)]`, so a console talks to an
//! older daemon with a blank column rather than a failed screen; nothing else is
//! defaulted. The `openapi` feature adds the schema derives the daemon's OpenAPI
//! document is built from; the console builds without it.
//!
//! The crate holds data and a few pure helpers only: no I/O, no HTTP, no model.

mod dashboard;
mod error;
mod events;
mod feedback;
mod label;
mod lifecycle;
mod operator;
mod predict;
mod service;

pub use dashboard::{
    ConfidenceBin, ConfidenceHistogram, DashboardModel, DashboardResponse, FeedbackBucket,
    FeedbackVolume,
};
pub use error::{ErrorBody, ErrorDetail};
pub use events::{Event, PredictionEvent};
pub use feedback::{FeedbackRequest, FeedbackResponse, FeedbackView};
pub use label::Label;
pub use lifecycle::{
    Alert, CurrentVersion, PromoteRequest, RetrainReport, RetrainStarted, RetrainStatus,
    VersionRequest,
};
pub use operator::{
    ModelVersionView, PredictionView, QueueCounts, QueueDecision, QueueItemView, QueueResponse,
    RouteEntry, RoutesResponse,
};
pub use predict::{
    BatchItem, BatchRequest, BatchResponse, ExplainResponse, ExplanationBody, NgramContribution,
    PredictRequest, PredictResponse, Probabilities,
};
pub use service::{
    HealthResponse, LatencySummary, LiveAccuracy, MetricsResponse, ModelInfoResponse, TrainingData,
};

/// The version of this protocol, sent by `GET /health` as `protocol_version`. It goes up
/// when a change would break a reader of the previous version (a field removed, renamed
/// or retyped); added fields do not change it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The `pattern` of a text field (JSON Schema patterns match anywhere in the string):
/// at least one character that is neither whitespace nor a control character.
pub const TEXT_PATTERN: &str = r"[^\s\x00-\x1f\x7f-\x9f]";
