//! Hot swap: serve another registry version without dropping a request. The model
//! sits behind an `ArcSwap`; a request that already loaded the old one finishes on it.

use crate::alerts;
use crate::events::{now_unix_ms, Event};
use crate::state::{ServingModel, SharedState};
use anyhow::{Context, Result};
use sentiment_data::registry::{version_name, VersionStatus};
use std::sync::Arc;

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
    state.events.publish(Event::Alert(alert));
}
