//! Hot swap: serve another registry version without dropping a request. The model
//! sits behind an `ArcSwap`; a request that already loaded the old one finishes on it.

use crate::alerts;
use crate::events::{now_unix_ms, Event};
use crate::state::{ServingModel, SharedState};
use anyhow::{Context, Result};
use sentiment_data::registry::{version_name, VersionStatus};
use std::sync::Arc;
use std::time::Duration;

/// Loads `version` and makes it the served model (blocking: call from a blocking
/// thread). Returns false if it was already being served.
pub fn swap_to(state: &SharedState, version: u32) -> Result<bool> {
    if state.model.load().record.version == version {
        return Ok(false);
    }
    let model = state
        .registry
        .load(version)
        .with_context(|| format!("cannot load {}", version_name(version)))?;
    let record = state.registry.record(version)?;
    let name = version_name(version);
    let new_accuracy = record.evaluations.get("base_test").map(|r| r.accuracy);
    let previous = state.model.swap(Arc::new(ServingModel {
        model,
        version: name.clone(),
        record,
    }));
    tracing::info!(version = %name, previous = %previous.version, "now serving {name}");
    let now = now_unix_ms();
    state.events.publish(Event::ModelChanged {
        version: name.clone(),
        previous: Some(previous.version.clone()),
        at_unix_ms: now,
    });
    if let Some(accuracy) = new_accuracy {
        check_accuracy_drop(state, version, &name, accuracy);
    }
    Ok(true)
}

fn check_accuracy_drop(state: &SharedState, version: u32, name: &str, accuracy: f64) {
    let Ok(records) = state.registry.versions() else {
        return;
    };
    let best = records
        .iter()
        .filter(|r| r.version != version && r.status == VersionStatus::Promoted)
        .filter_map(|r| {
            r.evaluations
                .get("base_test")
                .map(|e| (r.name(), e.accuracy))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((best_name, best_accuracy)) = best {
        if let Some(message) = alerts::accuracy_drop(name, accuracy, &best_name, best_accuracy) {
            raise(state, "accuracy_drop", name, message);
        }
    }
}

/// Raises an alert and announces it.
pub fn raise(state: &SharedState, rule: &str, version: &str, message: String) {
    let alert = state.alerts.raise(rule, version, message, now_unix_ms());
    state.events.publish(Event::Alert {
        id: alert.id,
        rule: alert.rule,
        message: alert.message,
        at_unix_ms: alert.at_unix_ms,
    });
}

/// Follows the registry's current pointer, so a promotion or rollback made by another
/// process (`sentimentd rollback`, `retrain`, later the Hub) is served within a second.
pub async fn follow_registry(state: SharedState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut shutdown = state.shutdown.subscribe();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let worker = state.clone();
        let result = tokio::task::spawn_blocking(move || match worker.registry.current()? {
            Some(version) => swap_to(&worker, version),
            None => Ok(false),
        })
        .await;
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!("cannot follow the registry: {error:#}"),
            Err(error) => tracing::error!(%error, "the registry check panicked"),
        }
    }
}

/// The confidence rule, checked every 30 s on the live predictions of the served model.
pub async fn watch_confidence(state: SharedState) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
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
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        let serving = state.model.load_full();
        let Some(parent) = serving.record.parent else {
            continue;
        };
        if state.alerts.is_open("live_accuracy_drop", &serving.version) {
            continue;
        }
        let Ok(live) = crate::api::info::live_accuracy(&state).await else {
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
