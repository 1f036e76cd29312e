//! What `GET /events` streams: one server-sent event per [`Event`], its SSE event name
//! equal to the `type` field of its JSON data.

use crate::{Alert, Label};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Something that happened, as streamed on `GET /events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The first event of every `/events` stream: the subscription is in place.
    Hello {},
    /// This subscriber fell behind and missed `missed` events: re-read snapshots.
    Lagged { missed: u64 },
    /// A prediction was served (and recorded).
    Prediction(PredictionEvent),
    /// Feedback was stored.
    Feedback {
        id: i64,
        correct_label: Label,
        /// accepted or held.
        status: String,
        /// Who sent it: `socket`, `admin`, `api` or `anonymous`.
        source: String,
        at_unix_ms: i64,
    },
    /// A queue item was added or resolved.
    QueueChanged {
        id: i64,
        kind: String,
        state: String,
        at_unix_ms: i64,
    },
    /// Another version is served now.
    ModelChanged {
        version: String,
        previous: Option<String>,
        at_unix_ms: i64,
    },
    /// A degradation alert was raised against its `model_version`.
    Alert(Alert),
    RetrainProgress {
        stage: String,
        message: String,
        at_unix_ms: i64,
    },
    RetrainFinished {
        /// promoted, rejected, nothing_new or failed.
        outcome: String,
        version: Option<String>,
        message: String,
        at_unix_ms: i64,
    },
}

/// A prediction as it was served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PredictionEvent {
    pub id: String,
    pub text: String,
    pub label: Label,
    pub confidence: f64,
    #[serde(default)]
    pub p_positive: f64,
    pub model_version: String,
    pub low_confidence: bool,
    /// Who asked: `socket`, `admin`, `api` or `anonymous`.
    #[serde(default)]
    pub source: String,
    /// Time spent answering, in microseconds.
    pub latency_us: u64,
    pub at_unix_ms: i64,
}

impl From<PredictionEvent> for crate::PredictionView {
    /// The prediction as `GET /admin/predictions` lists it.
    fn from(p: PredictionEvent) -> crate::PredictionView {
        crate::PredictionView {
            id: p.id,
            text: p.text,
            label: p.label,
            confidence: p.confidence,
            p_positive: p.p_positive,
            model_version: p.model_version,
            created_unix_ms: p.at_unix_ms,
            low_confidence: p.low_confidence,
            source: p.source,
        }
    }
}

impl Event {
    /// The SSE event name: the `type` field.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Hello {} => "hello",
            Event::Lagged { .. } => "lagged",
            Event::Prediction(_) => "prediction",
            Event::Feedback { .. } => "feedback",
            Event::QueueChanged { .. } => "queue_changed",
            Event::ModelChanged { .. } => "model_changed",
            Event::Alert(_) => "alert",
            Event::RetrainProgress { .. } => "retrain_progress",
            Event::RetrainFinished { .. } => "retrain_finished",
        }
    }

    /// Decodes one SSE frame. The `event:` name stands in for a missing `type` field;
    /// an event this protocol does not know (from a newer daemon) gives `None`, to be
    /// skipped.
    pub fn decode(name: &str, data: &str) -> Option<Event> {
        let mut value: serde_json::Value = serde_json::from_str(data).ok()?;
        if let Some(object) = value.as_object_mut() {
            if !object.contains_key("type") && !name.is_empty() {
                object.insert("type".into(), serde_json::Value::String(name.into()));
            }
        }
        serde_json::from_value(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_as_it_was_written_and_names_its_type() {
        let events = [
            Event::Hello {},
            Event::Lagged { missed: 7 },
            Event::Prediction(PredictionEvent {
                id: "a".into(),
                text: "so so".into(),
                label: Label::Positive,
                confidence: 0.54,
                p_positive: 0.54,
                model_version: "v1".into(),
                low_confidence: true,
                source: "socket".into(),
                latency_us: 34,
                at_unix_ms: 5,
            }),
            Event::Feedback {
                id: 1,
                correct_label: Label::Negative,
                status: "held".into(),
                source: "api".into(),
                at_unix_ms: 6,
            },
            Event::Alert(Alert {
                id: 3,
                at_unix_ms: 1,
                rule: "confidence_drop".into(),
                message: "m".into(),
                model_version: "v2".into(),
                acknowledged: false,
            }),
            Event::RetrainFinished {
                outcome: "promoted".into(),
                version: Some("v2".into()),
                message: "m".into(),
                at_unix_ms: 9,
            },
        ];
        for event in events {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.name(), "{json}");
            let data = json.to_string();
            assert_eq!(Event::decode(event.name(), &data), Some(event));
        }
    }

    #[test]
    fn the_event_name_stands_in_for_a_missing_type_and_unknown_events_are_skipped() {
        let lagged = Event::decode("lagged", r#"{"missed":3}"#);
        assert_eq!(lagged, Some(Event::Lagged { missed: 3 }));
        assert_eq!(Event::decode("mystery", r#"{"type":"mystery"}"#), None);
        assert_eq!(Event::decode("hello", "not json"), None);
    }

    #[test]
    fn an_alert_event_is_the_alert_with_its_type() {
        let event = Event::Alert(Alert {
            id: 3,
            at_unix_ms: 1,
            rule: "confidence_drop".into(),
            message: "m".into(),
            model_version: "v2".into(),
            acknowledged: false,
        });
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "type": "alert", "id": 3, "rule": "confidence_drop", "message": "m",
                "model_version": "v2", "at_unix_ms": 1, "acknowledged": false
            })
        );
    }
}
