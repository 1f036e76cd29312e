//! Writing examples back out, in a form the readers of this crate read back exactly.
//!
//! Files are written to a temporary file next to the target and renamed over it at the
//! end, so a crash or a full disk never leaves a half-written dataset where a complete
//! one used to be.

use crate::{DataError, Example, Format};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DataType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
use parquet::schema::parser::parse_message_type;
use serde::Serialize;
use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writes `examples` to `path` in `format`, replacing the file if it exists.
///
/// - TSV: header `sentence<TAB>label`, labels `0`/`1`, no quoting (the SST-2 layout).
///   A TSV line cannot hold a tab or a line break inside a field, so tabs, `\r` and `\n`
///   in a text are replaced by spaces: the only lossy case, and one that does not
///   change how a text is tokenised.
/// - CSV: header `text,label`, labels `0`/`1`, quoted by the `csv` crate where needed,
///   and escaped against spreadsheet formula injection ([`escape_formula`], which the
///   reader undoes), so any text round-trips exactly.
/// - JSON Lines: `{"text":"...","label":0}` per line; exact.
/// - Parquet: the layout of the Hugging Face Hub's `stanfordnlp/sst2` dataset: columns
///   `idx` (int32, 0, 1, 2...), `sentence` (string), `label` (int64, 0/1), optional as
///   pyarrow writes them, Snappy-compressed, in row groups of up to 2^20 rows; exact.
pub fn write_examples(path: &Path, format: Format, examples: &[Example]) -> Result<(), DataError> {
    let temp = temp_path(path);
    let result = write_to(&temp, format, examples)
        .and_then(|()| fs::rename(&temp, path))
        .map_err(|e| DataError::io(path, e));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// `dir/.name.tmp-<pid>`: same directory (so the rename is atomic), hidden, and unique
/// per process.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "dataset".into(), |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn write_to(temp: &Path, format: Format, examples: &[Example]) -> std::io::Result<()> {
    let file = File::create(temp)?;
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    match format {
        Format::Tsv => {
            out.write_all(b"sentence\tlabel\n")?;
            for example in examples {
                writeln!(
                    out,
                    "{}\t{}",
                    tsv_safe(&example.text),
                    example.label.index()
                )?;
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer.write_record(["text", "label"])?;
            for example in examples {
                let label = if example.label.index() == 0 { "0" } else { "1" };
                writer.write_record([escape_formula(&example.text).as_ref(), label])?;
            }
            writer.flush()?;
        }
        Format::JsonLines => {
            #[derive(Serialize)]
            struct Row<'a> {
                text: &'a str,
                label: usize,
            }
            for example in examples {
                let row = Row {
                    text: &example.text,
                    label: example.label.index(),
                };
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Parquet => write_parquet(&mut out, examples).map_err(parquet_to_io)?,
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// Rows per Parquet row group: pyarrow's default, so a file of the size of SST-2's
/// training split (67,349 rows) is one row group, as on the Hub.
const ROW_GROUP_ROWS: usize = 1 << 20;
/// Values handed to a Parquet column writer at a time.
const PARQUET_BATCH: usize = 8192;

/// Writes `examples` as Parquet in the Hub's SST-2 layout (see [`write_examples`]).
fn write_parquet(out: impl Write + Send, examples: &[Example]) -> parquet::errors::Result<()> {
    if i32::try_from(examples.len()).is_err() {
        return Err(ParquetError::General(format!(
            "{} examples do not fit the int32 idx column",
            examples.len()
        )));
    }
    let schema = parse_message_type(
        "message schema {
            optional int32 idx;
            optional binary sentence (STRING);
            optional int64 label;
        }",
    )?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))?;
    for (group, rows) in examples.chunks(ROW_GROUP_ROWS).enumerate() {
        let first = group * ROW_GROUP_ROWS;
        let mut row_group = writer.next_row_group()?;
        // The casts cannot truncate: the number of examples was checked above.
        write_column::<Int32Type, _>(&mut row_group, rows.len(), |i| (first + i) as i32)?;
        write_column::<ByteArrayType, _>(&mut row_group, rows.len(), |i| {
            ByteArray::from(rows[i].text.as_str())
        })?;
        write_column::<Int64Type, _>(&mut row_group, rows.len(), |i| rows[i].label.index() as i64)?;
        row_group.close()?;
    }
    writer.close()?;
    Ok(())
}

/// Writes the next column of a row group: `len` non-null values, `value(i)` for row `i`.
fn write_column<T: DataType, W: Write + Send>(
    row_group: &mut SerializedRowGroupWriter<'_, W>,
    len: usize,
    value: impl Fn(usize) -> T::T,
) -> parquet::errors::Result<()> {
    let mut column = row_group
        .next_column()?
        .ok_or_else(|| ParquetError::General("more columns written than the schema has".into()))?;
    let defined = vec![1_i16; len.min(PARQUET_BATCH)];
    let mut values = Vec::with_capacity(len.min(PARQUET_BATCH));
    for start in (0..len).step_by(PARQUET_BATCH) {
        let end = (start + PARQUET_BATCH).min(len);
        values.clear();
        values.extend((start..end).map(&value));
        column
            .typed::<T>()
            .write_batch(&values[..], Some(&defined[..end - start]), None)?;
    }
    column.close()
}

/// A Parquet error as an I/O error: the underlying one if it is one (a full disk), else
/// the Parquet error as the message.
fn parquet_to_io(error: ParquetError) -> std::io::Error {
    match error {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => *io,
            Err(other) => std::io::Error::other(other),
        },
        other => std::io::Error::other(other),
    }
}

/// The text with tabs and line breaks replaced by spaces (borrowed when it has none).
fn tsv_safe(text: &str) -> Cow<'_, str> {
    if text.contains(['\t', '\n', '\r']) {
        Cow::Owned(text.replace(['\t', '\n', '\r'], " "))
    } else {
        Cow::Borrowed(text)
    }
}

/// Guards a CSV cell against spreadsheet formula injection (OWASP's advice): a cell
/// starting with `=`, `+`, `-` or `@` is prefixed with `'`, which spreadsheets show as
/// text. A cell that already starts with `'` followed by one of those (or by another
/// `'`) is prefixed too, so that the CSV reader's unescaping (drop one
/// leading `'` before those characters) gives every text back exactly.
pub fn escape_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if crate::read::formula_escaped(cell) || cell.starts_with(['=', '+', '-', '@']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}
