//! Small conversions between Rust values and their SQLite column encodings.
//!
//! Labels are stored as 0/1 integers (the on-disk encoding of `sentiment_core::Label`),
//! enums as lowercase text so that the database is readable with the `sqlite3` shell.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::Row;
use sentiment_core::Label;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch; 0 if the clock is before 1970 (never in practice,
/// and a wrong timestamp is better than a failed write).
pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn label_to_sql(label: Label) -> i64 {
    label.index() as i64
}

/// Reads a label column (NULL is an error).
pub(crate) fn label_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Label> {
    let raw: i64 = row.get(idx)?;
    Label::from_index(raw).ok_or_else(|| bad_value(idx, raw))
}

/// Reads a nullable label column.
pub(crate) fn opt_label_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Label>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(raw) => Label::from_index(raw)
            .map(Some)
            .ok_or_else(|| bad_value(idx, raw)),
    }
}

fn bad_value(idx: usize, raw: i64) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Integer,
        format!("label {raw} is neither 0 nor 1").into(),
    )
}

/// Implements `ToSql`/`FromSql` for an enum stored as text, given its `as_str` and the
/// list of variants.
macro_rules! text_enum_sql {
    ($ty:ty, [$($variant:expr),+ $(,)?]) => {
        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok($crate::store::sql::text_output(self.as_str()))
            }
        }
        impl rusqlite::types::FromSql for $ty {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                $crate::store::sql::text_input(value, &[$($variant),+], |v| v.as_str())
            }
        }
    };
}
pub(crate) use text_enum_sql;

pub(crate) fn text_output(text: &'static str) -> ToSqlOutput<'static> {
    ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
}

pub(crate) fn text_input<T: Copy>(
    value: ValueRef<'_>,
    variants: &[T],
    as_str: impl Fn(&T) -> &'static str,
) -> FromSqlResult<T> {
    let text = <String as FromSql>::column_result(value)?;
    variants
        .iter()
        .find(|v| as_str(v) == text)
        .copied()
        .ok_or_else(|| FromSqlError::Other(format!("unknown value {text:?}").into()))
}
