//! End-to-end tests of the self-learning loop through the real binary: retrain on
//! feedback, the gate, hot swap under load, rollback from another process, the cron
//! trigger and alerts.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn learnable_feedback_is_promoted_and_served_and_nothing_new_is_skipped() {
    let daemon = Daemon::start(&[]);
    let s = daemon.socket();
    send_learnable_feedback(&s, 300);
    let report = retrain_and_wait(&s);
    assert_eq!(report["outcome"], "promoted", "{report}");
    assert_eq!(report["version"], "v2");
    // On the new feedback, cross-fitted: each row scored by a model trained without it.
    let fresh = &report["comparison"]["evidence"]["fresh_feedback"];
    let items = fresh["items"].as_f64().unwrap();
    let (cur, cand) = (
        fresh["current_correct"].as_f64().unwrap() / items,
        fresh["candidate_correct"].as_f64().unwrap() / items,
    );
    assert!(
        cand > cur + 0.2,
        "cross-fitted new feedback {cur} -> {cand}"
    );
    // Served at once, everywhere.
    assert_eq!(get(&daemon.tcp(), "/model_info").json()["version"], "v2");
    let p = post_json(&daemon.tcp(), "/predict", &json!({"text": "so flurbish"})).json();
    assert_eq!(p["model_version"], "v2");
    assert_eq!(p["label"], "positive");
    let models = get(&s, "/admin/models").json();
    assert_eq!(models[1]["version"], "v2");
    assert_eq!(models[1]["current"], true);
    assert_eq!(models[1]["parent"], "v1");
    assert!(models[1]["decision"]
        .as_str()
        .unwrap()
        .starts_with("promoted"));
    // v2 records where the base data is, as v1 did: a restart still finds it once v1
    // has been pruned.
    let note = |version: &str| {
        let path = daemon
            .data_dir
            .join("models")
            .join(version)
            .join("version.json");
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        record["notes"]["base_data"].as_str().map(str::to_string)
    };
    assert!(note("v1").is_some());
    assert_eq!(note("v2"), note("v1"));

    // No new feedback: nothing to do, no new version.
    let again = retrain_and_wait(&s);
    assert_eq!(again["outcome"], "nothing_new", "{again}");
    assert_eq!(get(&s, "/admin/models").json().as_array().unwrap().len(), 2);
    let status = get(&s, "/admin/retrain").json();
    assert_eq!(status["running"], false);
    assert_eq!(status["last"]["outcome"], "nothing_new");
}

#[test]
fn a_poisoned_candidate_is_rejected_and_promoting_it_by_hand_raises_an_alert() {
    let daemon = Daemon::start(&[]);
    let s = daemon.socket();
    send_poison(&s, 2_000);
    let report = retrain_and_wait(&s);
    assert_eq!(report["outcome"], "rejected", "{report}");
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("is below the floor"),
        "{report}"
    );
    assert_eq!(get(&s, "/model_info").json()["version"], "v1");
    let models = get(&s, "/admin/models").json();
    assert_eq!(models[1]["status"], "rejected");

    // An operator overrides the gate: the accuracy rule fires.
    let promoted = post_json(&s, "/admin/promote", &json!({"version": "v2"}));
    assert_eq!(promoted.status, 200, "{}", promoted.text());
    assert_eq!(promoted.json()["previous"], "v1");
    let alerts = get(&s, "/admin/alerts").json();
    let alert = &alerts.as_array().unwrap()[0];
    assert_eq!(alert["rule"], "accuracy_drop");
    assert!(alert["message"]
        .as_str()
        .unwrap()
        .contains("below the best earlier version v1"));
    let id = alert["id"].as_u64().unwrap();
    assert_eq!(
        post_json(&s, &format!("/admin/alerts/{id}/ack"), &json!({})).json()["acknowledged"],
        true
    );
    assert_eq!(
        post_json(&s, "/admin/alerts/99/ack", &json!({})).status,
        404
    );

    // And rolls back: the parent of v2 is v1.
    let back = post_json(&s, "/admin/rollback", &json!({}));
    assert_eq!(back.status, 200, "{}", back.text());
    assert_eq!(back.json()["version"], "v1");
    assert_eq!(get(&s, "/model_info").json()["version"], "v1");
    assert_eq!(
        post_json(&s, "/admin/promote", &json!({"version": "v9"})).status,
        404
    );
    assert_eq!(
        post_json(&s, "/admin/promote", &json!({"version": "banana"})).status,
        400
    );
}

#[test]
fn only_one_retrain_runs_at_a_time() {
    let daemon = Daemon::start(&[]);
    let s = daemon.socket();
    send_learnable_feedback(&s, 50);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || post_json(&s, "/admin/retrain", &json!({})))
        })
        .collect();
    let mut statuses: Vec<u16> = handles
        .into_iter()
        .map(|h| h.join().unwrap().status)
        .collect();
    statuses.sort();
    assert_eq!(statuses, vec![202, 409]);
    wait_until(|| get(&s, "/admin/retrain").json()["running"] == false);
}

#[test]
fn hot_swaps_under_load_drop_no_request_and_follow_the_cli() {
    let daemon = Daemon::start(&[]);
    let s = daemon.socket();
    send_learnable_feedback(&s, 200);
    assert_eq!(retrain_and_wait(&s)["outcome"], "promoted");

    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (t, stop) = (daemon.tcp(), stop.clone());
            std::thread::spawn(move || {
                let (mut ok, mut failed, mut versions) = (0, 0, std::collections::HashSet::new());
                while !stop.load(Ordering::Relaxed) {
                    let r = post_json(&t, "/predict", &json!({"text": "a film"}));
                    if r.status == 200 {
                        ok += 1;
                        versions.insert(r.json()["model_version"].as_str().unwrap().to_string());
                    } else {
                        failed += 1;
                    }
                }
                (ok, failed, versions)
            })
        })
        .collect();
    for i in 0..10 {
        let target = if i % 2 == 0 { "v1" } else { "v2" };
        let r = post_json(&s, "/admin/promote", &json!({"version": target}));
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let mut versions = std::collections::HashSet::new();
    for h in load {
        let (ok, failed, seen) = h.join().unwrap();
        assert_eq!(failed, 0);
        assert!(ok > 0);
        versions.extend(seen);
    }
    assert!(
        versions.contains("v1") && versions.contains("v2"),
        "{versions:?}"
    );

    // Another process moves the pointer: the daemon follows within seconds.
    assert_eq!(get(&s, "/model_info").json()["version"], "v2");
    let dir = daemon.data_dir.to_str().unwrap();
    let out = sentimentd(&["rollback", "--data-dir", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until(|| get(&s, "/model_info").json()["version"] == "v1");
    let listed = String::from_utf8(sentimentd(&["models", "--data-dir", dir]).stdout).unwrap();
    assert!(
        listed.contains("v1") && listed.contains("(current)"),
        "{listed}"
    );
}

#[test]
fn the_cli_retrain_exit_codes() {
    let daemon = Daemon::start(&[]);
    let dir = daemon.data_dir.to_str().unwrap().to_string();
    // Nothing accepted yet: not promoted (3).
    let out = sentimentd(&["retrain", "--data-dir", &dir]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    send_learnable_feedback(&daemon.socket(), 200);
    let out = sentimentd(&["retrain", "--data-dir", &dir, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["outcome"], "promoted");
    // The daemon picks up the CLI's promotion.
    wait_until(|| get(&daemon.socket(), "/model_info").json()["version"] == "v2");
}

#[test]
fn the_cron_schedule_triggers_a_retrain() {
    let daemon = Daemon::start(&["--retrain-schedule", "*/2 * * * * *"]);
    let s = daemon.socket();
    send_learnable_feedback(&s, 100);
    wait_until(|| get(&s, "/admin/retrain").json()["last"]["trigger"] == "cron");
    assert_eq!(
        get(&s, "/admin/retrain").json()["schedule"],
        "*/2 * * * * *"
    );
    // A bad schedule is refused at start with a message that shows the format.
    let out = std::process::Command::new(bin())
        .args([
            "serve",
            "--data-dir",
            "/tmp/nonexistent-sd",
            "--retrain-schedule",
            "weekly",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("seconds first"));
}

fn wait_until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting");
        std::thread::sleep(Duration::from_millis(50));
    }
}
