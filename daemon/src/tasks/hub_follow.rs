//! Following the Hub: polls of the model repository, on a timer and on
//! `POST /admin/hub/poll` (see `hub::follow`).

use super::ticks::Ticks;
use crate::events::now_unix_ms;
use crate::hub::follow::PollReport;
use crate::state::SharedState;
use sentiment_data::hub::Followed;
use sentiment_data::registry::version_name;
use std::time::Duration;

/// Polls once (one poll at a time) and returns what happened. Never fails: a failure
/// is a report with outcome "failed", and serving goes on.
pub async fn poll_once(state: &SharedState) -> Option<PollReport> {
    let hub = state.hub.as_ref()?;
    hub.client.config().model_repo.as_ref()?;
    let _one_at_a_time = hub.poll_lock.lock().await;
    let worker = state.clone();
    let result = tokio::task::spawn_blocking(move || -> anyhow::Result<Followed> {
        let hub = worker.hub.as_ref().expect("checked above");
        let followed = hub.client.follow_current(&worker.registry)?;
        if let Followed::Switched { to, .. } = followed {
            crate::swap::swap_to(&worker, to)?;
        }
        Ok(followed)
    })
    .await
    .unwrap_or_else(|e| Err(anyhow::anyhow!("the poll panicked: {e}")));
    let serving = state.model.load().version.clone();
    let (outcome, message) = match result {
        Ok(Followed::Switched { from, to }) => {
            let message = format!(
                "the Hub promoted {}; now serving it (was {})",
                version_name(to),
                from.map_or("none".into(), version_name)
            );
            tracing::info!("{message}");
            ("switched", message)
        }
        Ok(Followed::Unchanged(v)) => (
            "unchanged",
            format!("the Hub's current version is {}", version_name(v)),
        ),
        Ok(Followed::NoCurrent) => (
            "no_current",
            "the model repository names no current version yet".to_string(),
        ),
        Err(error) => {
            let message = format!("{error:#}");
            tracing::warn!("polling the Hub failed, still serving {serving}: {message}");
            ("failed", message)
        }
    };
    let report = PollReport {
        outcome: outcome.into(),
        version: serving,
        message,
        at_unix_ms: now_unix_ms(),
    };
    *hub.last_poll.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
    Some(report)
}

/// Polls every `interval` until shutdown, starting at once.
pub async fn poll_periodically(state: SharedState, interval: Duration) {
    let mut ticks = Ticks::new(&state, interval);
    while ticks.next().await {
        poll_once(&state).await;
    }
}
