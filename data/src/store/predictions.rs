//! The last N predictions, kept so that the dashboard and `/predictions/recent` survive
//! a restart, and so that feedback can be matched to the prediction it is about.

use super::counters;
use super::error::{SqlContext, StoreError};
use super::sql::{label_at, label_to_sql};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sentiment_core::Label;
use serde::{Deserialize, Serialize};

/// One prediction the service made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// The prediction id given to the caller (unique).
    pub id: String,
    pub text: String,
    pub label: Label,
    /// Probability of `label`.
    pub confidence: f64,
    /// Probability of the positive class.
    pub p_positive: f64,
    pub model_version: String,
    pub created_unix_ms: i64,
    /// Below the service's confidence threshold (these are also counted apart).
    pub low_confidence: bool,
    /// Who asked: `"api"`, `"socket"`...
    pub source: String,
}

const COLUMNS: &str = "id, text, label, confidence, p_positive, model_version, \
                       created_unix_ms, low_confidence, source";

fn from_row(row: &Row<'_>) -> rusqlite::Result<PredictionRecord> {
    Ok(PredictionRecord {
        id: row.get(0)?,
        text: row.get(1)?,
        label: label_at(row, 2)?,
        confidence: row.get(3)?,
        p_positive: row.get(4)?,
        model_version: row.get(5)?,
        created_unix_ms: row.get(6)?,
        low_confidence: row.get(7)?,
        source: row.get(8)?,
    })
}

/// Inserts predictions and counts them, with one update per counter. A prediction
/// whose id is already recorded is left out alone (and logged), not the others.
/// Trimming is done once per batch (`trim`).
pub(crate) fn insert_all(conn: &Connection, all: &[PredictionRecord]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO predictions (id, text, label, confidence, p_positive, model_version, \
             created_unix_ms, low_confidence, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (id) DO NOTHING",
        )
        .ctx("preparing to record predictions", conn)?;
    let (mut total, mut low) = (0i64, 0i64);
    for p in all {
        let inserted = stmt
            .execute(params![
                p.id,
                p.text,
                label_to_sql(p.label),
                p.confidence,
                p.p_positive,
                p.model_version,
                p.created_unix_ms,
                p.low_confidence,
                p.source,
            ])
            .ctx("recording a prediction", conn)?;
        if inserted == 0 {
            tracing::warn!(prediction = %p.id, "prediction not recorded: its id is already recorded");
            continue;
        }
        total += 1;
        low += i64::from(p.low_confidence);
    }
    counters::bump(conn, counters::TOTAL_PREDICTIONS, total)?;
    if low > 0 {
        counters::bump(conn, counters::LOW_CONFIDENCE, low)?;
    }
    Ok(())
}

/// Deletes all but the newest `keep` rows. `seq` only grows, so this is a range delete
/// on the primary key.
pub(crate) fn trim(conn: &Connection, keep: usize) -> Result<(), StoreError> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    conn.prepare_cached(
        "DELETE FROM predictions WHERE seq <= (SELECT MAX(seq) FROM predictions) - ?1",
    )
    .and_then(|mut stmt| stmt.execute([keep]))
    .ctx("trimming old predictions", conn)?;
    Ok(())
}

/// Newest first.
pub(crate) fn recent(conn: &Connection, limit: usize) -> Result<Vec<PredictionRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM predictions ORDER BY seq DESC LIMIT ?1"
        ))
        .ctx("preparing the recent-predictions query", conn)?;
    let rows = stmt
        .query_map([limit], from_row)
        .ctx("listing recent predictions", conn)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading a prediction", conn)
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<PredictionRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM predictions WHERE id = ?1"))
        .and_then(|mut stmt| stmt.query_row([id], from_row).optional())
        .ctx("reading a prediction", conn)
}
