//! `feedback export`: feedback rows to CSV, from a separate read-only connection.
//!
//! This runs in another process than the daemon (the CLI), possibly while the daemon is
//! writing: WAL lets a reader see a consistent snapshot without blocking the writer.
//! The CSV is written to a temporary file next to the target, fsynced and renamed over
//! it, so the target is either the old file or the complete new one.

use super::error::StoreError;
use super::feedback::{self, FeedbackFilter};
use super::schema;
use crate::write::escape_formula;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The header of an export, in column order.
pub const EXPORT_COLUMNS: [&str; 11] = [
    "id",
    "created_at",
    "text",
    "predicted_label",
    "correct_label",
    "confidence",
    "prediction_id",
    "source",
    "api_key",
    "status",
    "model_version",
];

/// Writes the feedback rows selected by `filter` (oldest first) to `out` as CSV and
/// returns how many rows were written.
///
/// Labels are spelled `negative`/`positive`, `created_at` is RFC 3339 in UTC, absent
/// values are empty fields. A cell a spreadsheet would run as a formula (one starting
/// with `=`, `+`, `-` or `@`) gets a leading `'` (see [`escape_formula`]); the CSV
/// reader takes it off again, so the file is input for `train` and `retrain
/// --base-data` (text and `correct_label`) with every text as it was. Opens `db_path` read-only, so it works while a daemon
/// holds the database, and sees one consistent snapshot.
pub fn export_feedback_csv(
    db_path: &Path,
    out: &Path,
    filter: FeedbackFilter,
) -> Result<usize, StoreError> {
    if !db_path.is_file() {
        return Err(StoreError::InvalidArgument(format!(
            "{}: no such database file; pass the sentiment.db in the daemon's data directory",
            db_path.display()
        )));
    }
    let conn = schema::open_reader(db_path)?;
    // One read transaction: the snapshot does not move while rows are streamed out.
    let tx = conn
        .unchecked_transaction()
        .map_err(|e| StoreError::sqlite("starting the export snapshot", db_path, e))?;
    let temp = temp_path(out);
    let result = write_csv(&tx, &temp, out, &filter).and_then(|count| {
        fs::rename(&temp, out).map_err(|e| StoreError::io("renaming the export onto", out, e))?;
        sync_dir(out);
        Ok(count)
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_csv(
    conn: &rusqlite::Connection,
    temp: &Path,
    out: &Path,
    filter: &FeedbackFilter,
) -> Result<usize, StoreError> {
    let file = File::create(temp).map_err(|e| StoreError::io("creating", temp, e))?;
    let mut csv = csv::Writer::from_writer(BufWriter::with_capacity(64 * 1024, file));
    let csv_error = |e: csv::Error| StoreError::Export {
        path: out.to_path_buf(),
        message: e.to_string(),
    };
    csv.write_record(EXPORT_COLUMNS).map_err(csv_error)?;
    let mut count = 0usize;
    feedback::for_each(conn, filter, |fb| {
        let record = [
            fb.id.to_string(),
            rfc3339(fb.created_unix_ms),
            fb.text,
            fb.predicted_label
                .map(|l| l.to_string())
                .unwrap_or_default(),
            fb.correct_label.to_string(),
            fb.confidence.map(|c| c.to_string()).unwrap_or_default(),
            fb.prediction_id.unwrap_or_default(),
            fb.source,
            fb.api_key.unwrap_or_default(),
            fb.status.to_string(),
            fb.model_version.unwrap_or_default(),
        ];
        let escaped: Vec<_> = record.iter().map(|cell| escape_formula(cell)).collect();
        csv.write_record(escaped.iter().map(|cell| cell.as_bytes()))
            .map_err(csv_error)?;
        count += 1;
        Ok(())
    })?;
    let buffered = csv.into_inner().map_err(|e| StoreError::Export {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    let file = buffered
        .into_inner()
        .map_err(|e| StoreError::io("writing", temp, e.into_error()))?;
    file.sync_all()
        .map_err(|e| StoreError::io("syncing", temp, e))?;
    Ok(count)
}

/// `dir/.name.tmp-<pid>`: same directory, so the rename is atomic.
fn temp_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "export.csv".into(), |n| n.to_string_lossy());
    out.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Makes the rename itself durable. Best effort: not every platform can open a
/// directory, and the data is already synced.
fn sync_dir(out: &Path) {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

fn rfc3339(unix_ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix_ms.to_string())
}
