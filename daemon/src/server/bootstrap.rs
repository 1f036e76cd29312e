//! First start: when the data directory holds no model, train version 1 from the base
//! dataset, evaluate it on a held-out test split, and register it as current.

use crate::config::ServeConfig;
use crate::datasets::{self, columns, display_paths};
use crate::progress::TrainingProgress;
use anyhow::{anyhow, Context, Result};
use sentiment_core::{train, TrainConfig};
use sentiment_data::registry::{Registry, VersionRecord, VersionStatus};
use sentiment_data::{stratified_split, Example};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

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

/// Downloads the configured base dataset from the Hub (for a first start without
/// `--base-data`); returns its local folder and `repo@commit`. The folder is in the data
/// directory's Hub cache, so later retrains read it without the network.
fn base_data_from_hub(config: &ServeConfig) -> Result<(PathBuf, String)> {
    let client = crate::hub::client(&config.data_dir, &config.hub)?;
    let repo = client.config().base_dataset.clone();
    tracing::info!(
        repo = %repo,
        endpoint = %client.config().endpoint,
        "no model yet and no --base-data: downloading the base dataset from the Hugging Face Hub"
    );
    let base = client.fetch_base_dataset().map_err(|error| {
        anyhow!(
            "the data directory {} has no model yet and no base dataset was given, and \
             downloading {repo} from the Hugging Face Hub failed: {error}. Either pass \
             --base-data PATH (or set SENTIMENT_BASE_DATA) to train from local files, e.g. \
             --base-data ../shared/data/sst2, or fix the Hub access (HF_ENDPOINT, HF_TOKEN, \
             hub.base_dataset) and start again",
            config.data_dir.display()
        )
    })?;
    if base.offline {
        tracing::warn!(dir = %base.dir.display(), "the Hub is unreachable: training from the base dataset cached earlier");
    }
    tracing::info!(repo = %base.repo, commit = %base.commit, dir = %base.dir.display(), "base dataset ready");
    Ok((base.dir, format!("{}@{}", base.repo, base.commit)))
}

/// Makes sure the registry has a current version, training v1 if it has none.
pub fn ensure_model(config: &ServeConfig, registry: &Registry) -> Result<u32> {
    if let Some(version) = registry.current()? {
        return Ok(version);
    }
    // A crash between adding v1 and pointing at it leaves a complete v1: use it.
    if let Some(&latest) = registry.version_numbers()?.last() {
        let record = registry.record(latest)?;
        if record.status == VersionStatus::Promoted {
            registry.set_current(latest)?;
            tracing::info!(version = latest, "restored the current-version pointer");
            return Ok(latest);
        }
    }
    let (base, hub_source) = match &config.base_data {
        Some(path) => (path.clone(), None),
        None => {
            let (dir, source) = base_data_from_hub(config)?;
            (dir, Some(source))
        }
    };
    let base = &base;
    tracing::info!(base_data = %base.display(), "no model yet: training version 1 from the base dataset");
    let started = Instant::now();
    let data = read_base_data(base)
        .with_context(|| format!("cannot read the base dataset {}", base.display()))?;
    let (texts, labels) = columns(&data.train);
    let progress = TrainingProgress::start("training version 1");
    let mut model = train(&texts, &labels, None, &TrainConfig::default(), &|p| {
        progress.update(p)
    })
    .context("training version 1 failed")?;
    progress.set_message("evaluating on the test split".into());
    let (test_texts, test_labels) = columns(&data.test);
    let report = model.evaluate(&test_texts, &test_labels)?;
    progress.finish();
    model
        .metadata
        .evaluations
        .insert("base_test".into(), report.clone());
    let mut notes = BTreeMap::from([
        ("base_data".to_string(), base.display().to_string()),
        ("train_data".to_string(), data.train_source.clone()),
        ("base_test".to_string(), data.test_source.clone()),
        (
            "train_seconds".to_string(),
            format!("{:.2}", started.elapsed().as_secs_f64()),
        ),
    ]);
    if let Some(source) = hub_source {
        notes.insert("base_data_hub".to_string(), source);
    }
    model.metadata.notes.extend(notes.clone());
    let record = VersionRecord {
        version: 1,
        created_unix_ms: model.metadata.created_unix_ms,
        status: VersionStatus::Promoted,
        parent: None,
        evaluations: BTreeMap::from([("base_test".to_string(), report.clone())]),
        training_rows: BTreeMap::from([("base".to_string(), data.train.len() as u64)]),
        training_data_sha256: model.metadata.training.data_sha256.clone(),
        feedback_ids: Vec::new(),
        decision: "bootstrap: the first model, trained on the base dataset".into(),
        notes,
    };
    registry.add(&model, &record)?;
    registry.set_current(1)?;
    tracing::info!(
        version = "v1",
        examples = data.train.len(),
        test_examples = data.test.len(),
        test_accuracy = format!("{:.4}", report.accuracy),
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        "trained and registered version 1"
    );
    Ok(1)
}
