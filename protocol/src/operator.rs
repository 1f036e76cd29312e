//! Operator routes (the socket, or an admin key on TCP): recent predictions, the
//! labelling queue, the model history and the route table.

use crate::{Label, LiveAccuracy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A stored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PredictionView {
    pub id: String,
    pub text: String,
    pub label: Label,
    pub confidence: f64,
    pub p_positive: f64,
    pub model_version: String,
    pub created_unix_ms: i64,
    pub low_confidence: bool,
    /// Who asked: `socket`, `admin`, `api` or `anonymous`.
    pub source: String,
}

/// An item awaiting (or past) an operator's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueueItemView {
    pub id: i64,
    /// low_confidence, correction or audit.
    pub kind: String,
    /// Why it is queued: below_threshold, unknown_text, audit (a random sample of live
    /// predictions) or correction.
    #[serde(default)]
    pub reason: Option<String>,
    pub text: String,
    pub predicted_label: Option<Label>,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    pub feedback_id: Option<i64>,
    pub model_version: Option<String>,
    pub created_unix_ms: i64,
    /// pending, skipped, labelled, accepted or rejected.
    pub state: String,
    pub label: Option<Label>,
    pub resolved_unix_ms: Option<i64>,
}

impl QueueItemView {
    /// Pending and skipped items still need an operator; the rest are resolved.
    pub fn is_open(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "skipped")
    }
}

/// How many queue items are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueueCounts {
    pub pending: u64,
    pub skipped: u64,
    pub labelled: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Open (pending or skipped) low-confidence items.
    pub open_low_confidence: u64,
    /// Open (pending or skipped) held corrections.
    pub open_corrections: u64,
    /// Open (pending or skipped) audit items.
    #[serde(default)]
    pub open_audit: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueueResponse {
    pub items: Vec<QueueItemView>,
    /// Items by state, over the whole queue.
    pub counts: QueueCounts,
}

/// What the operator decided about a queue item (`POST /admin/queue/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum QueueDecision {
    /// Give it a label. A low-confidence item's label becomes accepted feedback (an
    /// operator's label outranks any other feedback on the text); a held correction is
    /// accepted if the labels agree, else replaced by the operator's label; an audit
    /// item's label is kept for live accuracy and never trained on.
    Label { label: Label },
    /// "The prediction was right" for a low-confidence item (stored as feedback with
    /// the predicted label, ranked below an operator's label of the same text) or an
    /// audit item (its predicted label is its label); "the user is right" for a held
    /// correction.
    Accept {},
    /// Reject it: nothing from it is trained on (a held correction is rejected; an
    /// audit item is left out of live accuracy).
    Reject {},
    /// Decide later; it moves to the back of the queue.
    // (Struct variants, not unit ones: serde ignores unknown fields beside the tag of
    // a unit variant, and this body refuses them like every other.)
    Skip {},
}

impl QueueDecision {
    /// What was done, in words: `labelled positive`, `accepted`...
    pub fn describe(&self) -> String {
        match self {
            QueueDecision::Label { label } => format!("labelled {label}"),
            QueueDecision::Accept {} => "accepted".into(),
            QueueDecision::Reject {} => "rejected".into(),
            QueueDecision::Skip {} => "skipped".into(),
        }
    }
}

/// A model version in the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ModelVersionView {
    pub version: String,
    pub current: bool,
    /// candidate, promoted or rejected.
    pub status: String,
    pub created_unix_ms: u64,
    pub parent: Option<String>,
    /// Accuracy by evaluation set.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub accuracy: BTreeMap<String, f64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub training_rows: BTreeMap<String, u64>,
    pub decision: String,
    /// Accuracy on operator-labelled audit samples of the predictions this version
    /// served, with a 95% interval; null until one was audited.
    #[serde(default)]
    pub live_accuracy: Option<LiveAccuracy>,
}

impl ModelVersionView {
    /// Every training row, of every origin.
    pub fn total_rows(&self) -> u64 {
        self.training_rows.values().sum()
    }
}

/// One method on one path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RouteEntry {
    /// Upper case: GET, POST, ...
    pub method: String,
    /// As declared, with `{parameters}`.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoutesResponse {
    /// Every method and path the router serves (HEAD is implied by GET), sorted by path.
    pub routes: Vec<RouteEntry>,
}
