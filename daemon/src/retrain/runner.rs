//! The daemon's side of retraining: one at a time, off the async workers, with
//! progress on the event bus and a hot swap when the candidate is promoted. Used by
//! the feedback trigger, the cron schedule and `POST /admin/retrain`.

use super::base_data::{read_base_data, BaseData};
use super::trigger::Trigger;
use super::{lock, Inputs, Outcome, Progress, RetrainJob};
use crate::events::{now_unix_ms, Event};
use crate::state::SharedState;
use anyhow::{anyhow, Context, Result};
use sentiment_data::registry::{Registry, VersionRecord};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use utoipa::ToSchema;

/// How a retrain ended, as `/admin/retrain` reports it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetrainReport {
    /// promoted, rejected, nothing_new or failed.
    pub outcome: String,
    /// The candidate version, when one was trained.
    pub version: Option<String>,
    /// What happened, in words (the gate's reason for promoted and rejected).
    pub message: String,
    /// cron, operator...
    pub trigger: String,
    pub started_unix_ms: i64,
    pub finished_unix_ms: i64,
    /// Accuracies of current and candidate as the gate saw them; null when no
    /// candidate was trained (nothing new, or an error before training).
    #[schema(value_type = Option<Object>, nullable)]
    pub comparison: Option<serde_json::Value>,
}

/// Refused because a retrain is already running.
#[derive(Debug)]
pub struct AlreadyRunning;

#[derive(Default)]
pub struct RetrainRunner {
    running: AtomicBool,
    last: Mutex<Option<RetrainReport>>,
    /// The base dataset, read once and kept (it does not change under a daemon).
    base: Mutex<Option<Arc<BaseData>>>,
    /// When accepted feedback makes the next retrain due.
    pub trigger: Trigger,
}

impl RetrainRunner {
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    pub fn last(&self) -> Option<RetrainReport> {
        self.last.lock().expect("runner lock").clone()
    }
}

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

/// The report of a retrain's result, as `/admin/retrain` (and `retrain --json`) give it.
pub fn report(result: Result<Outcome>, trigger: &str, started: i64) -> RetrainReport {
    let mut report = RetrainReport {
        outcome: String::new(),
        version: None,
        message: String::new(),
        trigger: trigger.to_string(),
        started_unix_ms: started,
        finished_unix_ms: now_unix_ms(),
        comparison: None,
    };
    match result {
        Ok(Outcome::NothingNew { reason }) => {
            report.outcome = "nothing_new".into();
            report.message = reason;
        }
        Ok(Outcome::Promoted {
            record, comparison, ..
        }) => {
            report.outcome = "promoted".into();
            report.version = Some(record.name());
            report.message = record.decision.clone();
            report.comparison = serde_json::to_value(comparison).ok();
        }
        Ok(Outcome::Rejected {
            record, comparison, ..
        }) => {
            report.outcome = "rejected".into();
            report.version = Some(record.name());
            report.message = record.decision.clone();
            report.comparison = serde_json::to_value(comparison).ok();
        }
        Err(error) => {
            tracing::error!("retrain failed: {error:#}");
            report.outcome = "failed".into();
            report.message = format!("{error:#}");
        }
    }
    report
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

/// The base data path the registry's versions recorded, if any.
pub fn registry_base_data(registry: &Registry) -> Option<PathBuf> {
    let records = registry.versions().unwrap_or_default();
    let current = registry.current().ok().flatten();
    recorded_base_data(&records, current)
}

/// The `base_data` note of the current version, else of the newest version that has
/// one. Version 1 records the path it was bootstrapped from and every retrained
/// version carries it on, so it survives the pruning of old versions.
fn recorded_base_data(records: &[VersionRecord], current: Option<u32>) -> Option<PathBuf> {
    let note = |r: &VersionRecord| r.notes.get("base_data").cloned();
    records
        .iter()
        .find(|r| Some(r.version) == current)
        .and_then(note)
        .or_else(|| records.iter().rev().find_map(note))
        .map(PathBuf::from)
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
    let feedback = super::accepted_feedback(&state.store)?;
    let audit = super::audit_labels(&state.store)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_data::registry::VersionStatus;
    use std::collections::BTreeMap;

    fn record(version: u32, base_data: Option<&str>) -> VersionRecord {
        VersionRecord {
            version,
            created_unix_ms: 0,
            status: VersionStatus::Candidate,
            parent: version.checked_sub(1).filter(|&v| v > 0),
            evaluations: BTreeMap::new(),
            training_rows: BTreeMap::new(),
            training_data_sha256: String::new(),
            feedback_ids: Vec::new(),
            decision: String::new(),
            notes: base_data
                .map(|p| BTreeMap::from([("base_data".to_string(), p.to_string())]))
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_base_data_is_found_after_version_1_is_pruned() {
        // Versions 1-3 pruned; 4 predates the carried note, 5 and 6 carry it.
        let records = [
            record(4, None),
            record(5, Some("/data/sst2")),
            record(6, Some("/data/sst2-moved")),
        ];
        assert_eq!(
            recorded_base_data(&records, Some(5)),
            Some(PathBuf::from("/data/sst2"))
        );
        // The current version has no note: the newest one that does.
        assert_eq!(
            recorded_base_data(&records, Some(4)),
            Some(PathBuf::from("/data/sst2-moved"))
        );
        assert_eq!(recorded_base_data(&records[..1], Some(4)), None);
        assert_eq!(recorded_base_data(&[], None), None);
    }
}
