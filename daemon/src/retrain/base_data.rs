//! The base dataset of every version: its training split, and the test split every
//! candidate is measured on.

use crate::datasets::{self, display_paths};
use anyhow::{Context, Result};
use sentiment_data::{stratified_split, Example};
use std::path::{Path, PathBuf};

/// Seed of the 20% test split for base datasets that come without one.
pub const TEST_SPLIT_SEED: u64 = 20_240_601;
/// Share held out when the base dataset has no validation or test split.
pub const TEST_FRACTION: f64 = 0.2;

/// The base dataset as train and test examples, and how the test split was made.
pub struct BaseData {
    pub train: Vec<Example>,
    pub test: Vec<Example>,
    pub test_source: String,
    pub train_source: String,
    /// The file or directory it was read from.
    pub path: PathBuf,
}

/// Reads the base dataset: its validation split (else test split) is the test set;
/// with neither, a seeded stratified 20% of the training split.
pub fn read_base_data(path: &Path) -> Result<BaseData> {
    let splits = datasets::splits(path)?;
    let train = datasets::read(&splits.train, false)?;
    let held_out = if !splits.validation.is_empty() {
        Some(&splits.validation)
    } else if !splits.test.is_empty() {
        Some(&splits.test)
    } else {
        None
    };
    match held_out {
        Some(files) => Ok(BaseData {
            test: datasets::read(files, false)?,
            test_source: display_paths(files),
            train,
            train_source: display_paths(&splits.train),
            path: path.to_path_buf(),
        }),
        None => {
            let (train, test) = stratified_split(&train, TEST_FRACTION, TEST_SPLIT_SEED)
                .context("cannot split the base dataset into train and test")?;
            Ok(BaseData {
                train,
                test,
                test_source: format!(
                    "a stratified {}% of {} (seed {TEST_SPLIT_SEED})",
                    TEST_FRACTION * 100.0,
                    display_paths(&splits.train)
                ),
                train_source: display_paths(&splits.train),
                path: path.to_path_buf(),
            })
        }
    }
}

impl BaseData {
    /// What every version records about its base data: where it was read from (so a
    /// restarted daemon finds it even once version 1 is pruned), and which splits.
    pub fn notes(&self) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::from([
            ("base_data".to_string(), self.path.display().to_string()),
            ("train_data".to_string(), self.train_source.clone()),
            ("base_test".to_string(), self.test_source.clone()),
        ])
    }
}
