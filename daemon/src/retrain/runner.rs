//! What the daemon keeps about retraining: whether one is running, the last report,
//! the base dataset once read, and the feedback trigger's bookkeeping. The retrain
//! itself is started by `tasks::retrain`.

use super::base_data::BaseData;
use super::trigger::Trigger;
use super::Outcome;
use crate::events::now_unix_ms;
use anyhow::Result;
use sentiment_data::registry::{Registry, VersionRecord};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How a retrain ended, as `/admin/retrain` reports it (a wire type).
pub use sentiment_protocol::RetrainReport;

/// Refused because a retrain is already running.
#[derive(Debug)]
pub struct AlreadyRunning;

#[derive(Default)]
pub struct RetrainRunner {
    pub(crate) running: AtomicBool,
    pub(crate) last: Mutex<Option<RetrainReport>>,
    /// The base dataset, read once and kept (it does not change under a daemon).
    pub(crate) base: Mutex<Option<Arc<BaseData>>>,
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
