//! Operator routes (the socket, or an admin key on TCP): recent predictions, the
//! labelling queue, stored feedback and the model history.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::feedback::status_name;
use super::types::ApiLabel;
use crate::events::{now_unix_ms, Event};
use crate::state::SharedState;
use axum::extract::State;
use axum::Json;
use sentiment_data::store::{
    FeedbackFilter, FeedbackRecord, FeedbackStatus, PredictionRecord, QueueAction, QueueFilter,
    QueueItem, QueueKind, QueueSelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// A stored prediction.
#[derive(Debug, Serialize, ToSchema)]
pub struct PredictionView {
    pub id: String,
    pub text: String,
    pub label: ApiLabel,
    pub confidence: f64,
    pub p_positive: f64,
    pub model_version: String,
    pub created_unix_ms: i64,
    pub low_confidence: bool,
    pub source: String,
}

impl From<PredictionRecord> for PredictionView {
    fn from(r: PredictionRecord) -> Self {
        PredictionView {
            id: r.id,
            text: r.text,
            label: r.label.into(),
            confidence: r.confidence,
            p_positive: r.p_positive,
            model_version: r.model_version,
            created_unix_ms: r.created_unix_ms,
            low_confidence: r.low_confidence,
            source: r.source,
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
            .map(PredictionView::from)
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

/// An item awaiting (or past) an operator's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItemView {
    pub id: i64,
    /// low_confidence, correction or audit.
    pub kind: String,
    /// Why it is queued: below_threshold, unknown_text, audit (a random sample of live
    /// predictions) or correction.
    pub reason: Option<String>,
    pub text: String,
    pub predicted_label: Option<ApiLabel>,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    pub feedback_id: Option<i64>,
    pub model_version: Option<String>,
    pub created_unix_ms: i64,
    pub state: String,
    pub label: Option<ApiLabel>,
    pub resolved_unix_ms: Option<i64>,
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

impl From<QueueItem> for QueueItemView {
    fn from(item: QueueItem) -> Self {
        QueueItemView {
            id: item.id,
            kind: enum_name(&item.kind),
            reason: item.reason,
            text: item.text,
            predicted_label: item.predicted_label.map(Into::into),
            confidence: item.confidence,
            prediction_id: item.prediction_id,
            feedback_id: item.feedback_id,
            model_version: item.model_version,
            created_unix_ms: item.created_unix_ms,
            state: enum_name(&item.state),
            label: item.label.map(Into::into),
            resolved_unix_ms: item.resolved_unix_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    pub items: Vec<QueueItemView>,
    /// Items by state, over the whole queue.
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
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
        items: items.into_iter().map(QueueItemView::from).collect(),
        counts: serde_json::to_value(counts).unwrap_or_default(),
    }))
}

/// What the operator decided about a queue item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum QueueDecision {
    /// Give it a label. A low-confidence item's label becomes accepted feedback (an
    /// operator's label outranks any other feedback on the text); a held correction is
    /// accepted if the labels agree, else replaced by the operator's label; an audit
    /// item's label is kept for live accuracy and never trained on.
    Label { label: ApiLabel },
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
        QueueDecision::Label { label } => QueueAction::Label(label.into()),
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
        state
            .metrics
            .feedback
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    Ok(Json(item.into()))
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

/// A stored correction.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub id: i64,
    pub created_unix_ms: i64,
    pub text: String,
    pub predicted_label: Option<ApiLabel>,
    pub correct_label: ApiLabel,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    pub source: String,
    pub api_key: Option<String>,
    pub model_version: Option<String>,
    pub status: String,
}

impl From<FeedbackRecord> for FeedbackView {
    fn from(r: FeedbackRecord) -> Self {
        FeedbackView {
            id: r.id,
            created_unix_ms: r.created_unix_ms,
            text: r.text,
            predicted_label: r.predicted_label.map(Into::into),
            correct_label: r.correct_label.into(),
            confidence: r.confidence,
            prediction_id: r.prediction_id,
            source: r.source,
            api_key: r.api_key,
            model_version: r.model_version,
            status: status_name(r.status).to_string(),
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
    Ok(Json(rows.into_iter().map(FeedbackView::from).collect()))
}

/// A model version in the registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelVersionView {
    pub version: String,
    pub current: bool,
    /// candidate, promoted or rejected.
    pub status: String,
    pub created_unix_ms: u64,
    pub parent: Option<String>,
    /// Accuracy by evaluation set.
    #[schema(value_type = Object)]
    pub accuracy: std::collections::BTreeMap<String, f64>,
    #[schema(value_type = Object)]
    pub training_rows: std::collections::BTreeMap<String, u64>,
    pub decision: String,
    /// Accuracy on operator-labelled audit samples of the predictions this version
    /// served, with a 95% interval; null until one was audited.
    pub live_accuracy: Option<crate::live_accuracy::LiveAccuracy>,
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
        super::info::live_accuracy(&state)
            .await?
            .into_iter()
            .map(|l| (l.version.clone(), l))
            .collect();
    Ok(Json(
        records
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
            .collect(),
    ))
}
