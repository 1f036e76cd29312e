//! TSV and CSV: one example per line, text and label in two columns.
//!
//! Both go through the `csv` crate with [`csv::ByteRecord`] (one reused buffer; the only
//! allocation per row is the example's own text). Records are flexible-length so that a
//! row with a stray delimiter is reported, not fatal. TSV is read with quoting
//! disabled: SST-2 sentences contain `"` characters that are not quotes. Records end at
//! `\n` and a trailing `\r` is removed, so CRLF files read the same as LF files and a
//! line number is always a physical line number.
//!
//! Header detection is on the first non-blank line: if it names a text column and a
//! label column (see [`TEXT_COLUMNS`], [`LABEL_COLUMNS`]) those columns are used and the
//! line is a header; if it is two fields of which one is a valid label it is data, and
//! the position of the label (`text,label` or `label,text`) is fixed for the file by
//! that line; otherwise it is taken as a header that lacks a column, which is an error.

use super::{
    column_kind, parse_label, wanted_label, wanted_text, Sink, LABEL_COLUMNS, TEXT_COLUMNS,
};
use crate::DataError;
use csv::{ByteRecord, ReaderBuilder, Terminator};
use std::io::Read;

/// Where text and label are in every record, and how many fields a record has.
#[derive(Debug, Clone, Copy)]
struct Layout {
    text: usize,
    label: usize,
    width: usize,
}

pub(super) fn read(
    input: impl Read,
    delimiter: u8,
    quoting: bool,
    sink: &mut Sink<'_>,
) -> Result<(), DataError> {
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(false)
        .flexible(true)
        .terminator(Terminator::Any(b'\n'))
        .buffer_capacity(64 * 1024)
        .from_reader(input);
    let separator = if delimiter == b'\t' { "tab" } else { "comma" };
    let mut record = ByteRecord::new();
    let mut layout: Option<Layout> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(sink, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        if is_blank(&record) {
            continue;
        }
        let layout = match layout {
            Some(layout) => layout,
            None => {
                let (detected, is_header) = detect_layout(&record, sink)?;
                layout = Some(detected);
                if is_header {
                    continue;
                }
                detected
            }
        };
        if record.len() != layout.width {
            let hint = if record.len() > layout.width && delimiter == b'\t' {
                " (a tab inside the text?)"
            } else {
                ""
            };
            sink.malformed(
                line,
                format!(
                    "expected {} {separator}-separated fields, found {}{hint}",
                    layout.width,
                    record.len()
                ),
            )?;
            continue;
        }
        let label = match std::str::from_utf8(field(&record, layout.label)) {
            Ok(raw) => parse_label(raw),
            Err(_) => Err("the label is not valid UTF-8".to_string()),
        };
        let label = match label {
            Ok(label) => label,
            Err(message) => {
                sink.malformed(line, message)?;
                continue;
            }
        };
        let mut text = field(&record, layout.text);
        // CSV may come from `feedback export`, which escapes formula-like cells with a
        // leading `'`: take it off (TSV is never escaped).
        if quoting && text.len() > 1 && super::formula_escaped(&String::from_utf8_lossy(&text[..2]))
        {
            text = &text[1..];
        }
        sink.push_bytes(line, text, label)?;
    }
    Ok(())
}

/// Field `index` without the `\r` a CRLF line ending leaves on the last field.
fn field(record: &ByteRecord, index: usize) -> &[u8] {
    let bytes = record.get(index).unwrap_or_default();
    if index + 1 == record.len() {
        bytes.strip_suffix(b"\r").unwrap_or(bytes)
    } else {
        bytes
    }
}

/// A line with nothing but whitespace on it (the csv crate already skips truly empty
/// lines, but not `\r` alone or spaces).
fn is_blank(record: &ByteRecord) -> bool {
    record.len() <= 1 && field(record, 0).iter().all(u8::is_ascii_whitespace)
}

/// Decides from the first record whether it is a header and where the columns are.
fn detect_layout(record: &ByteRecord, sink: &Sink<'_>) -> Result<(Layout, bool), DataError> {
    let names: Vec<String> = (0..record.len())
        .map(|i| String::from_utf8_lossy(field(record, i)).trim().to_string())
        .collect();
    let text = names.iter().position(|n| column_kind(n, &TEXT_COLUMNS));
    let label = names.iter().position(|n| column_kind(n, &LABEL_COLUMNS));
    let width = record.len();
    if let (Some(text), Some(label)) = (text, label) {
        return Ok((Layout { text, label, width }, true));
    }
    if text.is_none() && label.is_none() && width == 2 {
        // No header: the label is the column that parses as one (text,label preferred
        // when both do, as in SST-2).
        if parse_label(&names[1]).is_ok() {
            return Ok((
                Layout {
                    text: 0,
                    label: 1,
                    width,
                },
                false,
            ));
        }
        if parse_label(&names[0]).is_ok() {
            return Ok((
                Layout {
                    text: 1,
                    label: 0,
                    width,
                },
                false,
            ));
        }
    }
    let wanted = match (text, label) {
        (None, None) => format!("{} or {}", wanted_text(), wanted_label()),
        (None, Some(_)) => wanted_text(),
        _ => wanted_label(),
    };
    Err(DataError::MissingColumn {
        path: sink.path().to_path_buf(),
        wanted,
        found: names,
    })
}

fn csv_error(sink: &Sink<'_>, error: csv::Error) -> DataError {
    let line = error.position().map_or(0, |p| p.line());
    match error.into_kind() {
        csv::ErrorKind::Io(source) => DataError::io(sink.path(), source),
        other => DataError::Malformed {
            path: sink.path().to_path_buf(),
            line,
            message: format!("unreadable record: {other:?}"),
        },
    }
}
