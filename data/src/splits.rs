//! Finding the train / validation / test files of a dataset directory.
//!
//! Two layouts are common: a directory with `train.tsv`, `validation.tsv`... (GLUE, most
//! hand-made datasets) and the Hugging Face Hub's `data/train-00000-of-00001.parquet`
//! shards. Recognising both lets users point the service at a dataset rather than
//! listing its files.

use crate::{DataError, Format};
use std::fs;
use std::path::{Path, PathBuf};

/// The files of each split, in the order to read them (shards sorted by name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitFiles {
    pub train: Vec<PathBuf>,
    pub validation: Vec<PathBuf>,
    pub test: Vec<PathBuf>,
}

/// The split names, each with the file-name stems that mean it.
const SPLITS: [(&str, &[&str]); 3] = [
    ("train", &["train"]),
    ("validation", &["validation", "valid", "dev"]),
    ("test", &["test"]),
];

const LOOKED_FOR: &str = "a file train.<ext> or shards train-*.<ext> (ext: tsv, csv, jsonl, \
                          ndjson, json-lines, parquet) in the directory or in its data/ \
                          subdirectory (the Hugging Face Hub layout)";

/// Locates the split files for `path`.
///
/// - A file is the training split, on its own.
/// - A directory is searched for `train.<ext>`, `validation.<ext>` (or `valid`, `dev`)
///   and `test.<ext>`, or shards `train-*.<ext>`..., with `<ext>` any extension
///   [`Format::from_path`] knows, in any letter case. If it has no training split, its
///   `data/` subdirectory is searched the same way: that is the Hub layout, so the root
///   of a downloaded Hub dataset repository works as well as its `data/` directory.
///
/// Validation and test splits are optional. A split with candidates that cannot all be
/// meant (two formats, or `train.tsv` next to `train-*` shards, or `dev.tsv` next to
/// `validation.tsv`) is [`DataError::AmbiguousSplit`]; no training split at all is
/// [`DataError::NoTrainSplit`].
pub fn locate_splits(path: &Path) -> Result<SplitFiles, DataError> {
    let metadata = fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    if !metadata.is_dir() {
        return Ok(SplitFiles {
            train: vec![path.to_path_buf()],
            ..SplitFiles::default()
        });
    }
    let here = scan(path)?;
    if !here.train.is_empty() {
        return Ok(here);
    }
    let hub_data = path.join("data");
    if hub_data.is_dir() {
        let hub = scan(&hub_data)?;
        if !hub.train.is_empty() {
            return Ok(hub);
        }
    }
    Err(DataError::NoTrainSplit {
        path: path.to_path_buf(),
        looked_for: LOOKED_FOR.to_string(),
    })
}

/// A file that names a split.
struct Candidate {
    path: PathBuf,
    format: Format,
    /// The stem that matched (`dev`, `validation`...).
    alias: &'static str,
    /// `train.tsv` rather than a shard `train-00000.tsv`.
    exact: bool,
}

/// The split files directly in `dir`.
fn scan(dir: &Path) -> Result<SplitFiles, DataError> {
    let mut candidates: [Vec<Candidate>; 3] = Default::default();
    let entries = fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        let Some(format) = Format::from_path(&path) else {
            continue;
        };
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        // `Format::from_path` succeeded, so there is an extension to cut off.
        let stem = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(stem, _)| stem);
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        for (slot, (_, aliases)) in candidates.iter_mut().zip(SPLITS) {
            for &alias in aliases {
                let exact = stem == alias;
                let shard = stem
                    .strip_prefix(alias)
                    .is_some_and(|rest| rest.starts_with('-'));
                if exact || shard {
                    slot.push(Candidate {
                        path: path.clone(),
                        format,
                        alias,
                        exact,
                    });
                }
            }
        }
    }
    let [train, validation, test] = candidates;
    Ok(SplitFiles {
        train: resolve(dir, SPLITS[0].0, train)?,
        validation: resolve(dir, SPLITS[1].0, validation)?,
        test: resolve(dir, SPLITS[2].0, test)?,
    })
}

/// The files of one split, sorted, once it is clear they belong together.
fn resolve(
    dir: &Path,
    split: &'static str,
    mut candidates: Vec<Candidate>,
) -> Result<Vec<PathBuf>, DataError> {
    candidates.sort_by(|a, b| a.path.cmp(&b.path));
    let ambiguous = candidates.first().is_some_and(|first| {
        candidates.iter().any(|c| {
            c.format != first.format || c.alias != first.alias || (c.exact && candidates.len() > 1)
        })
    });
    let paths: Vec<PathBuf> = candidates.into_iter().map(|c| c.path).collect();
    if ambiguous {
        return Err(DataError::AmbiguousSplit {
            path: dir.to_path_buf(),
            split,
            files: paths,
        });
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::shared_data;
    use std::fs::File;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).unwrap();
            }
            File::create(path).unwrap();
        }
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn finds_the_shared_sst2_tsv_splits() {
        let dir = shared_data().join("sst2");
        let splits = locate_splits(&dir).unwrap();
        assert_eq!(splits.train, vec![dir.join("train.tsv")]);
        assert_eq!(splits.validation, vec![dir.join("validation.tsv")]);
        assert!(splits.test.is_empty());
    }

    #[test]
    fn finds_the_hub_layout_from_the_repo_root_and_from_data() {
        let root = shared_data().join("hub/datasets/stanfordnlp/sst2");
        let data = root.join("data");
        let want = SplitFiles {
            train: vec![data.join("train-00000-of-00001.parquet")],
            validation: vec![data.join("validation-00000-of-00001.parquet")],
            test: vec![],
        };
        assert_eq!(locate_splits(&root).unwrap(), want);
        assert_eq!(locate_splits(&data).unwrap(), want);
    }

    #[test]
    fn a_file_is_the_training_split() {
        let file = shared_data().join("sst2/validation.tsv");
        let splits = locate_splits(&file).unwrap();
        assert_eq!(splits.train, vec![file]);
        assert!(splits.validation.is_empty() && splits.test.is_empty());
    }

    #[test]
    fn shards_are_sorted_and_aliases_recognised() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &[
                "data/train-00002-of-00003.parquet",
                "data/train-00000-of-00003.parquet",
                "data/train-00001-of-00003.parquet",
                "data/dev-00000-of-00001.parquet",
                "data/test-00000-of-00001.parquet",
                "data/README.md",
                "README.md",
                "training-notes.tsv",
            ],
        );
        let splits = locate_splits(dir.path()).unwrap();
        assert_eq!(
            names(&splits.train),
            [
                "train-00000-of-00003.parquet",
                "train-00001-of-00003.parquet",
                "train-00002-of-00003.parquet"
            ]
        );
        assert_eq!(names(&splits.validation), ["dev-00000-of-00001.parquet"]);
        assert_eq!(names(&splits.test), ["test-00000-of-00001.parquet"]);
    }

    #[test]
    fn files_in_the_directory_take_precedence_over_data() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &["Train.JSONL", "valid.csv", "data/train-0.parquet"],
        );
        let splits = locate_splits(dir.path()).unwrap();
        assert_eq!(names(&splits.train), ["Train.JSONL"]);
        assert_eq!(names(&splits.validation), ["valid.csv"]);
    }

    #[test]
    fn conflicting_candidates_are_ambiguous() {
        for files in [
            &["train.tsv", "train.parquet"][..],
            &["train.tsv", "train-1.tsv"],
            &["train.tsv", "dev.tsv", "validation.tsv"],
        ] {
            let dir = tempfile::tempdir().unwrap();
            touch(dir.path(), files);
            let err = locate_splits(dir.path()).unwrap_err();
            assert!(matches!(err, DataError::AmbiguousSplit { .. }), "{files:?}");
            let message = err.to_string();
            assert!(message.contains("more than one candidate"), "{message}");
        }
    }

    #[test]
    fn no_training_split_says_what_was_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &["validation.tsv", "notes.txt", "data/test-0.parquet"],
        );
        let err = locate_splits(dir.path()).unwrap_err();
        assert!(matches!(err, DataError::NoTrainSplit { .. }));
        let message = err.to_string();
        assert!(message.contains("train.<ext>"), "{message}");
        assert!(message.contains("data/"), "{message}");
    }

    #[test]
    fn a_missing_path_is_an_io_error_naming_it() {
        let err = locate_splits(Path::new("/nonexistent/dataset")).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/dataset"));
    }
}
