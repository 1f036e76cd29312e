//! Operator routes (the socket, or an admin key on TCP): recent predictions, the
//! labelling queue, stored feedback and the model history.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::feedback::status_name;
use super::types::{
    core_label, FeedbackView, ModelVersionView, PredictionView, QueueCounts, QueueDecision,
    QueueItemView, QueueResponse, ToWire,
};
use crate::events::{now_unix_ms, Event};
use crate::state::SharedState;
use axum::extract::State;
use axum::Json;
use sentiment_data::store::{
    FeedbackFilter, FeedbackRecord, FeedbackStatus, PredictionRecord, QueueAction, QueueFilter,
    QueueItem, QueueKind, QueueSelect,
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

const MAX_PAGE: usize = 1_000;
/// The largest `offset` (the schema's `maximum`).
const MAX_OFFSET: usize = 2_147_483_647;
/// The largest id the schema admits (2^53 - 1, exact in every JSON reader).
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, sentiment_data::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::from)
}

fn page(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match limit.unwrap_or(default) {
        0 => Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be at least 1",
        )),
        n if n > MAX_PAGE => Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be at most {MAX_PAGE}"),
        )),
        n => Ok(n),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// At most this many (1-1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

impl ToWire for PredictionRecord {
    type Wire = PredictionView;
    fn to_wire(self) -> PredictionView {
        PredictionView {
            id: self.id,
            text: self.text,
            label: self.label.to_wire(),
            confidence: self.confidence,
            p_positive: self.p_positive,
            model_version: self.model_version,
            created_unix_ms: self.created_unix_ms,
            low_confidence: self.low_confidence,
            source: self.source,
        }
    }
}

/// The most recent predictions, newest first.
#[utoipa::path(
    get, path = "/admin/predictions", tag = "operator",
    params(LimitQuery),
    responses(
        (status = 200, description = "Newest first", body = Vec<PredictionView>),
        (status = 400, description = "Bad limit", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn recent_predictions(
    State(state): State<SharedState>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<Vec<PredictionView>>, ApiError> {
    let limit = page(query.limit, 100)?;
    Ok(Json(
        state
            .recent
            .latest(limit)
            .into_iter()
            .map(ToWire::to_wire)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// open (default: pending and skipped, in review order), all, pending, skipped,
    /// labelled, accepted or rejected.
    #[param(pattern = "^(open|all|pending|skipped|labelled|accepted|rejected)$")]
    pub state: Option<String>,
    /// low_confidence, correction or audit; default all.
    #[param(pattern = "^(low_confidence|correction|audit)$")]
    pub kind: Option<String>,
    /// At most this many (1-1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    #[param(maximum = 2147483647)]
    pub offset: Option<usize>,
}

fn enum_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_enum<T: for<'de> Deserialize<'de>>(
    field: &str,
    value: &str,
    allowed: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            format!("{field} must be one of {allowed}, got {value:?}"),
        )
    })
}

impl ToWire for QueueItem {
    type Wire = QueueItemView;
    fn to_wire(self) -> QueueItemView {
        QueueItemView {
            id: self.id,
            kind: enum_name(&self.kind),
            reason: self.reason,
            text: self.text,
            predicted_label: self.predicted_label.map(ToWire::to_wire),
            confidence: self.confidence,
            prediction_id: self.prediction_id,
            feedback_id: self.feedback_id,
            model_version: self.model_version,
            created_unix_ms: self.created_unix_ms,
            state: enum_name(&self.state),
            label: self.label.map(ToWire::to_wire),
            resolved_unix_ms: self.resolved_unix_ms,
        }
    }
}

impl ToWire for sentiment_data::store::QueueCounts {
    type Wire = QueueCounts;
    fn to_wire(self) -> QueueCounts {
        QueueCounts {
            pending: self.pending,
            skipped: self.skipped,
            labelled: self.labelled,
            accepted: self.accepted,
            rejected: self.rejected,
            open_low_confidence: self.open_low_confidence,
            open_corrections: self.open_corrections,
            open_audit: self.open_audit,
        }
    }
}

/// The labelling queue, oldest first.
#[utoipa::path(
    get, path = "/admin/queue", tag = "operator",
    params(QueueQuery),
    responses(
        (status = 200, description = "Queue items and counts", body = QueueResponse),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn queue(
    State(state): State<SharedState>,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Json<QueueResponse>, ApiError> {
    let filter = QueueFilter {
        state: match &query.state {
            Some(s) => s
                .parse::<QueueSelect>()
                .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?,
            None => QueueSelect::Open,
        },
        kind: query
            .kind
            .as_deref()
            .map(|k| parse_enum::<QueueKind>("kind", k, "low_confidence, correction, audit"))
            .transpose()?,
        limit: Some(page(query.limit, 100)?),
        offset: match query.offset.unwrap_or(0) {
            offset @ 0..=MAX_OFFSET => offset,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("offset must be at most {MAX_OFFSET}"),
                ))
            }
        },
    };
    let store = state.store.clone();
    let (items, counts) =
        blocking(move || Ok((store.queue(filter)?, store.queue_counts()?))).await?;
    Ok(Json(QueueResponse {
        items: items.into_iter().map(ToWire::to_wire).collect(),
        counts: counts.to_wire(),
    }))
}

/// Label, accept, reject or skip a queue item.
#[utoipa::path(
    post, path = "/admin/queue/{id}", tag = "operator",
    params(("id" = i64, Path, description = "Queue item id", minimum = -9007199254740991.0, maximum = 9007199254740991.0)),
    request_body = QueueDecision,
    responses(
        (status = 200, description = "The updated item", body = QueueItemView),
        (status = 400, description = "Bad decision", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 409, description = "The item was already resolved", body = ErrorBody),
    )
)]
pub async fn resolve_queue_item(
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(decision): ApiJson<QueueDecision>,
) -> Result<Json<QueueItemView>, ApiError> {
    let action = match decision {
        QueueDecision::Label { label } => QueueAction::Label(core_label(label)),
        QueueDecision::Accept {} => QueueAction::Accept,
        QueueDecision::Reject {} => QueueAction::Reject,
        QueueDecision::Skip {} => QueueAction::Skip,
    };
    let (sender, receiver) = tokio::sync::oneshot::channel();
    state.store.resolve_queue_item(id, action, move |result| {
        let _ = sender.send(result);
    });
    let resolved = receiver
        .await
        .map_err(|_| ApiError::unavailable("the store stopped; try again"))?
        .map_err(queue_error)?;
    let item = resolved.item;
    if let Some(feedback) = &resolved.feedback {
        // Count a new row (an operator's label or accept), not the user's held
        // correction changing status: that one was counted when it arrived, and the
        // store's counter, which a restart reads, counts rows too.
        if item.feedback_id != Some(feedback.id) {
            state
                .metrics
                .feedback
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if feedback.status == FeedbackStatus::Accepted {
            state.retrain.trigger.feedback_accepted();
        }
    }
    state.events.publish(Event::QueueChanged {
        id: item.id,
        kind: enum_name(&item.kind),
        state: enum_name(&item.state),
        at_unix_ms: now_unix_ms(),
    });
    Ok(Json(item.to_wire()))
}

fn queue_error(error: sentiment_data::store::StoreError) -> ApiError {
    use sentiment_data::store::StoreError;
    match error {
        StoreError::NotFound { .. } => ApiError::not_found("unknown_queue_item", error.to_string()),
        StoreError::InvalidTransition { .. } => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "already_resolved",
            error.to_string(),
        ),
        other => other.into(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// accepted, held or rejected; default all.
    #[param(pattern = "^(accepted|held|rejected)$")]
    pub status: Option<String>,
    /// Only feedback with a larger id.
    #[param(minimum = -9007199254740991.0, maximum = 9007199254740991.0)]
    pub since_id: Option<i64>,
    /// At most this many (1-1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

impl ToWire for FeedbackRecord {
    type Wire = FeedbackView;
    fn to_wire(self) -> FeedbackView {
        FeedbackView {
            id: self.id,
            created_unix_ms: self.created_unix_ms,
            text: self.text,
            predicted_label: self.predicted_label.map(ToWire::to_wire),
            correct_label: self.correct_label.to_wire(),
            confidence: self.confidence,
            prediction_id: self.prediction_id,
            source: self.source,
            api_key: self.api_key,
            model_version: self.model_version,
            status: status_name(self.status).to_string(),
        }
    }
}

/// Stored feedback, oldest first.
#[utoipa::path(
    get, path = "/admin/feedback", tag = "operator",
    params(FeedbackQuery),
    responses(
        (status = 200, description = "Feedback, oldest first", body = Vec<FeedbackView>),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn list_feedback(
    State(state): State<SharedState>,
    ApiQuery(query): ApiQuery<FeedbackQuery>,
) -> Result<Json<Vec<FeedbackView>>, ApiError> {
    let filter = FeedbackFilter {
        status: query
            .status
            .as_deref()
            .map(|s| parse_enum::<FeedbackStatus>("status", s, "accepted, held, rejected"))
            .transpose()?,
        since_id: match query.since_id {
            Some(id) if id.unsigned_abs() > MAX_SAFE_INTEGER as u64 => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("since_id must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}"),
                ))
            }
            other => other,
        },
        limit: Some(page(query.limit, 100)?),
    };
    let store = state.store.clone();
    let rows = blocking(move || store.feedback(filter)).await?;
    Ok(Json(rows.into_iter().map(ToWire::to_wire).collect()))
}

/// Every model version, oldest first.
#[utoipa::path(
    get, path = "/admin/models", tag = "operator",
    responses(
        (status = 200, description = "Versions, oldest first", body = Vec<ModelVersionView>),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn models(
    State(state): State<SharedState>,
) -> Result<Json<Vec<ModelVersionView>>, ApiError> {
    let live = super::info::live_accuracy(&state).await?;
    Ok(Json(model_versions(&state, live).await?))
}

/// Every version in the registry, oldest first, with its entry of `live` (every
/// version's live accuracy, as `info::live_accuracy` reads it).
pub async fn model_versions(
    state: &SharedState,
    live: Vec<crate::live_accuracy::LiveAccuracy>,
) -> Result<Vec<ModelVersionView>, ApiError> {
    let registry = state.registry.clone();
    let (records, current) = tokio::task::spawn_blocking(move || {
        Ok::<_, sentiment_data::registry::RegistryError>((
            registry.versions()?,
            registry.current()?,
        ))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let mut live: std::collections::BTreeMap<String, crate::live_accuracy::LiveAccuracy> =
        live.into_iter().map(|l| (l.version.clone(), l)).collect();
    Ok(records
        .into_iter()
        .map(|r| ModelVersionView {
            version: r.name(),
            current: Some(r.version) == current,
            status: enum_name(&r.status),
            created_unix_ms: r.created_unix_ms,
            parent: r.parent.map(sentiment_data::registry::version_name),
            accuracy: r
                .evaluations
                .iter()
                .map(|(k, v)| (k.clone(), v.accuracy))
                .collect(),
            training_rows: r.training_rows.clone(),
            decision: r.decision.clone(),
            live_accuracy: live.remove(&r.name()),
        })
        .collect())
}
