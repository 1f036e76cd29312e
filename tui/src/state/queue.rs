//! The review queue as the console knows it: the daemon's last page plus the actions
//! this console sent and has not heard back about (shown at once, so the operator
//! never waits for a round trip between two keys).

use std::collections::HashMap;

use crate::api::{QueueCounts, QueueDecision, QueueItemView, QueueResponse};

#[derive(Debug, Clone, Default)]
pub struct Queue {
    pub items: Vec<QueueItemView>,
    pub counts: QueueCounts,
    pub in_flight: HashMap<i64, QueueDecision>,
    /// Actions the daemon confirmed during this session (the "done" counter).
    pub done_this_session: u64,
    pub loaded: bool,
}

impl Queue {
    pub fn replace(&mut self, page: QueueResponse) {
        self.items = page.items;
        self.counts = page.counts;
        self.loaded = true;
    }

    pub fn get(&self, id: i64) -> Option<&QueueItemView> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Still awaiting an operator here: open in the daemon and not already acted on.
    pub fn needs_review(&self, item: &QueueItemView) -> bool {
        item.is_open() && !self.in_flight.contains_key(&item.id)
    }

    pub fn begin(&mut self, id: i64, action: QueueDecision) {
        self.in_flight.insert(id, action);
    }

    pub fn finish(&mut self, id: i64, result: &Result<QueueItemView, String>) {
        self.in_flight.remove(&id);
        if let Ok(item) = result {
            self.done_this_session += 1;
            if let Some(slot) = self.items.iter_mut().find(|i| i.id == id) {
                *slot = item.clone();
            }
        }
    }
}
