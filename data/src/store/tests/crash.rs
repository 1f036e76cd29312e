//! `kill -9` right after an acknowledgement loses nothing.
//!
//! The test re-runs its own test binary as a child process that writes feedback from
//! several threads and prints `ACK <id>` from each `done` callback; the parent kills it
//! with SIGKILL in the middle of the stream and checks that every id it saw is stored.

use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "SENTIMENT_STORE_CRASH_CHILD_DIR";
const TEST_NAME: &str = "store::tests::crash::acknowledged_feedback_survives_kill_9";

#[test]
fn acknowledged_feedback_survives_kill_9() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        return child(std::path::Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.parse::<i64>().unwrap());
            if acked.len() == 3_000 {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(acked.len(), 3_000, "the child stopped early");

    let store = open_in(&dir, StoreOptions::default());
    for id in acked {
        assert!(
            store.feedback_by_id(id).unwrap().is_some(),
            "acknowledged feedback {id} was lost"
        );
    }
}

/// Writes until killed.
fn child(dir: &std::path::Path) {
    let store = Store::open(&dir.join(DB_FILE_NAME), StoreOptions::default()).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let store = store.clone();
            scope.spawn(move || {
                for n in 0.. {
                    let (tx, rx) = std::sync::mpsc::channel();
                    for k in 0..16 {
                        let tx = tx.clone();
                        let text = format!("crash {t} {n} {k}");
                        store.submit_feedback(new_feedback(&text, Label::Positive), move |r| {
                            // Printed from the callback, i.e. after COMMIT.
                            println!("ACK {}", r.unwrap().id);
                            let _ = tx.send(());
                        });
                    }
                    drop(tx);
                    rx.iter().for_each(drop);
                }
            });
        }
    });
}
