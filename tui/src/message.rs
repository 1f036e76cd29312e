//! What the connection tells the state store. The store changes only through these,
//! which is what lets its tests feed messages in and read state out.

use std::time::Duration;

use crate::api::{
    Alert, Event, ExplainResponse, FeedbackView, HealthResponse, MetricsResponse, ModelVersionView,
    PredictionView, QueueDecision, QueueItemView, QueueResponse, RetrainStatus,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// Trying to open `/events` (attempt 0 is the first try).
    Connecting {
        attempt: u32,
    },
    /// `/events` said hello: the daemon is up and snapshots are on their way.
    Connected,
    /// The stream failed or ended; the next attempt starts after `retry_in`.
    Disconnected {
        error: String,
        retry_in: Duration,
        attempt: u32,
    },
    Event(Event),
    Predictions(Vec<PredictionView>),
    Queue(QueueResponse),
    Models(Vec<ModelVersionView>),
    Metrics(MetricsResponse),
    Health(HealthResponse),
    /// All stored feedback (for the volume chart); replaces what was known.
    Feedback(Vec<FeedbackView>),
    /// `None`: this daemon has no `/admin/alerts` (alerts then come only from events).
    Alerts(Option<Vec<Alert>>),
    /// `None`: this daemon has no `/admin/retrain`.
    Retrain(Option<RetrainStatus>),
    QueueActed {
        id: i64,
        action: QueueDecision,
        result: Result<QueueItemView, String>,
    },
    Explained {
        key: String,
        result: Result<ExplainResponse, String>,
    },
    AlertAcked {
        key: String,
    },
    /// The console sent an action for this queue item (shown before the daemon answers).
    QueueSent {
        id: i64,
        action: QueueDecision,
    },
    /// The console asked for an explanation of this prediction.
    ExplainRequested {
        key: String,
    },
    /// The outcome of an operator action or a failed fetch, for the status line.
    Notice {
        text: String,
        error: bool,
    },
}
