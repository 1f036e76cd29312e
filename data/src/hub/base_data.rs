//! The base training data from a Hub dataset repository (SST-2 by default).

use super::client::HubClient;
use super::error::HubError;
use std::path::{Path, PathBuf};

/// The Parquet files the base dataset needs: the Hub's dataset layout puts splits in
/// `data/{split}-NNNNN-of-NNNNN.parquet`. The test split is left out on purpose: in
/// SST-2 (as in GLUE generally) its labels are hidden (-1), so it cannot score a model.
pub const BASE_DATA_PATTERNS: [&str; 2] = ["data/train-*.parquet", "data/validation-*.parquet"];

/// A base dataset in the local Hub cache.
#[derive(Debug, Clone)]
pub struct BaseDataset {
    /// Repository id, e.g. `stanfordnlp/sst2`.
    pub repo: String,
    /// The commit the files come from.
    pub commit: String,
    /// The snapshot folder (`data/train-*.parquet`...): what `locate_splits` reads.
    pub dir: PathBuf,
    /// The Parquet files in it, relative to `dir`.
    pub files: Vec<String>,
    /// True when the Hub was unreachable and an earlier download was used instead.
    pub offline: bool,
}

impl HubClient {
    /// Downloads the configured base dataset's train and validation Parquet files into
    /// the cache (files already cached at the same commit are not fetched again) and
    /// returns the snapshot folder. When the Hub cannot be reached but an earlier
    /// download is cached, that one is used.
    pub fn fetch_base_dataset(&self) -> Result<BaseDataset, HubError> {
        let repo = self.config().base_dataset.clone();
        let patterns: Vec<String> = BASE_DATA_PATTERNS.iter().map(|p| p.to_string()).collect();
        let download = |local_files_only: bool| {
            self.dataset(&repo)
                .snapshot_download()
                .allow_patterns(patterns.clone())
                .local_files_only(local_files_only)
                .send()
        };
        let context = self.context(&repo, "dataset", "read");
        let (dir, offline) = match download(false).map_err(|e| context.map(e)) {
            Ok(dir) => (dir, false),
            Err(error @ HubError::Unreachable { .. }) => match download(true) {
                Ok(dir) => {
                    tracing::warn!(%error, dir = %dir.display(), "using the cached copy of the base dataset");
                    (dir, true)
                }
                Err(_) => return Err(error),
            },
            Err(error) => return Err(error),
        };
        let files = parquet_files(&dir)?;
        if !files.iter().any(|f| f.starts_with("data/train-")) {
            return Err(HubError::MissingFiles {
                repo,
                patterns,
                hint: "the base dataset needs at least a train split in the Hub's Parquet layout \
                       (data/train-*.parquet); set hub.base_dataset to such a repository"
                    .into(),
            });
        }
        let commit = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(BaseDataset {
            repo,
            commit,
            dir,
            files,
            offline,
        })
    }
}

/// The `data/*.parquet` files of a snapshot folder, sorted.
fn parquet_files(dir: &Path) -> Result<Vec<String>, HubError> {
    let data = dir.join("data");
    let entries = match std::fs::read_dir(&data) {
        Ok(entries) => entries,
        // A snapshot with no matching file has no data/ folder at all.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(HubError::Io { path: data, source }),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| HubError::Io {
            path: data.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".parquet") {
            files.push(format!("data/{name}"));
        }
    }
    files.sort();
    Ok(files)
}
