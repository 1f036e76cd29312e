//! A full disk and a read-only data directory, for real: the data directory is a small
//! tmpfs mounted for the test (the tests run as root, and root ignores file modes, so
//! chmod could not make anything read-only). A full disk is a filler file that takes
//! the last byte; a read-only directory is a read-only bind mount or remount.
//!
//! Expected: writes fail with a clear error naming the cause (507 `disk_full`, 503
//! `read_only`), `/health` says not ready, predictions go on being served, and once
//! space returns the daemon recovers by itself with nothing corrupted (SQLite
//! `integrity_check` ok, the registry consistent, every acknowledged feedback stored
//! once).
//!
//! Where mounting is impossible (not root, no CAP_SYS_ADMIN), the tests fail with a
//! message saying so, unless `SENTIMENT_SKIP_MOUNT_TESTS=1` is set, in which case they
//! print that they did not run. They never pass silently.

mod common;

use common::*;
use sentiment_data::registry::Registry;
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted at a fresh directory; unmounted (lazily) when dropped.
struct Mount {
    dir: PathBuf,
    binds: Vec<PathBuf>,
}

impl Mount {
    /// `None` (after saying why, or failing, see the module comment) if mounting is
    /// not possible here.
    fn tmpfs(size: &str) -> Option<Mount> {
        let dir = short_tempdir();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Mount {
                dir,
                binds: Vec::new(),
            }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                    Err(e) => e.to_string(),
                };
                let _ = std::fs::remove_dir(&dir);
                let message = format!(
                    "NOT TESTED: cannot mount a tmpfs for the data directory ({why}); these tests need root with CAP_SYS_ADMIN"
                );
                if std::env::var_os("SENTIMENT_SKIP_MOUNT_TESTS").is_some() {
                    eprintln!("{message} (SENTIMENT_SKIP_MOUNT_TESTS is set)");
                    None
                } else {
                    panic!("{message}; set SENTIMENT_SKIP_MOUNT_TESTS=1 to skip them knowingly");
                }
            }
        }
    }

    /// Makes `path` (inside the mount) read-only for new opens: a read-only bind mount
    /// of itself. Files already open for writing stay writable, as on Linux generally.
    fn bind_read_only(&mut self, path: &Path) {
        run(
            "mount",
            &["--bind", path.to_str().unwrap(), path.to_str().unwrap()],
        );
        self.binds.push(path.to_path_buf());
        run("mount", &["-o", "remount,bind,ro", path.to_str().unwrap()]);
    }

    fn unbind(&mut self, path: &Path) {
        run("umount", &[path.to_str().unwrap()]);
        self.binds.retain(|p| p != path);
    }

    /// `mount -o remount,<mode>` of the whole file system; the error text if refused.
    fn remount(&self, mode: &str) -> Result<(), String> {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.dir)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        for bind in self.binds.drain(..).rev() {
            let _ = Command::new("umount").arg("-l").arg(&bind).status();
        }
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a file until the file system refuses (ENOSPC), then returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = file.write_all(&chunk) {
            assert_eq!(e.raw_os_error(), Some(28), "expected ENOSPC, got {e}");
            break;
        }
    }
    // Byte by byte for the last partial chunk, so not even one page is left.
    while file.write_all(&[0]).is_ok() {}
    path
}

fn feedback(target: &Target, text: &str) -> Response {
    post_json(
        target,
        "/feedback",
        &json!({"text": text, "correct_label": "positive"}),
    )
}

fn predict_ok(target: &Target, context: &str) {
    let r = post_json(target, "/predict", &json!({"text": "a fine, warm film"}));
    assert_eq!(r.status, 200, "{context}: predict: {}", r.text());
    let r = post_json(
        target,
        "/predict/batch",
        &json!({"texts": ["great", "awful"]}),
    );
    assert_eq!(r.status, 200, "{context}: batch: {}", r.text());
}

/// After the trouble: the database is intact, every acknowledged feedback is there
/// exactly once, and the registry is consistent on disk.
fn check_no_corruption(data_dir: &Path, acked: &HashMap<i64, String>) {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("sentiment.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    for (id, text) in acked {
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM feedback WHERE id = ?1 AND text = ?2",
                rusqlite::params![id, text],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(count, 1, "acknowledged feedback {id} ({text:?})");
    }
    let registry = Registry::open(data_dir.join("models")).unwrap();
    let current = registry.current().unwrap().expect("a current version");
    for version in registry.version_numbers().unwrap() {
        registry.record(version).unwrap();
        registry.load(version).unwrap();
    }
    assert!(registry.version_numbers().unwrap().contains(&current));
    let leftovers: Vec<_> = std::fs::read_dir(registry.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-v"))
        .collect();
    assert!(leftovers.is_empty(), "half-written versions: {leftovers:?}");
}

#[test]
fn a_full_disk_refuses_writes_clearly_keeps_serving_and_recovers_without_corruption() {
    let Some(mount) = Mount::tmpfs("48m") else {
        return;
    };
    let unbounded = config_file(ANONYMOUS_FEEDBACK_UNBOUNDED);
    let mut daemon = Daemon::start_with_model_in(
        mount.dir.clone(),
        &[
            "--retrain-schedule",
            "off",
            "--config",
            unbounded.to_str().unwrap(),
        ],
    );
    let (tcp, socket) = (daemon.tcp(), daemon.socket());
    let mut acked = HashMap::new();
    for n in 0..20 {
        let text = format!("before the disk filled up {n} was flurbish");
        let r = feedback(&tcp, &text);
        assert_eq!(r.status, 200, "{}", r.text());
        acked.insert(r.json()["id"].as_i64().unwrap(), text);
    }

    let filler = fill(&mount.dir);
    // SQLite may still have room in pages it already owns, so some writes can succeed;
    // every one that is acknowledged must survive. Soon one must be refused.
    let mut refusal = None;
    for n in 0..5_000 {
        let text = format!("while the disk is full {n}");
        let r = feedback(&tcp, &text);
        match r.status {
            200 => {
                acked.insert(r.json()["id"].as_i64().unwrap(), text);
            }
            _ => {
                refusal = Some(r);
                break;
            }
        }
    }
    let refusal = refusal.expect("no feedback was refused on a full disk");
    assert_eq!(refusal.status, 507, "{}", refusal.text());
    assert_eq!(refusal.code(), "disk_full");
    assert!(refusal.header("retry-after").is_some());
    let message = refusal.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("full") && message.contains("free some space"),
        "{message}"
    );
    eprintln!("feedback on a full disk: 507 {message}");

    // Not ready for writes, but alive and serving.
    let health = get(&tcp, "/health");
    assert_eq!(health.status, 503, "{}", health.text());
    assert_eq!(health.json()["store_writable"], false);
    assert_eq!(health.json()["live"], true);
    assert!(
        health.json()["problems"][0]
            .as_str()
            .unwrap()
            .contains("full"),
        "{}",
        health.text()
    );
    predict_ok(&tcp, "full disk");

    // A retrain cannot write its version: it fails, names the cause, and leaves no
    // half-written version behind; the served model does not change.
    let serving = get(&tcp, "/model_info").json()["version"].clone();
    let r = request(&socket, "POST", "/admin/retrain?wait=true", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["outcome"], "failed", "{report}");
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{report}"
    );
    assert_eq!(get(&tcp, "/model_info").json()["version"], serving);
    predict_ok(&tcp, "after the failed retrain");

    // Space returns: the daemon recovers by itself, no restart.
    std::fs::remove_file(&filler).unwrap();
    let health = get(&tcp, "/health");
    assert_eq!(health.status, 200, "{}", health.text());
    let r = feedback(&tcp, "after space returned was flurbish");
    assert_eq!(r.status, 200, "{}", r.text());
    acked.insert(
        r.json()["id"].as_i64().unwrap(),
        "after space returned was flurbish".into(),
    );
    let r = request(&socket, "POST", "/admin/retrain?wait=true", &[], b"");
    let report = r.json();
    assert!(
        report["outcome"] == "promoted" || report["outcome"] == "rejected",
        "the retrain after recovery: {report}"
    );
    eprintln!(
        "full disk: {} acknowledged feedback kept, retrain after recovery {}",
        acked.len(),
        report["outcome"]
    );

    let data_dir = daemon.data_dir.clone();
    daemon.terminate();
    check_no_corruption(&data_dir, &acked);
    // The directory is the mount: leave deleting it to the Mount.
    daemon.data_dir = PathBuf::new();
}

#[test]
fn a_read_only_data_directory_refuses_writes_clearly_and_nothing_is_corrupted() {
    let Some(mut mount) = Mount::tmpfs("48m") else {
        return;
    };
    let unbounded = config_file(ANONYMOUS_FEEDBACK_UNBOUNDED);
    let mut daemon = Daemon::start_with_model_in(
        mount.dir.clone(),
        &[
            "--retrain-schedule",
            "off",
            "--config",
            unbounded.to_str().unwrap(),
        ],
    );
    let (tcp, socket) = (daemon.tcp(), daemon.socket());
    let mut acked = HashMap::new();
    let r = feedback(&tcp, "before read-only was flurbish");
    assert_eq!(r.status, 200, "{}", r.text());
    acked.insert(
        r.json()["id"].as_i64().unwrap(),
        "before read-only was flurbish".to_string(),
    );

    // 1. The whole file system read-only under the running daemon. Linux refuses this
    //    (EBUSY) while a process holds a file open for writing, which the daemon always
    //    does (its database); say so rather than pretend it was tested.
    match mount.remount("ro") {
        Ok(()) => panic!("remounting read-only under the running daemon unexpectedly worked: extend this test to check the store's read_only refusals"),
        Err(why) => eprintln!(
            "NOT TESTABLE HERE: the data directory cannot be remounted read-only under the running daemon ({why}); \
             the store's read-only handling while running is covered by data/src/store/tests/failure.rs (PRAGMA query_only)"
        ),
    }

    // 2. The registry directory read-only while running: promote, rollback and
    //    retrain are refused with the cause named; feedback and predictions go on.
    let models = mount.dir.join("models");
    let r = request(&socket, "POST", "/admin/retrain?wait=true", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let versions_before = Registry::open(&models).unwrap().version_numbers().unwrap();
    mount.bind_read_only(&models);
    for (route, body) in [
        ("/admin/promote", json!({"version": "v1"})),
        ("/admin/rollback", json!({"version": "v1"})),
    ] {
        let r = post_json(&socket, route, &body);
        assert_eq!(r.status, 503, "{route}: {}", r.text());
        assert_eq!(r.code(), "read_only", "{route}: {}", r.text());
        assert!(r.text().contains("Read-only file system"), "{}", r.text());
    }
    let r = feedback(&tcp, "while the registry is read-only was gronkle");
    assert_eq!(r.status, 200, "{}", r.text());
    acked.insert(
        r.json()["id"].as_i64().unwrap(),
        "while the registry is read-only was gronkle".into(),
    );
    let r = request(&socket, "POST", "/admin/retrain?wait=true", &[], b"");
    let report = r.json();
    assert_eq!(report["outcome"], "failed", "{report}");
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "{report}"
    );
    predict_ok(&tcp, "read-only registry");
    assert_eq!(get(&tcp, "/health").status, 200);
    mount.unbind(&models);
    assert_eq!(
        Registry::open(&models).unwrap().version_numbers().unwrap(),
        versions_before,
        "the registry changed while read-only"
    );

    // 3. The whole data directory read-only at start: the daemon refuses to start and
    //    says why (it could neither store feedback nor create its socket), and nothing
    //    on disk changes.
    let data_dir = daemon.data_dir.clone();
    daemon.terminate();
    daemon.data_dir = PathBuf::new();
    mount
        .remount("ro")
        .expect("remount read-only with the daemon stopped");
    let out = hermetic(Command::new(bin()))
        .args(["serve", "--data-dir", data_dir.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--retrain-schedule", "off"])
        .env("HOME", &data_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started on a read-only directory:\n{stderr}"
    );
    assert!(stderr.contains("read-only"), "{stderr}");
    assert!(stderr.contains(data_dir.to_str().unwrap()), "{stderr}");
    eprintln!(
        "start on a read-only data directory: refused: {}",
        stderr.lines().last().unwrap_or("")
    );
    mount.remount("rw").unwrap();
    check_no_corruption(&data_dir, &acked);
}
