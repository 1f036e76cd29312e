//! Learning from users, end to end through the real binary: a correction served
//! within a minute with no operator action, a one-key deployment that learns, floods
//! that change nothing, anonymous contradictions held, and the audit sample behind live
//! accuracy. (Unknown text flagged and queued: in-process, tests/api.)

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The daemon's defaults for learning (the harness turns them off for other tests).
const DEFAULT_LEARNING: &[(&str, &str)] = &[("SENTIMENT_DEFAULT_LEARNING", "1")];

fn predict(target: &Target, text: &str, key: Option<&str>) -> Value {
    let body = json!({ "text": text });
    let response = match key {
        Some(key) => post_json_with_key(target, "/predict", key, &body),
        None => post_json(target, "/predict", &body),
    };
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

fn flipped(label: &str) -> &'static str {
    if label == "positive" {
        "negative"
    } else {
        "positive"
    }
}

/// Waits until `text` is predicted `label` by a version other than `old`.
fn wait_until_served(
    target: &Target,
    text: &str,
    label: &str,
    old: &str,
    key: Option<&str>,
) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let p = predict(target, text, key);
        if p["label"] == label && p["model_version"] != old {
            return (p, started.elapsed());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not served within 60 s: {p}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_single_trusted_correction_is_served_within_a_minute_with_no_operator_action() {
    let daemon = Daemon::start_env(&[], DEFAULT_LEARNING);
    let text = "not bad at all";
    let before = predict(&daemon.tcp(), text, None);
    let wanted = flipped(before["label"].as_str().unwrap());
    let acknowledged = Instant::now();
    let response = post_json(
        &daemon.socket(),
        "/feedback",
        &json!({ "prediction_id": before["prediction_id"], "correct_label": wanted }),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], "accepted");
    assert!(body["retrain_due_unix_ms"].as_i64().is_some(), "{body}");
    assert!(
        body["learning"].as_str().unwrap().contains("due in about"),
        "{body}"
    );
    let (after, _) = wait_until_served(&daemon.tcp(), text, wanted, "v1", None);
    let seconds = acknowledged.elapsed().as_secs_f64();
    eprintln!(
        "served by {} {seconds:.1} s after the acknowledgement",
        after["model_version"]
    );
    let models = get(&daemon.socket(), "/admin/models").json();
    let v2 = &models[1];
    assert_eq!(v2["status"], "promoted", "{v2}");
    assert!(
        v2["decision"]
            .as_str()
            .unwrap()
            .contains("the feedback it was trained on"),
        "{v2}"
    );
}

#[test]
fn a_one_key_deployment_learns_and_a_flood_of_contradictions_from_it_changes_nothing() {
    let dir = short_tempdir();
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("keys.toml");
    let key = add_key(&keys, "only", "unlimited", "user");
    let daemon = Daemon::start_env(
        &["--auth", "on", "--keys-file", keys.to_str().unwrap()],
        DEFAULT_LEARNING,
    );
    let tcp = daemon.tcp();
    // A borderline prediction the user corrects: accepted (not held) and learned.
    let candidates = [
        "not bad at all",
        "it 's not a bad film",
        "a movie about nothing much",
        "the plot is thin but the acting is fine",
        "well , it is a movie",
    ];
    let (text, before) = candidates
        .iter()
        .map(|t| (*t, predict(&tcp, t, Some(&key))))
        .find(|(_, p)| p["confidence"].as_f64().unwrap() < 0.8)
        .expect("a borderline text among the candidates");
    let wanted = flipped(before["label"].as_str().unwrap());
    let response = post_json_with_key(
        &tcp,
        "/feedback",
        &key,
        &json!({ "prediction_id": before["prediction_id"], "correct_label": wanted }),
    );
    assert_eq!(response.json()["status"], "accepted", "{}", response.text());
    let (after, _) = wait_until_served(&tcp, text, wanted, "v1", Some(&key));
    let version = after["model_version"].as_str().unwrap().to_string();

    // A flood of corrections contradicting confident predictions: every one held
    // for review, nothing retrained, the same version served.
    let validation = std::fs::read_to_string(shared_data().join("sst2/validation.tsv")).unwrap();
    let mut held = 0;
    for line in validation.lines().skip(1).take(150) {
        let text = line.split('\t').next().unwrap();
        let p = predict(&tcp, text, Some(&key));
        if p["confidence"].as_f64().unwrap() < 0.8 {
            continue;
        }
        let r = post_json_with_key(
            &tcp,
            "/feedback",
            &key,
            &json!({ "prediction_id": p["prediction_id"], "correct_label": flipped(p["label"].as_str().unwrap()) }),
        );
        assert_eq!(r.json()["status"], "held", "{}", r.text());
        held += 1;
    }
    assert!(held >= 50, "{held}");
    std::thread::sleep(Duration::from_secs(8));
    let now = predict(&tcp, text, Some(&key));
    assert_eq!(now["model_version"], version.as_str());
    let metrics = get(&daemon.socket(), "/metrics").json();
    assert_eq!(metrics["feedback_held"], held);
    assert_eq!(metrics["feedback_waiting"], 0);
}

#[test]
fn anonymous_contradictions_are_held_per_address_and_counted() {
    let daemon = Daemon::start_env(&[], DEFAULT_LEARNING);
    let tcp = daemon.tcp();
    let p = predict(&tcp, "a masterpiece , brilliant and moving", None);
    assert!(p["confidence"].as_f64().unwrap() >= 0.8, "{p}");
    let r = post_json(
        &tcp,
        "/feedback",
        &json!({ "prediction_id": p["prediction_id"], "correct_label": flipped(p["label"].as_str().unwrap()) }),
    );
    let body = r.json();
    assert_eq!(body["status"], "held", "{body}");
    assert!(
        body["learning"].as_str().unwrap().contains("review"),
        "{body}"
    );
    let rows = get(&daemon.socket(), "/admin/feedback").json();
    assert_eq!(rows[0]["source"], "anonymous");
}

#[test]
fn audit_samples_come_at_the_configured_rate_and_give_live_accuracy_with_an_interval() {
    let daemon = Daemon::start(&["--audit-share", "0.2"]);
    let validation = std::fs::read_to_string(shared_data().join("sst2/validation.tsv")).unwrap();
    let rows: Vec<(&str, &str)> = validation
        .lines()
        .skip(1)
        .take(600)
        .map(|l| {
            let mut parts = l.split('\t');
            let text = parts.next().unwrap();
            let label = if parts.next().unwrap() == "1" {
                "positive"
            } else {
                "negative"
            };
            (text, label)
        })
        .collect();
    let texts: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let r = post_json(&daemon.tcp(), "/predict/batch", &json!({ "texts": texts }));
    assert_eq!(r.status, 200);
    std::thread::sleep(Duration::from_millis(500));
    let queue = get(&daemon.socket(), "/admin/queue?kind=audit&limit=1000").json();
    let items = queue["items"].as_array().unwrap();
    // 600 draws at 20%: 120 expected, sd 9.8; 70..170 is five sd either side.
    assert!((70..170).contains(&items.len()), "{}", items.len());
    assert_eq!(queue["counts"]["open_audit"], items.len());
    // An operator labels 40 of them with their true labels.
    let truth: std::collections::HashMap<&str, &str> = rows.iter().copied().collect();
    let mut correct = 0;
    for item in items.iter().take(40) {
        let label = truth[item["text"].as_str().unwrap()];
        correct += usize::from(item["predicted_label"] == label);
        let r = post_json(
            &daemon.socket(),
            &format!("/admin/queue/{}", item["id"]),
            &json!({ "action": "label", "label": label }),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let metrics = get(&daemon.socket(), "/metrics").json();
    let live = &metrics["live_accuracy"];
    assert_eq!(live["version"], "v1");
    assert_eq!(live["audited"], 40);
    assert_eq!(live["correct"], correct);
    let accuracy = live["accuracy"].as_f64().unwrap();
    assert!((accuracy - correct as f64 / 40.0).abs() < 1e-12);
    assert!(
        live["lower"].as_f64().unwrap() < accuracy && accuracy < live["upper"].as_f64().unwrap()
    );
    // Audit labels are never feedback.
    assert_eq!(get(&daemon.socket(), "/admin/feedback").json(), json!([]));
    let text = request(
        &daemon.tcp(),
        "GET",
        "/metrics",
        &[("Accept", "text/plain")],
        b"",
    )
    .text();
    assert!(
        text.contains("sentiment_live_accuracy{version=\"v1\"}"),
        "{text}"
    );
    assert!(text.contains("sentiment_audit_sampled_total"), "{text}");
}
