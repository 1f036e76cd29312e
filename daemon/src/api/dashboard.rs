//! `GET /metrics/dashboard`: what the browser dashboard (`GET /dashboard`) draws, in
//! one read. Its `metrics` are built by the same function as `GET /metrics`, and the
//! confidence histogram counts the same recent predictions whose mean that reports, so
//! the page's numbers match `/metrics` exactly. Who may see what follows the roles:
//! everyone who may read `/metrics` gets the aggregates; only operators (the socket or
//! an admin key) get the texts of recent low-confidence predictions, since those are
//! other users' texts.

use super::error::ApiError;
use super::types::*;
use crate::auth::Principal;
use crate::events::now_unix_ms;
use crate::state::SharedState;
use axum::extract::State;
use axum::{Extension, Json};

/// Bins of the confidence histogram, from 0.5 to 1.0.
const CONFIDENCE_BINS: usize = 10;
/// Recent low-confidence predictions listed (operators only).
const LOW_CONFIDENCE_SAMPLES: usize = 10;

/// Everything the dashboard shows: the metrics, every version's accuracy, feedback
/// volume over time, the confidence of recent predictions, recent low-confidence
/// samples (operators only) and the alerts.
#[utoipa::path(
    get, path = "/metrics/dashboard", tag = "service",
    responses((status = 200, description = "One snapshot of what the dashboard shows", body = DashboardResponse))
)]
pub async fn dashboard(
    State(state): State<SharedState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<DashboardResponse>, ApiError> {
    let operator = principal.is_operator();
    let now = now_unix_ms();
    let mut metrics = super::info::metrics_response(&state).await?;
    // The live accuracy the metrics just read, not a second read: one snapshot.
    let versions =
        super::operator::model_versions(&state, metrics.live_accuracy_by_version.clone()).await?;
    let store = state.store.clone();
    let (bucket_ms, buckets) = tokio::task::spawn_blocking(move || {
        store.feedback_volume(now, FeedbackVolume::MAX_BUCKETS)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let recent = state
        .recent
        .confidence_snapshot(CONFIDENCE_BINS, LOW_CONFIDENCE_SAMPLES);
    // The mean of this very snapshot, so that it and the histogram agree.
    metrics.average_confidence = recent.mean;
    let serving = state.model.load();
    // Edges as fractions (17/20, not 0.5 + 7 * 0.05) so that they print as 0.85.
    let edge = |i: usize| (CONFIDENCE_BINS + i) as f64 / (2 * CONFIDENCE_BINS) as f64;
    Ok(Json(DashboardResponse {
        generated_unix_ms: now,
        view: if operator { "operator" } else { "user" }.to_string(),
        metrics,
        model: DashboardModel {
            version: serving.version.clone(),
            created_unix_ms: serving.record.created_unix_ms,
            schedule: state.config.retrain_schedule.clone(),
        },
        versions,
        feedback_volume: FeedbackVolume {
            bucket_ms,
            buckets: buckets
                .into_iter()
                .map(|b| FeedbackBucket {
                    start_unix_ms: b.start_unix_ms,
                    corrections: b.corrections,
                    confirmations: b.confirmations,
                    labels: b.labels,
                    operator_labels: b.operator_labels,
                })
                .collect(),
        },
        confidence: ConfidenceHistogram {
            threshold: state.config.low_confidence_threshold,
            predictions: recent.predictions,
            mean: recent.mean,
            bins: recent
                .counts
                .iter()
                .enumerate()
                .map(|(i, &count)| ConfidenceBin {
                    lower: edge(i),
                    upper: edge(i + 1),
                    count,
                })
                .collect(),
        },
        low_confidence: operator.then(|| {
            recent
                .low_confidence
                .into_iter()
                .map(ToWire::to_wire)
                .collect()
        }),
        alerts: state.alerts.list(),
    }))
}
