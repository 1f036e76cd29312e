//! Model versions on the Hub: the local registry's versions mirrored into a model
//! repository, so that replicas and the CI retrain share them.
//!
//! ```text
//! versions/v3/model.bin       the artifact, byte for byte as in the local registry
//! versions/v3/metadata.json   its registry record (metrics, parent, decision...)
//! registry.json               the index: every pushed version and the current one
//! ```
//!
//! A push writes all three in one commit, based on the commit the index was read at
//! (`parentCommit`), so two pushers cannot silently overwrite each other's index: the
//! second one fails and can retry.

use super::client::HubClient;
use super::error::HubError;
use crate::registry::{version_name, Registry, VersionRecord, VersionStatus};
use hf_hub::HFError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Name of the index file at the repository's root.
pub const INDEX_FILE: &str = "registry.json";

/// `registry.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoteIndex {
    /// The version replicas should serve.
    pub current: Option<u32>,
    /// Every pushed version by name (`v3`).
    pub versions: BTreeMap<String, RemoteVersion>,
}

/// One version in the index: enough to choose without downloading its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteVersion {
    pub version: u32,
    pub created_unix_ms: u64,
    pub status: VersionStatus,
    pub parent: Option<u32>,
    /// Accuracy on the base test split, if it was evaluated there.
    pub base_test_accuracy: Option<f64>,
    pub model: String,
    pub metadata: String,
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct PushReport {
    pub repo: String,
    pub version: u32,
    pub commit: String,
    pub files: Vec<String>,
    pub current: Option<u32>,
}

fn model_path(version: u32) -> String {
    format!("versions/{}/model.bin", version_name(version))
}
fn metadata_path(version: u32) -> String {
    format!("versions/{}/metadata.json", version_name(version))
}

impl HubClient {
    /// The model repository from the configuration, or an error saying how to set it.
    pub fn model_repo(&self) -> Result<String, HubError> {
        self.config()
            .model_repo
            .clone()
            .ok_or(HubError::NoModelRepo)
    }

    /// The repository's index at `main`, and the commit it was read at. A repository
    /// without an index yet has an empty one.
    pub fn read_index(&self, repo: &str) -> Result<(RemoteIndex, Option<String>), HubError> {
        let context = self.context(repo, "model", "read");
        let info = self.model(repo).info().send().map_err(|e| context.map(e))?;
        let commit = info.sha.clone();
        let download = self
            .model(repo)
            .download_file()
            .filename(INDEX_FILE)
            .maybe_revision(commit.clone())
            .send();
        match download {
            Ok(path) => {
                let bytes = std::fs::read(&path).map_err(|source| HubError::Io {
                    path: path.clone(),
                    source,
                })?;
                let index = serde_json::from_slice(&bytes).map_err(|e| HubError::BadIndex {
                    repo: repo.to_string(),
                    message: e.to_string(),
                })?;
                Ok((index, commit))
            }
            Err(HFError::EntryNotFound { .. }) => Ok((RemoteIndex::default(), commit)),
            Err(e) => Err(context.map(e)),
        }
    }

    /// Pushes `version` of the local registry to the model repository: its artifact,
    /// its record and the updated index, in one commit. With `make_current` the index
    /// names it the version to serve.
    pub fn push_version(
        &self,
        registry: &Registry,
        version: u32,
        make_current: bool,
    ) -> Result<PushReport, HubError> {
        self.push_version_on(registry, version, make_current, None)
    }

    /// [`HubClient::push_version`], failing with [`HubError::Raced`] if the model
    /// repository is no longer at `based_on` (the commit the caller read the index at):
    /// a retrain that started from one index must not overwrite a newer one.
    pub fn push_version_on(
        &self,
        registry: &Registry,
        version: u32,
        make_current: bool,
        based_on: Option<String>,
    ) -> Result<PushReport, HubError> {
        let repo = self.model_repo()?;
        self.require_token(&format!("pushing {} to {repo}", version_name(version)))?;
        let record = registry.record(version)?;
        let model_file = registry.model_path(version);
        let model = std::fs::read(&model_file).map_err(|source| HubError::Io {
            path: model_file.clone(),
            source,
        })?;
        let (mut index, parent) = self.read_index(&repo)?;
        if based_on.is_some() && based_on != parent {
            return Err(HubError::Raced { repo });
        }
        index.versions.insert(
            version_name(version),
            RemoteVersion {
                version,
                created_unix_ms: record.created_unix_ms,
                status: record.status,
                parent: record.parent,
                base_test_accuracy: record.evaluations.get("base_test").map(|r| r.accuracy),
                model: model_path(version),
                metadata: metadata_path(version),
            },
        );
        if make_current {
            index.current = Some(version);
        }
        let files = vec![
            (model_path(version), model),
            (
                metadata_path(version),
                serde_json::to_vec_pretty(&record).expect("records serialise"),
            ),
            (
                INDEX_FILE.to_string(),
                serde_json::to_vec_pretty(&index).expect("the index serialises"),
            ),
        ];
        let names = files.iter().map(|(name, _)| name.clone()).collect();
        let message = format!(
            "Add model {} ({})",
            version_name(version),
            record.decision.lines().next().unwrap_or_default()
        );
        let commit = self.commit_model_files_on(&repo, files, &message, parent)?;
        Ok(PushReport {
            repo,
            version,
            commit,
            files: names,
            current: index.current,
        })
    }

    /// Pulls `version` (default: the index's current one) from the model repository into
    /// the local registry, unless it is already there, and makes it current when the
    /// index says it is. Returns the version.
    pub fn pull_version(&self, registry: &Registry, version: Option<u32>) -> Result<u32, HubError> {
        let repo = self.model_repo()?;
        let (index, commit) = self.read_index(&repo)?;
        let version = version
            .or(index.current)
            .ok_or_else(|| HubError::NothingToPull { repo: repo.clone() })?;
        let entry = index
            .versions
            .get(&version_name(version))
            .ok_or_else(|| HubError::NothingToPull { repo: repo.clone() })?;
        let context = self.context(&repo, "model", "read");
        let fetch = |path: &str| {
            self.model(&repo)
                .download_file()
                .filename(path)
                .maybe_revision(commit.clone())
                .send()
                .map_err(|e| context.map(e))
        };
        if registry.version_numbers()?.contains(&version) {
            // Replicas take the Hub's numbers. A local version with the same number
            // but other bytes (made by a local retrain) is refused, not renumbered:
            // renumbering would make "v3" mean different models on different machines.
            let model_file = fetch(&entry.model)?;
            let hub_sha = sha256_file(&model_file)?;
            let local_sha = sha256_file(&registry.model_path(version))?;
            if hub_sha != local_sha {
                return Err(HubError::VersionClash {
                    repo: repo.clone(),
                    version: version_name(version),
                    hub_sha,
                    local_sha,
                });
            }
        } else {
            let model_file = fetch(&entry.model)?;
            let metadata_file = fetch(&entry.metadata)?;
            let model = sentiment_core::load_model(&model_file)
                .map_err(|e| HubError::Registry(e.into()))?;
            let bytes = std::fs::read(&metadata_file).map_err(|source| HubError::Io {
                path: metadata_file.clone(),
                source,
            })?;
            let record: VersionRecord =
                serde_json::from_slice(&bytes).map_err(|e| HubError::BadIndex {
                    repo: repo.clone(),
                    message: format!("{}: {e}", entry.metadata),
                })?;
            registry.add(&model, &record)?;
        }
        if index.current == Some(version) {
            registry.set_current(version)?;
        }
        Ok(version)
    }
}

/// What [`HubClient::follow_current`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// The index names no current version yet.
    NoCurrent,
    /// The local current version already is the Hub's.
    Unchanged(u32),
    /// The Hub's current version was pulled (if needed), checked and made current.
    Switched { from: Option<u32>, to: u32 },
}

impl HubClient {
    /// For replicas: makes the local registry's current version the one the model
    /// repository's index names current, pulling and checking it (the artifact must
    /// load: signature and checksum) first. The caller swaps the served model.
    pub fn follow_current(&self, registry: &Registry) -> Result<Followed, HubError> {
        let repo = self.model_repo()?;
        let (index, _) = self.read_index(&repo)?;
        let Some(wanted) = index.current else {
            return Ok(Followed::NoCurrent);
        };
        let local = registry.current()?;
        if local == Some(wanted) {
            return Ok(Followed::Unchanged(wanted));
        }
        let pulled = self.pull_version(registry, Some(wanted))?;
        // pull_version makes it current only if the index (read again) still says so;
        // a newer promotion in between is picked up by the next poll.
        let now = registry.current()?;
        if now == Some(pulled) {
            Ok(Followed::Switched {
                from: local,
                to: pulled,
            })
        } else {
            Ok(Followed::Unchanged(now.unwrap_or(pulled)))
        }
    }
}

fn sha256_file(path: &Path) -> Result<String, HubError> {
    let bytes = std::fs::read(path).map_err(|source| HubError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}
