//! The one error type of this crate.
//!
//! Every variant carries the file it is about (and the 1-based line or row where that
//! makes sense), and every message says both what is wrong and what the user can do
//! about it: these messages end up in front of an operator who pointed the service at a
//! data file, usually without a debugger at hand.

use std::path::PathBuf;

/// Why a dataset could not be read, written, split or located.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file system refused: missing file, no permission, disk full...
    // The io::Error is in the message and deliberately not the error's `source()`:
    // anyhow's `{:#}` prints every source after the message, and the reason would
    // appear twice ("...: No such file or directory (os error 2): No such file...").
    #[error(
        "{file}: {error} (check that the path exists and that this user may read or write it)",
        file = .path.display()
    )]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    /// A row that cannot be turned into an example, under [`MalformedPolicy::Fail`].
    ///
    /// [`MalformedPolicy::Fail`]: crate::MalformedPolicy::Fail
    #[error(
        "{file}:{line}: {message} (fix or delete that line, or read with the skip policy \
         to leave malformed rows out)",
        file = .path.display()
    )]
    Malformed {
        path: PathBuf,
        /// 1-based line number (row number for Parquet).
        line: u64,
        message: String,
    },

    /// The extension does not name a format this crate reads.
    #[error(
        "{file}: cannot tell the data format from the file name; use the extension .tsv, \
         .csv, .jsonl (or .ndjson, .json-lines) or .parquet, or name the format explicitly",
        file = .path.display()
    )]
    UnknownFormat { path: PathBuf },

    /// A header (or Parquet schema) without a usable text or label column.
    #[error(
        "{file}: no {wanted} column; the columns found are {found:?}. Rename the columns \
         in the header, or use a headerless file with exactly two columns: text and a \
         0/1 label",
        file = .path.display()
    )]
    MissingColumn {
        path: PathBuf,
        /// What was looked for, with the accepted names.
        wanted: String,
        found: Vec<String>,
    },

    /// A Parquet column with the right name but a type that cannot hold what it should.
    #[error(
        "{file}: column {column:?} has type {found}, expected {expected}; convert the \
         column before loading the file",
        file = .path.display()
    )]
    WrongColumnType {
        path: PathBuf,
        column: String,
        found: String,
        expected: String,
    },

    /// The Parquet decoder failed: not a Parquet file, truncated, unsupported encoding.
    #[error(
        "{file}: cannot read Parquet data: {message} (check that it is a complete Parquet \
         file; download it again if it may have been truncated)",
        file = .path.display()
    )]
    Parquet { path: PathBuf, message: String },

    /// The file holds no usable example at all.
    #[error(
        "{file}: no usable examples ({skipped} malformed rows skipped); a dataset needs \
         at least one row with a non-empty text and a 0/1 (negative/positive) label",
        file = .path.display()
    )]
    Empty { path: PathBuf, skipped: usize },

    /// A caller passed a value outside the accepted range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A dataset directory without a recognisable training split.
    #[error(
        "{file}: no training split found; looked for {looked_for}. Name the training file \
         accordingly or pass the file itself",
        file = .path.display()
    )]
    NoTrainSplit { path: PathBuf, looked_for: String },

    /// Several candidate files for one split that cannot all be meant.
    #[error(
        "{file}: more than one candidate for the {split} split: {files:?}; keep one format \
         (either a single `{split}.<ext>` file or `{split}-*` shards) and move the others away",
        file = .path.display()
    )]
    AmbiguousSplit {
        path: PathBuf,
        split: &'static str,
        files: Vec<PathBuf>,
    },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error: source,
        }
    }
}
