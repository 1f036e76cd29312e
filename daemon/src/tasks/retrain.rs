//! Retraining in the daemon: one at a time, off the async workers, with progress on
//! the event bus and a hot swap when the candidate is promoted. Used by the feedback
//! trigger, the cron schedule and `POST /admin/retrain`.

use crate::events::{now_unix_ms, Event};
use crate::retrain::base_data::read_base_data;
use crate::retrain::runner::{registry_base_data, report, AlreadyRunning, RetrainReport};
use crate::retrain::{lock, Inputs, Outcome, Progress, RetrainJob};
use crate::state::SharedState;
use anyhow::{anyhow, Context, Result};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Starts a retrain in the background; the receiver gets its report.
pub fn start(
    state: &SharedState,
    trigger: &str,
) -> Result<oneshot::Receiver<RetrainReport>, AlreadyRunning> {
    if state
        .retrain
        .running
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return Err(AlreadyRunning);
    }
    // Feedback that arrives from now on waits for the next retrain.
    state.retrain.trigger.retrain_started();
    tracing::info!(trigger, "retrain starting");
    let (sender, receiver) = oneshot::channel();
    let state = state.clone();
    let trigger = trigger.to_string();
    tokio::task::spawn_blocking(move || {
        let started = now_unix_ms();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&state)))
            .unwrap_or_else(|_| Err(anyhow!("the retrain panicked")));
        crate::memory::release_free_memory();
        let report = report(result, &trigger, started);
        state.events.publish(Event::RetrainFinished {
            outcome: report.outcome.clone(),
            version: report.version.clone(),
            message: report.message.clone(),
            at_unix_ms: report.finished_unix_ms,
        });
        *state.retrain.last.lock().expect("runner lock") = Some(report.clone());
        state.retrain.running.store(false, Ordering::SeqCst);
        let _ = sender.send(report);
    });
    Ok(receiver)
}

/// Where the base dataset is: the configured path, else the one the registry's
/// versions recorded (see [`recorded_base_data`]).
pub fn base_data_path(state: &SharedState) -> Result<PathBuf> {
    if let Some(path) = &state.config.base_data {
        return Ok(path.clone());
    }
    registry_base_data(&state.registry).ok_or_else(|| {
        anyhow!("no base dataset to retrain with: pass --base-data (or set SENTIMENT_BASE_DATA)")
    })
}

fn run(state: &SharedState) -> Result<Outcome> {
    let Some(_lock) = lock::try_lock(&state.config.data_dir)? else {
        return Err(anyhow!(
            "another retrain (e.g. `sentimentd retrain`) is running on this data directory"
        ));
    };
    let publish = |p: Progress| {
        state.events.publish(Event::RetrainProgress {
            stage: p.stage.to_string(),
            message: p.message,
            at_unix_ms: now_unix_ms(),
        })
    };
    let base = {
        let mut cached = state.retrain.base.lock().expect("runner lock");
        match cached.as_ref() {
            Some(base) => base.clone(),
            None => {
                let path = base_data_path(state)?;
                publish(Progress {
                    stage: "read",
                    message: format!("reading the base dataset {}", path.display()),
                });
                let base =
                    Arc::new(read_base_data(&path).with_context(|| {
                        format!("cannot read the base dataset {}", path.display())
                    })?);
                *cached = Some(base.clone());
                base
            }
        }
    };
    let feedback = crate::retrain::accepted_feedback(&state.store)?;
    let audit = crate::retrain::audit_labels(&state.store)?;
    let job = RetrainJob {
        registry: &state.registry,
        settings: &state.config.retrain,
        train_config: &sentiment_core::TrainConfig::default(),
    };
    let outcome = job.run(
        Inputs {
            base: &base,
            feedback: &feedback,
            audit: &audit,
            first_free: 1,
        },
        &publish,
    )?;
    if let Outcome::Promoted { comparison, .. } | Outcome::Rejected { comparison, .. } = &outcome {
        let capped: usize = comparison.caps.iter().map(|c| c.sent - c.kept).sum();
        state
            .metrics
            .feedback_capped
            .fetch_add(capped as u64, std::sync::atomic::Ordering::Relaxed);
    }
    if let Outcome::Promoted { version, .. } = &outcome {
        crate::swap::swap_to(state, *version)?;
    }
    if let Err(error) = state.registry.prune(state.config.keep_versions) {
        tracing::warn!(%error, "could not prune old model versions");
    }
    Ok(outcome)
}
