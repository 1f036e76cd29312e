//! The daemon's own retrain schedule, with tokio-cron-scheduler. Expressions have
//! six fields, seconds first (`0 0 3 * * Sun`: Sundays at 03:00 UTC).

use crate::state::SharedState;
use anyhow::{anyhow, Context, Result};
use tokio_cron_scheduler::{Job, JobScheduler};

/// Checks an expression without scheduling anything.
pub fn validate(expression: &str) -> Result<()> {
    Job::new_async(expression, |_, _| Box::pin(async {})).map_err(|e| {
        anyhow!(
            "{expression:?} is not a valid retrain schedule ({e}); use six cron fields with seconds first, e.g. \"0 0 3 * * Sun\", or \"off\""
        )
    })?;
    Ok(())
}

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
            if super::runner::start(&state, "cron").is_err() {
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

#[cfg(test)]
mod tests {
    #[test]
    fn expressions_are_checked() {
        assert!(super::validate("0 0 3 * * Sun").is_ok());
        assert!(super::validate("*/5 * * * * *").is_ok());
        let error = super::validate("every sunday").unwrap_err().to_string();
        assert!(error.contains("seconds first"), "{error}");
    }
}
