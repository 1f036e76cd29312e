//! Health, the served model, and the metrics.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HealthResponse {
    /// `ok` when ready, else `degraded`.
    pub status: String,
    pub live: bool,
    pub ready: bool,
    pub model_loaded: bool,
    pub model_version: Option<String>,
    pub store_writable: bool,
    /// Why the daemon is not ready, if it is not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub uptime_seconds: f64,
    /// The wire protocol this daemon speaks ([`crate::PROTOCOL_VERSION`]); absent (0)
    /// from daemons before it was sent.
    #[serde(default)]
    pub protocol_version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metrics: serde_json::Value,
    /// Hyper-parameters.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub config: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub notes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LatencySummary {
    pub count: u64,
    /// Upper bounds of the histogram buckets holding each percentile, in ms.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// One version's live accuracy: its share of right answers on operator-labelled audit
/// samples of the predictions it served, with a 95% Wilson score interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LiveAccuracy {
    pub version: String,
    /// Audit items labelled by an operator.
    pub audited: u64,
    /// Of them, predicted right.
    pub correct: u64,
    pub accuracy: f64,
    /// 95% Wilson score interval.
    pub lower: f64,
    pub upper: f64,
}

impl LiveAccuracy {
    /// `82.5% 68-91%`: the estimate and its 95% interval, short enough for a column.
    pub fn describe(&self) -> String {
        format!(
            "{:.1}% {:.0}-{:.0}%",
            self.accuracy * 100.0,
            self.lower * 100.0,
            self.upper * 100.0
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
    #[serde(default)]
    pub live_accuracy: Option<LiveAccuracy>,
    /// Live accuracy of every version that served an audited prediction.
    #[serde(default)]
    pub live_accuracy_by_version: Vec<LiveAccuracy>,
    /// Predictions drawn at random into the review queue as audit items.
    #[serde(default)]
    pub audit_sampled: u64,
    /// Feedback rows left out of retrains by the per-sender share cap.
    #[serde(default)]
    pub feedback_capped: u64,
    /// Feedback rows held for an operator's review.
    #[serde(default)]
    pub feedback_held: u64,
    /// Accepted feedback waiting for the next retrain, and when it is due (Unix ms).
    #[serde(default)]
    pub feedback_waiting: usize,
    #[serde(default)]
    pub retrain_due_unix_ms: Option<i64>,
}
