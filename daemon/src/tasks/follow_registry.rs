//! Serving what the registry says is current.

use super::ticks::Ticks;
use crate::state::SharedState;
use crate::swap::swap_to;
use std::time::Duration;

/// Follows the registry's current pointer, so a promotion or rollback made by another
/// process (`sentimentd rollback`, `retrain`, later the Hub) is served within a second.
pub async fn follow_registry(state: SharedState) {
    let mut ticks = Ticks::new(&state, Duration::from_secs(1));
    while ticks.next().await {
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
