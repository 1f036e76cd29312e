//! `GET /health`, `GET /model_info`, `GET /metrics` and `GET /metrics/prometheus`.

use super::error::{ApiError, ErrorBody};
use super::types::*;
use crate::metrics::{render_prometheus, Snapshot, TRACKED_ROUTES};
use crate::state::SharedState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

/// Liveness and readiness: 200 when the model is loaded and the stores are writable,
/// else 503 with the problems listed.
#[utoipa::path(
    get, path = "/health", tag = "service",
    responses(
        (status = 200, description = "Ready", body = HealthResponse),
        (status = 503, description = "Alive but not ready", body = HealthResponse),
    )
)]
pub async fn health(State(state): State<SharedState>) -> Response {
    let serving = state.model.load();
    let mut problems = Vec::new();
    let store_writable = match state.store.check_writable() {
        Ok(()) => true,
        Err(error) => {
            problems.push(format!("store: {error}"));
            false
        }
    };
    let ready = problems.is_empty();
    let body = HealthResponse {
        status: if ready { "ok" } else { "degraded" }.to_string(),
        live: true,
        ready,
        model_loaded: true,
        model_version: Some(serving.version.clone()),
        store_writable,
        problems,
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        protocol_version: PROTOCOL_VERSION,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// The served model: version, when and on what it was trained, its metrics.
#[utoipa::path(
    get, path = "/model_info", tag = "service",
    responses((status = 200, description = "The served model", body = ModelInfoResponse))
)]
pub async fn model_info(State(state): State<SharedState>) -> Json<ModelInfoResponse> {
    let serving = state.model.load();
    let record = &serving.record;
    let metadata = &serving.model.metadata;
    let created =
        time::OffsetDateTime::from_unix_timestamp_nanos(record.created_unix_ms as i128 * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
    let mut metrics = serde_json::Map::new();
    for (name, report) in &record.evaluations {
        metrics.insert(
            name.clone(),
            serde_json::to_value(report).unwrap_or_default(),
        );
    }
    Json(ModelInfoResponse {
        version: serving.version.clone(),
        created_unix_ms: record.created_unix_ms,
        created,
        status: serde_json::to_value(record.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        decision: record.decision.clone(),
        parent: record.parent.map(sentiment_data::registry::version_name),
        trained_on: TrainingData {
            examples: metadata.training.examples,
            positive: metadata.training.positive,
            negative: metadata.training.negative,
            features: metadata.training.features,
            data_sha256: record.training_data_sha256.clone(),
            rows: record.training_rows.clone(),
        },
        metrics: serde_json::Value::Object(metrics),
        config: serde_json::to_value(&metadata.config).unwrap_or_default(),
        notes: record.notes.clone(),
    })
}

fn wants_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/plain") && !accept.contains("application/json"))
}

/// Counters as JSON; as Prometheus text when asked with `Accept: text/plain`.
#[utoipa::path(
    get, path = "/metrics", tag = "service",
    responses(
        (status = 200, description = "Counters (JSON, or Prometheus text for Accept: text/plain)", body = MetricsResponse,
         content_type = "application/json"),
    )
)]
pub async fn metrics(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if wants_text(&headers) {
        return prometheus_response(&state).await;
    }
    Ok(Json(metrics_response(&state).await?).into_response())
}

/// What `GET /metrics` answers (the dashboard embeds the same).
pub async fn metrics_response(state: &SharedState) -> Result<MetricsResponse, ApiError> {
    let serving = state.model.load();
    let m = &state.metrics;
    let latency = TRACKED_ROUTES
        .iter()
        .enumerate()
        .map(|(i, route)| {
            let h = &m.latency[i];
            let ms = |q| h.quantile(q).map(|s| s * 1000.0);
            (
                route.to_string(),
                LatencySummary {
                    count: h.count(),
                    p50_ms: ms(0.5),
                    p90_ms: ms(0.9),
                    p99_ms: ms(0.99),
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    let queue_pending = queue_pending(state).await?;
    let live = live_accuracy(state).await?;
    let settings = &state.config.retrain;
    Ok(MetricsResponse {
        total_predictions: m.predictions.load(Relaxed),
        total_feedback: m.feedback.load(Relaxed),
        low_confidence_count: m.low_confidence.load(Relaxed),
        model_version: serving.version.clone(),
        test_accuracy: serving.test_accuracy(),
        average_confidence: state.recent.average_confidence(),
        queue_pending,
        rate_limited: m.rate_limited.load(Relaxed),
        alerts_unacknowledged: state.alerts.unacknowledged(),
        latency,
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        live_accuracy: live.iter().find(|l| l.version == serving.version).cloned(),
        live_accuracy_by_version: live,
        audit_sampled: m.audit_sampled.load(Relaxed),
        feedback_capped: m.feedback_capped.load(Relaxed),
        feedback_held: m.feedback_held.load(Relaxed),
        feedback_waiting: state.retrain.trigger.waiting_rows(),
        retrain_due_unix_ms: state.retrain.trigger.due_unix_ms(settings),
    })
}

async fn queue_pending(state: &SharedState) -> Result<u64, ApiError> {
    let store = state.store.clone();
    let counts = tokio::task::spawn_blocking(move || store.queue_counts())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(counts.pending + counts.skipped)
}

/// Live accuracy of every version, from the labelled audit items.
pub async fn live_accuracy(
    state: &SharedState,
) -> Result<Vec<crate::live_accuracy::LiveAccuracy>, ApiError> {
    let store = state.store.clone();
    Ok(
        tokio::task::spawn_blocking(move || crate::live_accuracy::from_store(&store))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??,
    )
}

async fn prometheus_response(state: &SharedState) -> Result<Response, ApiError> {
    let serving = state.model.load();
    let queue_pending = queue_pending(state).await?;
    let live = live_accuracy(state).await?;
    let text = render_prometheus(&Snapshot {
        metrics: &state.metrics,
        model_version: &serving.version,
        test_accuracy: serving.test_accuracy(),
        average_confidence: state.recent.average_confidence(),
        queue_pending,
        alerts_unacknowledged: state.alerts.unacknowledged(),
        live: &live,
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// Counters and latency histograms in Prometheus text format.
#[utoipa::path(
    get, path = "/metrics/prometheus", tag = "service",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 503, description = "The store cannot be read", body = ErrorBody),
    )
)]
pub async fn metrics_prometheus(State(state): State<SharedState>) -> Result<Response, ApiError> {
    prometheus_response(&state).await
}
