//! Small upkeep: the keys file's changes, the rate limiter's memory.

use super::ticks::Ticks;
use crate::auth::KeyStore;
use crate::state::SharedState;
use std::path::Path;
use std::time::Duration;

/// Picks up `sentimentd keys add/remove` without a restart.
pub async fn reload_keys_when_changed(state: SharedState) {
    let path = state.config.keys_file.clone();
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut last = modified(&path);
    let mut ticks = Ticks::new(&state, Duration::from_secs(2));
    while ticks.next().await {
        let now = modified(&path);
        if now == last {
            continue;
        }
        last = now;
        match KeyStore::load(&path) {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), file = %path.display(), "reloaded API keys");
                state.keys.store(std::sync::Arc::new(keys));
            }
            Err(error) => {
                tracing::error!(%error, "the keys file changed but cannot be read; keeping the old keys")
            }
        }
    }
}

/// Keeps the rate limiter's per-key state from growing without bound.
pub async fn prune_rate_limits(state: SharedState) {
    let mut ticks = Ticks::new(&state, Duration::from_secs(60));
    while ticks.next().await {
        state.limits.prune();
    }
}
