//! Writing examples back out, in a form the readers of this crate read back exactly.
//!
//! Files are written to a temporary file next to the target and renamed over it at the
//! end, so a crash or a full disk never leaves a half-written dataset where a complete
//! one used to be.

use crate::{DataError, Example, Format};
use serde::Serialize;
use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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
/// - Parquet: not supported ([`DataError::UnsupportedWrite`]).
pub fn write_examples(path: &Path, format: Format, examples: &[Example]) -> Result<(), DataError> {
    if format == Format::Parquet {
        return Err(DataError::UnsupportedWrite {
            path: path.to_path_buf(),
            format,
        });
    }
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
        Format::Parquet => {
            // Rejected by `write_examples` before a file is created; kept total anyway.
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "writing Parquet is not supported",
            ));
        }
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
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
