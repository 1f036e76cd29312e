//! Loading labelled data for the commands, with malformed rows reported on stderr.

use anyhow::{bail, Context, Result};
use sentiment_data::{
    locate_splits, read_many, Dataset, Example, MalformedPolicy, ReadOptions, SplitFiles,
};
use std::path::{Path, PathBuf};

/// How many skipped rows are printed; the rest are only counted.
const SHOWN_MALFORMED: usize = 5;

fn options(strict: bool) -> ReadOptions {
    ReadOptions {
        malformed: if strict {
            MalformedPolicy::Fail
        } else {
            MalformedPolicy::Skip
        },
        ..ReadOptions::default()
    }
}

/// Reads `paths` and warns about skipped rows.
pub fn read(paths: &[PathBuf], strict: bool) -> Result<Vec<Example>> {
    let Dataset {
        examples,
        skipped,
        lossy_utf8,
    } = read_many(paths, &options(strict))?;
    if !lossy_utf8.is_empty() {
        eprintln!(
            "warning: {} row(s) were not valid UTF-8 and were read with U+FFFD in place of \
             the invalid bytes (re-save the file as UTF-8 to keep those characters):",
            lossy_utf8.len()
        );
        for row in lossy_utf8.iter().take(SHOWN_MALFORMED) {
            eprintln!("  {row}");
        }
        if lossy_utf8.len() > SHOWN_MALFORMED {
            eprintln!("  ... and {} more", lossy_utf8.len() - SHOWN_MALFORMED);
        }
    }
    if !skipped.is_empty() {
        eprintln!(
            "warning: skipped {} malformed row(s) (use --strict to stop at the first):",
            skipped.len()
        );
        for row in skipped.iter().take(SHOWN_MALFORMED) {
            eprintln!("  {row}");
        }
        if skipped.len() > SHOWN_MALFORMED {
            eprintln!("  ... and {} more", skipped.len() - SHOWN_MALFORMED);
        }
    }
    if examples.is_empty() {
        bail!("no usable examples in {}", display_paths(paths));
    }
    Ok(examples)
}

pub fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The splits of a data path (a file is a train split on its own).
pub fn splits(path: &Path) -> Result<SplitFiles> {
    locate_splits(path).with_context(|| format!("cannot find the data at {}", path.display()))
}

/// The files to evaluate on: a file as it is, or a directory's validation split, else
/// its test split.
pub fn evaluation_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let splits = splits(path)?;
    if !splits.validation.is_empty() {
        Ok(splits.validation)
    } else if !splits.test.is_empty() {
        Ok(splits.test)
    } else {
        bail!(
            "{} has no validation or test split; pass a file with --data",
            path.display()
        )
    }
}

/// Texts and labels as parallel vectors.
pub fn columns(examples: &[Example]) -> (Vec<&str>, Vec<sentiment_core::Label>) {
    examples.iter().map(|e| (e.text.as_str(), e.label)).unzip()
}
