//! Builders for test data shared by the unit tests of state, app and views.

use std::collections::BTreeMap;

use crate::api::{
    Event, Label, ModelVersionView, PredictionEvent, PredictionView, QueueCounts, QueueItemView,
    QueueResponse,
};
use crate::message::Msg;

/// 2026-11-28 12:00:30.5 UTC, a fixed "now" (off bucket edges) so rendered times are stable.
pub const NOW: i64 = 1_795_867_230_500;

pub fn prediction(id: &str, text: &str, label: Label, confidence: f64, at: i64) -> PredictionView {
    PredictionView {
        id: id.into(),
        text: text.into(),
        label,
        confidence,
        p_positive: match label {
            Label::Positive => confidence,
            Label::Negative => 1.0 - confidence,
        },
        model_version: "v1".into(),
        created_unix_ms: at,
        low_confidence: confidence < 0.7,
        source: "api".into(),
    }
}

pub fn prediction_event(id: &str, text: &str, label: Label, confidence: f64, at: i64) -> Msg {
    let p = prediction(id, text, label, confidence, at);
    Msg::Event(Event::Prediction(PredictionEvent {
        id: p.id,
        text: p.text,
        label: p.label,
        confidence: p.confidence,
        p_positive: p.p_positive,
        model_version: p.model_version,
        low_confidence: p.low_confidence,
        source: p.source,
        latency_us: 40,
        at_unix_ms: p.created_unix_ms,
    }))
}

pub fn queue_item(id: i64, text: &str, state: &str) -> QueueItemView {
    QueueItemView {
        id,
        kind: "low_confidence".into(),
        reason: Some("below_threshold".into()),
        text: text.into(),
        predicted_label: Some(Label::Positive),
        confidence: Some(0.55),
        prediction_id: None,
        feedback_id: None,
        model_version: Some("v1".into()),
        created_unix_ms: NOW - 60_000,
        state: state.into(),
        label: None,
        resolved_unix_ms: None,
    }
}

pub fn queue_page(items: Vec<QueueItemView>) -> Msg {
    let pending = items.iter().filter(|i| i.state == "pending").count() as u64;
    Msg::Queue(QueueResponse {
        counts: QueueCounts {
            pending,
            open_low_confidence: pending,
            labelled: 7,
            ..Default::default()
        },
        items,
    })
}

pub fn model(version: &str, current: bool, status: &str, base: f64) -> ModelVersionView {
    ModelVersionView {
        version: version.into(),
        current,
        status: status.into(),
        created_unix_ms: (NOW - 3_600_000) as u64,
        parent: None,
        accuracy: BTreeMap::from([("base_test".to_owned(), base)]),
        training_rows: BTreeMap::from([("base".to_owned(), 67_349)]),
        decision: format!("{status} by test"),
        live_accuracy: None,
    }
}
