//! The degradation rules that watch live traffic, each checked every 30 s.

use super::ticks::Ticks;
use crate::alerts;
use crate::state::SharedState;
use crate::swap::raise;
use std::time::Duration;

/// The confidence rule, checked every 30 s on the live predictions of the served model.
pub async fn watch_confidence(state: SharedState) {
    let mut ticks = Ticks::new(&state, Duration::from_secs(30));
    while ticks.next().await {
        let serving = state.model.load();
        let Some(reference) = serving
            .record
            .evaluations
            .get("base_test")
            .map(|r| r.mean_confidence)
        else {
            continue;
        };
        let (live, samples) = state.recent.average_confidence_for(&serving.version);
        if samples < alerts::MIN_PREDICTIONS_FOR_CONFIDENCE
            || state.alerts.is_open("confidence_drop", &serving.version)
        {
            continue;
        }
        if let Some(message) = alerts::confidence_drop(&serving.version, live, samples, reference) {
            raise(&state, "confidence_drop", &serving.version, message);
        }
    }
}

/// The live-accuracy rule, checked every 30 s: the served version's audited accuracy
/// fell below its predecessor's beyond its 95% interval.
pub async fn watch_live_accuracy(state: SharedState) {
    let mut ticks = Ticks::new(&state, Duration::from_secs(30));
    while ticks.next().await {
        let serving = state.model.load_full();
        let Some(parent) = serving.record.parent else {
            continue;
        };
        if state.alerts.is_open("live_accuracy_drop", &serving.version) {
            continue;
        }
        let store = state.store.clone();
        let read = tokio::task::spawn_blocking(move || crate::live_accuracy::from_store(&store));
        let Ok(Ok(live)) = read.await else {
            continue;
        };
        let find = |name: &str| live.iter().find(|l| l.version == name);
        let parent_name = sentiment_data::registry::version_name(parent);
        if let (Some(current), Some(previous)) = (find(&serving.version), find(&parent_name)) {
            if let Some(message) = crate::live_accuracy::drop_message(current, previous) {
                raise(&state, "live_accuracy_drop", &serving.version, message);
            }
        }
    }
}
