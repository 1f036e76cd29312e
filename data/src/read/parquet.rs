//! Parquet in the layout of the Hugging Face Hub's `stanfordnlp/sst2` dataset: columns
//! `idx` (int32), `sentence` (string), `label` (int64).
//!
//! Only the text and label columns are decoded (a projection), through the arrow
//! reader. The text column is the first whose name is one of [`TEXT_COLUMNS`] (so
//! `sentence` or `text`) and must be a string column (Utf8, LargeUtf8 or Utf8View); the
//! label column is the first named in [`LABEL_COLUMNS`] and may be any integer type
//! (values 0/1) or a string column (spellings [`Label`] accepts). A wrong column type
//! is an error for the whole file; null or out-of-range values are malformed rows,
//! reported with their 1-based row number in place of a line number. Invalid UTF-8 in
//! a string column is rejected by the decoder for its whole batch, so it surfaces as
//! [`DataError::Parquet`].

use super::{
    column_kind, parse_label, wanted_label, wanted_text, Sink, LABEL_COLUMNS, TEXT_COLUMNS,
};
use crate::quiet_panic::catch_quietly;
use crate::DataError;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::Array;
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use sentiment_core::Label;
use std::fmt::Display;
use std::fs::File;
use std::path::Path;

const BATCH_SIZE: usize = 8192;

pub(super) fn read(path: &Path, sink: &mut Sink<'_>) -> Result<(), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    // The parquet crate (57.3) panics on some corrupt footers ("capacity overflow" while
    // decoding the thrift metadata; found by fuzzing read_parquet) instead of returning
    // an error; a bad file must be an error, not a crash of the daemon.
    // Caught quietly: the user gets the error below, not a panic message above it.
    let builder = catch_quietly(move || ParquetRecordBatchReaderBuilder::try_new(file))
        .map_err(|panic| DataError::Parquet {
            path: path.to_path_buf(),
            message: format!("the decoder failed on corrupt metadata ({panic})"),
        })?
        .map_err(|e| parquet_error(path, e))?;
    let schema = builder.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let find = |candidates: &[&str]| names.iter().position(|n| column_kind(n, candidates));
    let missing = |wanted: String| DataError::MissingColumn {
        path: path.to_path_buf(),
        wanted,
        found: names.clone(),
    };
    let text_index = find(&TEXT_COLUMNS).ok_or_else(|| missing(wanted_text()))?;
    let label_index = find(&LABEL_COLUMNS).ok_or_else(|| missing(wanted_label()))?;
    let text_name = names[text_index].clone();
    let label_name = names[label_index].clone();

    let text_type = schema.field(text_index).data_type();
    if !is_string(text_type) {
        return Err(wrong_type(path, &text_name, text_type, "a string column"));
    }
    let label_type = schema.field(label_index).data_type();
    if !is_string(label_type) && !label_type.is_integer() {
        return Err(wrong_type(
            path,
            &label_name,
            label_type,
            "an integer column (0/1) or a string column",
        ));
    }

    let rows = builder.metadata().file_metadata().num_rows();
    sink.reserve(usize::try_from(rows).unwrap_or(0));
    let roots = builder.parquet_schema().root_schema().get_fields().len();
    let builder = if roots == names.len() {
        let mask = ProjectionMask::roots(builder.parquet_schema(), [text_index, label_index]);
        builder.with_projection(mask)
    } else {
        builder // nested schema: arrow fields and Parquet roots disagree, read everything
    };
    let mut reader = builder
        .with_batch_size(BATCH_SIZE)
        .build()
        .map_err(|e| parquet_error(path, e))?;

    let mut row: u64 = 0;
    loop {
        // The decoder panics on some corrupt data pages too ("offset + len out of
        // bounds" in arrow-buffer; found by the one-changed-byte proptest), after the
        // footer decoded fine: the same treatment as the footer's.
        let next =
            catch_quietly(std::panic::AssertUnwindSafe(|| reader.next())).map_err(|panic| {
                DataError::Parquet {
                    path: path.to_path_buf(),
                    message: format!("the decoder failed on a corrupt data page ({panic})"),
                }
            })?;
        let Some(batch) = next else { break };
        let batch = batch.map_err(|e| parquet_error(path, e))?;
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| DataError::Parquet {
                    path: path.to_path_buf(),
                    message: format!("column {name:?} is missing from a record batch"),
                })
        };
        let texts = texts(column(&text_name)?.as_ref());
        let labels = labels(column(&label_name)?.as_ref());
        let (Some(texts), Some(labels)) = (texts, labels) else {
            return Err(DataError::Parquet {
                path: path.to_path_buf(),
                message: "a record batch does not have the column types of the schema".into(),
            });
        };
        for (text, label) in texts.into_iter().zip(labels) {
            row += 1;
            match (text, label) {
                (None, _) => sink.malformed(row, format!("{text_name} is null"))?,
                (_, Err(message)) => sink.malformed(row, message)?,
                (Some(text), Ok(label)) => sink.push(row, text.to_string(), label)?,
            }
        }
    }
    Ok(())
}

fn is_string(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// The texts of a batch; `None` if the column is not a string column.
fn texts(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string_opt::<i32>()?.iter().collect()),
        DataType::LargeUtf8 => Some(array.as_string_opt::<i64>()?.iter().collect()),
        DataType::Utf8View => Some(array.as_string_view_opt()?.iter().collect()),
        _ => None,
    }
}

/// The labels of a batch, each valid or with the reason it is not; `None` if the
/// column has a type that cannot hold labels.
fn labels(array: &dyn Array) -> Option<Vec<Result<Label, String>>> {
    fn from_strings<'a>(
        values: impl Iterator<Item = Option<&'a str>>,
    ) -> Vec<Result<Label, String>> {
        values
            .map(|v| v.map_or_else(|| Err("the label is null".into()), parse_label))
            .collect()
    }
    match array.data_type() {
        DataType::Int8 => integers::<Int8Type>(array),
        DataType::Int16 => integers::<Int16Type>(array),
        DataType::Int32 => integers::<Int32Type>(array),
        DataType::Int64 => integers::<Int64Type>(array),
        DataType::UInt8 => integers::<UInt8Type>(array),
        DataType::UInt16 => integers::<UInt16Type>(array),
        DataType::UInt32 => integers::<UInt32Type>(array),
        DataType::UInt64 => integers::<UInt64Type>(array),
        DataType::Utf8 => Some(from_strings(array.as_string_opt::<i32>()?.iter())),
        DataType::LargeUtf8 => Some(from_strings(array.as_string_opt::<i64>()?.iter())),
        DataType::Utf8View => Some(from_strings(array.as_string_view_opt()?.iter())),
        _ => None,
    }
}

fn integers<T>(array: &dyn Array) -> Option<Vec<Result<Label, String>>>
where
    T: ArrowPrimitiveType,
    T::Native: Display,
    i64: TryFrom<T::Native>,
{
    let values = array.as_primitive_opt::<T>()?;
    Some(
        values
            .iter()
            .map(|value| match value {
                None => Err("the label is null".to_string()),
                Some(value) => i64::try_from(value)
                    .ok()
                    .and_then(Label::from_index)
                    .ok_or_else(|| format!("invalid label {value}: expected 0 or 1")),
            })
            .collect(),
    )
}

fn wrong_type(path: &Path, column: &str, found: &DataType, expected: &str) -> DataError {
    DataError::WrongColumnType {
        path: path.to_path_buf(),
        column: column.to_string(),
        found: found.to_string(),
        expected: expected.to_string(),
    }
}

fn parquet_error(path: &Path, error: impl Display) -> DataError {
    DataError::Parquet {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}
