//! `POST /feedback`: a user's correction, stored durably before the reply.

use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::predict::validate_text;
use super::types::*;
use super::ClientAddr;
use crate::auth::Principal;
use crate::events::{now_unix_ms, Event};
use crate::feedback_guard::{self, Admission};
use crate::state::SharedState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use sentiment_data::store::{FeedbackStatus, NewFeedback, PredictionRecord};
use std::sync::atomic::Ordering::Relaxed;

/// Store a correction. Replies only once the feedback is committed to disk.
#[utoipa::path(
    post, path = "/feedback", tag = "feedback",
    request_body = FeedbackRequest,
    responses(
        (status = 200, description = "Stored", body = FeedbackResponse),
        (status = 400, description = "Malformed JSON, missing text, invalid label or confidence", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 404, description = "Unknown prediction id", body = ErrorBody),
        (status = 413, description = "Body or text too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Rate limit or this key's daily feedback quota reached; see Retry-After", body = ErrorBody),
        (status = 503, description = "The store cannot write (read-only data directory: code read_only)", body = ErrorBody),
        (status = 507, description = "The disk holding the store is full (code disk_full)", body = ErrorBody),
    )
)]
pub async fn feedback(
    State(state): State<SharedState>,
    Extension(principal): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    ApiJson(request): ApiJson<FeedbackRequest>,
) -> Result<Json<FeedbackResponse>, ApiError> {
    // Operators (the socket, admin keys) are trusted; user keys and anonymous callers
    // (by address) have quotas, and their confident contradictions wait for review.
    let identity = principal.untrusted_identity(client.and_then(|Extension(c)| c.0));
    let mut new = resolve(&state, &principal, request).await?;
    new.client = identity.clone();
    let guarded = identity.as_deref();
    let reservation = match guarded {
        Some(id) => Some((id, reserve_quota(&state, id, principal.key_name()).await?)),
        None => None,
    };
    if guarded.is_some() && should_hold(&state, guarded, &new) {
        new.status = FeedbackStatus::Held;
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    state.store.submit_feedback(new, move |result| {
        let _ = sender.send(result);
    });
    let stored = receiver
        .await
        .map_err(|_| ApiError::unavailable("the feedback store stopped; try again"))
        .and_then(|result| result.map_err(ApiError::from));
    let record = match (stored, reservation) {
        (Ok(record), reservation) => {
            if let (Some((key, _)), FeedbackStatus::Accepted) = (reservation, record.status) {
                state.feedback_guard.record_accepted(key);
            }
            record
        }
        (Err(error), Some((key, at_unix_ms))) => {
            // Not stored: the row does not count against the quota.
            state.feedback_guard.release(key, at_unix_ms);
            return Err(error);
        }
        (Err(error), None) => return Err(error),
    };
    state.metrics.feedback.fetch_add(1, Relaxed);
    match record.status {
        FeedbackStatus::Accepted => state.retrain.trigger.feedback_accepted(),
        FeedbackStatus::Held => {
            state.metrics.feedback_held.fetch_add(1, Relaxed);
        }
        FeedbackStatus::Rejected => {}
    }
    let status = status_name(record.status);
    state.events.publish(Event::Feedback {
        id: record.id,
        correct_label: record.correct_label.to_wire(),
        status: status.to_string(),
        source: record.source.clone(),
        at_unix_ms: now_unix_ms(),
    });
    let (retrain_due_unix_ms, learning) = learning_note(&state, record.status);
    Ok(Json(FeedbackResponse {
        id: record.id,
        status: status.to_string(),
        retrain_due_unix_ms,
        learning,
    }))
}

/// When a feedback row takes effect, as the /feedback answer says it.
pub fn learning_note(state: &SharedState, status: FeedbackStatus) -> (Option<i64>, String) {
    let settings = &state.config.retrain;
    let schedule = match &state.config.retrain_schedule {
        Some(cron) => format!("the scheduled retrain ({cron}, UTC)"),
        None => "a retrain started by an operator".to_string(),
    };
    match status {
        FeedbackStatus::Held => (
            None,
            "held for an operator's review (it contradicts a confident prediction); it is \
             trained on only once accepted"
                .into(),
        ),
        FeedbackStatus::Rejected => (None, "rejected: it will not be trained on".into()),
        FeedbackStatus::Accepted => match state.retrain.trigger.due_unix_ms(settings) {
            Some(due) => {
                let seconds = ((due - now_unix_ms()).max(0) as f64 / 1000.0).ceil();
                (
                    Some(due),
                    format!(
                        "a retrain that learns it is due in about {seconds:.0} s; the new \
                         version serves once the gate promotes it"
                    ),
                )
            }
            None if settings.learns_continuously() => (
                None,
                format!(
                    "{} of the {} accepted rows that start a retrain have arrived (or {})",
                    state.retrain.trigger.waiting_rows(),
                    settings.after_feedback,
                    schedule
                ),
            ),
            None => (None, format!("learned at {schedule}")),
        },
    }
}

/// Reserves one row of an untrusted sender's daily feedback quota (`identity` is
/// `key:NAME` or `addr:IP`), or refuses with 429.
async fn reserve_quota(
    state: &SharedState,
    identity: &str,
    key_name: Option<&str>,
) -> Result<i64, ApiError> {
    let guard = &state.feedback_guard;
    let policy = &state.config.feedback;
    let (limit, who) = match key_name {
        Some(_) => (policy.max_per_key_per_day, "this API key"),
        None => (policy.max_per_address_per_day, "this client address"),
    };
    let now = now_unix_ms();
    if !guard.knows(identity) {
        // A key's quota survives restarts (the store knows its rows); an address's
        // starts afresh.
        let activity = match key_name {
            Some(key) => {
                let (store, owned) = (state.store.clone(), key.to_string());
                let since = now - feedback_guard::WINDOW_MS;
                tokio::task::spawn_blocking(move || store.key_activity(&owned, since))
                    .await
                    .map_err(|e| ApiError::internal(e.to_string()))??
            }
            None => sentiment_data::store::KeyActivity::default(),
        };
        guard.seed(identity, activity);
    }
    match guard.admit(identity, limit, now) {
        Admission::Admitted { at_unix_ms } => Ok(at_unix_ms),
        Admission::OverQuota {
            retry_after_seconds,
        } => {
            state.metrics.rate_limited.fetch_add(1, Relaxed);
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "feedback_quota",
                format!(
                    "{who} has sent the {limit} feedback rows it may send in 24 hours (feedback.max_per_key_per_day / max_per_address_per_day); nothing was stored; retry in {retry_after_seconds} s"
                ),
            )
            .with_retry_after(retry_after_seconds))
        }
    }
}

/// A correction that contradicts a confident prediction of the served model, from a
/// sender with too little accepted history, waits for an operator.
fn should_hold(state: &SharedState, key: Option<&str>, new: &NewFeedback) -> bool {
    let policy = &state.config.feedback;
    if policy.hold_contradicting_confidence.is_none() {
        return false;
    }
    let says = state.model.load().model.predict(&new.text);
    let history = key.map_or(0, |k| state.feedback_guard.history(k));
    policy.should_hold(says.label, says.confidence, new.correct_label, history)
}

pub fn status_name(status: FeedbackStatus) -> &'static str {
    match status {
        FeedbackStatus::Accepted => "accepted",
        FeedbackStatus::Held => "held",
        FeedbackStatus::Rejected => "rejected",
    }
}

/// Turns either request form into a complete feedback row.
async fn resolve(
    state: &SharedState,
    principal: &Principal,
    mut request: FeedbackRequest,
) -> Result<NewFeedback, ApiError> {
    request.text = request.text.map(clean_text);
    if let Some(confidence) = request.confidence {
        if !(0.0..=1.0).contains(&confidence) {
            return Err(ApiError::bad_request(
                "invalid_confidence",
                format!("confidence must be between 0 and 1, got {confidence}"),
            ));
        }
    }
    let limits = &state.config.limits;
    let (text, predicted_label, confidence, prediction_id, model_version) = match request
        .prediction_id
    {
        Some(id) => {
            let record = find_prediction(state, &id).await?;
            if let Some(text) = &request.text {
                if *text != record.text {
                    return Err(ApiError::bad_request(
                        "conflicting_text",
                        "text differs from the text of that prediction; send one or the other",
                    ));
                }
            }
            (
                record.text,
                Some(record.label),
                Some(record.confidence),
                Some(id),
                Some(record.model_version),
            )
        }
        None => {
            let Some(text) = request.text else {
                return Err(ApiError::bad_request(
                        "missing_text",
                        "send the corrected text as `text` (with `predicted_label` and `confidence`), or the `prediction_id` that /predict returned",
                    ));
            };
            validate_text(&text, limits.max_text_bytes, "text")?;
            (
                text,
                request.predicted_label.map(core_label),
                request.confidence,
                None,
                None,
            )
        }
    };
    Ok(NewFeedback {
        text,
        predicted_label,
        correct_label: core_label(request.correct_label),
        confidence,
        prediction_id,
        source: principal.source().to_string(),
        api_key: principal.key_name().map(str::to_string),
        client: None,
        model_version,
        status: FeedbackStatus::Accepted,
    })
}

async fn find_prediction(state: &SharedState, id: &str) -> Result<PredictionRecord, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Err(ApiError::bad_request(
            "invalid_prediction_id",
            "prediction_id is not an id /predict returned",
        ));
    }
    if let Some(record) = state.recent.find(id) {
        return Ok(record);
    }
    let store = state.store.clone();
    let owned = id.to_string();
    let found = tokio::task::spawn_blocking(move || store.prediction(&owned))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    found.ok_or_else(|| {
        ApiError::not_found(
            "unknown_prediction",
            format!("no recent prediction has the id {id:?} (only the last {} are kept); send the text instead", state.config.recent_predictions),
        )
    })
}
