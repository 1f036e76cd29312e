//! Retraining: the one job that makes every model version, the gate that decides
//! promotion, and what starts it (the feedback trigger, the schedule, operators and
//! the CLI).
//!
//! - [`settings`]: `[retrain]`, resolved once.
//! - [`base_data`]: the base dataset's train and test splits.
//! - [`dataset`]: base data + accepted feedback, audit texts out, untrusted senders capped.
//! - [`crossfit`]: honest feedback scores and the feedback weight.
//! - [`gate`]: the decision and its numbers.
//! - [`job`]: the retrain itself (and version 1).
//! - [`runner`], [`trigger`], [`schedule`], [`lock`]: what the daemon keeps about
//!   retraining (running, last report, the trigger's bookkeeping), the schedule's
//!   check and the one-at-a-time lock. `crate::tasks` starts and drives retrains; this
//!   module never sees the daemon's state.

pub mod base_data;
pub mod crossfit;
pub mod dataset;
pub mod gate;
pub mod job;
pub mod lock;
pub mod runner;
pub mod schedule;
pub mod settings;
pub mod trigger;

use anyhow::{Context, Result};
pub use job::{Inputs, RetrainJob};
use sentiment_data::registry::VersionRecord;
use sentiment_data::store::{AuditLabel, FeedbackFilter, FeedbackRecord, FeedbackStatus, Store};
use serde::Serialize;
pub use settings::RetrainSettings;

/// What a retrain did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing changed since the last retrain.
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

/// Current versus candidate: every number the gate saw.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub current_version: String,
    pub evidence: gate::Evidence,
    /// The feedback weight chosen by cross-fitting, and every weight's score.
    pub feedback_weight: f64,
    pub weight_scores: Vec<crossfit::WeightScore>,
    /// Untrusted senders whose rows the share cap left out.
    pub caps: Vec<dataset::Cap>,
    pub seconds: f64,
}

/// Stages, for progress displays and `/events`.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub stage: &'static str,
    pub message: String,
}

/// Accepted feedback from the store's file (works beside a running daemon).
pub fn accepted_feedback(store: &Store) -> Result<Vec<FeedbackRecord>> {
    store
        .feedback(FeedbackFilter {
            status: Some(FeedbackStatus::Accepted),
            ..FeedbackFilter::default()
        })
        .context("cannot read the accepted feedback")
}

/// Operator-labelled audit samples.
pub fn audit_labels(store: &Store) -> Result<Vec<AuditLabel>> {
    store
        .audit_labels()
        .context("cannot read the labelled audit items")
}
