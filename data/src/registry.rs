//! The model registry on disk: one directory per version, and a pointer to the current one.
//!
//! ```text
//! models/
//!   v1/model.bin        the artifact (sentiment-core's format)
//!   v1/version.json     what the registry knows about v1 (metrics, parent, decision...)
//!   v2/...
//!   CURRENT             "v2\n": the version being served
//! ```
//!
//! Every write goes to a temporary name, is fsynced, then renamed into place, and the
//! directory is fsynced after the rename: a crash at any point leaves either the old or
//! the new state, never a half-written version or pointer. A version directory only
//! appears under its final name once both of its files are complete, so anything named
//! `vN` is loadable.

use sentiment_core::{load_model, save_model, ArtifactError, EvaluationReport, SentimentModel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

const MODEL_FILE: &str = "model.bin";
const VERSION_FILE: &str = "version.json";
const CURRENT_FILE: &str = "CURRENT";
/// Held (flock) while the pointer moves or versions are pruned; see [`Registry::write_lock`].
const LOCK_FILE: &str = ".lock";

/// Why the registry could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: {source} (check that the data directory exists and is writable by this user)", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model version v{0} does not exist in the registry")]
    UnknownVersion(u32),
    #[error("{path}: not valid version metadata: {message}", path = .path.display())]
    BadMetadata { path: PathBuf, message: String },
    #[error("{path}: the current-version pointer holds {content:?}, not a version such as \"v3\"; restore it or delete it to re-bootstrap", path = .path.display())]
    BadPointer { path: PathBuf, content: String },
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Trained and evaluated, awaiting a decision.
    Candidate,
    /// Passed the gate (or was bootstrapped, or promoted by an operator).
    Promoted,
    /// Failed the gate; kept for the history view.
    Rejected,
}

/// Everything the registry records about one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub version: u32,
    pub created_unix_ms: u64,
    pub status: VersionStatus,
    /// The version that was current when this one was trained.
    pub parent: Option<u32>,
    /// Metrics on every evaluation set, by name ("base_test", "feedback_holdout", ...).
    pub evaluations: BTreeMap<String, EvaluationReport>,
    /// Training examples by origin ("base", "feedback") and the data hash.
    pub training_rows: BTreeMap<String, u64>,
    pub training_data_sha256: String,
    /// Feedback ids trained on.
    #[serde(default)]
    pub feedback_ids: Vec<i64>,
    /// Why it was or was not promoted, in words.
    pub decision: String,
    /// Free-form facts (data paths, durations...).
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
}

impl VersionRecord {
    pub fn name(&self) -> String {
        version_name(self.version)
    }
}

/// `v{N}`.
pub fn version_name(version: u32) -> String {
    format!("v{version}")
}

/// Parses `v{N}` (or a bare `N`).
pub fn parse_version(name: &str) -> Option<u32> {
    let digits = name.trim().strip_prefix('v').unwrap_or(name.trim());
    digits.parse().ok().filter(|&v| v > 0)
}

/// A registry rooted at a directory.
#[derive(Debug, Clone)]
pub struct Registry {
    root: PathBuf,
}

impl Registry {
    /// Opens (creating if needed) the registry at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Registry, RegistryError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(Registry { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn version_dir(&self, version: u32) -> PathBuf {
        self.root.join(version_name(version))
    }

    /// The artifact path of a version.
    pub fn model_path(&self, version: u32) -> PathBuf {
        self.version_dir(version).join(MODEL_FILE)
    }

    /// Versions present, ascending. Leftover temporary directories are ignored.
    pub fn version_numbers(&self) -> Result<Vec<u32>, RegistryError> {
        let mut versions = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(io(&self.root))? {
            let entry = entry.map_err(io(&self.root))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with('v') || !entry.path().is_dir() {
                continue;
            }
            if let Some(v) = parse_version(name) {
                versions.push(v);
            }
        }
        versions.sort_unstable();
        Ok(versions)
    }

    /// Every version's record, ascending.
    pub fn versions(&self) -> Result<Vec<VersionRecord>, RegistryError> {
        self.version_numbers()?
            .into_iter()
            .map(|v| self.record(v))
            .collect()
    }

    /// One version's record.
    pub fn record(&self, version: u32) -> Result<VersionRecord, RegistryError> {
        let path = self.version_dir(version).join(VERSION_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RegistryError::UnknownVersion(version))
            }
            Err(e) => return Err(io(&path)(e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::BadMetadata {
            path,
            message: e.to_string(),
        })
    }

    /// The version being served, if any.
    pub fn current(&self) -> Result<Option<u32>, RegistryError> {
        let path = self.root.join(CURRENT_FILE);
        let content = match fs::read_to_string(&path) {
            Ok(content) => content,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let version = parse_version(&content).ok_or_else(|| RegistryError::BadPointer {
            path: path.clone(),
            content: content.clone(),
        })?;
        if !self.version_dir(version).is_dir() {
            return Err(RegistryError::UnknownVersion(version));
        }
        Ok(Some(version))
    }

    /// Loads a version's model.
    pub fn load(&self, version: u32) -> Result<SentimentModel, RegistryError> {
        let path = self.model_path(version);
        if !path.exists() {
            return Err(RegistryError::UnknownVersion(version));
        }
        Ok(load_model(&path)?)
    }

    /// The next free version number.
    pub fn next_version(&self) -> Result<u32, RegistryError> {
        Ok(self.version_numbers()?.last().map_or(1, |v| v + 1))
    }

    /// Deletes what a killed process left behind: `.trash-vN` directories (a prune
    /// renamed the version away but died before deleting it) and `.tmp-vN-PID`
    /// directories whose process is gone (an [`add`](Self::add) died before its
    /// rename). They never count as versions, but each holds a whole model, so after a
    /// few crashes they would fill the disk; and a `.trash-vN` left over would make
    /// the next prune of a reused vN fail. A temporary directory of a live process (a
    /// `sentimentd retrain` running beside the daemon) is left alone. Returns what went.
    pub fn remove_stale_temporaries(&self) -> Result<Vec<PathBuf>, RegistryError> {
        let mut removed = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(io(&self.root))? {
            let entry = entry.map_err(io(&self.root))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = if name.starts_with(".trash-v") {
                true
            } else if let Some(rest) = name.strip_prefix(".tmp-v") {
                rest.rsplit_once('-')
                    .and_then(|(_, pid)| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !process_is_alive(pid))
            } else {
                false
            };
            if stale && entry.path().is_dir() {
                fs::remove_dir_all(entry.path()).map_err(io(&entry.path()))?;
                removed.push(entry.path());
            }
        }
        if !removed.is_empty() {
            sync_dir(&self.root)?;
        }
        Ok(removed)
    }

    /// Adds a version: the artifact and its record appear together, atomically.
    /// `record.version` is the number to use (normally [`Registry::next_version`]).
    pub fn add(&self, model: &SentimentModel, record: &VersionRecord) -> Result<(), RegistryError> {
        let final_dir = self.version_dir(record.version);
        if final_dir.exists() {
            return Err(RegistryError::Io {
                path: final_dir,
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "this version already exists",
                ),
            });
        }
        let temp_dir = self.root.join(format!(
            ".tmp-{}-{}",
            version_name(record.version),
            std::process::id()
        ));
        if temp_dir.exists() {
            fs::remove_dir_all(&temp_dir).map_err(io(&temp_dir))?;
        }
        fs::create_dir_all(&temp_dir).map_err(io(&temp_dir))?;
        let written = save_model(model, &temp_dir.join(MODEL_FILE))
            .map_err(RegistryError::from)
            .and_then(|()| {
                write_synced(
                    &temp_dir.join(VERSION_FILE),
                    &serde_json::to_vec_pretty(record).expect("records serialise"),
                )
            })
            .and_then(|()| sync_dir(&temp_dir))
            .and_then(|()| fs::rename(&temp_dir, &final_dir).map_err(io(&final_dir)));
        if let Err(error) = written {
            // On a full disk the half-written model would otherwise keep the space
            // that the next attempt needs.
            let _ = fs::remove_dir_all(&temp_dir);
            return Err(error);
        }
        sync_dir(&self.root)
    }

    /// Rewrites a version's record (status and decision change after the gate).
    pub fn update_record(&self, record: &VersionRecord) -> Result<(), RegistryError> {
        let dir = self.version_dir(record.version);
        if !dir.is_dir() {
            return Err(RegistryError::UnknownVersion(record.version));
        }
        let path = dir.join(VERSION_FILE);
        let temp = dir.join(format!(".{VERSION_FILE}.tmp"));
        write_synced(
            &temp,
            &serde_json::to_vec_pretty(record).expect("records serialise"),
        )?;
        fs::rename(&temp, &path).map_err(io(&path))?;
        sync_dir(&dir)
    }

    /// Makes `version` current by an operator's decision: a version that the gate did
    /// not promote is marked promoted, with `why` in front of its old decision, before
    /// the pointer moves (so the history says who overrode the gate).
    pub fn make_current(&self, version: u32, why: &str) -> Result<(), RegistryError> {
        let _lock = self.write_lock()?;
        let mut record = self.record(version)?;
        if record.status != VersionStatus::Promoted {
            record.status = VersionStatus::Promoted;
            record.decision = format!("{why} (was: {})", record.decision);
            self.update_record(&record)?;
        }
        self.set_current_locked(version)
    }

    /// Serialises the registry changes that must not interleave, across threads and
    /// processes (the daemon's retrain, an operator's promote, `sentimentd rollback`):
    /// without it a prune could delete the version a concurrent promote had just
    /// checked and pointed `CURRENT` at, and the next start would find `CURRENT`
    /// naming a missing version. Released when the returned file is dropped (or the
    /// process dies). Adding a version needs no lock: it only creates a new name.
    fn write_lock(&self) -> Result<File, RegistryError> {
        let path = self.root.join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        file.lock().map_err(io(&path))?;
        Ok(file)
    }

    /// Deletes the oldest versions so that at most `keep` remain (0 keeps all). The
    /// current version and its parent (the rollback target) are never deleted. A
    /// version is renamed away first, so it disappears atomically. Returns what went.
    pub fn prune(&self, keep: usize) -> Result<Vec<u32>, RegistryError> {
        let versions = self.version_numbers()?;
        if keep == 0 || versions.len() <= keep {
            return Ok(Vec::new());
        }
        let _lock = self.write_lock()?;
        let current = self.current()?;
        let parent = match current {
            Some(v) => self.record(v)?.parent,
            None => None,
        };
        let mut excess = versions.len() - keep;
        let mut removed = Vec::new();
        for version in versions {
            if excess == 0 {
                break;
            }
            if Some(version) == current || Some(version) == parent {
                continue;
            }
            let dir = self.version_dir(version);
            let trash = self.root.join(format!(".trash-{}", version_name(version)));
            fs::rename(&dir, &trash).map_err(io(&dir))?;
            fs::remove_dir_all(&trash).map_err(io(&trash))?;
            removed.push(version);
            excess -= 1;
        }
        sync_dir(&self.root)?;
        Ok(removed)
    }

    /// Moves the current pointer to `version`, atomically.
    pub fn set_current(&self, version: u32) -> Result<(), RegistryError> {
        let _lock = self.write_lock()?;
        self.set_current_locked(version)
    }

    /// [`set_current`](Self::set_current) for a caller that holds the write lock.
    fn set_current_locked(&self, version: u32) -> Result<(), RegistryError> {
        if !self.model_path(version).exists() {
            return Err(RegistryError::UnknownVersion(version));
        }
        let temp = self.root.join(format!(".{CURRENT_FILE}.tmp"));
        write_synced(&temp, format!("{}\n", version_name(version)).as_bytes())?;
        let path = self.root.join(CURRENT_FILE);
        fs::rename(&temp, &path).map_err(io(&path))?;
        sync_dir(&self.root)
    }
}

/// Whether a process with this id exists (Linux `/proc`; elsewhere, assume it does,
/// so nothing that might still be written is deleted).
fn process_is_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let mut file = File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_core::{train, Label, TrainConfig};

    fn tiny_model() -> SentimentModel {
        let texts = ["good fun", "great joy", "bad mess", "awful bore"];
        let labels = [
            Label::Positive,
            Label::Positive,
            Label::Negative,
            Label::Negative,
        ];
        train(&texts, &labels, None, &TrainConfig::default(), &|_| {}).unwrap()
    }

    fn record(version: u32) -> VersionRecord {
        VersionRecord {
            version,
            created_unix_ms: 1,
            status: VersionStatus::Promoted,
            parent: None,
            evaluations: BTreeMap::new(),
            training_rows: BTreeMap::from([("base".into(), 4)]),
            training_data_sha256: "00".into(),
            feedback_ids: vec![],
            decision: "bootstrap".into(),
            notes: BTreeMap::new(),
        }
    }

    #[test]
    fn add_set_current_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path().join("models")).unwrap();
        assert_eq!(registry.current().unwrap(), None);
        assert_eq!(registry.next_version().unwrap(), 1);
        let model = tiny_model();
        registry.add(&model, &record(1)).unwrap();
        registry.set_current(1).unwrap();
        assert_eq!(registry.current().unwrap(), Some(1));
        assert_eq!(registry.next_version().unwrap(), 2);
        let loaded = registry.load(1).unwrap();
        assert_eq!(
            loaded.predict("good fun").label,
            model.predict("good fun").label
        );
        let mut rec = registry.record(1).unwrap();
        assert_eq!(rec, record(1));
        rec.status = VersionStatus::Rejected;
        registry.update_record(&rec).unwrap();
        assert_eq!(
            registry.versions().unwrap()[0].status,
            VersionStatus::Rejected
        );
        assert!(registry.add(&model, &record(1)).is_err());
    }

    #[test]
    fn prune_keeps_the_newest_the_current_and_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        let model = tiny_model();
        for v in 1..=6 {
            let mut r = record(v);
            r.parent = (v > 1).then(|| v - 1);
            registry.add(&model, &r).unwrap();
        }
        registry.set_current(3).unwrap();
        let removed = registry.prune(3).unwrap();
        assert_eq!(removed, vec![1, 4, 5]);
        assert_eq!(registry.version_numbers().unwrap(), vec![2, 3, 6]);
        assert!(registry.prune(0).unwrap().is_empty());
    }

    #[test]
    fn stale_temporaries_go_but_a_live_writer_and_versions_stay() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        registry.add(&tiny_model(), &record(1)).unwrap();
        let dead = dir.path().join(".tmp-v2-4294967295");
        let live = dir.path().join(format!(".tmp-v3-{}", std::process::id()));
        let trash = dir.path().join(".trash-v9");
        for d in [&dead, &live, &trash] {
            fs::create_dir(d).unwrap();
            fs::write(d.join(MODEL_FILE), b"partial").unwrap();
        }
        let mut removed = registry.remove_stale_temporaries().unwrap();
        removed.sort();
        assert_eq!(removed, vec![dead.clone(), trash.clone()]);
        assert!(live.is_dir());
        assert_eq!(registry.version_numbers().unwrap(), vec![1]);
        registry.load(1).unwrap();
    }

    #[test]
    fn pointer_to_missing_version_and_garbage_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        assert!(matches!(
            registry.set_current(3),
            Err(RegistryError::UnknownVersion(3))
        ));
        fs::write(dir.path().join(CURRENT_FILE), "banana").unwrap();
        assert!(matches!(
            registry.current(),
            Err(RegistryError::BadPointer { .. })
        ));
        // Temporary leftovers of a crashed add are not versions.
        fs::create_dir(dir.path().join(".tmp-v1-99")).unwrap();
        assert!(registry.version_numbers().unwrap().is_empty());
    }
}
