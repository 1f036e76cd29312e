//! First start: when the data directory holds no model, train version 1 from the base
//! dataset with the retrain job, and register it as current.

use crate::config::ServeConfig;
use crate::progress::TrainingProgress;
use crate::retrain::base_data::read_base_data;
use crate::retrain::RetrainJob;
use anyhow::{anyhow, Context, Result};
use sentiment_core::TrainConfig;
use sentiment_data::registry::{Registry, VersionStatus};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

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
    let started = Instant::now();
    tracing::info!(base_data = %base.display(), "no model yet: training version 1 from the base dataset");
    let data = read_base_data(&base)
        .with_context(|| format!("cannot read the base dataset {}", base.display()))?;
    let progress = TrainingProgress::start("training version 1");
    let job = RetrainJob {
        registry,
        settings: &config.retrain,
        train_config: &TrainConfig::default(),
    };
    let notes = hub_source
        .map(|source| BTreeMap::from([("base_data_hub".to_string(), source)]))
        .unwrap_or_default();
    let record = job.bootstrap(&data, notes, &|p| progress.update(p))?;
    progress.finish();
    tracing::info!(
        version = "v1",
        examples = data.train.len(),
        test_examples = data.test.len(),
        test_accuracy = format!("{:.4}", record.evaluations["base_test"].accuracy),
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        "trained and registered version 1"
    );
    // Version 1 is trained in the serving process, as every retrain is: hand back what
    // training freed before serving starts, as after a retrain.
    drop(data);
    crate::memory::release_free_memory();
    Ok(1)
}
