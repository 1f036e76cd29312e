//! Feedback shards: which accepted feedback went into which file uploaded to the Hub.
//!
//! A shard goes through two steps, each its own transaction:
//!
//! 1. **plan**: the accepted feedback not yet in any shard is tagged with a new shard
//!    (`feedback.shard_id`), which records the path it will have on the Hub.
//! 2. **mark uploaded**: only after the Hub commit of that file succeeded.
//!
//! While a shard is planned but not uploaded, planning returns that same shard again
//! (same path, same rows), and no new one is made. So a failed upload is simply
//! retried later, and a crash between a successful commit and step 2 re-uploads the
//! same rows to the same path, which rewrites the file with what it already holds:
//! nothing is lost and nothing is sent twice under two names. Feedback accepted in the
//! meantime waits for the next shard.

use super::error::{SqlContext, StoreError};
use super::feedback::{from_row, FeedbackRecord, COLUMNS};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// A planned or uploaded shard, with its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackShard {
    pub id: i64,
    /// Its path in the dataset repository, e.g. `feedback/node-a/20261128T030000.000Z.csv`.
    pub path: String,
    pub node_id: String,
    pub created_unix_ms: i64,
    /// When the Hub commit succeeded; None while pending.
    pub uploaded_unix_ms: Option<i64>,
    /// The Hub commit that added it.
    pub commit: Option<String>,
    /// Its feedback rows, by id.
    pub rows: Vec<FeedbackRecord>,
}

/// How far the upload of feedback has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardCounts {
    pub uploaded_shards: u64,
    pub pending_shards: u64,
    /// Accepted feedback rows in no shard yet.
    pub unsharded_feedback: u64,
    /// Feedback rows in uploaded shards.
    pub uploaded_feedback: u64,
}

/// Step 1 (in the writer's transaction): the pending shard if there is one, else a new
/// shard at `path` holding every accepted row not yet in a shard, else None.
pub(crate) fn plan(
    conn: &Connection,
    node_id: &str,
    path: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let pending: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM feedback_shards WHERE uploaded_unix_ms IS NULL ORDER BY id LIMIT 1",
        )
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)).optional())
        .ctx("looking for a pending feedback shard", conn)?;
    if pending.is_some() {
        return Ok(pending);
    }
    let waiting: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM feedback WHERE shard_id IS NULL AND status = 'accepted'",
        )
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .ctx("counting feedback not yet uploaded", conn)?;
    if waiting == 0 {
        return Ok(None);
    }
    conn.prepare_cached(
        "INSERT INTO feedback_shards (path, node_id, created_unix_ms, rows) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut stmt| stmt.execute(params![path, node_id, now, waiting]))
    .ctx("recording a feedback shard", conn)?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "UPDATE feedback SET shard_id = ?1 WHERE shard_id IS NULL AND status = 'accepted'",
    )
    .and_then(|mut stmt| stmt.execute([id]))
    .ctx("assigning feedback to a shard", conn)?;
    Ok(Some(id))
}

/// Step 2: the shard's commit succeeded.
pub(crate) fn mark_uploaded(
    conn: &Connection,
    id: i64,
    commit: &str,
    now: i64,
) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE feedback_shards SET uploaded_unix_ms = ?2, commit_oid = ?3 \
             WHERE id = ?1 AND uploaded_unix_ms IS NULL",
        )
        .and_then(|mut stmt| stmt.execute(params![id, now, commit]))
        .ctx("marking a feedback shard uploaded", conn)?;
    if changed == 0 {
        return Err(StoreError::InvalidArgument(format!(
            "feedback shard {id} does not exist or is already marked uploaded"
        )));
    }
    Ok(())
}

/// One shard with its rows.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<FeedbackShard>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT id, path, node_id, created_unix_ms, uploaded_unix_ms, commit_oid \
             FROM feedback_shards WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([id], |row| {
                Ok(FeedbackShard {
                    id: row.get(0)?,
                    path: row.get(1)?,
                    node_id: row.get(2)?,
                    created_unix_ms: row.get(3)?,
                    uploaded_unix_ms: row.get(4)?,
                    commit: row.get(5)?,
                    rows: Vec::new(),
                })
            })
            .optional()
        })
        .ctx("reading a feedback shard", conn)?;
    let Some(mut shard) = head else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM feedback WHERE shard_id = ?1 ORDER BY id"
        ))
        .ctx("preparing the shard query", conn)?;
    let rows = stmt
        .query_map([id], from_row)
        .ctx("listing a shard's feedback", conn)?;
    for row in rows {
        shard.rows.push(row.ctx("reading a feedback row", conn)?);
    }
    Ok(Some(shard))
}

pub(crate) fn counts(conn: &Connection) -> Result<ShardCounts, StoreError> {
    conn.query_row(
        "SELECT \
           (SELECT count(*) FROM feedback_shards WHERE uploaded_unix_ms IS NOT NULL), \
           (SELECT count(*) FROM feedback_shards WHERE uploaded_unix_ms IS NULL), \
           (SELECT count(*) FROM feedback WHERE shard_id IS NULL AND status = 'accepted'), \
           (SELECT count(*) FROM feedback f JOIN feedback_shards s ON f.shard_id = s.id \
              WHERE s.uploaded_unix_ms IS NOT NULL)",
        [],
        |row| {
            let n = |i: usize| row.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(ShardCounts {
                uploaded_shards: n(0)?,
                pending_shards: n(1)?,
                unsharded_feedback: n(2)?,
                uploaded_feedback: n(3)?,
            })
        },
    )
    .ctx("counting feedback shards", conn)
}
