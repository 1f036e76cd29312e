//! The daemon's Hub client: `HF_ENDPOINT` and `HF_TOKEN` from the environment, the
//! repositories from `[hub]` (or `SENTIMENT_HUB_*`), and the download cache in the
//! data directory unless the operator chose a Hugging Face cache (`HF_HUB_CACHE` or
//! `HF_HOME`). Submodules: the node id, the feedback shard uploader and the replica
//! poller, which run inside `serve`.

pub mod follow;
pub mod node;
pub mod shards;

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

/// The Hub side of a running daemon: present when `[hub]` names a model or dataset
/// repository.
pub struct HubRuntime {
    pub client: HubClient,
    /// This daemon's name in shard paths.
    pub node_id: String,
    /// One poll at a time (the timer's and an operator's).
    pub poll_lock: tokio::sync::Mutex<()>,
    /// One upload at a time (the timer's and the shutdown's).
    pub upload_lock: std::sync::Mutex<()>,
    pub last_poll: std::sync::Mutex<Option<follow::PollReport>>,
}

impl HubRuntime {
    /// None when no repository is configured. Uploading feedback needs a token: a
    /// daemon configured to upload without one refuses to start (rather than
    /// piling up shards it can never send).
    pub fn new(data_dir: &Path, hub: &HubFile) -> Result<Option<HubRuntime>> {
        if hub.model_repo.is_none() && hub.dataset_repo.is_none() {
            return Ok(None);
        }
        let client = client(data_dir, hub)?;
        if let Some(repo) = &hub.dataset_repo {
            client
                .require_token(&format!(
                    "uploading feedback shards to the dataset repository {repo} (hub.dataset_repo)"
                ))
                .context("cannot start the feedback upload")?;
        }
        let node_id = node::node_id(data_dir, hub.node_id.as_deref())?;
        Ok(Some(HubRuntime {
            client,
            node_id,
            poll_lock: tokio::sync::Mutex::new(()),
            upload_lock: std::sync::Mutex::new(()),
            last_poll: std::sync::Mutex::new(None),
        }))
    }
}
