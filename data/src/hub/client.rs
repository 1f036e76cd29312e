//! One configured connection to the Hub.

use super::config::HubConfig;
use super::error::{Context, HubError};
use hf_hub::{split_id, HFClient, HFClientSync, HFRepositorySync, RepoTypeDataset, RepoTypeModel};

/// An hf-hub client built from a [`HubConfig`]. Its calls block (hf-hub runs them on
/// its own runtime thread), so it may be used from sync code and from inside tokio.
#[derive(Clone)]
pub struct HubClient {
    config: HubConfig,
    inner: HFClientSync,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("HubClient")
            .field("endpoint", &self.config.endpoint)
            .field("token_set", &self.config.token.is_some())
            .finish()
    }
}

impl HubClient {
    pub fn new(config: HubConfig) -> Result<HubClient, HubError> {
        let mut builder = HFClient::builder()
            .endpoint(config.endpoint.clone())
            .retry_max_attempts(config.max_attempts)
            .retry_base_delay(config.base_delay);
        if let Some(token) = &config.token {
            builder = builder.token(token.clone());
        }
        if let Some(dir) = &config.cache_dir {
            builder = builder.cache_dir(dir.clone());
        }
        let inner = builder.build_sync().map_err(|source| HubError::Hub {
            repo: "(client setup)".into(),
            source: Box::new(source),
        })?;
        Ok(HubClient { config, inner })
    }

    /// [`HubClient::new`] on [`HubConfig::from_env`] with `adjust` applied.
    pub fn from_env(adjust: impl FnOnce(&mut HubConfig)) -> Result<HubClient, HubError> {
        let mut config = HubConfig::from_env();
        adjust(&mut config);
        HubClient::new(config)
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    pub(crate) fn dataset(&self, repo: &str) -> HFRepositorySync<RepoTypeDataset> {
        let (owner, name) = split_id(repo);
        self.inner.dataset(owner, name)
    }

    pub(crate) fn model(&self, repo: &str) -> HFRepositorySync<RepoTypeModel> {
        let (owner, name) = split_id(repo);
        self.inner.model(owner, name)
    }

    /// Fails early, before any request, when a write has no token to go with it.
    pub fn require_token(&self, action: &str) -> Result<(), HubError> {
        match self.config.token {
            Some(_) => Ok(()),
            None => Err(HubError::MissingToken {
                action: action.to_string(),
                endpoint: self.config.endpoint.clone(),
            }),
        }
    }

    /// How to explain a failure of a request about `repo`.
    pub(crate) fn context<'a>(
        &'a self,
        repo: &'a str,
        kind: &'static str,
        needed: &'static str,
    ) -> Context<'a> {
        Context {
            endpoint: &self.config.endpoint,
            repo,
            kind,
            token_set: self.config.token.is_some(),
            // hf-hub makes one attempt plus `max_attempts` retries.
            attempts: self.config.max_attempts + 1,
            needed,
        }
    }
}
