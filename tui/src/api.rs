//! The daemon's wire types, as the console reads them.
//!
//! The console talks only the public API (docs/ARCHITECTURE.md: it must not reach
//! into the daemon's internals), so these are its own copies of the JSON shapes. Every field
//! the console can live without is `#[serde(default)]`: a daemon a version ahead or
//! behind should degrade a column, not the whole screen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Positive,
    Negative,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "positive",
            Label::Negative => "negative",
        }
    }
}

/// A prediction as listed by `GET /admin/predictions` or streamed as a `prediction` event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Prediction {
    pub id: String,
    pub text: String,
    pub label: Label,
    pub confidence: f64,
    #[serde(default)]
    pub model_version: String,
    #[serde(default, alias = "at_unix_ms")]
    pub created_unix_ms: i64,
    #[serde(default)]
    pub low_confidence: bool,
    /// Only on events; the list endpoint has no latency.
    #[serde(default)]
    pub latency_us: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QueueItem {
    pub id: i64,
    pub kind: String,
    pub text: String,
    #[serde(default)]
    pub predicted_label: Option<Label>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub created_unix_ms: i64,
    pub state: String,
    #[serde(default)]
    pub label: Option<Label>,
    #[serde(default)]
    pub resolved_unix_ms: Option<i64>,
}

impl QueueItem {
    /// Pending and skipped items still need an operator; the rest are resolved.
    pub fn is_open(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "skipped")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QueueCounts {
    #[serde(default)]
    pub pending: u64,
    #[serde(default)]
    pub skipped: u64,
    #[serde(default)]
    pub labelled: u64,
    #[serde(default)]
    pub accepted: u64,
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub open_low_confidence: u64,
    #[serde(default)]
    pub open_corrections: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    #[serde(default)]
    pub counts: QueueCounts,
}

/// What the operator does to a queue item (`POST /admin/queue/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum QueueAction {
    Label { label: Label },
    Accept,
    Reject,
    Skip,
}

impl QueueAction {
    pub fn describe(&self) -> String {
        match self {
            QueueAction::Label { label } => format!("labelled {}", label.as_str()),
            QueueAction::Accept => "accepted".into(),
            QueueAction::Reject => "rejected".into(),
            QueueAction::Skip => "skipped".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Feedback {
    pub id: i64,
    #[serde(default)]
    pub created_unix_ms: i64,
    #[serde(default)]
    pub correct_label: Option<Label>,
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelVersion {
    pub version: String,
    #[serde(default)]
    pub current: bool,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub created_unix_ms: i64,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub accuracy: BTreeMap<String, f64>,
    #[serde(default)]
    pub training_rows: BTreeMap<String, u64>,
    #[serde(default)]
    pub decision: String,
}

impl ModelVersion {
    pub fn total_rows(&self) -> u64 {
        self.training_rows.values().sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Health {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub uptime_seconds: f64,
}

/// Live accuracy with its 95% interval, from the audit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LiveAccuracy {
    pub audited: u64,
    pub accuracy: f64,
    pub lower: f64,
    pub upper: f64,
}

impl LiveAccuracy {
    /// `82.5% 68-91%`: the estimate and its 95% interval, short enough for a column.
    pub fn describe(&self) -> String {
        format!(
            "{:.1}% {:.0}-{:.0}%",
            self.accuracy * 100.0,
            self.lower * 100.0,
            self.upper * 100.0
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Latency {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub p50_ms: Option<f64>,
    #[serde(default)]
    pub p90_ms: Option<f64>,
    #[serde(default)]
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub total_predictions: u64,
    #[serde(default)]
    pub total_feedback: u64,
    #[serde(default)]
    pub low_confidence_count: u64,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub test_accuracy: Option<f64>,
    #[serde(default)]
    pub average_confidence: Option<f64>,
    #[serde(default)]
    pub queue_pending: u64,
    #[serde(default)]
    pub rate_limited: u64,
    #[serde(default)]
    pub latency: BTreeMap<String, Latency>,
    #[serde(default)]
    pub uptime_seconds: f64,
    /// The served version's accuracy on operator-labelled audit samples (absent from
    /// daemons before the audit existed).
    #[serde(default)]
    pub live_accuracy: Option<LiveAccuracy>,
    #[serde(default)]
    pub feedback_held: u64,
    #[serde(default)]
    pub feedback_waiting: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    /// Events from older daemons carry no id; those can only be acknowledged locally.
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub at_unix_ms: i64,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub acknowledged: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RetrainStatus {
    #[serde(default)]
    pub running: bool,
    #[serde(default)]
    pub last: Option<RetrainReport>,
    /// The daemon's cron schedule (UTC), or `None` when scheduled retrains are off.
    #[serde(default)]
    pub schedule: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RetrainReport {
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub finished_unix_ms: i64,
}

impl RetrainReport {
    pub fn summary(&self) -> String {
        match &self.version {
            Some(v) => format!("{} ({v}): {}", self.outcome, self.message),
            None => format!("{}: {}", self.outcome, self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Contribution {
    pub ngram: String,
    #[serde(default)]
    pub tfidf: f64,
    #[serde(default)]
    pub weight: f64,
    #[serde(default)]
    pub contribution: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Explanation {
    #[serde(default)]
    pub towards_positive: Vec<Contribution>,
    #[serde(default)]
    pub towards_negative: Vec<Contribution>,
    #[serde(default)]
    pub bias: f64,
    #[serde(default)]
    pub known_ngrams: u64,
}

/// The reply of `POST /predict?explain=true`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Explained {
    pub label: Label,
    pub confidence: f64,
    #[serde(default)]
    pub model_version: String,
    #[serde(default)]
    pub explanation: Explanation,
}

/// One server-sent event, decoded by its `type` field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Prediction(Prediction),
    Feedback {
        id: i64,
        #[serde(default)]
        correct_label: Option<Label>,
        #[serde(default)]
        status: String,
        #[serde(default)]
        at_unix_ms: i64,
    },
    QueueChanged {
        id: i64,
        #[serde(default)]
        kind: String,
        #[serde(default)]
        state: String,
        #[serde(default)]
        at_unix_ms: i64,
    },
    ModelChanged {
        version: String,
        #[serde(default)]
        previous: Option<String>,
        #[serde(default)]
        at_unix_ms: i64,
    },
    Alert(Alert),
    Lagged {
        #[serde(default)]
        missed: u64,
    },
    RetrainProgress {
        #[serde(default)]
        stage: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        at_unix_ms: i64,
    },
    RetrainFinished {
        #[serde(default)]
        outcome: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        message: String,
        #[serde(default)]
        at_unix_ms: i64,
    },
}

impl Event {
    /// Decodes an SSE frame. The `event:` name is the fallback tag for daemons whose
    /// data lacks a `type` field; unknown events give `None` and are ignored.
    pub fn decode(name: &str, data: &str) -> Option<Event> {
        let mut value: serde_json::Value = serde_json::from_str(data).ok()?;
        if let Some(obj) = value.as_object_mut() {
            if !obj.contains_key("type") && !name.is_empty() {
                obj.insert("type".into(), serde_json::Value::String(name.into()));
            }
        }
        serde_json::from_value(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_events_by_type_and_by_name() {
        let e = Event::decode(
            "prediction",
            r#"{"type":"prediction","id":"a","text":"so so","label":"positive","confidence":0.54,"model_version":"v1","low_confidence":true,"latency_us":34,"at_unix_ms":5}"#,
        )
        .unwrap();
        match e {
            Event::Prediction(p) => {
                assert_eq!(p.created_unix_ms, 5);
                assert_eq!(p.latency_us, Some(34));
            }
            other => panic!("{other:?}"),
        }
        let e = Event::decode(
            "alert",
            r#"{"rule":"accuracy_drop","message":"m","at_unix_ms":1}"#,
        );
        assert!(matches!(e, Some(Event::Alert(Alert { id: None, .. }))));
        // As the daemon sends it: the version the alert is about comes along.
        let e = Event::decode(
            "alert",
            r#"{"type":"alert","id":3,"rule":"confidence_drop","message":"m","model_version":"v2","at_unix_ms":1}"#,
        );
        match e {
            Some(Event::Alert(a)) => {
                assert_eq!(a.id, Some(3));
                assert_eq!(a.model_version.as_deref(), Some("v2"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Event::decode("mystery", r#"{"type":"mystery"}"#), None);
    }

    #[test]
    fn queue_actions_serialise_as_the_api_expects() {
        let s = serde_json::to_string(&QueueAction::Label {
            label: Label::Negative,
        })
        .unwrap();
        assert_eq!(s, r#"{"action":"label","label":"negative"}"#);
        assert_eq!(
            serde_json::to_string(&QueueAction::Skip).unwrap(),
            r#"{"action":"skip"}"#
        );
    }
}
