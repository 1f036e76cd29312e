//! Uploading accepted feedback to the Hub on a timer (see `hub::shards`).

use super::ticks::Ticks;
use crate::hub::shards::{upload_pending, Uploaded};
use std::time::Duration;

/// Uploads every `interval` until shutdown. Failures are logged and retried next time.
pub async fn upload_periodically(state: crate::state::SharedState, interval: Duration) {
    let mut ticks = Ticks::new(&state, interval);
    // The first tick is at once: the first upload waits one interval.
    ticks.next().await;
    while ticks.next().await {
        let worker = state.clone();
        let result = tokio::task::spawn_blocking(move || match &worker.hub {
            Some(hub) => upload_pending(hub, &worker.store),
            None => Ok(Uploaded::default()),
        })
        .await;
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!("feedback upload failed: {error:#}"),
            Err(error) => tracing::error!(%error, "the feedback upload panicked"),
        }
    }
}
