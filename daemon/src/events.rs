//! The daemon's event bus: one typed enum (the protocol crate's `Event`, as streamed
//! on `GET /events`) on a tokio broadcast channel. Components
//! publish what happened; the `/events` stream (and so the console) subscribes.

use tokio::sync::broadcast;

pub use sentiment_protocol::Event;

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
