//! `GET /metrics/dashboard`: everything the browser dashboard draws, in one read, so
//! that its figures are one consistent snapshot and match `/metrics` exactly (the
//! `metrics` field *is* what `/metrics` answers at that moment).

use crate::{Alert, MetricsResponse, ModelVersionView, PredictionView};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DashboardResponse {
    /// When this snapshot was taken (Unix ms); ages are relative to it.
    pub generated_unix_ms: i64,
    /// `operator` (the socket or an admin key: sees texts) or `user` (aggregates only).
    pub view: String,
    /// Exactly what `GET /metrics` answers.
    pub metrics: MetricsResponse,
    /// The served version and when it was trained.
    pub model: DashboardModel,
    /// Every version in the registry, oldest first, as `/admin/models` lists them:
    /// accuracy by evaluation set (`base_test`, `feedback_crossfit`, `audit`), live
    /// accuracy with its interval, status and the gate's decision.
    pub versions: Vec<ModelVersionView>,
    /// Feedback received over time.
    pub feedback_volume: FeedbackVolume,
    /// How confident the recent predictions were (the same predictions as
    /// `metrics.average_confidence`).
    pub confidence: ConfidenceHistogram,
    /// Recent low-confidence predictions, newest first. Operators only: null for a
    /// user's view, since they are other users' texts.
    pub low_confidence: Option<Vec<PredictionView>>,
    /// Every degradation alert, oldest first.
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DashboardModel {
    pub version: String,
    pub created_unix_ms: u64,
    /// The retrain schedule (cron), if any.
    pub schedule: Option<String>,
}

/// Feedback rows by arrival time, in equal buckets covering every row (at most
/// [`FeedbackVolume::MAX_BUCKETS`] buckets, the oldest dropped beyond that).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedbackVolume {
    /// The width of a bucket, in ms (a minute, five, fifteen, an hour, six, a day).
    pub bucket_ms: i64,
    /// Oldest first; buckets with no feedback are left out.
    pub buckets: Vec<FeedbackBucket>,
}

impl FeedbackVolume {
    pub const MAX_BUCKETS: i64 = 60;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FeedbackBucket {
    pub start_unix_ms: i64,
    /// From users: the label differs from the prediction.
    pub corrections: u64,
    /// From users: the label agrees with the prediction.
    pub confirmations: u64,
    /// From users, with no prediction to compare.
    pub labels: u64,
    /// From operators (a queue label or accept).
    pub operator_labels: u64,
}

impl FeedbackBucket {
    pub fn total(&self) -> u64 {
        self.corrections + self.confirmations + self.labels + self.operator_labels
    }
}

/// Confidence of the recent predictions in equal bins from 0.5 to 1.0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfidenceHistogram {
    /// Below it a prediction is low-confidence.
    pub threshold: f64,
    /// Predictions counted (the most recent ones the daemon keeps in memory).
    pub predictions: u64,
    /// Their mean confidence: `metrics.average_confidence`.
    pub mean: Option<f64>,
    pub bins: Vec<ConfidenceBin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfidenceBin {
    /// Inclusive lower edge.
    pub lower: f64,
    /// Exclusive upper edge (inclusive for the last bin, 1.0).
    pub upper: f64,
    pub count: u64,
}
