//! The daemon's Hub client: `HF_ENDPOINT` and `HF_TOKEN` from the environment, the
//! repositories from `[hub]`, and the download cache in the data directory unless the
//! operator chose a Hugging Face cache (`HF_HUB_CACHE` or `HF_HOME`).

use crate::config::HubFile;
use anyhow::{Context, Result};
use sentiment_data::hub::{HubClient, HubConfig};
use std::path::{Path, PathBuf};

/// Where downloads go: the operator's Hugging Face cache if one is configured, else
/// `DATA_DIR/hub-cache` (so a data directory is self-contained and nothing lands in
/// `~/.cache` by surprise on a server).
pub fn cache_dir(data_dir: &Path) -> Option<PathBuf> {
    let chosen = ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    (!chosen).then(|| data_dir.join("hub-cache"))
}

/// The Hub configuration for a data directory and a `[hub]` section.
pub fn config(data_dir: &Path, hub: &HubFile) -> Result<HubConfig> {
    let mut config = HubConfig::from_env();
    config.cache_dir = cache_dir(data_dir);
    config.model_repo = hub.model_repo.clone();
    config.dataset_repo = hub.dataset_repo.clone();
    if let Some(base) = &hub.base_dataset {
        config.base_dataset = base.clone();
    }
    // Retries on transient failures; 0 fails at once (useful offline and in tests).
    if let Some(retries) = std::env::var("SENTIMENT_HUB_RETRIES")
        .ok()
        .filter(|v| !v.is_empty())
    {
        config.max_attempts = retries
            .parse()
            .with_context(|| format!("SENTIMENT_HUB_RETRIES must be a number, got {retries:?}"))?;
    }
    Ok(config)
}

pub fn client(data_dir: &Path, hub: &HubFile) -> Result<HubClient> {
    Ok(HubClient::new(config(data_dir, hub)?)?)
}

/// The data directory and `[hub]` section for a one-shot command: flags, then the
/// config file, then the defaults.
pub fn settings(
    data_dir: &crate::cli::DataDirArgs,
    config_file: Option<&Path>,
) -> Result<(PathBuf, HubFile)> {
    let file = crate::config::read_file(config_file)?;
    let data_dir = data_dir
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(crate::config::default_data_dir);
    Ok((data_dir, file.hub))
}
