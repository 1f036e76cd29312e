//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// The shared data directory (`SENTIMENT_SHARED_DATA`, or `../shared/data` next to the
/// workspace). It is read in place and never copied into the repository.
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("SENTIMENT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    assert!(
        dir.join("sst2").is_dir(),
        "shared data not found at {}; set SENTIMENT_SHARED_DATA to the shared/data directory",
        dir.display()
    );
    dir
}

/// A file of the shared data directory, or None where the directory is the partial
/// copy `sentimentd data fetch --shared-dir` makes (on GitHub: SST-2 from the Hub, no
/// `domains/`); the caller then skips, and this says why. Against the full shared
/// directory a missing file is a failure, so nothing skips there.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let dir = shared_data();
    let path = dir.join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        dir.join("PARTIAL").exists(),
        "{} is missing from the shared data directory",
        path.display()
    );
    eprintln!(
        "skipped: {relative} is not in this partial copy of the shared data ({}: only \
         SST-2 fetched from the Hub); the full ../shared/data has it",
        dir.display()
    );
    None
}
