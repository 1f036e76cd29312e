//! `POST /predict` and `POST /predict/batch`.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::types::*;
use crate::auth::Principal;
use crate::events::now_unix_ms;
use crate::state::SharedState;
use axum::extract::State;
use axum::{Extension, Json};
use sentiment_core::{Explanation, Prediction};
use sentiment_data::store::{NewQueueItem, PredictionRecord, QueueKind};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// How many n-grams per class an explanation lists.
const EXPLAIN_TOP: usize = 5;

/// Checks one text against the limits: not empty, not too long. Control characters were
/// cleaned up first (`types::clean_text`), so a text made only of
/// them is empty here. `what` names it in messages ("text", "texts[3]").
pub fn validate_text(text: &str, max_bytes: usize, what: &str) -> Result<(), ApiError> {
    if text.len() > max_bytes {
        return Err(ApiError::too_large(
            "text_too_long",
            format!("{what} is {} bytes; the limit is {max_bytes}", text.len()),
        ));
    }
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "empty_text",
            format!("{what} is empty or only whitespace; send the text to classify"),
        ));
    }
    Ok(())
}

pub fn probabilities(p: &Prediction) -> Probabilities {
    Probabilities {
        negative: p.p_negative,
        positive: p.p_positive,
    }
}

pub fn explanation_body(e: Explanation) -> ExplanationBody {
    let convert = |list: Vec<sentiment_core::Contribution>| {
        list.into_iter()
            .map(|c| NgramContribution {
                ngram: c.ngram,
                tfidf: c.tfidf,
                weight: c.weight,
                contribution: c.contribution,
            })
            .collect()
    };
    ExplanationBody {
        towards_positive: convert(e.towards_positive),
        towards_negative: convert(e.towards_negative),
        bias: e.bias,
        known_ngrams: e.known_ngrams,
    }
}

/// Classify one text.
#[utoipa::path(
    post, path = "/predict", tag = "predict",
    params(PredictQuery),
    request_body = PredictRequest,
    responses(
        (status = 200, description = "The prediction", body = PredictResponse),
        (status = 400, description = "Malformed JSON, empty text, or bad query parameters", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 413, description = "Body or text too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Rate limit reached; see Retry-After", body = ErrorBody),
    )
)]
pub async fn predict(
    State(state): State<SharedState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<PredictQuery>,
    ApiJson(request): ApiJson<PredictRequest>,
) -> Result<Json<PredictResponse>, ApiError> {
    let text = clean_text(request.text);
    validate_text(&text, state.config.limits.max_text_bytes, "text")?;
    let started = Instant::now();
    let serving = state.model.load_full();
    let (prediction, explanation) = if query.explain {
        let e = serving.model.explain(&text, EXPLAIN_TOP);
        let known = e.known_ngrams;
        ((e.prediction, known), Some(explanation_body(e)))
    } else {
        (serving.model.predict_known(&text), None)
    };
    let (prediction, reason) = assess(&state, prediction);
    let low_confidence = reason.is_some();
    let record = PredictionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        text,
        label: prediction.label,
        confidence: prediction.confidence,
        p_positive: prediction.p_positive,
        model_version: serving.version.clone(),
        created_unix_ms: now_unix_ms(),
        low_confidence,
        source: principal.source().to_string(),
    };
    let response = PredictResponse {
        prediction_id: record.id.clone(),
        label: prediction.label.to_wire(),
        confidence: prediction.confidence,
        probabilities: probabilities(&prediction),
        low_confidence,
        low_confidence_reason: reason.map(str::to_string),
        model_version: serving.version.clone(),
        explanation,
    };
    remember(&state, record, reason, started);
    Ok(Json(response))
}

/// Why a prediction is low-confidence, if it is: a text with too few n-grams the model
/// knows is `unknown_text` (whatever the bias alone says, the model has no evidence:
/// its confidence becomes 0.5), else `below_threshold` under the configured threshold.
pub fn assess(
    state: &SharedState,
    (prediction, known_ngrams): (Prediction, usize),
) -> (Prediction, Option<&'static str>) {
    if known_ngrams < state.config.min_known_ngrams {
        return (Prediction::from_p_positive(0.5), Some(UNKNOWN_TEXT));
    }
    let reason =
        (prediction.confidence < state.config.low_confidence_threshold).then_some(BELOW_THRESHOLD);
    (prediction, reason)
}

const UNKNOWN_TEXT: &str = "unknown_text";
const BELOW_THRESHOLD: &str = "below_threshold";

/// Whether this prediction is drawn for the audit: at random, whatever its confidence,
/// so that the operators' labels on audit items measure live accuracy without bias.
fn audit_draw(state: &SharedState) -> bool {
    state.audit.draw()
}

/// Queues a prediction for review: as an audit item if drawn (an audit item is never
/// also a low-confidence one, or the audit would lean towards unsure texts), else as a
/// low-confidence item if it is one.
fn queue_for_review(
    state: &SharedState,
    item: ReviewItem<'_>,
    reason: Option<&'static str>,
) -> (bool, bool) {
    if audit_draw(state) {
        state.metrics.audit_sampled.fetch_add(1, Relaxed);
        enqueue(state, item, QueueKind::Audit, "audit");
        return (true, false);
    }
    match reason {
        Some(reason) => {
            enqueue(state, item, QueueKind::LowConfidence, reason);
            (false, true)
        }
        None => (false, false),
    }
}

/// A prediction to queue.
struct ReviewItem<'a> {
    text: &'a str,
    prediction_id: Option<String>,
    label: sentiment_core::Label,
    confidence: f64,
    version: &'a str,
}

/// Counts, stores and announces one prediction, and queues it for review if drawn for
/// the audit or unsure.
fn remember(
    state: &SharedState,
    record: PredictionRecord,
    reason: Option<&'static str>,
    started: Instant,
) {
    state.metrics.predictions.fetch_add(1, Relaxed);
    if record.low_confidence {
        state.metrics.low_confidence.fetch_add(1, Relaxed);
    }
    queue_for_review(
        state,
        ReviewItem {
            text: &record.text,
            prediction_id: Some(record.id.clone()),
            label: record.label,
            confidence: record.confidence,
            version: &record.model_version,
        },
        reason,
    );
    if state.events.has_subscribers() {
        state.events.publish(Event::Prediction(PredictionEvent {
            id: record.id.clone(),
            text: record.text.clone(),
            label: record.label.to_wire(),
            confidence: record.confidence,
            p_positive: record.p_positive,
            model_version: record.model_version.clone(),
            low_confidence: record.low_confidence,
            source: record.source.clone(),
            latency_us: started.elapsed().as_micros() as u64,
            at_unix_ms: record.created_unix_ms,
        }));
    }
    state.recent.push(record.clone());
    state.store.record_prediction(record);
}

fn enqueue(state: &SharedState, item: ReviewItem<'_>, kind: QueueKind, reason: &str) {
    let events = state.events.clone();
    state.store.enqueue(
        NewQueueItem {
            kind,
            text: item.text.to_string(),
            predicted_label: Some(item.label),
            confidence: Some(item.confidence),
            prediction_id: item.prediction_id,
            feedback_id: None,
            model_version: Some(item.version.to_string()),
            reason: Some(reason.to_string()),
        },
        // The item may be one already waiting for this text (pending or skipped):
        // the event carries its own state.
        move |result| match result {
            Ok(item) => events.publish(Event::QueueChanged {
                id: item.id,
                kind: item.kind.as_str().into(),
                state: item.state.as_str().into(),
                at_unix_ms: now_unix_ms(),
            }),
            Err(error) => tracing::warn!(%error, "could not queue a prediction for review"),
        },
    );
}

/// Classify many texts at once (at most `limits.max_batch`). Batch items get no
/// prediction id; low-confidence ones are queued all the same.
#[utoipa::path(
    post, path = "/predict/batch", tag = "predict",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One prediction per text, in order", body = BatchResponse),
        (status = 400, description = "Malformed JSON, no texts, or an empty text", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key", body = ErrorBody),
        (status = 413, description = "Too many texts, or a body or text too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 429, description = "Rate limit reached; see Retry-After", body = ErrorBody),
    )
)]
pub async fn predict_batch(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    let limits = &state.config.limits;
    let texts: Vec<String> = request.texts.into_iter().map(clean_text).collect();
    if texts.is_empty() {
        return Err(ApiError::bad_request(
            "empty_batch",
            "texts is empty; send at least one text",
        ));
    }
    if texts.len() > limits.max_batch {
        return Err(ApiError::too_large(
            "batch_too_large",
            format!(
                "{} texts in one batch; the limit is {} (split the batch)",
                texts.len(),
                limits.max_batch
            ),
        ));
    }
    for (i, text) in texts.iter().enumerate() {
        validate_text(text, limits.max_text_bytes, &format!("texts[{i}]"))?;
    }
    let serving = state.model.load_full();
    // Large batches run on rayon's pool, off the async workers.
    let (texts, predictions) = if texts.len() > 64 {
        let serving = serving.clone();
        tokio::task::spawn_blocking(move || {
            let predictions = serving.model.predict_batch_known(&texts);
            (texts, predictions)
        })
        .await
        .map_err(|e| ApiError::internal(format!("batch prediction failed: {e}")))?
    } else {
        let predictions = texts
            .iter()
            .map(|t| serving.model.predict_known(t))
            .collect();
        (texts, predictions)
    };
    let mut low = 0u64;
    let items = predictions
        .into_iter()
        .zip(&texts)
        .map(|(assessed, text)| {
            let (p, reason) = assess(&state, assessed);
            low += u64::from(reason.is_some());
            queue_for_review(
                &state,
                ReviewItem {
                    text,
                    prediction_id: None,
                    label: p.label,
                    confidence: p.confidence,
                    version: &serving.version,
                },
                reason,
            );
            BatchItem {
                label: p.label.to_wire(),
                confidence: p.confidence,
                probabilities: probabilities(&p),
                low_confidence: reason.is_some(),
                low_confidence_reason: reason.map(str::to_string),
            }
        })
        .collect();
    state
        .metrics
        .predictions
        .fetch_add(texts.len() as u64, Relaxed);
    state.metrics.low_confidence.fetch_add(low, Relaxed);
    state.store.count_predictions(texts.len() as u64, low);
    Ok(Json(BatchResponse {
        model_version: serving.version.clone(),
        predictions: items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_validation() {
        assert!(validate_text("fine", 10, "text").is_ok());
        assert!(validate_text("tab\tand\nlines\r", 100, "text").is_ok());
        assert_eq!(
            validate_text("  \n", 10, "text").unwrap_err().code,
            "empty_text"
        );
        assert_eq!(
            validate_text("", 10, "text").unwrap_err().code,
            "empty_text"
        );
        let long = validate_text("abcdefghijk", 10, "texts[2]").unwrap_err();
        assert_eq!(long.code, "text_too_long");
        assert!(long.message.contains("texts[2]"));
        // Controls are cleaned before validation: one alone leaves an empty text.
        let control = validate_text(&clean_text("\u{0}\u{81}".into()), 10, "text").unwrap_err();
        assert_eq!(control.code, "empty_text");
        assert!(validate_text(&clean_text("a\u{96}b".into()), 10, "text").is_ok());
    }
}

/// A prediction with its explanation that is not recorded: not counted, not queued,
/// not streamed. For operators inspecting texts (the console's explain pane), so
/// looking at a prediction does not create traffic of its own.
#[utoipa::path(
    post, path = "/admin/explain", tag = "operator",
    request_body = PredictRequest,
    responses(
        (status = 200, description = "The prediction and the n-grams that drove it", body = ExplainResponse),
        (status = 400, description = "Malformed JSON, empty text, or bad query parameters", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 413, description = "Text too large", body = ErrorBody),
    )
)]
pub async fn explain(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<PredictRequest>,
) -> Result<Json<ExplainResponse>, ApiError> {
    let text = clean_text(request.text);
    validate_text(&text, state.config.limits.max_text_bytes, "text")?;
    let serving = state.model.load_full();
    let e = serving.model.explain(&text, EXPLAIN_TOP);
    Ok(Json(ExplainResponse {
        label: e.prediction.label.to_wire(),
        confidence: e.prediction.confidence,
        probabilities: probabilities(&e.prediction),
        model_version: serving.version.clone(),
        explanation: explanation_body(e),
    }))
}
