//! The daemon's own retrain schedule, with tokio-cron-scheduler (expressions are
//! checked by `retrain::schedule::validate`).

use crate::state::SharedState;
use anyhow::{anyhow, Context, Result};
use tokio_cron_scheduler::{Job, JobScheduler};

/// Starts the scheduler; keep the returned value alive for as long as it should run.
pub async fn start(state: SharedState, expression: &str) -> Result<JobScheduler> {
    let scheduler = JobScheduler::new()
        .await
        .context("cannot start the retrain scheduler")?;
    let job_state = state.clone();
    let job = Job::new_async(expression, move |_, _| {
        let state = job_state.clone();
        Box::pin(async move {
            tracing::info!("scheduled retrain starting");
            if super::retrain::start(&state, "cron").is_err() {
                tracing::warn!("scheduled retrain skipped: one is already running");
            }
        })
    })
    .map_err(|e| anyhow!("invalid retrain schedule {expression:?}: {e}"))?;
    scheduler
        .add(job)
        .await
        .context("cannot schedule the retrain")?;
    scheduler
        .start()
        .await
        .context("cannot start the retrain scheduler")?;
    tracing::info!(schedule = expression, "retrain scheduled (UTC)");
    Ok(scheduler)
}
