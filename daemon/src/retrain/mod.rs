//! The retrain job, one function for the daemon, its cron and the CLI: accepted
//! feedback + base data -> candidate -> evaluated beside the current model -> gate ->
//! registered (promoted or rejected) with its numbers.

pub mod dataset;
pub mod gate;
pub mod lock;
pub mod runner;
pub mod schedule;

use crate::server::bootstrap::BaseData;
use anyhow::{Context, Result};
use dataset::{MixOptions, RetrainSet};
use gate::{decide, Scores};
use sentiment_core::{EvaluationReport, SentimentModel, TrainConfig};
use sentiment_data::registry::{version_name, Registry, VersionRecord, VersionStatus};
use sentiment_data::store::{FeedbackFilter, FeedbackRecord, FeedbackStatus};
use sentiment_data::Example;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Instant;

/// How a retrain mixes data and judges the candidate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainSettings {
    /// Weight of a feedback example relative to a base example.
    pub feedback_weight: f64,
    /// Share of feedback held out to judge candidates (by a stable hash of the text).
    pub holdout_fraction: f64,
    /// How much base test accuracy a candidate may lose and still be promoted
    /// (a fraction: 0.005 = half a point).
    pub base_tolerance: f64,
    /// Largest share of one retrain's feedback that one API key may contribute.
    pub max_share_per_key: f64,
}

impl Default for RetrainSettings {
    fn default() -> Self {
        RetrainSettings {
            feedback_weight: 5.0,
            holdout_fraction: 0.2,
            base_tolerance: 0.005,
            max_share_per_key: 0.25,
        }
    }
}

/// What a retrain did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// No accepted feedback changed since the last retrain.
    NothingNew { reason: String },
    Promoted {
        version: u32,
        record: Box<VersionRecord>,
        comparison: Comparison,
    },
    Rejected {
        version: u32,
        record: Box<VersionRecord>,
        comparison: Comparison,
    },
}

/// Current versus candidate, as the gate saw them.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub current_version: String,
    pub current: Scores,
    pub candidate: Scores,
    pub feedback_holdout_size: usize,
    pub seconds: f64,
}

/// Stages, for progress displays and `/events`.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub stage: &'static str,
    pub message: String,
}

/// The fingerprint of the accepted feedback a retrain used: a retrain with the same
/// fingerprint as the last version would train on nothing new.
fn fingerprint(feedback: &[FeedbackRecord]) -> String {
    let mut hasher = Sha256::new();
    for r in feedback {
        hasher.update(r.id.to_le_bytes());
        hasher.update([r.correct_label.index() as u8]);
    }
    hex::encode(hasher.finalize())
}

fn accuracy_on(model: &SentimentModel, examples: &[Example]) -> Result<Option<EvaluationReport>> {
    if examples.is_empty() {
        return Ok(None);
    }
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let labels: Vec<_> = examples.iter().map(|e| e.label).collect();
    Ok(Some(model.evaluate(&texts, &labels)?))
}

/// Accepted feedback from the store's file (works beside a running daemon).
pub fn accepted_feedback(store: &sentiment_data::store::Store) -> Result<Vec<FeedbackRecord>> {
    store
        .feedback(FeedbackFilter {
            status: Some(FeedbackStatus::Accepted),
            ..FeedbackFilter::default()
        })
        .context("cannot read the accepted feedback")
}

/// Runs one retrain. The caller holds the retrain lock.
pub fn run(
    registry: &Registry,
    base: &BaseData,
    feedback: &[FeedbackRecord],
    settings: &RetrainSettings,
    train_config: &TrainConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Outcome> {
    run_numbered(
        registry,
        base,
        feedback,
        settings,
        train_config,
        progress,
        1,
    )
}

/// [`run`], giving the candidate a version number of at least `first_free`: a
/// retrain against the Hub holds only some of the Hub's versions locally, and must
/// not reuse a number the Hub has already given out.
pub fn run_numbered(
    registry: &Registry,
    base: &BaseData,
    feedback: &[FeedbackRecord],
    settings: &RetrainSettings,
    train_config: &TrainConfig,
    progress: &(dyn Fn(Progress) + Sync),
    first_free: u32,
) -> Result<Outcome> {
    let started = Instant::now();
    let say = |stage: &'static str, message: String| {
        tracing::info!(stage, "{message}");
        progress(Progress { stage, message });
    };
    let current_version = registry
        .current()?
        .context("the registry has no current version; start the daemon once to bootstrap one")?;
    let fingerprint = fingerprint(feedback);
    let versions = registry.versions()?;
    if feedback.is_empty() {
        return Ok(Outcome::NothingNew {
            reason: "no accepted feedback yet".into(),
        });
    }
    if let Some(last) = versions
        .iter()
        .rev()
        .find(|v| v.notes.contains_key("feedback_fingerprint"))
    {
        if last.notes.get("feedback_fingerprint") == Some(&fingerprint) {
            return Ok(Outcome::NothingNew {
                reason: format!(
                    "no new feedback since {} ({} accepted feedback, unchanged)",
                    last.name(),
                    feedback.len()
                ),
            });
        }
    }

    say(
        "prepare",
        format!(
            "merging {} base examples with {} accepted feedback",
            base.train.len(),
            feedback.len()
        ),
    );
    let set: RetrainSet = dataset::build(
        &base.train,
        feedback,
        &MixOptions {
            feedback_weight: settings.feedback_weight,
            holdout_fraction: settings.holdout_fraction,
            max_share_per_key: settings.max_share_per_key,
        },
    );
    say(
        "train",
        format!(
            "training on {} examples ({} from feedback)",
            set.texts.len(),
            set.trained_feedback_ids.len()
        ),
    );
    let mut candidate = sentiment_core::train(
        &set.texts,
        &set.labels,
        Some(&set.weights),
        train_config,
        &|_| {},
    )
    .context("training the candidate failed")?;

    say(
        "evaluate",
        format!(
            "evaluating candidate and {} on the base test set and {} held-out feedback",
            version_name(current_version),
            set.holdout.len()
        ),
    );
    let current = registry.load(current_version)?;
    let cand_base = accuracy_on(&candidate, &base.test)?.context("the base test set is empty")?;
    let cur_base = accuracy_on(&current, &base.test)?.context("the base test set is empty")?;
    let cand_fb = accuracy_on(&candidate, &set.holdout)?;
    let cur_fb = accuracy_on(&current, &set.holdout)?;
    let comparison = Comparison {
        current_version: version_name(current_version),
        current: Scores {
            base_test: cur_base.accuracy,
            feedback_holdout: cur_fb.as_ref().map(|r| r.accuracy),
        },
        candidate: Scores {
            base_test: cand_base.accuracy,
            feedback_holdout: cand_fb.as_ref().map(|r| r.accuracy),
        },
        feedback_holdout_size: set.holdout.len(),
        seconds: 0.0,
    };
    let decision = decide(
        comparison.current,
        comparison.candidate,
        settings.base_tolerance,
    );

    let version = registry.next_version()?.max(first_free);
    let mut evaluations = BTreeMap::from([("base_test".to_string(), cand_base.clone())]);
    if let Some(report) = &cand_fb {
        evaluations.insert("feedback_holdout".into(), report.clone());
    }
    candidate.metadata.evaluations = evaluations.clone();
    let mut notes = BTreeMap::from([
        ("feedback_fingerprint".to_string(), fingerprint),
        ("base_test".to_string(), base.test_source.clone()),
        ("train_data".to_string(), base.train_source.clone()),
        // Every version says where the base data is, so that a restarted daemon finds
        // it even once version 1 (which first recorded it) has been pruned.
        ("base_data".to_string(), base.path.display().to_string()),
        (
            "feedback_weight".to_string(),
            settings.feedback_weight.to_string(),
        ),
        (
            "current_at_decision".to_string(),
            format!(
                "{}: base test {:.4}{}",
                version_name(current_version),
                cur_base.accuracy,
                cur_fb
                    .as_ref()
                    .map(|r| format!(", held-out feedback {:.4}", r.accuracy))
                    .unwrap_or_default()
            ),
        ),
    ]);
    let seconds = started.elapsed().as_secs_f64();
    notes.insert("retrain_seconds".into(), format!("{seconds:.2}"));
    let record = VersionRecord {
        version,
        created_unix_ms: candidate.metadata.created_unix_ms,
        status: if decision.promote {
            VersionStatus::Promoted
        } else {
            VersionStatus::Rejected
        },
        parent: Some(current_version),
        evaluations,
        training_rows: set.rows.clone(),
        training_data_sha256: candidate.metadata.training.data_sha256.clone(),
        feedback_ids: set.trained_feedback_ids.clone(),
        decision: decision.reason.clone(),
        notes,
    };
    registry.add(&candidate, &record)?;
    if decision.promote {
        registry.set_current(version)?;
    }
    let comparison = Comparison {
        seconds: started.elapsed().as_secs_f64(),
        ..comparison
    };
    say(
        "done",
        format!("{}: {}", version_name(version), decision.reason),
    );
    Ok(if decision.promote {
        Outcome::Promoted {
            version,
            record: Box::new(record),
            comparison,
        }
    } else {
        Outcome::Rejected {
            version,
            record: Box::new(record),
            comparison,
        }
    })
}
