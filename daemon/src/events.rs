//! The daemon's event bus: one typed enum on a tokio broadcast channel. Components
//! publish what happened; the `/events` stream (and so the console) subscribes.

use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

/// Something that happened, as streamed on `GET /events` (the SSE event name is `type`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The first event of every `/events` stream: the subscription is in place.
    Hello {},
    /// This subscriber fell behind and missed `missed` events: re-read snapshots.
    Lagged { missed: u64 },
    Prediction {
        id: String,
        text: String,
        label: String,
        confidence: f64,
        model_version: String,
        low_confidence: bool,
        latency_us: u64,
        at_unix_ms: i64,
    },
    Feedback {
        id: i64,
        correct_label: String,
        status: String,
        source: String,
        at_unix_ms: i64,
    },
    QueueChanged {
        id: i64,
        kind: String,
        state: String,
        at_unix_ms: i64,
    },
    ModelChanged {
        version: String,
        previous: Option<String>,
        at_unix_ms: i64,
    },
    /// A degradation alert was raised against `model_version`.
    Alert {
        id: u64,
        rule: String,
        message: String,
        model_version: String,
        at_unix_ms: i64,
    },
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

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Hello {} => "hello",
            Event::Lagged { .. } => "lagged",
            Event::Prediction { .. } => "prediction",
            Event::Feedback { .. } => "feedback",
            Event::QueueChanged { .. } => "queue_changed",
            Event::ModelChanged { .. } => "model_changed",
            Event::Alert { .. } => "alert",
            Event::RetrainProgress { .. } => "retrain_progress",
            Event::RetrainFinished { .. } => "retrain_finished",
        }
    }
}

/// Publishing never blocks: a slow subscriber misses events (and is told so) rather
/// than slowing the API down.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl EventBus {
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            sender: broadcast::channel(capacity).0,
        }
    }
    pub fn publish(&self, event: Event) {
        // An error only means nobody is listening.
        let _ = self.sender.send(event);
    }
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }
}

pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_event_names_the_version_it_is_about() {
        let event = Event::Alert {
            id: 3,
            rule: "confidence_drop".into(),
            message: "m".into(),
            model_version: "v2".into(),
            at_unix_ms: 1,
        };
        assert_eq!(event.name(), "alert");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({
                "type": "alert", "id": 3, "rule": "confidence_drop", "message": "m",
                "model_version": "v2", "at_unix_ms": 1
            })
        );
    }
}
