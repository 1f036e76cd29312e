//! The labelling queue: texts waiting for an operator.
//!
//! Three kinds of item share it:
//!
//! - **low confidence**: a prediction the model was unsure of (or, by `reason`, a text
//!   unlike anything it was trained on). The operator's decision becomes accepted
//!   training feedback: `Label(l)` stores label `l` with source `"operator"`; `Accept`
//!   ("the prediction was right") stores the predicted label with source
//!   `"operator_accept"`, so that a retrain can rank an operator's explicit label above
//!   a mere confirmation of the same text.
//! - **correction**: a user's correction held for review; the operator accepts or
//!   rejects the user's feedback row (or overrides it with a label).
//! - **audit**: a sample of predictions an operator labels to *measure* the model.
//!   Audit decisions never create feedback (they are held out of training, so that
//!   they stay an unbiased test set): `Label(l)` makes the item `labelled` with label
//!   `l`, `Accept` makes it `accepted` with the predicted label, `Reject` ("cannot be
//!   labelled") makes it `rejected` without a label. [`Store::audit_labels`] reads the
//!   labelled and accepted ones back.
//!
//! Enqueueing is idempotent: one item per held feedback row, and one item per
//! prediction id across low-confidence and audit items (queueing a prediction that is
//! already queued as either kind returns the existing item).
//!
//! [`Store::audit_labels`]: super::Store::audit_labels
//!
//! States: `pending` and `skipped` are *open* (still to be reviewed); `labelled`,
//! `accepted` and `rejected` are final. Skipping does not drop an item: it moves it to
//! the back of the review order (its `position` becomes the largest so far), and it can
//! be labelled, accepted, rejected or skipped again later.

use super::counters;
use super::error::{SqlContext, StoreError};
use super::feedback::{self, validate_confidence, FeedbackRecord, FeedbackStatus, NewFeedback};
use super::sql::{label_at, label_to_sql, opt_label_at, text_enum_sql};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sentiment_core::Label;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an item is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// A prediction below the confidence threshold: needs a label.
    LowConfidence,
    /// A user's correction held for review: needs a yes or no.
    Correction,
    /// A prediction sampled for measuring the model: needs a label, which is held out
    /// of training (no feedback is created).
    Audit,
}

impl QueueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::LowConfidence => "low_confidence",
            QueueKind::Correction => "correction",
            QueueKind::Audit => "audit",
        }
    }
}

text_enum_sql!(
    QueueKind,
    [
        QueueKind::LowConfidence,
        QueueKind::Correction,
        QueueKind::Audit
    ]
);

/// Where an item stands (see the module documentation for the transitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    Pending,
    /// An operator gave a label.
    Labelled,
    /// An operator confirmed the prediction (low confidence) or the user's correction.
    Accepted,
    /// An operator discarded it.
    Rejected,
    /// Put off: still open, reviewed after everything that was open when it was skipped.
    Skipped,
}

impl QueueState {
    pub const ALL: [QueueState; 5] = [
        QueueState::Pending,
        QueueState::Labelled,
        QueueState::Accepted,
        QueueState::Rejected,
        QueueState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::Pending => "pending",
            QueueState::Labelled => "labelled",
            QueueState::Accepted => "accepted",
            QueueState::Rejected => "rejected",
            QueueState::Skipped => "skipped",
        }
    }

    /// Still waiting for a decision (pending or skipped).
    pub fn is_open(self) -> bool {
        matches!(self, QueueState::Pending | QueueState::Skipped)
    }
}

impl fmt::Display for QueueState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_enum_sql!(
    QueueState,
    [
        QueueState::Pending,
        QueueState::Labelled,
        QueueState::Accepted,
        QueueState::Rejected,
        QueueState::Skipped,
    ]
);

/// What an operator decided about an item.
///
/// By kind:
///
/// - low confidence: `Label(l)` -> `labelled`, new accepted feedback with label `l` and
///   source `"operator"`; `Accept` -> `accepted`, new accepted feedback with the
///   predicted label and source `"operator_accept"`; `Reject` -> `rejected`, no
///   feedback.
/// - correction: `Label(l)` -> `labelled`, the user's row accepted if `l` agrees with
///   it, else rejected and replaced by new operator feedback; `Accept` -> `accepted`,
///   the user's row accepted; `Reject` -> `rejected`, the user's row rejected.
/// - audit: `Label(l)` -> `labelled` with label `l`; `Accept` -> `accepted` with the
///   predicted label; `Reject` -> `rejected` (it cannot be labelled), no label. Never
///   any feedback: audit labels are held out of training.
/// - `Skip`, for every kind: the item stays open and moves to the back of the queue.
///
/// `Accept` on a low-confidence or audit item without a predicted label is an
/// [`InvalidTransition`](StoreError::InvalidTransition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueAction {
    /// This is the right label. For a low-confidence item it becomes accepted feedback
    /// (source `"operator"`); for a correction it accepts the user's row if the labels
    /// agree, and otherwise rejects it and records the operator's label as new accepted
    /// feedback; for an audit item it is recorded on the item only (no feedback: audit
    /// labels are held out of training).
    Label(Label),
    /// The prediction (low confidence, audit) or the user's correction is right. For a
    /// low-confidence item the predicted label becomes accepted feedback with source
    /// `"operator_accept"`; for an audit item it is recorded on the item only.
    Accept,
    /// Discard: no training data comes out of it (a held correction becomes rejected;
    /// an audit item could not be labelled).
    Reject,
    /// Decide later: the item stays open and moves to the back of the queue.
    Skip,
}

impl QueueAction {
    fn verb(self) -> String {
        match self {
            QueueAction::Label(label) => format!("label it {label}"),
            QueueAction::Accept => "accept it".into(),
            QueueAction::Reject => "reject it".into(),
            QueueAction::Skip => "skip it".into(),
        }
    }
}

/// An item to add to the queue.
///
/// For a [`QueueKind::Correction`], `feedback_id` is required and the other fields
/// left empty are taken from that feedback row. Low-confidence and audit items have no
/// `feedback_id`, and are idempotent per `prediction_id` across the two kinds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewQueueItem {
    pub kind: QueueKind,
    pub text: String,
    pub predicted_label: Option<Label>,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    pub feedback_id: Option<i64>,
    pub model_version: Option<String>,
    /// Why it is queued, free text set by the caller (e.g. `"low_confidence"`,
    /// `"unknown_text"`, `"audit"`); stored and returned as is.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A stored queue item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    pub id: i64,
    pub kind: QueueKind,
    pub text: String,
    pub predicted_label: Option<Label>,
    /// For a correction: the label the user says is right.
    pub proposed_label: Option<Label>,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    /// For a correction: the held feedback row under review.
    pub feedback_id: Option<i64>,
    pub model_version: Option<String>,
    pub created_unix_ms: i64,
    pub state: QueueState,
    /// The label decided on (set when labelled or accepted).
    pub label: Option<Label>,
    pub resolved_unix_ms: Option<i64>,
    /// The accepted feedback row that the decision produced or confirmed, if any
    /// (never for audit items).
    pub result_feedback_id: Option<i64>,
    /// Why it is queued (see [`NewQueueItem::reason`]); None for items queued before
    /// reasons existed.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What [`Store::resolve_queue_item`](super::Store::resolve_queue_item) did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub item: QueueItem,
    /// The feedback row created or updated by the decision (none for skips, for
    /// rejected low-confidence items and for audit items).
    pub feedback: Option<FeedbackRecord>,
}

/// Which states a queue listing covers, and in which order it comes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueSelect {
    /// Pending and skipped items, in review order (oldest first, skipped ones where
    /// the skip put them).
    #[default]
    Open,
    /// Every item, by id.
    All,
    /// One state: open states in review order, final states most recently resolved
    /// first.
    Only(QueueState),
}

impl FromStr for QueueSelect {
    type Err = StoreError;

    /// `open`, `all`, or a state name.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let wanted = raw.trim().to_ascii_lowercase();
        match wanted.as_str() {
            "open" => Ok(QueueSelect::Open),
            "all" => Ok(QueueSelect::All),
            _ => QueueState::ALL
                .into_iter()
                .find(|s| s.as_str() == wanted)
                .map(QueueSelect::Only)
                .ok_or_else(|| {
                    StoreError::InvalidArgument(format!(
                        "unknown queue state {raw:?}: expected open, all, pending, skipped, \
                         labelled, accepted or rejected"
                    ))
                }),
        }
    }
}

/// Which queue items to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    /// Which states, and so which order (default: open items in review order).
    pub state: QueueSelect,
    /// Only items of this kind.
    pub kind: Option<QueueKind>,
    /// At most this many items.
    pub limit: Option<usize>,
    /// Skip this many items first (paging).
    pub offset: usize,
}

/// How many items are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    pub pending: u64,
    pub skipped: u64,
    pub labelled: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Open (pending or skipped) low-confidence items.
    pub open_low_confidence: u64,
    /// Open (pending or skipped) held corrections.
    pub open_corrections: u64,
    /// Open (pending or skipped) audit items.
    #[serde(default)]
    pub open_audit: u64,
}

/// An operator's label on an audit item (see [`Store::audit_labels`]): held-out
/// evaluation data, never training data.
///
/// [`Store::audit_labels`]: super::Store::audit_labels
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLabel {
    /// The audit item's id in the queue.
    pub queue_id: i64,
    pub text: String,
    /// What the model said when the item was queued.
    pub predicted_label: Option<Label>,
    /// The label the operator gave (or the predicted label, if they accepted it).
    pub label: Label,
    /// The model that made the prediction.
    pub model_version: Option<String>,
    pub created_unix_ms: i64,
    pub resolved_unix_ms: i64,
}

const COLUMNS: &str = "id, kind, text, predicted_label, proposed_label, confidence, \
                       prediction_id, feedback_id, model_version, created_unix_ms, state, \
                       label, resolved_unix_ms, result_feedback_id, reason";

fn from_row(row: &Row<'_>) -> rusqlite::Result<QueueItem> {
    Ok(QueueItem {
        id: row.get(0)?,
        kind: row.get(1)?,
        text: row.get(2)?,
        predicted_label: opt_label_at(row, 3)?,
        proposed_label: opt_label_at(row, 4)?,
        confidence: row.get(5)?,
        prediction_id: row.get(6)?,
        feedback_id: row.get(7)?,
        model_version: row.get(8)?,
        created_unix_ms: row.get(9)?,
        state: row.get(10)?,
        label: opt_label_at(row, 11)?,
        resolved_unix_ms: row.get(12)?,
        result_feedback_id: row.get(13)?,
        reason: row.get(14)?,
    })
}

/// Adds an item. Idempotent: a prediction already queued (as a low-confidence or an
/// audit item) or a held feedback row already queued returns the existing item
/// (whatever its state and kind) instead of a copy.
pub(crate) fn enqueue(
    conn: &Connection,
    item: &NewQueueItem,
    now: i64,
) -> Result<QueueItem, StoreError> {
    validate_confidence(item.confidence)?;
    match item.kind {
        QueueKind::LowConfidence | QueueKind::Audit => {
            if item.feedback_id.is_some() {
                return Err(StoreError::InvalidArgument(format!(
                    "a {} queue item has no feedback_id; use kind correction for held \
                     feedback",
                    item.kind.as_str()
                )));
            }
            if item.text.trim().is_empty() {
                return Err(StoreError::InvalidArgument(
                    "queue item text is empty; queue the text that needs a label".into(),
                ));
            }
            if let Some(prediction_id) = &item.prediction_id {
                if let Some(existing) = find_by_prediction(conn, prediction_id)? {
                    return Ok(existing);
                }
            }
            // One label answers for every time a text was predicted unsure: a text
            // already waiting is not queued again (a popular text would otherwise
            // fill the queue with copies of itself). Audit items are a random sample
            // of the traffic and are all kept.
            if item.kind == QueueKind::LowConfidence {
                if let Some(existing) = find_open_low_confidence(conn, &item.text)? {
                    return Ok(existing);
                }
            }
            insert(conn, item, None, now)
        }
        QueueKind::Correction => {
            let Some(feedback_id) = item.feedback_id else {
                return Err(StoreError::InvalidArgument(
                    "a correction queue item needs the feedback_id of the held feedback".into(),
                ));
            };
            let fb = feedback::get(conn, feedback_id)?.ok_or_else(|| StoreError::NotFound {
                what: "feedback",
                id: feedback_id.to_string(),
            })?;
            if let Some(existing) = find_by_feedback(conn, feedback_id)? {
                return Ok(existing);
            }
            let merged = NewQueueItem {
                kind: QueueKind::Correction,
                text: if item.text.trim().is_empty() {
                    fb.text.clone()
                } else {
                    item.text.clone()
                },
                predicted_label: item.predicted_label.or(fb.predicted_label),
                confidence: item.confidence.or(fb.confidence),
                prediction_id: item.prediction_id.clone().or(fb.prediction_id.clone()),
                feedback_id: Some(feedback_id),
                model_version: item.model_version.clone().or(fb.model_version.clone()),
                reason: item.reason.clone(),
            };
            insert(conn, &merged, Some(fb.correct_label), now)
        }
    }
}

/// The correction item for a freshly inserted held feedback row.
pub(crate) fn insert_correction(
    conn: &Connection,
    fb: &FeedbackRecord,
    now: i64,
) -> Result<QueueItem, StoreError> {
    let item = NewQueueItem {
        kind: QueueKind::Correction,
        text: fb.text.clone(),
        predicted_label: fb.predicted_label,
        confidence: fb.confidence,
        prediction_id: fb.prediction_id.clone(),
        feedback_id: Some(fb.id),
        model_version: fb.model_version.clone(),
        reason: None,
    };
    insert(conn, &item, Some(fb.correct_label), now)
}

fn insert(
    conn: &Connection,
    item: &NewQueueItem,
    proposed: Option<Label>,
    now: i64,
) -> Result<QueueItem, StoreError> {
    let position = counters::next(conn, counters::QUEUE_POSITION)?;
    conn.prepare_cached(
        "INSERT INTO queue (kind, text, predicted_label, proposed_label, confidence, \
         prediction_id, feedback_id, model_version, created_unix_ms, state, position, \
         reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            item.kind,
            item.text,
            item.predicted_label.map(label_to_sql),
            proposed.map(label_to_sql),
            item.confidence,
            item.prediction_id,
            item.feedback_id,
            item.model_version,
            now,
            position,
            item.reason,
        ])
    })
    .ctx("adding to the labelling queue", conn)?;
    Ok(QueueItem {
        id: conn.last_insert_rowid(),
        kind: item.kind,
        text: item.text.clone(),
        predicted_label: item.predicted_label,
        proposed_label: proposed,
        confidence: item.confidence,
        prediction_id: item.prediction_id.clone(),
        feedback_id: item.feedback_id,
        model_version: item.model_version.clone(),
        created_unix_ms: now,
        state: QueueState::Pending,
        label: None,
        resolved_unix_ms: None,
        result_feedback_id: None,
        reason: item.reason.clone(),
    })
}

/// Applies an operator's decision (see [`QueueAction`]).
pub(crate) fn resolve(
    conn: &Connection,
    id: i64,
    action: QueueAction,
    now: i64,
) -> Result<Resolution, StoreError> {
    let item = get(conn, id)?.ok_or_else(|| StoreError::NotFound {
        what: "queue item",
        id: id.to_string(),
    })?;
    if !item.state.is_open() {
        return Err(StoreError::InvalidTransition {
            id,
            state: item.state,
            action: action.verb(),
            hint: "it has already been decided; only pending or skipped items can be resolved",
        });
    }
    if action == QueueAction::Skip {
        let position = counters::next(conn, counters::QUEUE_POSITION)?;
        conn.prepare_cached("UPDATE queue SET state = 'skipped', position = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, position]))
            .ctx("skipping a queue item", conn)?;
        return finish(conn, id, None);
    }
    match item.kind {
        QueueKind::LowConfidence => resolve_low_confidence(conn, &item, action, now),
        QueueKind::Correction => resolve_correction(conn, &item, action, now),
        QueueKind::Audit => resolve_audit(conn, &item, action, now),
    }
}

/// The label an `Accept` confirms: the predicted one, which a low-confidence or audit
/// item may lack.
fn predicted_for_accept(item: &QueueItem, action: QueueAction) -> Result<Label, StoreError> {
    item.predicted_label
        .ok_or_else(|| StoreError::InvalidTransition {
            id: item.id,
            state: item.state,
            action: action.verb(),
            hint: "it has no predicted label to accept; give it a label instead",
        })
}

fn resolve_low_confidence(
    conn: &Connection,
    item: &QueueItem,
    action: QueueAction,
    now: i64,
) -> Result<Resolution, StoreError> {
    let (state, label, source) = match action {
        QueueAction::Label(label) => (QueueState::Labelled, label, OPERATOR_SOURCE),
        QueueAction::Accept => (
            QueueState::Accepted,
            predicted_for_accept(item, action)?,
            OPERATOR_ACCEPT_SOURCE,
        ),
        QueueAction::Reject => {
            set_resolved(conn, item.id, QueueState::Rejected, None, None, now)?;
            return finish(conn, item.id, None);
        }
        QueueAction::Skip => unreachable!("skips are handled by the caller"),
    };
    let fb = feedback::insert(conn, &operator_feedback(item, label, source), now)?;
    set_resolved(conn, item.id, state, Some(label), Some(fb.id), now)?;
    finish(conn, item.id, Some(fb))
}

/// Audit decisions are recorded on the item only: no feedback row, so audit labels
/// never reach training.
fn resolve_audit(
    conn: &Connection,
    item: &QueueItem,
    action: QueueAction,
    now: i64,
) -> Result<Resolution, StoreError> {
    let (state, label) = match action {
        QueueAction::Label(label) => (QueueState::Labelled, Some(label)),
        QueueAction::Accept => (
            QueueState::Accepted,
            Some(predicted_for_accept(item, action)?),
        ),
        QueueAction::Reject => (QueueState::Rejected, None),
        QueueAction::Skip => unreachable!("skips are handled by the caller"),
    };
    set_resolved(conn, item.id, state, label, None, now)?;
    finish(conn, item.id, None)
}

fn resolve_correction(
    conn: &Connection,
    item: &QueueItem,
    action: QueueAction,
    now: i64,
) -> Result<Resolution, StoreError> {
    let feedback_id = item.feedback_id.ok_or_else(|| {
        StoreError::InvalidArgument(format!(
            "queue item {} is a correction without a feedback row; reject it",
            item.id
        ))
    })?;
    match action {
        QueueAction::Reject => {
            let fb = feedback::update_status(conn, feedback_id, FeedbackStatus::Rejected)?;
            set_resolved(conn, item.id, QueueState::Rejected, None, None, now)?;
            finish(conn, item.id, Some(fb))
        }
        QueueAction::Accept => {
            let fb = feedback::update_status(conn, feedback_id, FeedbackStatus::Accepted)?;
            let label = Some(fb.correct_label);
            set_resolved(conn, item.id, QueueState::Accepted, label, Some(fb.id), now)?;
            finish(conn, item.id, Some(fb))
        }
        QueueAction::Label(label) if item.proposed_label == Some(label) => {
            let fb = feedback::update_status(conn, feedback_id, FeedbackStatus::Accepted)?;
            set_resolved(
                conn,
                item.id,
                QueueState::Labelled,
                Some(label),
                Some(fb.id),
                now,
            )?;
            finish(conn, item.id, Some(fb))
        }
        QueueAction::Label(label) => {
            // The operator disagrees with the user: keep the user's row (rejected) for
            // the record and train on the operator's label instead.
            feedback::update_status(conn, feedback_id, FeedbackStatus::Rejected)?;
            let operator = operator_feedback(item, label, OPERATOR_SOURCE);
            let fb = feedback::insert(conn, &operator, now)?;
            set_resolved(
                conn,
                item.id,
                QueueState::Labelled,
                Some(label),
                Some(fb.id),
                now,
            )?;
            finish(conn, item.id, Some(fb))
        }
        QueueAction::Skip => unreachable!("skips are handled by the caller"),
    }
}

/// Resolves the open correction item of a feedback row whose status was set directly
/// (API or CLI) rather than through the queue.
pub(crate) fn close_corrections_for(
    conn: &Connection,
    fb: &FeedbackRecord,
    now: i64,
) -> Result<(), StoreError> {
    let Some(item) = find_by_feedback(conn, fb.id)? else {
        return Ok(());
    };
    if !item.state.is_open() {
        return Ok(());
    }
    match fb.status {
        FeedbackStatus::Accepted => set_resolved(
            conn,
            item.id,
            QueueState::Accepted,
            Some(fb.correct_label),
            Some(fb.id),
            now,
        ),
        FeedbackStatus::Rejected => {
            set_resolved(conn, item.id, QueueState::Rejected, None, None, now)
        }
        FeedbackStatus::Held => Ok(()),
    }
}

/// The source of feedback from an operator's label.
const OPERATOR_SOURCE: &str = super::feedback::OPERATOR_SOURCES[0];
/// The source of feedback from an operator accepting a low-confidence prediction.
const OPERATOR_ACCEPT_SOURCE: &str = super::feedback::OPERATOR_SOURCES[1];

fn operator_feedback(item: &QueueItem, label: Label, source: &str) -> NewFeedback {
    NewFeedback {
        text: item.text.clone(),
        predicted_label: item.predicted_label,
        correct_label: label,
        confidence: item.confidence,
        prediction_id: item.prediction_id.clone(),
        source: source.into(),
        api_key: None,
        model_version: item.model_version.clone(),
        status: FeedbackStatus::Accepted,
        client: None,
    }
}

fn set_resolved(
    conn: &Connection,
    id: i64,
    state: QueueState,
    label: Option<Label>,
    result_feedback_id: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE queue SET state = ?2, label = ?3, result_feedback_id = ?4, \
         resolved_unix_ms = ?5 WHERE id = ?1",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            id,
            state,
            label.map(label_to_sql),
            result_feedback_id,
            now
        ])
    })
    .ctx("resolving a queue item", conn)?;
    Ok(())
}

fn finish(
    conn: &Connection,
    id: i64,
    feedback: Option<FeedbackRecord>,
) -> Result<Resolution, StoreError> {
    let item = get(conn, id)?.ok_or_else(|| StoreError::NotFound {
        what: "queue item",
        id: id.to_string(),
    })?;
    Ok(Resolution { item, feedback })
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<QueueItem>, StoreError> {
    find_one(conn, "id = ?1", id, "reading a queue item")
}

fn find_by_prediction(
    conn: &Connection,
    prediction_id: &str,
) -> Result<Option<QueueItem>, StoreError> {
    find_one(
        conn,
        "kind IN ('low_confidence', 'audit') AND prediction_id = ?1",
        prediction_id,
        "looking up a queued prediction",
    )
}

/// The open (pending or skipped) low-confidence item for exactly this text, if any.
fn find_open_low_confidence(
    conn: &Connection,
    text: &str,
) -> Result<Option<QueueItem>, StoreError> {
    find_one(
        conn,
        "state IN ('pending', 'skipped') AND kind = 'low_confidence' AND text = ?1 \
         ORDER BY position LIMIT 1",
        text,
        "looking up a queued text",
    )
}

fn find_by_feedback(conn: &Connection, feedback_id: i64) -> Result<Option<QueueItem>, StoreError> {
    find_one(
        conn,
        "kind = 'correction' AND feedback_id = ?1",
        feedback_id,
        "looking up a queued correction",
    )
}

/// The item `condition` (an SQL condition on `?1`, with any ordering) selects, if any.
fn find_one(
    conn: &Connection,
    condition: &str,
    value: impl rusqlite::ToSql,
    doing: &'static str,
) -> Result<Option<QueueItem>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM queue WHERE {condition}"))
        .and_then(|mut stmt| stmt.query_row([value], from_row).optional())
        .ctx(doing, conn)
}

pub(crate) fn list(conn: &Connection, filter: &QueueFilter) -> Result<Vec<QueueItem>, StoreError> {
    let (where_state, order) = match filter.state {
        QueueSelect::Open => ("state IN ('pending', 'skipped')", "position, id"),
        QueueSelect::All => ("1", "id"),
        QueueSelect::Only(state) if state.is_open() => ("state = ?1", "position, id"),
        QueueSelect::Only(_) => ("state = ?1", "resolved_unix_ms DESC, id DESC"),
    };
    let where_kind = if filter.kind.is_some() {
        "kind = ?2"
    } else {
        "?2 IS NULL"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM queue WHERE {where_state} AND {where_kind} \
         ORDER BY {order} LIMIT ?3 OFFSET ?4"
    );
    let state = match filter.state {
        QueueSelect::Only(state) => Some(state),
        _ => None,
    };
    let limit = filter
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(&sql)
        .ctx("preparing the queue query", conn)?;
    // Parameters are numbered, so a shape that does not mention `?1` still binds it
    // harmlessly (SQLite counts up to the highest number used).
    let rows = stmt
        .query_map(params![state, filter.kind, limit, offset], from_row)
        .ctx("listing the labelling queue", conn)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading a queue item", conn)
}

pub(crate) fn counts(conn: &Connection) -> Result<QueueCounts, StoreError> {
    let mut counts = QueueCounts::default();
    let mut stmt = conn
        .prepare_cached("SELECT state, kind, COUNT(*) FROM queue GROUP BY state, kind")
        .ctx("preparing the queue count", conn)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, QueueState>(0)?,
                row.get::<_, QueueKind>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
        .ctx("counting the labelling queue", conn)?;
    for row in rows {
        let (state, kind, n) = row.ctx("counting the labelling queue", conn)?;
        let n = u64::try_from(n).unwrap_or(0);
        match state {
            QueueState::Pending => counts.pending += n,
            QueueState::Skipped => counts.skipped += n,
            QueueState::Labelled => counts.labelled += n,
            QueueState::Accepted => counts.accepted += n,
            QueueState::Rejected => counts.rejected += n,
        }
        if state.is_open() {
            match kind {
                QueueKind::LowConfidence => counts.open_low_confidence += n,
                QueueKind::Correction => counts.open_corrections += n,
                QueueKind::Audit => counts.open_audit += n,
            }
        }
    }
    Ok(counts)
}

/// Every audit item an operator labelled or accepted, oldest first.
pub(crate) fn audit_labels(conn: &Connection) -> Result<Vec<AuditLabel>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, text, predicted_label, label, model_version, created_unix_ms, \
             resolved_unix_ms FROM queue \
             WHERE kind = 'audit' AND state IN ('labelled', 'accepted') ORDER BY id",
        )
        .ctx("preparing the audit label query", conn)?;
    let rows = stmt
        .query_map([], |row| {
            Ok(AuditLabel {
                queue_id: row.get(0)?,
                text: row.get(1)?,
                predicted_label: opt_label_at(row, 2)?,
                label: label_at(row, 3)?,
                model_version: row.get(4)?,
                created_unix_ms: row.get(5)?,
                resolved_unix_ms: row.get(6)?,
            })
        })
        .ctx("listing audit labels", conn)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading an audit label", conn)
}
