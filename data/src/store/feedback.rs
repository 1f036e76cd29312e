//! Feedback: a caller saying what the right label for a text was.
//!
//! Accepted feedback is training material; held feedback (a user correction that an
//! operator should look at first) also gets a correction item in the labelling queue,
//! in the same transaction, so that no held row can be forgotten; rejected feedback is
//! kept for the record but never trained on.

use super::error::{SqlContext, StoreError};
use super::sql::{label_at, label_to_sql, opt_label_at, text_enum_sql};
use super::{counters, queue};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sentiment_core::Label;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a feedback row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackStatus {
    /// Usable for training.
    Accepted,
    /// Waiting for an operator (a correction under review).
    Held,
    /// Kept for the record, never trained on.
    Rejected,
}

impl FeedbackStatus {
    pub const ALL: [FeedbackStatus; 3] = [
        FeedbackStatus::Accepted,
        FeedbackStatus::Held,
        FeedbackStatus::Rejected,
    ];

    /// The lowercase spelling used in JSON, CSV and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::Accepted => "accepted",
            FeedbackStatus::Held => "held",
            FeedbackStatus::Rejected => "rejected",
        }
    }
}

impl fmt::Display for FeedbackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FeedbackStatus {
    type Err = StoreError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let wanted = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| {
                StoreError::InvalidArgument(format!(
                    "unknown feedback status {raw:?}: expected accepted, held or rejected"
                ))
            })
    }
}

text_enum_sql!(
    FeedbackStatus,
    [
        FeedbackStatus::Accepted,
        FeedbackStatus::Held,
        FeedbackStatus::Rejected
    ]
);

/// Feedback as submitted, before the store gives it an id and a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFeedback {
    pub text: String,
    /// What the model said, if the caller knows.
    pub predicted_label: Option<Label>,
    /// What the caller says is right.
    pub correct_label: Label,
    /// The model's confidence in `predicted_label`, in `[0, 1]`.
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    /// Who sent it: `"api"`, `"socket"`, `"operator"`...
    pub source: String,
    /// The NAME of the API key used, never the secret.
    pub api_key: Option<String>,
    pub model_version: Option<String>,
    pub status: FeedbackStatus,
    /// Who sent it when the sender is untrusted: `"key:NAME"` for a user API key,
    /// `"addr:IP"` for an anonymous caller; None for trusted senders (the socket, an
    /// operator). Personal data (it can hold an IP address): it stays in the database
    /// and is neither exported nor shared in Hub shards.
    #[serde(default)]
    pub client: Option<String>,
}

/// A stored feedback row: the fields of [`NewFeedback`] plus the id and the time the
/// store recorded it (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    pub id: i64,
    pub created_unix_ms: i64,
    pub text: String,
    pub predicted_label: Option<Label>,
    pub correct_label: Label,
    pub confidence: Option<f64>,
    pub prediction_id: Option<String>,
    pub source: String,
    pub api_key: Option<String>,
    pub model_version: Option<String>,
    pub status: FeedbackStatus,
    /// See [`NewFeedback::client`]; None for rows stored before it existed.
    #[serde(default)]
    pub client: Option<String>,
}

/// Which feedback rows to list. The default lists everything, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedbackFilter {
    /// Only rows with this status.
    pub status: Option<FeedbackStatus>,
    /// Only rows with an id greater than this (ids only grow, so the last id seen is
    /// a resumable cursor).
    pub since_id: Option<i64>,
    /// At most this many rows.
    pub limit: Option<usize>,
}

pub(crate) const COLUMNS: &str =
    "id, created_unix_ms, text, predicted_label, correct_label, confidence, \
                       prediction_id, source, api_key, model_version, status, client";

pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<FeedbackRecord> {
    Ok(FeedbackRecord {
        id: row.get(0)?,
        created_unix_ms: row.get(1)?,
        text: row.get(2)?,
        predicted_label: opt_label_at(row, 3)?,
        correct_label: label_at(row, 4)?,
        confidence: row.get(5)?,
        prediction_id: row.get(6)?,
        source: row.get(7)?,
        api_key: row.get(8)?,
        model_version: row.get(9)?,
        status: row.get(10)?,
        client: row.get(11)?,
    })
}

pub(crate) fn validate_confidence(confidence: Option<f64>) -> Result<(), StoreError> {
    match confidence {
        Some(c) if !(0.0..=1.0).contains(&c) => Err(StoreError::InvalidArgument(format!(
            "confidence {c} is outside [0, 1]"
        ))),
        _ => Ok(()),
    }
}

/// Inserts a feedback row (and, for held feedback, its correction queue item) and
/// counts it. Runs inside the writer's transaction.
pub(crate) fn insert(
    conn: &Connection,
    fb: &NewFeedback,
    now: i64,
) -> Result<FeedbackRecord, StoreError> {
    if fb.text.trim().is_empty() {
        return Err(StoreError::InvalidArgument(
            "feedback text is empty; send the text the label is about".into(),
        ));
    }
    validate_confidence(fb.confidence)?;
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO feedback (created_unix_ms, text, predicted_label, correct_label, \
             confidence, prediction_id, source, api_key, model_version, status, client) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .ctx("preparing the feedback insert", conn)?;
    stmt.execute(params![
        now,
        fb.text,
        fb.predicted_label.map(label_to_sql),
        label_to_sql(fb.correct_label),
        fb.confidence,
        fb.prediction_id,
        fb.source,
        fb.api_key,
        fb.model_version,
        fb.status,
        fb.client,
    ])
    .ctx("recording feedback", conn)?;
    let record = FeedbackRecord {
        id: conn.last_insert_rowid(),
        created_unix_ms: now,
        text: fb.text.clone(),
        predicted_label: fb.predicted_label,
        correct_label: fb.correct_label,
        confidence: fb.confidence,
        prediction_id: fb.prediction_id.clone(),
        source: fb.source.clone(),
        api_key: fb.api_key.clone(),
        model_version: fb.model_version.clone(),
        status: fb.status,
        client: fb.client.clone(),
    };
    counters::bump(conn, counters::TOTAL_FEEDBACK, 1)?;
    if record.status == FeedbackStatus::Held {
        queue::insert_correction(conn, &record, now)?;
    }
    Ok(record)
}

/// Changes the status of a row without touching the queue (the queue code calls this
/// while resolving an item).
pub(crate) fn update_status(
    conn: &Connection,
    id: i64,
    status: FeedbackStatus,
) -> Result<FeedbackRecord, StoreError> {
    let changed = conn
        .prepare_cached("UPDATE feedback SET status = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id, status]))
        .ctx("updating a feedback status", conn)?;
    if changed == 0 {
        return Err(StoreError::NotFound {
            what: "feedback",
            id: id.to_string(),
        });
    }
    get(conn, id)?.ok_or_else(|| StoreError::NotFound {
        what: "feedback",
        id: id.to_string(),
    })
}

/// Changes the status of a row on an operator's or API caller's request. Accepting or
/// rejecting held feedback also resolves its open correction item, so the queue never
/// shows a correction that has already been decided.
pub(crate) fn set_status(
    conn: &Connection,
    id: i64,
    status: FeedbackStatus,
    now: i64,
) -> Result<FeedbackRecord, StoreError> {
    let record = update_status(conn, id, status)?;
    if status != FeedbackStatus::Held {
        queue::close_corrections_for(conn, &record, now)?;
    }
    Ok(record)
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<FeedbackRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM feedback WHERE id = ?1"))
        .and_then(|mut stmt| stmt.query_row([id], from_row).optional())
        .ctx("reading a feedback row", conn)
}

/// Calls `each` for every row the filter selects, in id order, without collecting
/// them (exports can be large).
pub(crate) fn for_each(
    conn: &Connection,
    filter: &FeedbackFilter,
    mut each: impl FnMut(FeedbackRecord) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    // Two statement shapes rather than `(?1 IS NULL OR status = ?1)`, which would stop
    // SQLite from using the (status, id) index.
    let sql = match filter.status {
        Some(_) => format!(
            "SELECT {COLUMNS} FROM feedback WHERE status = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        ),
        None => format!(
            "SELECT {COLUMNS} FROM feedback WHERE ?1 IS NULL AND id > ?2 ORDER BY id LIMIT ?3"
        ),
    };
    let limit = filter
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut stmt = conn
        .prepare_cached(&sql)
        .ctx("preparing the feedback query", conn)?;
    let rows = stmt
        .query_map(
            params![filter.status, filter.since_id.unwrap_or(i64::MIN), limit],
            from_row,
        )
        .ctx("listing feedback", conn)?;
    for row in rows {
        each(row.ctx("reading a feedback row", conn)?)?;
    }
    Ok(())
}

/// What one API key has sent: the times of its feedback since a moment (for a
/// rolling quota) and how many of its rows were ever accepted (its track record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyActivity {
    /// `created_unix_ms` of the key's rows at or after `since`, oldest first.
    pub recent_unix_ms: Vec<i64>,
    /// The key's accepted rows, at any time.
    pub accepted: u64,
}

pub(crate) fn key_activity(
    conn: &Connection,
    api_key: &str,
    since_unix_ms: i64,
) -> Result<KeyActivity, StoreError> {
    let mut recent = conn
        .prepare_cached(
            "SELECT created_unix_ms FROM feedback WHERE api_key = ?1 AND created_unix_ms >= ?2 \
             ORDER BY created_unix_ms",
        )
        .ctx("preparing the key activity query", conn)?;
    let recent_unix_ms = recent
        .query_map(params![api_key, since_unix_ms], |row| row.get(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<i64>>>())
        .ctx("reading a key's recent feedback", conn)?;
    let accepted: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM feedback WHERE api_key = ?1 AND status = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![api_key, FeedbackStatus::Accepted], |row| row.get(0))
        })
        .ctx("counting a key's accepted feedback", conn)?;
    Ok(KeyActivity {
        recent_unix_ms,
        accepted: accepted.max(0) as u64,
    })
}

pub(crate) fn list(
    conn: &Connection,
    filter: &FeedbackFilter,
) -> Result<Vec<FeedbackRecord>, StoreError> {
    let mut out = Vec::new();
    for_each(conn, filter, |record| {
        out.push(record);
        Ok(())
    })?;
    Ok(out)
}

/// The sources of feedback that an operator made from the labelling queue (a label,
/// or an accept of the prediction); everything else came from a user.
pub const OPERATOR_SOURCES: [&str; 2] = ["operator", "operator_accept"];

/// Bucket widths for [`volume`], narrowest first: a minute, five, fifteen, an hour,
/// six hours, a day.
pub const VOLUME_BUCKETS_MS: [i64; 6] =
    [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];

/// Feedback rows that arrived in one time bucket, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeBucket {
    /// The bucket's start (Unix ms, a multiple of the bucket width).
    pub start_unix_ms: i64,
    /// From users: the label differs from the prediction they sent.
    pub corrections: u64,
    /// From users: the label agrees with the prediction.
    pub confirmations: u64,
    /// From users, with no predicted label to compare.
    pub labels: u64,
    /// From an operator ([`OPERATOR_SOURCES`]).
    pub operator_labels: u64,
}

impl VolumeBucket {
    /// Every row in the bucket, of every kind.
    pub fn total(&self) -> u64 {
        self.corrections + self.confirmations + self.labels + self.operator_labels
    }
}

/// Every feedback row (whatever its status) counted in equal time buckets, oldest
/// first, leaving out empty buckets. The width is the narrowest of
/// [`VOLUME_BUCKETS_MS`] that covers the oldest row to `now` in `max_buckets`; when even
/// a day does not, only the last `max_buckets` days are counted.
pub(crate) fn volume(
    conn: &Connection,
    now_unix_ms: i64,
    max_buckets: i64,
) -> Result<(i64, Vec<VolumeBucket>), StoreError> {
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT MIN(created_unix_ms) FROM feedback")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .ctx("reading the oldest feedback time", conn)?;
    let span = now_unix_ms - oldest.unwrap_or(now_unix_ms);
    let bucket_ms = VOLUME_BUCKETS_MS
        .into_iter()
        .find(|&width| span / width < max_buckets)
        .unwrap_or(VOLUME_BUCKETS_MS[VOLUME_BUCKETS_MS.len() - 1]);
    let since = (now_unix_ms / bucket_ms - (max_buckets - 1)) * bucket_ms;
    let mut stmt = conn
        .prepare_cached(
            // CASE, not a bare comparison: `predicted_label = correct_label` is NULL
            // when there is no prediction, and a SUM of NULLs is NULL.
            "SELECT (created_unix_ms / ?1) * ?1 AS start, \
                    SUM(CASE WHEN source IN (?3, ?4) OR predicted_label IS NULL THEN 0 \
                             WHEN predicted_label != correct_label THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN source IN (?3, ?4) OR predicted_label IS NULL THEN 0 \
                             WHEN predicted_label = correct_label THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN source NOT IN (?3, ?4) AND predicted_label IS NULL \
                             THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN source IN (?3, ?4) THEN 1 ELSE 0 END) \
             FROM feedback WHERE created_unix_ms >= ?2 GROUP BY start ORDER BY start",
        )
        .ctx("preparing the feedback volume query", conn)?;
    let count = |row: &Row<'_>, i: usize| row.get::<_, i64>(i).map(|n| n.max(0) as u64);
    let buckets = stmt
        .query_map(
            params![bucket_ms, since, OPERATOR_SOURCES[0], OPERATOR_SOURCES[1]],
            |row| {
                Ok(VolumeBucket {
                    start_unix_ms: row.get(0)?,
                    corrections: count(row, 1)?,
                    confirmations: count(row, 2)?,
                    labels: count(row, 3)?,
                    operator_labels: count(row, 4)?,
                })
            },
        )
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .ctx("counting feedback by time", conn)?;
    Ok((bucket_ms, buckets))
}
