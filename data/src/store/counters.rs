//! Monotonic counters kept in the `counters` table.
//!
//! They are bumped inside the same transaction as the rows they count, so a counter can
//! never disagree with what was committed, and they survive the trimming of the
//! predictions table and restarts.

use super::error::{SqlContext, StoreError};
use super::feedback::FeedbackStatus;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

pub(crate) const TOTAL_PREDICTIONS: &str = "total_predictions";
pub(crate) const TOTAL_FEEDBACK: &str = "total_feedback";
pub(crate) const LOW_CONFIDENCE: &str = "low_confidence";
/// The source of queue positions (see `queue`), not reported.
pub(crate) const QUEUE_POSITION: &str = "queue_position";
/// Bumped by writability probes: a write that is guaranteed to change a page.
pub(crate) const HEALTH_PROBES: &str = "health_probes";

/// What the store has seen since the database was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Every prediction recorded, including those trimmed from the recent list.
    pub total_predictions: u64,
    /// Every feedback row ever inserted (API, socket and operator).
    pub total_feedback: u64,
    /// Predictions recorded with the low-confidence flag.
    pub low_confidence: u64,
    /// Feedback rows by their current status.
    pub feedback_by_status: FeedbackStatusCounts,
}

/// Current number of feedback rows in each status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackStatusCounts {
    pub accepted: u64,
    pub held: u64,
    pub rejected: u64,
}

/// Adds `delta` to a counter, creating it if a newer build added it after the
/// database was created.
pub(crate) fn bump(conn: &Connection, name: &str, delta: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO counters (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
    )
    .and_then(|mut stmt| stmt.execute(rusqlite::params![name, delta]))
    .ctx("updating a counter", conn)?;
    Ok(())
}

/// Bumps a counter and returns its new value.
pub(crate) fn next(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO counters (name, value) VALUES (?1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
    )
    .and_then(|mut stmt| stmt.query_row([name], |row| row.get(0)))
    .ctx("updating a counter", conn)
}

/// Reads all counters; the caller runs this inside one read transaction so the numbers
/// are from the same snapshot.
pub(crate) fn read(conn: &Connection) -> Result<Counters, StoreError> {
    let mut counters = Counters::default();
    let mut stmt = conn
        .prepare_cached("SELECT name, value FROM counters")
        .ctx("preparing the counters query", conn)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .ctx("reading counters", conn)?;
    for row in rows {
        let (name, value) = row.ctx("reading counters", conn)?;
        let value = u64::try_from(value).unwrap_or(0);
        match name.as_str() {
            TOTAL_PREDICTIONS => counters.total_predictions = value,
            TOTAL_FEEDBACK => counters.total_feedback = value,
            LOW_CONFIDENCE => counters.low_confidence = value,
            _ => {}
        }
    }
    let mut stmt = conn
        .prepare_cached("SELECT status, COUNT(*) FROM feedback GROUP BY status")
        .ctx("preparing the feedback count", conn)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, FeedbackStatus>(0)?, row.get::<_, i64>(1)?))
        })
        .ctx("counting feedback", conn)?;
    for row in rows {
        let (status, count) = row.ctx("counting feedback", conn)?;
        let count = u64::try_from(count).unwrap_or(0);
        let by = &mut counters.feedback_by_status;
        match status {
            FeedbackStatus::Accepted => by.accepted = count,
            FeedbackStatus::Held => by.held = count,
            FeedbackStatus::Rejected => by.rejected = count,
        }
    }
    Ok(counters)
}
