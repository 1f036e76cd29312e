//! Parquet in the layout of the Hugging Face Hub's `stanfordnlp/sst2` dataset: columns
//! `idx` (int32), `sentence` (string), `label` (int64).
//!
//! Read with the parquet crate's own typed column readers (no Arrow): only the text and
//! label columns are decoded, row group by row group, [`BATCH_SIZE`] rows at a time.
//! Both must be top-level, non-repeated columns. The text column is the first whose
//! name is one of [`TEXT_COLUMNS`] (so `sentence` or `text`) and must be a string
//! column: BYTE_ARRAY annotated STRING (UTF8 in older writers; JSON, which is text too,
//! is accepted as well). The label column is the first named in [`LABEL_COLUMNS`] and
//! may be any integer column (INT32 or INT64, plain or annotated as an integer: INT_8 ...
//! UINT_64; values 0/1) or a string column (spellings [`Label`] accepts). A wrong column
//! type is an error for the whole file ([`DataError::WrongColumnType`], naming the
//! Parquet type found, such as `DOUBLE` or `BYTE_ARRAY (no annotation)`); the other
//! columns are not looked at. Null or out-of-range values are malformed rows, reported
//! with their 1-based row number in place of a line number. Invalid UTF-8 in a string
//! column is an error for the whole file ([`DataError::Parquet`], naming the row).
//!
//! The parquet crate panics on some corrupt input instead of returning an error, so the
//! footer decoding and every read of pages run under [`catch_quietly`]: a corrupt file
//! is an error, never a crash of the daemon.

use super::{
    column_kind, parse_label, wanted_label, wanted_text, Sink, LABEL_COLUMNS, TEXT_COLUMNS,
};
use crate::quiet_panic::catch_quietly;
use crate::DataError;
use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::{SchemaDescriptor, Type};
use sentiment_core::Label;
use std::fmt::Display;
use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;

/// Rows decoded per read of each column.
const BATCH_SIZE: usize = 8192;

pub(super) fn read(path: &Path, sink: &mut Sink<'_>) -> Result<(), DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let file_len = file.metadata().map_or(0, |m| m.len());
    // The parquet crate (57.3) panics on some corrupt footers ("capacity overflow" while
    // decoding the thrift metadata; found by fuzzing read_parquet) instead of returning
    // an error; a bad file must be an error, not a crash of the daemon.
    // Caught quietly: the user gets the error below, not a panic message above it.
    let reader = catch_quietly(move || SerializedFileReader::new(file))
        .map_err(|panic| DataError::Parquet {
            path: path.to_path_buf(),
            message: format!("the decoder failed on corrupt metadata ({panic})"),
        })?
        .map_err(|e| parquet_error(path, e))?;
    let metadata = reader.metadata();
    let schema = metadata.file_metadata().schema_descr();
    // The root is a group: `SchemaDescriptor::new` checked that while decoding.
    let fields = schema.root_schema().get_fields();
    let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
    let find = |candidates: &[&str]| names.iter().position(|n| column_kind(n, candidates));
    let missing = |wanted: String| DataError::MissingColumn {
        path: path.to_path_buf(),
        wanted,
        found: names.clone(),
    };
    let text_root = find(&TEXT_COLUMNS).ok_or_else(|| missing(wanted_text()))?;
    let label_root = find(&LABEL_COLUMNS).ok_or_else(|| missing(wanted_label()))?;
    let text_name = names[text_root].as_str();
    let label_name = names[label_root].as_str();

    let text_field = &fields[text_root];
    if kind(text_field) != Some(Kind::String) {
        return Err(wrong_type(path, text_field, "a string column"));
    }
    let label_field = &fields[label_root];
    let Some(label_kind) = kind(label_field) else {
        return Err(wrong_type(
            path,
            label_field,
            "an integer column (0/1) or a string column",
        ));
    };
    let text_leaf = leaf(path, schema, text_root)?;
    let label_leaf = leaf(path, schema, label_root)?;

    // The footer's row count, bounded by the file size so that a corrupt count cannot
    // reserve absurd amounts of memory.
    let rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    sink.reserve(usize::try_from(rows.min(file_len)).unwrap_or(0));

    let mut texts = Column::new(Kind::String, schema.column(text_leaf).max_def_level());
    let mut labels = Column::new(label_kind, schema.column(label_leaf).max_def_level());
    let mut row: u64 = 0;
    for group in 0..reader.num_row_groups() {
        let (text_reader, label_reader) = guarded(path, || {
            let group = reader.get_row_group(group)?;
            Ok((
                group.get_column_reader(text_leaf)?,
                group.get_column_reader(label_leaf)?,
            ))
        })?;
        texts.reader = Some(text_reader);
        labels.reader = Some(label_reader);
        loop {
            // The decoder panics on some corrupt data pages too ("offset + len out of
            // bounds"; found by the one-changed-byte proptest), after the footer decoded
            // fine: the same treatment as the footer's.
            let (text_rows, label_rows) =
                guarded(path, || Ok((texts.read_batch()?, labels.read_batch()?)))?;
            if text_rows != label_rows {
                return Err(parquet_error(
                    path,
                    format!(
                        "row group {group}: the columns {text_name:?} and {label_name:?} \
                         hold different numbers of rows"
                    ),
                ));
            }
            if text_rows == 0 {
                break;
            }
            for i in 0..text_rows {
                row += 1;
                let text = match texts.value(i) {
                    Value::Null => None,
                    Value::Str(text) => Some(text),
                    Value::InvalidUtf8 => return Err(invalid_utf8(path, row, text_name)),
                    _ => return Err(corrupt_page(path)),
                };
                let label = match labels.value(i) {
                    Value::Null => Err("the label is null".to_string()),
                    Value::Str(label) => parse_label(label),
                    Value::InvalidUtf8 => return Err(invalid_utf8(path, row, label_name)),
                    Value::Integer(value) => integer_label(value),
                    Value::Unsigned(value) => i64::try_from(value)
                        .ok()
                        .and_then(Label::from_index)
                        .ok_or_else(|| out_of_range(value)),
                    Value::Missing => return Err(corrupt_page(path)),
                };
                match (text, label) {
                    (None, _) => sink.malformed(row, format!("{text_name} is null"))?,
                    (_, Err(message)) => sink.malformed(row, message)?,
                    (Some(text), Ok(label)) => sink.push(row, text.to_owned(), label)?,
                }
            }
        }
    }
    Ok(())
}

/// The column types this reader decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// BYTE_ARRAY holding UTF-8 text.
    String,
    /// INT32 holding a signed or an unsigned integer.
    Int32 { unsigned: bool },
    /// INT64 holding a signed or an unsigned integer.
    Int64 { unsigned: bool },
}

/// The kind of a top-level field, or `None` if it is not one this reader can use
/// (a group, a repeated field, another physical type or annotation).
fn kind(field: &Type) -> Option<Kind> {
    if !field.is_primitive() {
        return None;
    }
    let info = field.get_basic_info();
    if info.has_repetition() && info.repetition() == Repetition::REPEATED {
        return None;
    }
    // The logical type wins over the (older) converted type, as in the format's spec.
    let kind = match (
        field.get_physical_type(),
        info.logical_type_ref(),
        info.converted_type(),
    ) {
        (PhysicalType::BYTE_ARRAY, Some(LogicalType::String | LogicalType::Json), _)
        | (PhysicalType::BYTE_ARRAY, None, ConvertedType::UTF8 | ConvertedType::JSON) => {
            Kind::String
        }
        (
            PhysicalType::INT32,
            None,
            ConvertedType::NONE
            | ConvertedType::INT_8
            | ConvertedType::INT_16
            | ConvertedType::INT_32,
        ) => Kind::Int32 { unsigned: false },
        (
            PhysicalType::INT32,
            None,
            ConvertedType::UINT_8 | ConvertedType::UINT_16 | ConvertedType::UINT_32,
        ) => Kind::Int32 { unsigned: true },
        (
            PhysicalType::INT32,
            Some(LogicalType::Integer {
                bit_width: 8 | 16 | 32,
                is_signed,
            }),
            _,
        ) => Kind::Int32 {
            unsigned: !is_signed,
        },
        (PhysicalType::INT64, None, ConvertedType::NONE | ConvertedType::INT_64) => {
            Kind::Int64 { unsigned: false }
        }
        (PhysicalType::INT64, None, ConvertedType::UINT_64) => Kind::Int64 { unsigned: true },
        (
            PhysicalType::INT64,
            Some(LogicalType::Integer {
                bit_width: 64,
                is_signed,
            }),
            _,
        ) => Kind::Int64 {
            unsigned: !is_signed,
        },
        _ => return None,
    };
    Some(kind)
}

/// The leaf column of a top-level primitive field.
fn leaf(path: &Path, schema: &SchemaDescriptor, root: usize) -> Result<usize, DataError> {
    (0..schema.num_columns())
        .find(|&leaf| schema.get_column_root_idx(leaf) == root)
        .ok_or_else(|| parquet_error(path, format!("the schema has no column for field {root}")))
}

/// One column's reader and its last batch: the definition levels (a level below 1 is
/// a null; none at all for a required column) and the non-null values.
struct Column {
    reader: Option<ColumnReader>,
    /// The definition level of a non-null value: 1 for an optional column, 0 for a
    /// required one (which has no levels).
    max_level: i16,
    levels: Vec<i16>,
    values: Values,
    /// The next value of `values` to hand out.
    next: usize,
    /// A string column's values of the batch, concatenated and checked as UTF-8 in one
    /// go (as Arrow did: checking each short string on its own costs more than the
    /// rest of decoding it); `text_ends[k]` is where value `k` ends. Empty with
    /// `text_valid` false when the batch holds invalid UTF-8 somewhere.
    text: String,
    text_ends: Vec<usize>,
    text_valid: bool,
}

enum Values {
    Bytes(Vec<ByteArray>),
    Int32(Vec<i32>, bool),
    Int64(Vec<i64>, bool),
}

/// One row's value of a column.
enum Value<'a> {
    Null,
    Str(&'a str),
    /// A value of a string column that is not valid UTF-8.
    InvalidUtf8,
    Integer(i64),
    Unsigned(u64),
    /// Fewer values than the levels promised: a corrupt page.
    Missing,
}

impl Column {
    fn new(kind: Kind, max_level: i16) -> Self {
        let values = match kind {
            Kind::String => Values::Bytes(Vec::new()),
            Kind::Int32 { unsigned } => Values::Int32(Vec::new(), unsigned),
            Kind::Int64 { unsigned } => Values::Int64(Vec::new(), unsigned),
        };
        Column {
            reader: None,
            max_level,
            levels: Vec::new(),
            values,
            next: 0,
            text: String::new(),
            text_ends: Vec::new(),
            text_valid: false,
        }
    }

    /// Reads the next batch of up to [`BATCH_SIZE`] rows; returns how many (0 at the end
    /// of the row group).
    fn read_batch(&mut self) -> Result<usize, ParquetError> {
        self.levels.clear();
        self.next = 0;
        let levels = Some(&mut self.levels);
        let (rows, _, _) = match (&mut self.reader, &mut self.values) {
            (None, _) => return Ok(0),
            (Some(ColumnReader::ByteArrayColumnReader(r)), Values::Bytes(values)) => {
                values.clear();
                let read = r.read_records(BATCH_SIZE, levels, None, values)?;
                let mut bytes = std::mem::take(&mut self.text).into_bytes();
                bytes.clear();
                self.text_ends.clear();
                for value in values.iter() {
                    bytes.extend_from_slice(value.data());
                    self.text_ends.push(bytes.len());
                }
                (self.text, self.text_valid) = match String::from_utf8(bytes) {
                    Ok(text) => (text, true),
                    Err(_) => (String::new(), false),
                };
                read
            }
            (Some(ColumnReader::Int32ColumnReader(r)), Values::Int32(values, _)) => {
                values.clear();
                r.read_records(BATCH_SIZE, levels, None, values)?
            }
            (Some(ColumnReader::Int64ColumnReader(r)), Values::Int64(values, _)) => {
                values.clear();
                r.read_records(BATCH_SIZE, levels, None, values)?
            }
            _ => {
                return Err(ParquetError::General(
                    "a column reader does not have the column's type".into(),
                ))
            }
        };
        Ok(rows)
    }

    /// The value of row `i` of the batch; rows must be asked for in order.
    fn value(&mut self, i: usize) -> Value<'_> {
        if self.max_level > 0 {
            match self.levels.get(i) {
                Some(&level) if level == self.max_level => {}
                Some(_) => return Value::Null,
                None => return Value::Missing,
            }
        }
        let k = self.next;
        self.next += 1;
        let value = match &self.values {
            // A slice of valid UTF-8 at character boundaries is valid UTF-8 (`get`
            // checks the boundaries); a batch with invalid UTF-8 somewhere is checked
            // value by value, to find the row.
            Values::Bytes(_) if self.text_valid => self.text_ends.get(k).map(|&end| {
                let start = k.checked_sub(1).map_or(0, |j| self.text_ends[j]);
                self.text
                    .get(start..end)
                    .map_or(Value::InvalidUtf8, Value::Str)
            }),
            Values::Bytes(values) => values
                .get(k)
                .map(|v| v.as_utf8().map_or(Value::InvalidUtf8, Value::Str)),
            Values::Int32(values, false) => values.get(k).map(|&v| Value::Integer(v.into())),
            // An unsigned INT32 is stored as the same 32 bits.
            Values::Int32(values, true) => {
                values.get(k).map(|&v| Value::Unsigned(u64::from(v as u32)))
            }
            Values::Int64(values, false) => values.get(k).map(|&v| Value::Integer(v)),
            Values::Int64(values, true) => values.get(k).map(|&v| Value::Unsigned(v as u64)),
        };
        value.unwrap_or(Value::Missing)
    }
}

/// Runs a read of the parquet crate, turning its panics on corrupt input into errors.
fn guarded<R>(path: &Path, read: impl FnOnce() -> Result<R, ParquetError>) -> Result<R, DataError> {
    catch_quietly(AssertUnwindSafe(read))
        .map_err(|panic| DataError::Parquet {
            path: path.to_path_buf(),
            message: format!("the decoder failed on a corrupt data page ({panic})"),
        })?
        .map_err(|e| parquet_error(path, e))
}

fn integer_label(value: i64) -> Result<Label, String> {
    Label::from_index(value).ok_or_else(|| out_of_range(value))
}

fn out_of_range(value: impl Display) -> String {
    format!("invalid label {value}: expected 0 or 1")
}

fn invalid_utf8(path: &Path, row: u64, column: &str) -> DataError {
    parquet_error(
        path,
        format!("row {row}: column {column:?} is a string column but holds invalid UTF-8"),
    )
}

fn corrupt_page(path: &Path) -> DataError {
    parquet_error(
        path,
        "a data page holds fewer values than its definition levels promise",
    )
}

fn wrong_type(path: &Path, field: &Type, expected: &str) -> DataError {
    DataError::WrongColumnType {
        path: path.to_path_buf(),
        column: field.name().to_string(),
        found: describe(field),
        expected: expected.to_string(),
    }
}

/// A field's Parquet type as the format's documentation spells it: the physical type
/// (or `group`) and its annotation, e.g. `DOUBLE`, `INT64 (TIMESTAMP(MILLIS))`,
/// `BYTE_ARRAY (no annotation)` (bytes, not text), `repeated BYTE_ARRAY (STRING)`.
fn describe(field: &Type) -> String {
    let info = field.get_basic_info();
    let repeated = if info.has_repetition() && info.repetition() == Repetition::REPEATED {
        "repeated "
    } else {
        ""
    };
    let (base, bytes) = if field.is_primitive() {
        let physical = field.get_physical_type();
        let bytes = matches!(
            physical,
            PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY
        );
        (physical.to_string(), bytes)
    } else {
        ("group".to_string(), false)
    };
    let annotation = match (info.logical_type_ref(), info.converted_type()) {
        (Some(logical), _) => Some(logical_name(logical)),
        (None, ConvertedType::NONE) => None,
        (None, converted) => Some(converted.to_string()),
    };
    match annotation {
        Some(annotation) => format!("{repeated}{base} ({annotation})"),
        None if bytes => format!("{repeated}{base} (no annotation)"),
        None => format!("{repeated}{base}"),
    }
}

fn logical_name(logical: &LogicalType) -> String {
    match logical {
        LogicalType::String => "STRING".into(),
        LogicalType::Map => "MAP".into(),
        LogicalType::List => "LIST".into(),
        LogicalType::Enum => "ENUM".into(),
        LogicalType::Decimal { scale, precision } => format!("DECIMAL({precision}, {scale})"),
        LogicalType::Date => "DATE".into(),
        LogicalType::Time { unit, .. } => format!("TIME({unit:?})"),
        LogicalType::Timestamp { unit, .. } => format!("TIMESTAMP({unit:?})"),
        LogicalType::Integer {
            bit_width,
            is_signed: true,
        } => format!("INT({bit_width}, signed)"),
        LogicalType::Integer {
            bit_width,
            is_signed: false,
        } => format!("INT({bit_width}, unsigned)"),
        LogicalType::Unknown => "UNKNOWN".into(),
        LogicalType::Json => "JSON".into(),
        LogicalType::Bson => "BSON".into(),
        LogicalType::Uuid => "UUID".into(),
        LogicalType::Float16 => "FLOAT16".into(),
        LogicalType::Variant { .. } => "VARIANT".into(),
        LogicalType::Geometry { .. } => "GEOMETRY".into(),
        LogicalType::Geography { .. } => "GEOGRAPHY".into(),
        LogicalType::_Unknown { field_id } => format!("unknown logical type {field_id}"),
    }
}

fn parquet_error(path: &Path, error: impl Display) -> DataError {
    DataError::Parquet {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}
