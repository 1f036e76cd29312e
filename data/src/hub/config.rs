//! Where the Hub is and which repositories the service uses.
//!
//! The endpoint and token come from the variables every Hugging Face tool reads
//! (`HF_ENDPOINT`, `HF_TOKEN`), so one export configures this service, the Python
//! `huggingface_hub` and CI alike; the repository ids come from the daemon's config.

use std::path::PathBuf;
use std::time::Duration;

/// The public Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The base dataset: SST-2 as the Stanford NLP group publishes it (Parquet).
pub const DEFAULT_BASE_DATASET: &str = "stanfordnlp/sst2";

/// Everything a [`HubClient`](super::HubClient) needs.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Base URL of the Hub (`HF_ENDPOINT`), without a trailing slash.
    pub endpoint: String,
    /// Access token (`HF_TOKEN`); public repositories can be read without one.
    pub token: Option<String>,
    /// Model repository for model versions (`owner/name`), if the service pushes any.
    pub model_repo: Option<String>,
    /// Dataset repository for feedback shards (`owner/name`), if any.
    pub dataset_repo: Option<String>,
    /// Dataset repository of the base training data.
    pub base_dataset: String,
    /// Download cache; `None` uses hf-hub's (`HF_HUB_CACHE`, else `$HF_HOME/hub`).
    pub cache_dir: Option<PathBuf>,
    /// Attempts per request on transient failures (connection refused, 5xx, 429).
    pub max_attempts: usize,
    /// First backoff delay; hf-hub doubles it (with jitter) on each retry.
    pub base_delay: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            token: None,
            model_repo: None,
            dataset_repo: None,
            base_dataset: DEFAULT_BASE_DATASET.to_string(),
            cache_dir: None,
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
        }
    }
}

impl HubConfig {
    /// Defaults, with the endpoint and token from `HF_ENDPOINT` and `HF_TOKEN`. An
    /// empty variable counts as unset (CI often exports empty secrets).
    pub fn from_env() -> HubConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        HubConfig {
            endpoint: var("HF_ENDPOINT")
                .map(|e| e.trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            token: var("HF_TOKEN").map(|t| t.trim().to_string()),
            ..HubConfig::default()
        }
    }
}
