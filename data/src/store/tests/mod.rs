//! Tests of the store, by concern. Helpers shared by them live here.

mod concurrency;
mod crash;
mod export;
mod failure;
mod migration;
mod queue;
mod round_trip;
mod shards;

use super::*;
use sentiment_core::Label;
use tempfile::TempDir;

pub(super) fn open_in(dir: &TempDir, options: StoreOptions) -> Store {
    Store::open(&dir.path().join(DB_FILE_NAME), options).expect("open store")
}

pub(super) fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_in(&dir, StoreOptions::default());
    (dir, store)
}

pub(super) fn new_feedback(text: &str, label: Label) -> NewFeedback {
    NewFeedback {
        text: text.into(),
        predicted_label: Some(label.flipped()),
        correct_label: label,
        confidence: Some(0.75),
        prediction_id: Some(format!("pred-{text}")),
        source: "api".into(),
        api_key: Some("ci".into()),
        model_version: Some("v1".into()),
        status: FeedbackStatus::Accepted,
        client: None,
    }
}

pub(super) fn prediction(n: usize, low_confidence: bool) -> PredictionRecord {
    PredictionRecord {
        id: format!("p{n}"),
        text: format!("text {n}"),
        label: if n.is_multiple_of(2) {
            Label::Positive
        } else {
            Label::Negative
        },
        confidence: 0.9,
        p_positive: if n.is_multiple_of(2) { 0.9 } else { 0.1 },
        model_version: "v1".into(),
        created_unix_ms: 1_700_000_000_000 + n as i64,
        low_confidence,
        source: "api".into(),
    }
}

pub(super) fn low_confidence_item(prediction_id: &str) -> NewQueueItem {
    NewQueueItem {
        kind: QueueKind::LowConfidence,
        text: format!("unsure about {prediction_id}"),
        predicted_label: Some(Label::Positive),
        confidence: Some(0.52),
        prediction_id: Some(prediction_id.into()),
        feedback_id: None,
        model_version: Some("v1".into()),
        reason: Some("low_confidence".into()),
    }
}
