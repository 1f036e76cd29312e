//! Hub failures an operator can act on.
//!
//! hf-hub already tells 401, 403 and 404 apart; this maps its errors onto the handful
//! of situations that need different advice (set a token, fix the repository id, check
//! the network or use local data), and keeps its message for everything else.

use std::path::PathBuf;

/// Why a Hub operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// A write (or a private read) was attempted with no token configured.
    #[error(
        "no Hugging Face token: {action} needs one. Create a token with write access at \
         {endpoint}/settings/tokens and export it as HF_TOKEN"
    )]
    MissingToken { action: String, endpoint: String },

    /// The repository id does not name a repository (or names a private one the token
    /// cannot see: the Hub answers 404 for both).
    #[error(
        "the Hub at {endpoint} has no {kind} repository {repo} (404). Check the repository id \
         in the configuration; if the repository is private, set HF_TOKEN to a token that can read it"
    )]
    RepoNotFound {
        endpoint: String,
        kind: &'static str,
        repo: String,
    },

    /// 401: no token where one is needed, or a token the Hub does not accept.
    #[error(
        "the Hub at {endpoint} refused {repo} (401 Unauthorized): {advice}",
        advice = if *.token_set {
            "HF_TOKEN is set but was not accepted; it may be revoked or mistyped"
        } else {
            "the repository needs a token; export HF_TOKEN"
        }
    )]
    Unauthorized {
        endpoint: String,
        repo: String,
        token_set: bool,
    },

    /// 403: the token is valid but may not do this (read-only token, no access).
    #[error(
        "the Hub at {endpoint} forbids this on {repo} (403 Forbidden): the token in HF_TOKEN \
         lacks permission; use a token with {needed} access to the repository"
    )]
    Forbidden {
        endpoint: String,
        repo: String,
        needed: &'static str,
    },

    /// No connection at all (refused, DNS, timeout) after the retries.
    #[error(
        "cannot reach the Hugging Face Hub at {endpoint} after {attempts} attempts ({detail}). \
         Check the network or HF_ENDPOINT, or work offline with local data"
    )]
    Unreachable {
        endpoint: String,
        attempts: usize,
        detail: String,
    },

    /// The repository exists but lacks files the service expects.
    #[error("the Hub repository {repo} has no files matching {patterns:?}; {hint}")]
    MissingFiles {
        repo: String,
        patterns: Vec<String>,
        hint: String,
    },

    /// Someone else committed between our read of the index and our commit.
    #[error("the Hub repository {repo} changed while this push was being prepared (another push?); run it again")]
    Raced { repo: String },

    /// Pushing or pulling models needs a model repository.
    #[error(
        "no model repository configured: set model_repo in the [hub] section of the config \
         file (e.g. model_repo = \"your-org/sentiment-model\") or pass --repo OWNER/NAME"
    )]
    NoModelRepo,

    /// Uploading or reading feedback shards needs a dataset repository.
    #[error(
        "no dataset repository configured: set dataset_repo in the [hub] section of the config \
         file (e.g. dataset_repo = \"your-org/sentiment-feedback\")"
    )]
    NoDatasetRepo,

    /// A feedback shard in the dataset repository is not what this service writes.
    #[error("the feedback shard {path} in {repo} is unreadable: {message}")]
    BadShard {
        repo: String,
        path: String,
        message: String,
    },

    /// The Hub's version has the number of a different local version: replicas must
    /// use the Hub's numbers, so this one is refused rather than renumbered.
    #[error(
        "the Hub's {version} in {repo} differs from the local {version} (model sha256 {hub_sha} \
         on the Hub, {local_sha} here): this data directory made its own {version}. Refusing to \
         mix them; serve from a data directory that follows the Hub only (or remove the local \
         version)"
    )]
    VersionClash {
        repo: String,
        version: String,
        hub_sha: String,
        local_sha: String,
    },

    /// The model repository has no such version (or no current version) to pull.
    #[error("the model repository {repo} has no such version in its registry.json; push one first with `sentimentd push`")]
    NothingToPull { repo: String },

    /// `registry.json` or a version's metadata is not what this service writes.
    #[error("the Hub repository {repo} has an unreadable index or metadata: {message}")]
    BadIndex { repo: String, message: String },

    /// The local registry refused.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),

    /// The local cache or a downloaded file could not be read or written.
    #[error("{file}: {source}", file = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Any other Hub failure, with hf-hub's own message (it includes the URL).
    #[error("Hugging Face Hub request about {repo} failed: {source}")]
    Hub {
        repo: String,
        #[source]
        source: Box<hf_hub::HFError>,
    },
}

/// What a failed request was doing, to turn an `HFError` into advice.
pub(crate) struct Context<'a> {
    pub endpoint: &'a str,
    pub repo: &'a str,
    pub kind: &'static str,
    pub token_set: bool,
    pub attempts: usize,
    /// "read" or "write", for the 403 advice.
    pub needed: &'static str,
}

impl Context<'_> {
    pub(crate) fn map(&self, error: hf_hub::HFError) -> HubError {
        use hf_hub::HFError as E;
        let endpoint = self.endpoint.to_string();
        let repo = self.repo.to_string();
        match error {
            E::RepoNotFound { .. } => self.not_found(),
            // Repository info at a revision answers a missing repository with a 404 that
            // hf-hub reads as a missing revision; the Hub's error code tells them apart.
            E::RevisionNotFound { ref context, .. }
                if context
                    .as_ref()
                    .and_then(|c| c.error_code.as_deref())
                    .is_some_and(|code| code == "RepoNotFound") =>
            {
                self.not_found()
            }
            E::AuthRequired { .. } => HubError::Unauthorized {
                endpoint,
                repo,
                token_set: self.token_set,
            },
            E::Forbidden { .. } => HubError::Forbidden {
                endpoint,
                repo,
                needed: self.needed,
            },
            // Listings and per-file requests report statuses as plain HTTP errors.
            E::Http { ref context } => match context.status.as_u16() {
                401 => HubError::Unauthorized {
                    endpoint,
                    repo,
                    token_set: self.token_set,
                },
                403 => HubError::Forbidden {
                    endpoint,
                    repo,
                    needed: self.needed,
                },
                404 if context.error_code.as_deref() == Some("RepoNotFound") => self.not_found(),
                412 => HubError::Raced { repo },
                _ => self.other(error),
            },
            E::Conflict { .. } => HubError::Raced { repo },
            E::Request { ref source, .. } if source.is_connect() || source.is_timeout() => {
                HubError::Unreachable {
                    endpoint,
                    attempts: self.attempts,
                    detail: innermost(source),
                }
            }
            other => self.other(other),
        }
    }

    fn not_found(&self) -> HubError {
        HubError::RepoNotFound {
            endpoint: self.endpoint.to_string(),
            kind: self.kind,
            repo: self.repo.to_string(),
        }
    }

    fn other(&self, error: hf_hub::HFError) -> HubError {
        HubError::Hub {
            repo: self.repo.to_string(),
            source: Box::new(error),
        }
    }
}

/// The root cause ("Connection refused (os error 111)") rather than reqwest's
/// "error sending request".
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
