//! Reading datasets from TSV, CSV, JSON Lines and Parquet files.
//!
//! All formats go through the same [`Sink`], so the treatment of bad rows is the same
//! everywhere: a row that cannot become an [`Example`] is either recorded in
//! [`Dataset::skipped`] with its file and 1-based line (row, for Parquet) or, under
//! [`MalformedPolicy::Fail`], ends the read with [`DataError::Malformed`]. Real-world
//! exports almost always contain a few broken rows, so skipping and reporting is the
//! default; `Fail` is for pipelines that must not lose data silently.

mod delimited;
mod jsonl;
mod parquet;

use crate::{DataError, Example, Format};
use sentiment_core::Label;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// What to do with a row that cannot be read as an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MalformedPolicy {
    /// Leave the row out and record it in [`Dataset::skipped`].
    #[default]
    Skip,
    /// Stop at the first such row with [`DataError::Malformed`].
    Fail,
}

/// How to read a dataset file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// The format; `None` decides from the file extension ([`Format::from_path`]).
    pub format: Option<Format>,
    pub malformed: MalformedPolicy,
}

/// A row left out of a dataset, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedRow {
    pub path: PathBuf,
    /// 1-based line number in the file (1-based row number for Parquet).
    pub line: u64,
    pub message: String,
}

impl fmt::Display for MalformedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// The examples read from one or more files, and the rows that were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    pub examples: Vec<Example>,
    pub skipped: Vec<MalformedRow>,
    /// Rows whose text was not valid UTF-8 (text exported in a legacy encoding): kept,
    /// decoded with U+FFFD for each invalid sequence, and counted here for a warning.
    pub lossy_utf8: Vec<MalformedRow>,
}

/// Reads one dataset file.
///
/// The format is `options.format` or, if that is `None`, the one the extension names.
/// Texts are kept as in the file after [`sentiment_core::text::clean`] (the clean-up
/// the API and the CLI apply too: C1 controls read as Windows-1252, other controls as
/// spaces); text that is not valid UTF-8 is decoded lossily and counted in
/// [`Dataset::lossy_utf8`]. A file without a single usable example is an
/// error ([`DataError::Empty`]), since training on nothing is never what was meant.
pub fn read_examples(path: &Path, options: &ReadOptions) -> Result<Dataset, DataError> {
    let format = options
        .format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| DataError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
    let mut sink = Sink::new(path, options.malformed);
    match format {
        Format::Tsv => delimited::read(open_text(path)?, b'\t', false, &mut sink)?,
        Format::Csv => delimited::read(open_text(path)?, b',', true, &mut sink)?,
        Format::JsonLines => jsonl::read(open_text(path)?, &mut sink)?,
        Format::Parquet => parquet::read(path, &mut sink)?,
    }
    sink.finish()
}

/// Reads several files and concatenates them in the order given (so later files can
/// override earlier ones in [`crate::dedupe()`]). Each file must hold at least one
/// usable example; an empty list of paths is an [`DataError::InvalidArgument`].
pub fn read_many(paths: &[PathBuf], options: &ReadOptions) -> Result<Dataset, DataError> {
    if paths.is_empty() {
        return Err(DataError::InvalidArgument(
            "no dataset files given; pass at least one file to read".into(),
        ));
    }
    let mut all = Dataset::default();
    for path in paths {
        let Dataset {
            examples,
            skipped,
            lossy_utf8,
        } = read_examples(path, options)?;
        if all.examples.is_empty() {
            all.examples = examples;
        } else {
            all.examples.extend(examples);
        }
        all.skipped.extend(skipped);
        all.lossy_utf8.extend(lossy_utf8);
    }
    Ok(all)
}

/// Column names (compared case-insensitively) that hold the text.
pub(crate) const TEXT_COLUMNS: [&str; 5] = ["text", "sentence", "review", "content", "comment"];
/// Column names (compared case-insensitively) that hold the label. `correct_label` is
/// the label column of `sentimentd feedback export`.
pub(crate) const LABEL_COLUMNS: [&str; 6] = [
    "label",
    "sentiment",
    "target",
    "polarity",
    "class",
    "correct_label",
];

/// Whether a CSV cell carries the formula-injection escape of a feedback export: a
/// leading `'` before `=`, `+`, `-`, `@` or another `'` (see
/// `crate::escape_formula`). The CSV reader drops that `'`.
pub(crate) fn formula_escaped(cell: &str) -> bool {
    let mut chars = cell.chars();
    chars.next() == Some('\'') && matches!(chars.next(), Some('=' | '+' | '-' | '@' | '\''))
}

fn column_kind(name: &str, candidates: &[&str]) -> bool {
    let name = name.trim();
    candidates.iter().any(|c| c.eq_ignore_ascii_case(name))
}

fn wanted_text() -> String {
    format!("text ({})", TEXT_COLUMNS.join(", "))
}

fn wanted_label() -> String {
    format!("label ({})", LABEL_COLUMNS.join(", "))
}

/// A label as spelled in a text field; the fast path avoids allocating for the `0`/`1`
/// that nearly every row of a real dataset has.
fn parse_label(raw: &str) -> Result<Label, String> {
    match raw.as_bytes() {
        b"0" => Ok(Label::Negative),
        b"1" => Ok(Label::Positive),
        _ => raw.parse::<Label>().map_err(|e| e.to_string()),
    }
}

/// Opens a text file positioned after a UTF-8 byte-order mark, if there is one: editors
/// on Windows write one, and left in place it would become part of the first header
/// name or the first text.
fn open_text(path: &Path) -> Result<BufReader<File>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let starts_with_bom = reader
        .fill_buf()
        .map_err(|e| DataError::io(path, e))?
        .starts_with(b"\xEF\xBB\xBF");
    if starts_with_bom {
        reader.consume(3);
    }
    Ok(reader)
}

/// Collects examples and applies the malformed-row policy; shared by all formats.
struct Sink<'a> {
    path: &'a Path,
    policy: MalformedPolicy,
    dataset: Dataset,
}

impl<'a> Sink<'a> {
    fn new(path: &'a Path, policy: MalformedPolicy) -> Self {
        Sink {
            path,
            policy,
            dataset: Dataset::default(),
        }
    }

    fn path(&self) -> &'a Path {
        self.path
    }

    fn reserve(&mut self, additional: usize) {
        self.dataset.examples.reserve(additional);
    }

    /// Cleans and checks the text and adds the example, or reports the row as malformed.
    fn push(&mut self, line: u64, text: String, label: Label) -> Result<(), DataError> {
        let text = match sentiment_core::text::clean(&text) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(cleaned) => cleaned,
        };
        if text.trim().is_empty() {
            return self.malformed(line, "the text is empty".into());
        }
        self.dataset.examples.push(Example { text, label });
        Ok(())
    }

    /// [`Sink::push`] for a text as bytes: invalid UTF-8 is decoded lossily and the row
    /// recorded in [`Dataset::lossy_utf8`].
    fn push_bytes(&mut self, line: u64, bytes: &[u8], label: Label) -> Result<(), DataError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.push(line, text.to_owned(), label),
            Err(e) => {
                let (text, _) = sentiment_core::text::decode_lossy(bytes);
                self.note_lossy(line, e.valid_up_to());
                self.push(line, text, label)
            }
        }
    }

    /// Records a row whose text was decoded lossily.
    fn note_lossy(&mut self, line: u64, offset: usize) {
        self.dataset.lossy_utf8.push(MalformedRow {
            path: self.path.to_path_buf(),
            line,
            message: format!(
                "not valid UTF-8 (first bad byte at offset {offset}); read with U+FFFD in \
                 place of each invalid sequence"
            ),
        });
    }

    /// Records a bad row (Skip) or turns it into the error that ends the read (Fail).
    fn malformed(&mut self, line: u64, message: String) -> Result<(), DataError> {
        match self.policy {
            MalformedPolicy::Skip => {
                self.dataset.skipped.push(MalformedRow {
                    path: self.path.to_path_buf(),
                    line,
                    message,
                });
                Ok(())
            }
            MalformedPolicy::Fail => Err(DataError::Malformed {
                path: self.path.to_path_buf(),
                line,
                message,
            }),
        }
    }

    fn finish(self) -> Result<Dataset, DataError> {
        if self.dataset.examples.is_empty() {
            return Err(DataError::Empty {
                path: self.path.to_path_buf(),
                skipped: self.dataset.skipped.len(),
            });
        }
        Ok(self.dataset)
    }
}

#[cfg(test)]
mod tests;
