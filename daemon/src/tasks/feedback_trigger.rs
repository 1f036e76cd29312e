//! Starts retrains as accepted feedback makes them due (see `retrain::trigger` for
//! when that is), until shutdown.

use super::ticks::Ticks;
use crate::state::SharedState;
use std::time::{Duration, Instant};

/// How often the trigger looks.
const TICK: Duration = Duration::from_millis(250);

/// Starts retrains as feedback makes them due, until shutdown.
pub async fn run(state: SharedState) {
    let settings = &state.config.retrain;
    if !settings.learns_continuously() {
        tracing::info!("learning from feedback is off (retrain.after_feedback = 0): only the schedule and operators retrain");
        return;
    }
    tracing::info!(
        after_feedback = settings.after_feedback,
        quiet_seconds = settings.quiet_seconds,
        max_delay_seconds = settings.max_delay_seconds,
        min_interval_seconds = settings.min_interval_seconds,
        "learning from feedback as it arrives"
    );
    let mut ticks = Ticks::new(&state, TICK);
    while ticks.next().await {
        let due = state.retrain.trigger.due(settings);
        if due.is_some_and(|due| due <= Instant::now()) && !state.retrain.is_running() {
            let rows = state.retrain.trigger.waiting_rows();
            tracing::info!(rows, "new feedback: retraining");
            // A retrain started elsewhere meanwhile is fine: it reads this feedback.
            let _ = super::retrain::start(&state, "feedback");
        }
    }
}
