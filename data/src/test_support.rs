//! Helpers shared by the unit tests.

use std::path::PathBuf;

/// The shared data directory (`SENTIMENT_SHARED_DATA`, or `../shared/data` next to the
/// workspace). It is read in place and never copied into the repository.
pub(crate) fn shared_data() -> PathBuf {
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
