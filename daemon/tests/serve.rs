//! End-to-end tests of `sentimentd serve` through the real binary, for what needs the
//! process: restarts, kill -9, the event stream on the Unix socket, start-up refusals.
//! What each route answers is tested in-process (tests/api).

mod common;

use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};

#[test]
fn a_restart_keeps_feedback_queue_recent_predictions_and_counters() {
    let daemon = Daemon::start(&["--low-confidence-threshold", "0.999"]);
    let s = daemon.socket();
    let p = post_json(&s, "/predict", &json!({"text": "an ordinary film"})).json();
    assert_eq!(
        post_json(
            &s,
            "/predict/batch",
            &json!({"texts": ["superb", "dreadful"]})
        )
        .status,
        200
    );
    for i in 0..5 {
        assert_eq!(
            post_json(
                &s,
                "/feedback",
                &json!({"text": format!("text {i}"), "correct_label": "positive"})
            )
            .status,
            200
        );
    }
    let before = wait_for(|| {
        let m = get(&s, "/metrics").json();
        (m["queue_pending"].as_u64() == Some(3)).then_some(m)
    });
    let mut daemon = daemon;
    daemon.terminate();
    let daemon = daemon.restart();
    let s = daemon.socket();
    let after = get(&s, "/metrics").json();
    for key in [
        "total_predictions",
        "total_feedback",
        "low_confidence_count",
        "queue_pending",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    let recent = get(&s, "/admin/predictions").json();
    assert_eq!(recent[0]["id"], p["prediction_id"]);
    // The prediction id still resolves for feedback after the restart.
    let f = post_json(
        &s,
        "/feedback",
        &json!({"prediction_id": p["prediction_id"], "correct_label": "negative"}),
    );
    assert_eq!(f.status, 200, "{}", f.text());
    assert_eq!(
        get(&s, "/admin/feedback?limit=1000")
            .json()
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn kill_9_loses_no_acknowledged_feedback() {
    let mut daemon = Daemon::start(&[]);
    let t = daemon.tcp();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(i64, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (t, acknowledged, stop) = (t.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let text = format!("worker {w} feedback {n}");
                    n += 1;
                    let body = json!({"text": text, "correct_label": "positive"});
                    match try_request(
                        &t,
                        "POST",
                        "/feedback",
                        &[("Content-Type", "application/json")],
                        body.to_string().as_bytes(),
                    ) {
                        Ok(r) if r.status == 200 => acknowledged
                            .lock()
                            .unwrap()
                            .push((r.json()["id"].as_i64().unwrap(), text)),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    wait_for(|| (acknowledged.lock().unwrap().len() > 500).then_some(()));
    daemon.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let daemon = daemon.restart();
    let out = daemon.data_dir.join("export.csv");
    let export = sentimentd(&[
        "feedback",
        "export",
        "--data-dir",
        daemon.data_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let mut reader = csv_rows(&out);
    let stored: std::collections::HashMap<i64, String> = reader.drain(..).collect();
    for (id, text) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(text),
            "acknowledged feedback {id} is missing after kill -9"
        );
    }
}

fn csv_rows(path: &std::path::Path) -> Vec<(i64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "id");
    assert_eq!(header[2], "text");
    // Texts here have no commas or quotes, so a plain split is exact.
    lines
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[0].parse().unwrap(), cols[2].to_string())
        })
        .collect()
}

#[test]
fn events_stream_predictions_and_feedback_on_the_socket() {
    let daemon = Daemon::start(&[]);
    let mut stream =
        std::os::unix::net::UnixStream::connect(daemon.data_dir.join("run/sentimentd.sock"))
            .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    // Wait for the hello event, so the subscription exists before we predict.
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.starts_with("event: hello") {
            break;
        }
    }
    post_json(&daemon.tcp(), "/predict", &json!({"text": "a delight"}));
    post_json(
        &daemon.tcp(),
        "/feedback",
        &json!({"text": "a delight", "correct_label": "positive"}),
    );
    let mut seen = Vec::new();
    while seen.len() < 2 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if let Some(data) = line.trim().strip_prefix("data: ") {
            match serde_json::from_str::<serde_json::Value>(data) {
                // `hello` (the stream's first event) has a type too now.
                Ok(event) if event.get("type").is_some_and(|t| t != "hello") => seen.push(event),
                _ => {}
            }
        }
    }
    assert_eq!(seen[0]["type"], "prediction");
    assert_eq!(seen[0]["text"], "a delight");
    assert_eq!(seen[1]["type"], "feedback");
}

#[test]
fn first_start_without_base_data_names_the_flag() {
    let dir = short_tempdir();
    let out = std::process::Command::new(bin())
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("SENTIMENT_BASE_DATA")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--base-data"), "{stderr}");
}

#[test]
fn a_second_daemon_on_the_same_data_directory_is_refused() {
    let daemon = Daemon::start(&[]);
    let out = std::process::Command::new(bin())
        .args([
            "serve",
            "--data-dir",
            daemon.data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already serving"));
    // The socket is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(daemon.data_dir.join("run/sentimentd.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(daemon.data_dir.join("run"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}

fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
