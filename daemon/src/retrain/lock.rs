//! One retrain at a time per data directory, across processes: the daemon, its cron
//! and a `sentimentd retrain` in another shell all take the same file lock.

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::path::Path;

/// Held while a retrain runs; released on drop (and by the OS if the process dies).
pub struct RetrainLock {
    _file: File,
}

/// `Ok(None)` when another retrain holds the lock.
pub fn try_lock(data_dir: &Path) -> Result<Option<RetrainLock>> {
    let path = data_dir.join("retrain.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the retrain lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(RetrainLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = super::try_lock(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(super::try_lock(dir.path()).unwrap().is_none());
        drop(first);
        assert!(super::try_lock(dir.path()).unwrap().is_some());
    }
}
