//! The clock of every periodic task: ticks until the daemon shuts down.

use crate::state::SharedState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};

/// Ticks every `period`, the first at once; a late tick is not made up for with a
/// burst. [`Ticks::next`] says false once shutdown has begun, so a loop written as
/// `while ticks.next().await { ... }` stops with the daemon.
pub struct Ticks {
    interval: Interval,
    shutdown: watch::Receiver<bool>,
}

impl Ticks {
    pub fn new(state: &SharedState, period: Duration) -> Ticks {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Ticks {
            interval,
            shutdown: state.shutdown.subscribe(),
        }
    }

    /// Waits for the next tick: true, or false when the daemon is shutting down.
    pub async fn next(&mut self) -> bool {
        if *self.shutdown.borrow() {
            return false;
        }
        tokio::select! {
            _ = self.interval.tick() => true,
            _ = self.shutdown.wait_for(|&stop| stop) => false,
        }
    }
}
