//! The one retrain job. Every version is made here: version 1 at the first start
//! ([`RetrainJob::bootstrap`]) and every later one ([`RetrainJob::run`]), whether the
//! daemon's feedback trigger, its schedule, an operator, `sentimentd retrain` or the
//! Hub workflow asked for it.
//!
//! A run: base data + accepted feedback (audit texts held out, untrusted senders
//! capped) -> one vectorising pass -> cross-fitting over the feedback weight grid ->
//! the candidate at the chosen weight -> every number the gate needs, measured on the
//! current version and the candidate -> the gate -> registered, promoted or rejected,
//! with those numbers.

use super::base_data::BaseData;
use super::crossfit::{self, count_correct, CrossFit};
use super::dataset::{self, CapOptions, RetrainSet};
use super::gate::{self, Evidence, Flips, Paired, VersionScore};
use super::settings::RetrainSettings;
use super::{Comparison, Outcome, Progress};
use anyhow::{Context, Result};
use sentiment_core::text::normalise;
use sentiment_core::{EvaluationReport, Label, PreparedTexts, SentimentModel, TrainConfig};
use sentiment_data::registry::{version_name, Registry, VersionRecord, VersionStatus};
use sentiment_data::store::{AuditLabel, FeedbackRecord};
use sentiment_data::Example;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// Notes every version carries, so the floor survives the pruning of version 1.
pub const REFERENCE_VERSION: &str = "reference_version";
pub const REFERENCE_BASE_TEST: &str = "reference_base_test";

/// What a retrain learns from.
pub struct Inputs<'a> {
    pub base: &'a BaseData,
    /// Accepted feedback.
    pub feedback: &'a [FeedbackRecord],
    /// Operator-labelled audit samples: measured on, never trained on.
    pub audit: &'a [AuditLabel],
    /// The candidate's number is at least this (a retrain against the Hub must not
    /// reuse a number the Hub gave out); 1 otherwise.
    pub first_free: u32,
}

/// The settings a retrain runs with, resolved once by the caller.
pub struct RetrainJob<'a> {
    pub registry: &'a Registry,
    pub settings: &'a RetrainSettings,
    pub train_config: &'a TrainConfig,
}

fn texts_and_labels(examples: &[Example]) -> (Vec<&str>, Vec<Label>) {
    (
        examples.iter().map(|e| e.text.as_str()).collect(),
        examples.iter().map(|e| e.label).collect(),
    )
}

/// The fingerprint of what a retrain learns from: the same fingerprint as the last
/// version's means nothing new to train on.
fn fingerprint(feedback: &[FeedbackRecord], audit: &[AuditLabel]) -> String {
    let mut hasher = Sha256::new();
    for r in feedback {
        hasher.update(r.id.to_le_bytes());
        hasher.update([r.correct_label.index() as u8]);
    }
    for a in audit {
        hasher.update(a.queue_id.to_le_bytes());
    }
    hex::encode(hasher.finalize())
}

fn correct(model: &SentimentModel, texts: &[&str], labels: &[Label]) -> Vec<bool> {
    model
        .predict_batch(texts)
        .iter()
        .zip(labels)
        .map(|(p, &l)| p.label == l)
        .collect()
}

fn paired(current: &[bool], candidate: &[bool]) -> Paired {
    Paired {
        items: current.len(),
        current_correct: current.iter().filter(|&&c| c).count(),
        candidate_correct: candidate.iter().filter(|&&c| c).count(),
    }
}

impl RetrainJob<'_> {
    /// Trains version 1 on the base data alone and makes it current. It is the
    /// reference every later version's base test accuracy is held to.
    pub fn bootstrap(
        &self,
        base: &BaseData,
        mut notes: BTreeMap<String, String>,
        progress: &(dyn Fn(sentiment_core::TrainProgress) + Sync),
    ) -> Result<VersionRecord> {
        let started = Instant::now();
        let (texts, labels) = texts_and_labels(&base.train);
        let mut model = sentiment_core::train(&texts, &labels, None, self.train_config, progress)
            .context("training version 1 failed")?;
        let (test_texts, test_labels) = texts_and_labels(&base.test);
        let report = model.evaluate(&test_texts, &test_labels)?;
        model
            .metadata
            .evaluations
            .insert("base_test".into(), report.clone());
        notes.extend(base.notes());
        notes.insert(REFERENCE_VERSION.into(), version_name(1));
        notes.insert(REFERENCE_BASE_TEST.into(), report.accuracy.to_string());
        notes.insert(
            "train_seconds".into(),
            format!("{:.2}", started.elapsed().as_secs_f64()),
        );
        model.metadata.notes.extend(notes.clone());
        let record = VersionRecord {
            version: 1,
            created_unix_ms: model.metadata.created_unix_ms,
            status: VersionStatus::Promoted,
            parent: None,
            evaluations: BTreeMap::from([("base_test".to_string(), report)]),
            training_rows: BTreeMap::from([("base".to_string(), base.train.len() as u64)]),
            training_data_sha256: model.metadata.training.data_sha256.clone(),
            feedback_ids: Vec::new(),
            decision: "bootstrap: the first model, trained on the base dataset; the reference \
                       every later version's base test accuracy is held to"
                .into(),
            notes,
        };
        self.registry.add(&model, &record)?;
        self.registry.set_current(1)?;
        Ok(record)
    }

    /// The reference version's base test accuracy, and why it is the reference.
    fn reference(&self, current: &VersionRecord) -> Result<(VersionScore, String)> {
        let noted = current
            .notes
            .get(REFERENCE_VERSION)
            .zip(current.notes.get(REFERENCE_BASE_TEST))
            .and_then(|(v, a)| Some((v.clone(), a.parse::<f64>().ok()?)));
        if let Some((version, base_test)) = noted {
            return Ok((
                VersionScore { version, base_test },
                "the bootstrap version, a fixed floor".into(),
            ));
        }
        // Versions made before the reference was recorded: the oldest version
        // without a parent is the bootstrap.
        let bootstrap = self
            .registry
            .versions()?
            .into_iter()
            .find(|r| r.parent.is_none() && r.evaluations.contains_key("base_test"));
        Ok(match bootstrap {
            Some(r) => (
                VersionScore {
                    version: r.name(),
                    base_test: r.evaluations["base_test"].accuracy,
                },
                "the bootstrap version, a fixed floor".into(),
            ),
            None => (
                VersionScore {
                    version: current.name(),
                    base_test: current
                        .evaluations
                        .get("base_test")
                        .map_or(0.0, |r| r.accuracy),
                },
                "no bootstrap version in the registry; the current version stands in".into(),
            ),
        })
    }

    /// Runs one retrain. The caller holds the retrain lock.
    pub fn run(&self, inputs: Inputs<'_>, progress: &(dyn Fn(Progress) + Sync)) -> Result<Outcome> {
        let started = Instant::now();
        let say = |stage: &'static str, message: String| {
            tracing::info!(stage, "{message}");
            progress(Progress { stage, message });
        };
        let registry = self.registry;
        let settings = self.settings;
        let current_version = registry.current()?.context(
            "the registry has no current version; start the daemon once to bootstrap one",
        )?;
        let current_record = registry.record(current_version)?;
        if inputs.feedback.is_empty() {
            return Ok(Outcome::NothingNew {
                reason: "no accepted feedback yet".into(),
            });
        }
        let fingerprint = fingerprint(inputs.feedback, inputs.audit);
        let versions = registry.versions()?;
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
                        inputs.feedback.len()
                    ),
                });
            }
        }

        let audit_texts: HashSet<String> =
            inputs.audit.iter().map(|a| normalise(&a.text)).collect();
        let set: RetrainSet = dataset::build(
            &inputs.base.train,
            inputs.feedback,
            &audit_texts,
            CapOptions {
                max_share: settings.max_share_per_key,
                min_rows: settings.min_rows_per_key,
            },
        );
        for cap in &set.caps {
            tracing::warn!(
                sender = %cap.sender,
                sent = cap.sent,
                kept = cap.kept,
                "feedback capped: one untrusted sender is over its share of this retrain"
            );
        }
        if set.feedback.is_empty() {
            return Ok(Outcome::NothingNew {
                reason: format!(
                    "no feedback to train on: {} accepted rows, all of them texts of the audit set",
                    inputs.feedback.len()
                ),
            });
        }
        say(
            "prepare",
            format!(
                "vectorising {} base examples and {} feedback",
                set.base.len(),
                set.feedback.len()
            ),
        );
        let n_base = set.base.len();
        let mut texts: Vec<&str> = set.base.iter().map(|e| e.text.as_str()).collect();
        let mut labels: Vec<Label> = set.base.iter().map(|e| e.label).collect();
        texts.extend(set.feedback.iter().map(|f| f.text.as_str()));
        labels.extend(set.feedback.iter().map(|f| f.label));
        let prepared = PreparedTexts::new(&texts, &self.train_config.vectorizer)
            .context("vectorising the training set failed")?;

        say(
            "cross-fit",
            format!(
                "cross-fitting {} feedback in {} folds at weights {:?}",
                set.feedback.len(),
                settings.folds,
                settings.feedback_weights
            ),
        );
        let folds: Vec<usize> = set
            .feedback
            .iter()
            .map(|f| crossfit::fold_of(&f.text, settings.folds))
            .collect();
        let cross: CrossFit = crossfit::cross_fit(
            &prepared,
            &labels,
            n_base,
            &folds,
            settings,
            self.train_config,
        )
        .context("cross-fitting failed")?;
        tracing::info!(
            fits = cross.fits,
            iterations = cross.iterations,
            weight = cross.weight,
            "cross-fitted"
        );

        say(
            "train",
            format!(
                "training the candidate on {} examples, feedback weighted {}",
                texts.len(),
                cross.weight
            ),
        );
        let mut weights = vec![1.0; texts.len()];
        weights[n_base..].fill(cross.weight);
        let mut candidate = prepared
            .train(
                &texts,
                &labels,
                Some(&weights),
                self.train_config,
                cross.nearest_fit.as_ref(),
                &|_| {},
            )
            .context("training the candidate failed")?;
        drop(prepared);

        say(
            "evaluate",
            format!(
                "measuring {} and the candidate on {} base test texts, {} feedback and {} audit items",
                version_name(current_version),
                inputs.base.test.len(),
                set.feedback.len(),
                inputs.audit.len()
            ),
        );
        let current = registry.load(current_version)?;
        let (test_texts, test_labels) = texts_and_labels(&inputs.base.test);
        let candidate_base = candidate.evaluate(&test_texts, &test_labels)?;
        let current_base = current.evaluate(&test_texts, &test_labels)?;

        let feedback_texts: Vec<&str> = set.feedback.iter().map(|f| f.text.as_str()).collect();
        let feedback_labels: Vec<Label> = set.feedback.iter().map(|f| f.label).collect();
        let current_on_feedback = correct(&current, &feedback_texts, &feedback_labels);
        let candidate_on_feedback = correct(&candidate, &feedback_texts, &feedback_labels);
        let cross_correct: Vec<bool> = cross
            .p_positive
            .iter()
            .zip(&feedback_labels)
            .map(|(&p, &l)| count_correct(&[l], &[p]) == 1)
            .collect();
        let trained_before: HashSet<i64> = current_record.feedback_ids.iter().copied().collect();
        let fresh: Vec<usize> = (0..set.feedback.len())
            .filter(|&i| !trained_before.contains(&set.feedback[i].id))
            .collect();
        let fresh_feedback = (!fresh.is_empty()).then(|| {
            let pick = |v: &[bool]| fresh.iter().map(|&i| v[i]).collect::<Vec<_>>();
            paired(&pick(&current_on_feedback), &pick(&cross_correct))
        });
        let (audit_texts, audit_labels): (Vec<&str>, Vec<Label>) = inputs
            .audit
            .iter()
            .map(|a| (a.text.as_str(), a.label))
            .unzip();
        let (audit, candidate_audit) = if audit_texts.is_empty() {
            (None, None)
        } else {
            (
                Some(paired(
                    &correct(&current, &audit_texts, &audit_labels),
                    &correct(&candidate, &audit_texts, &audit_labels),
                )),
                Some(candidate.evaluate(&audit_texts, &audit_labels)?),
            )
        };
        let trained_feedback = Flips {
            items: set.feedback.len(),
            fixed: current_on_feedback
                .iter()
                .zip(&candidate_on_feedback)
                .filter(|(&cur, &cand)| !cur && cand)
                .count(),
            broken: current_on_feedback
                .iter()
                .zip(&candidate_on_feedback)
                .filter(|(&cur, &cand)| cur && !cand)
                .count(),
        };
        let (reference, reference_why) = self.reference(&current_record)?;
        let evidence = Evidence {
            reference: reference.clone(),
            reference_why,
            current: VersionScore {
                version: version_name(current_version),
                base_test: current_base.accuracy,
            },
            candidate_base_test: candidate_base.accuracy,
            base_test_items: inputs.base.test.len(),
            fresh_feedback,
            audit,
            trained_feedback,
        };
        let decision = gate::decide(&evidence, settings.base_tolerance);
        let mut reason = decision.reason.clone();
        if !set.caps.is_empty() {
            let caps: Vec<String> = set
                .caps
                .iter()
                .map(|c| format!("{} kept {} of {} rows", c.sender, c.kept, c.sent))
                .collect();
            reason.push_str(&format!(
                "; capped (retrain.max_share_per_key {}): {}",
                settings.max_share_per_key,
                caps.join(", ")
            ));
        }

        let version = registry.next_version()?.max(inputs.first_free);
        let mut evaluations = BTreeMap::from([("base_test".to_string(), candidate_base.clone())]);
        let cross_report: EvaluationReport =
            sentiment_core::evaluate(&feedback_labels, &cross.p_positive)?;
        evaluations.insert("feedback_crossfit".into(), cross_report);
        if let Some(report) = candidate_audit {
            evaluations.insert("audit".into(), report);
        }
        candidate.metadata.evaluations = evaluations.clone();
        let mut notes = inputs.base.notes();
        notes.extend([
            ("feedback_fingerprint".to_string(), fingerprint),
            ("feedback_weight".to_string(), cross.weight.to_string()),
            ("crossfit".to_string(), json(&cross)),
            ("gate".to_string(), json(&evidence)),
            (REFERENCE_VERSION.to_string(), reference.version.clone()),
            (
                REFERENCE_BASE_TEST.to_string(),
                reference.base_test.to_string(),
            ),
        ]);
        if !set.caps.is_empty() {
            notes.insert("caps".into(), json(&set.caps));
        }
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
            feedback_ids: set.feedback.iter().map(|f| f.id).collect(),
            decision: reason,
            notes,
        };
        registry.add(&candidate, &record)?;
        if decision.promote {
            registry.set_current(version)?;
        }
        let comparison = Comparison {
            current_version: version_name(current_version),
            evidence,
            feedback_weight: cross.weight,
            weight_scores: cross.scores.clone(),
            caps: set.caps.clone(),
            seconds: started.elapsed().as_secs_f64(),
        };
        say(
            "done",
            format!("{}: {}", version_name(version), record.decision),
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
}

/// JSON text of a recorded value (notes are strings).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
