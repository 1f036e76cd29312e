//! Request and response bodies of the public API, with their OpenAPI schemas.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A sentiment label. Requests may also use `0` (negative) and `1` (positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiLabel {
    Negative,
    Positive,
}

impl From<sentiment_core::Label> for ApiLabel {
    fn from(label: sentiment_core::Label) -> ApiLabel {
        match label {
            sentiment_core::Label::Negative => ApiLabel::Negative,
            sentiment_core::Label::Positive => ApiLabel::Positive,
        }
    }
}

impl From<ApiLabel> for sentiment_core::Label {
    fn from(label: ApiLabel) -> sentiment_core::Label {
        match label {
            ApiLabel::Negative => sentiment_core::Label::Negative,
            ApiLabel::Positive => sentiment_core::Label::Positive,
        }
    }
}

impl<'de> Deserialize<'de> for ApiLabel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        let invalid = |shown: String| {
            serde::de::Error::custom(format!(
                "invalid label {shown}: use \"positive\", \"negative\", 1 or 0"
            ))
        };
        match Raw::deserialize(deserializer)
            .map_err(|_| invalid("(not a string or integer)".into()))?
        {
            Raw::Text(text) => text
                .parse::<sentiment_core::Label>()
                .map(ApiLabel::from)
                .map_err(|_| invalid(format!("{text:?}"))),
            Raw::Number(n) => sentiment_core::Label::from_index(n)
                .map(ApiLabel::from)
                .ok_or_else(|| invalid(n.to_string())),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// The text to classify (UTF-8, not empty, at most `limits.max_text_bytes` bytes).
    pub text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictQuery {
    /// Add the n-grams that pushed the prediction towards each class.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Probabilities {
    pub negative: f64,
    pub positive: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NgramContribution {
    pub ngram: String,
    /// The n-gram's TF-IDF value in this text.
    pub tfidf: f64,
    /// The model's weight for it.
    pub weight: f64,
    /// tfidf x weight: its push on the log-odds of positive.
    pub contribution: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationBody {
    pub towards_positive: Vec<NgramContribution>,
    pub towards_negative: Vec<NgramContribution>,
    /// The model's bias (log-odds before any n-gram).
    pub bias: f64,
    /// How many of the text's n-grams the model knows.
    pub known_ngrams: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictResponse {
    /// Pass it to /feedback as `prediction_id` to correct this prediction.
    pub prediction_id: String,
    pub label: ApiLabel,
    /// The probability of the predicted label.
    pub confidence: f64,
    pub probabilities: Probabilities,
    /// Below the low-confidence threshold, or about a text the model knows too few
    /// n-grams of: queued for an operator's label.
    pub low_confidence: bool,
    /// Why it is low-confidence: `below_threshold`, or `unknown_text` (too few known
    /// n-grams; the confidence is then 0.5). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_confidence_reason: Option<String>,
    pub model_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationBody>,
}

/// An unrecorded prediction with its explanation (operators only).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainResponse {
    pub label: ApiLabel,
    pub confidence: f64,
    pub probabilities: Probabilities,
    pub model_version: String,
    pub explanation: ExplanationBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Texts to classify (at most `limits.max_batch`).
    pub texts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
    pub label: ApiLabel,
    pub confidence: f64,
    pub probabilities: Probabilities,
    pub low_confidence: bool,
    /// `below_threshold` or `unknown_text`, as for /predict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_confidence_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub model_version: String,
    /// One per text, in order.
    pub predictions: Vec<BatchItem>,
}

/// A correction: either the plan's full form (`text`, `predicted_label`,
/// `correct_label`, `confidence`) or `prediction_id` + `correct_label`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub text: Option<String>,
    pub predicted_label: Option<ApiLabel>,
    pub correct_label: ApiLabel,
    /// The confidence the prediction had, between 0 and 1.
    pub confidence: Option<f64>,
    /// The id /predict returned; replaces `text`, `predicted_label` and `confidence`.
    pub prediction_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when ready, else `degraded`.
    pub status: String,
    pub live: bool,
    pub ready: bool,
    pub model_loaded: bool,
    pub model_version: Option<String>,
    pub store_writable: bool,
    /// Why the daemon is not ready, if it is not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub uptime_seconds: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingData {
    pub examples: u64,
    pub positive: u64,
    pub negative: u64,
    pub features: u64,
    /// SHA-256 of the training texts and labels.
    pub data_sha256: String,
    /// Rows by origin (base, feedback).
    pub rows: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelInfoResponse {
    pub version: String,
    pub created_unix_ms: u64,
    /// RFC 3339.
    pub created: String,
    pub status: String,
    pub decision: String,
    pub parent: Option<String>,
    pub trained_on: TrainingData,
    /// Metrics by evaluation set (accuracy, per-class precision/recall/F1, confusion,
    /// log loss, expected calibration error).
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    /// Hyper-parameters.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    #[schema(value_type = Object)]
    pub notes: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LatencySummary {
    pub count: u64,
    /// Upper bounds of the histogram buckets holding each percentile, in ms.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsResponse {
    pub total_predictions: u64,
    pub total_feedback: u64,
    pub low_confidence_count: u64,
    pub model_version: String,
    /// Accuracy of the served model on its base test split.
    pub test_accuracy: Option<f64>,
    /// Mean confidence of the most recent predictions.
    pub average_confidence: Option<f64>,
    pub queue_pending: u64,
    pub rate_limited: u64,
    /// Degradation alerts not yet acknowledged (see /admin/alerts).
    pub alerts_unacknowledged: usize,
    pub latency: BTreeMap<String, LatencySummary>,
    pub uptime_seconds: f64,
    /// Live accuracy of the served version on operator-labelled audit samples, with
    /// its 95% interval; null until one of its predictions is audited.
    pub live_accuracy: Option<crate::live_accuracy::LiveAccuracy>,
    /// Live accuracy of every version that served an audited prediction.
    pub live_accuracy_by_version: Vec<crate::live_accuracy::LiveAccuracy>,
    /// Predictions drawn at random into the review queue as audit items.
    pub audit_sampled: u64,
    /// Feedback rows left out of retrains by the per-sender share cap.
    pub feedback_capped: u64,
    /// Feedback rows held for an operator's review.
    pub feedback_held: u64,
    /// Accepted feedback waiting for the next retrain, and when it is due (Unix ms).
    pub feedback_waiting: usize,
    pub retrain_due_unix_ms: Option<i64>,
}
