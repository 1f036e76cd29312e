//! The test Hub's repositories: plain folders, and a commit sha per repository kept in
//! memory (every commit makes a new one; all of them resolve to the current files).

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoKind {
    Model,
    Dataset,
    Space,
}

impl RepoKind {
    pub fn plural(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
            RepoKind::Space => "spaces",
        }
    }
    pub fn from_plural(s: &str) -> Option<RepoKind> {
        match s {
            "models" => Some(RepoKind::Model),
            "datasets" => Some(RepoKind::Dataset),
            "spaces" => Some(RepoKind::Space),
            _ => None,
        }
    }
    pub fn from_singular(s: &str) -> Option<RepoKind> {
        RepoKind::from_plural(&format!("{s}s"))
    }
}

/// One file of a repository.
pub struct FileEntry {
    pub path: String,
    pub size: u64,
}

pub struct Store {
    root: PathBuf,
    /// (kind, "owner/name") -> commit shas, oldest first.
    commits: Mutex<HashMap<(RepoKind, String), Vec<String>>>,
    /// Serialises commits so that `parentCommit` checks and writes do not interleave.
    pub write_lock: Mutex<()>,
}

impl Store {
    pub fn new(root: PathBuf) -> Store {
        Store {
            root,
            commits: Mutex::new(HashMap::new()),
            write_lock: Mutex::new(()),
        }
    }

    pub fn repo_dir(&self, kind: RepoKind, repo: &str) -> PathBuf {
        self.root.join(kind.plural()).join(repo)
    }

    pub fn exists(&self, kind: RepoKind, repo: &str) -> bool {
        self.repo_dir(kind, repo).is_dir()
    }

    /// The current commit sha (a seeded repository gets one derived from its id).
    pub fn head(&self, kind: RepoKind, repo: &str) -> String {
        let mut commits = self.commits.lock().unwrap();
        commits
            .entry((kind, repo.to_string()))
            .or_insert_with(|| vec![sha40(format!("{}/{repo}", kind.plural()).as_bytes())])
            .last()
            .cloned()
            .unwrap()
    }

    /// Whether `revision` names this repository's branch or one of its commits.
    pub fn knows_revision(&self, kind: RepoKind, repo: &str, revision: &str) -> bool {
        let head = self.head(kind, repo);
        revision == "main"
            || revision == head
            || self.commits.lock().unwrap()[&(kind, repo.to_string())]
                .iter()
                .any(|c| c == revision)
    }

    /// Records a new commit and returns its sha.
    pub fn advance(&self, kind: RepoKind, repo: &str, content: &[u8]) -> String {
        let head = self.head(kind, repo);
        let mut hasher = Sha256::new();
        hasher.update(head.as_bytes());
        hasher.update(content);
        let sha = hex::encode(hasher.finalize())[..40].to_string();
        self.commits
            .lock()
            .unwrap()
            .get_mut(&(kind, repo.to_string()))
            .unwrap()
            .push(sha.clone());
        sha
    }

    /// Every file of the repository (recursively), sorted by path.
    pub fn files(&self, kind: RepoKind, repo: &str) -> io::Result<Vec<FileEntry>> {
        let dir = self.repo_dir(kind, repo);
        let mut out = Vec::new();
        walk(&dir, &dir, &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push(FileEntry {
                path: rel,
                size: entry.metadata()?.len(),
            });
        }
    }
    Ok(())
}

/// A 40-hex-digit id, the shape of a git commit sha (hf-hub's cache checks for it).
pub fn sha40(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))[..40].to_string()
}

/// The ETag of a file's content: its SHA-256, as the Hub gives LFS files.
pub fn etag(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Copies a tree, leaving the copies writable (the shared data is read-only, and
/// commits must be able to replace seeded files).
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::write(&target, std::fs::read(entry.path())?)?;
        }
    }
    Ok(())
}
