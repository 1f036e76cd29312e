use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn can_create_in(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    let ok = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// A directory this process cannot write to: a chmod 0555 directory, or, when running
/// as root (which ignores permissions), `/sys`, which refuses new files even to root.
fn unwritable_dir(base: &TempDir) -> Option<PathBuf> {
    let dir = base.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if !can_create_in(&dir) {
        return Some(dir);
    }
    let sys = PathBuf::from("/sys");
    if sys.is_dir() && !can_create_in(&sys) {
        return Some(sys);
    }
    None
}

#[test]
fn a_read_only_directory_gives_a_clear_error() {
    let base = tempfile::tempdir().unwrap();
    let Some(dir) = unwritable_dir(&base) else {
        eprintln!("skipped: no unwritable directory available to this user");
        return;
    };
    for path in [dir.join(DB_FILE_NAME), dir.join("sub").join(DB_FILE_NAME)] {
        let err = Store::open(&path, StoreOptions::default()).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, StoreError::ReadOnly { .. }),
            "{path:?}: {err:?}"
        );
        assert!(message.contains("read-only"), "{message}");
        assert!(message.contains(&dir.display().to_string()), "{message}");
    }
    let _ = std::fs::set_permissions(
        base.path().join("ro"),
        std::fs::Permissions::from_mode(0o755),
    );
}

#[test]
fn a_read_only_database_file_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    drop(Store::open(&path, StoreOptions::default()).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        eprintln!("skipped: this user (root) can write read-only files");
        return;
    }
    let err = Store::open(&path, StoreOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
}

fn page_count(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_disk_is_reported_to_the_caller_and_later_writes_succeed() {
    let (dir, store) = temp_store();
    store
        .submit_feedback_wait(new_feedback("small", Label::Positive))
        .unwrap();
    // SQLite's page limit makes the database behave exactly as on a full disk
    // (SQLITE_FULL) without needing a small file system.
    let pages = page_count(&dir.path().join(DB_FILE_NAME));
    store
        .exec_on_writer(&format!("PRAGMA max_page_count = {pages}"))
        .unwrap();
    let big = "x".repeat(256 * 1024);
    let err = store
        .submit_feedback_wait(new_feedback(&big, Label::Positive))
        .unwrap_err();
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err:?}");
    assert!(err.to_string().contains("full"), "{err}");

    store
        .exec_on_writer("PRAGMA max_page_count = 1073741823")
        .unwrap();
    let record = store
        .submit_feedback_wait(new_feedback(&big, Label::Positive))
        .unwrap();
    assert_eq!(record.text.len(), big.len());
    store.check_writable().unwrap();
    assert_eq!(store.counters().unwrap().total_feedback, 2);
}

#[test]
fn writes_refused_by_the_database_reach_every_caller_and_readiness() {
    let (_dir, store) = temp_store();
    // `query_only` makes every write fail with SQLITE_READONLY, like a file system
    // remounted read-only under the daemon.
    store.exec_on_writer("PRAGMA query_only = ON").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for n in 0..50 {
        let tx = tx.clone();
        store.submit_feedback(new_feedback(&format!("f{n}"), Label::Positive), move |r| {
            tx.send(r).unwrap();
        });
        store.record_prediction(prediction(n, false));
    }
    drop(tx);
    for result in rx {
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    }
    let err = store.check_writable().unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");

    store.exec_on_writer("PRAGMA query_only = OFF").unwrap();
    store.check_writable().unwrap();
    store
        .submit_feedback_wait(new_feedback("after", Label::Positive))
        .unwrap();
    let counters = store.counters().unwrap();
    assert_eq!(counters.total_feedback, 1);
    assert_eq!(counters.total_predictions, 0);
}
