//! `POST /feedback`, and stored feedback as `GET /admin/feedback` lists it.

use crate::Label;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A correction: either the full form (`text`, `predicted_label`,
/// `correct_label`, `confidence`) or `prediction_id` + `correct_label`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The text that was classified (cleaned up as in /predict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, pattern = r"[^\s\x00-\x1f\x7f-\x9f]")
    )]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_label: Option<Label>,
    pub correct_label: Label,
    /// The confidence the prediction had, between 0 and 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub confidence: Option<f64>,
    /// The id /predict returned; replaces `text`, `predicted_label` and `confidence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub prediction_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedbackResponse {
    /// The stored feedback's id.
    pub id: i64,
    /// `accepted` (used by the next retrain) or `held` (awaiting an operator).
    pub status: String,
    /// When the retrain that learns this feedback is due (Unix milliseconds), when
    /// one is: accepted feedback with learning from feedback on.
    pub retrain_due_unix_ms: Option<i64>,
    /// When this feedback takes effect, in words.
    pub learning: String,
}

/// A stored correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedbackView {
    pub id: i64,
    pub created_unix_ms: i64,
    pub text: String,
    pub predicted_label: Option<Label>,
    pub correct_label: Label,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    /// Who sent it: `socket`, `admin`, `api` or `anonymous`.
    pub source: String,
    pub api_key: Option<String>,
    pub model_version: Option<String>,
    /// accepted, held or rejected.
    pub status: String,
}
