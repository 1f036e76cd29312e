//! Access control and poisoning, end to end through the real binary: the keys file's
//! hashes and permissions, the rate limit under 1,000 parallel requests on real
//! connections, and a label-flipping feedback campaign. (Every route against every
//! kind of caller is tested in-process: tests/api.)

mod common;

use common::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

fn write_config(dir: &Path, toml: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, toml).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn keys_are_stored_only_as_hashes_in_a_private_file() {
    let dir = short_tempdir();
    let keys = dir.join("keys.toml");
    let user = add_key(&keys, "alice", "unlimited", "user");
    let admin = add_key(&keys, "ops", "unlimited", "admin");
    // Only hashes are stored, and the file is private.
    let stored = std::fs::read_to_string(&keys).unwrap();
    assert!(
        !stored.contains(&user) && !stored.contains(&admin),
        "{stored}"
    );
    assert_eq!(stored.matches("sha256 = \"").count(), 2, "{stored}");
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "keys file mode {mode:o}");
    // Listing names the keys, never shows them.
    let listed = String::from_utf8(
        sentimentd(&["keys", "list", "--keys-file", keys.to_str().unwrap()]).stdout,
    )
    .unwrap();
    assert!(
        listed.contains("alice") && listed.contains("ops"),
        "{listed}"
    );
    assert!(
        !listed.contains(&user) && !listed.contains(&admin),
        "{listed}"
    );
}

#[test]
fn one_free_key_gets_exactly_its_quota_from_1000_parallel_requests() {
    let dir = short_tempdir();
    let keys = dir.join("keys.toml");
    let free = add_key(&keys, "flooder", "free", "user");
    // 3 a minute: a burst of 3, then one every 20 s.
    let config = write_config(&dir, "[tiers]\nfree = 3\n");
    let daemon = Daemon::start(&[
        "--auth",
        "on",
        "--keys-file",
        keys.to_str().unwrap(),
        "--config",
        &config,
    ]);
    let started = Instant::now();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(1_000));
    let handles: Vec<_> = (0..1_000)
        .map(|_| {
            let (t, free, barrier) = (daemon.tcp(), free.clone(), barrier.clone());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    barrier.wait();
                    post_json_with_key(&t, "/predict", &free, &json!({"text": "fine"})).status
                })
                .unwrap()
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let elapsed = started.elapsed();
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    // One more request is allowed for every 20 s the flood took.
    let expected = 3 + (elapsed.as_secs() / 20) as usize;
    assert_eq!(ok, expected, "in {elapsed:?}");
    assert_eq!(ok + limited, 1_000, "every request is either served or 429");
    println!("1000 parallel requests in {elapsed:?}: {ok} served, {limited} limited");
    assert_eq!(get(&daemon.tcp(), "/health").status, 200);
}

/// SST-2 sentences (text, label) from a TSV with a header.
fn sst2(file: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(shared_data().join("sst2").join(file))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (text, label) = line.rsplit_once('\t')?;
            let label = if label.trim() == "1" {
                "positive"
            } else {
                "negative"
            };
            Some((text.to_string(), label.to_string()))
        })
        .collect()
}

/// The served model's accuracy on SST-2's validation split, measured through the API.
fn served_accuracy(socket: &Target, validation: &[(String, String)]) -> f64 {
    let mut correct = 0;
    for chunk in validation.chunks(500) {
        let texts: Vec<&str> = chunk.iter().map(|(t, _)| t.as_str()).collect();
        let r = post_json(socket, "/predict/batch", &json!({ "texts": texts }));
        assert_eq!(r.status, 200, "{}", r.text());
        let body = r.json();
        for (result, (_, label)) in body["predictions"].as_array().unwrap().iter().zip(chunk) {
            correct += usize::from(result["label"] == label.as_str());
        }
    }
    correct as f64 / validation.len() as f64
}

#[test]
fn a_label_flipping_campaign_from_one_key_cannot_cost_half_a_point() {
    let dir = short_tempdir();
    let keys = dir.join("keys.toml");
    let attacker = add_key(&keys, "mallory", "unlimited", "user");
    let honest: Vec<String> = (0..3)
        .map(|i| add_key(&keys, &format!("honest-{i}"), "unlimited", "user"))
        .collect();
    let config = write_config(
        &dir,
        "[feedback]\nmax_per_key_per_day = 150\nhold_contradicting_confidence = 0.9\nmin_history = 10\n",
    );
    let daemon = Daemon::start(&[
        "--auth",
        "on",
        "--keys-file",
        keys.to_str().unwrap(),
        "--config",
        &config,
        "--base-data",
        small_base_data().to_str().unwrap(),
        "--retrain-schedule",
        "off",
    ]);
    let (t, s) = (daemon.tcp(), daemon.socket());
    let validation = sst2("validation.tsv");
    // Sentences the small base data has not seen (it holds the first 8,000 rows).
    let unseen: Vec<(String, String)> = sst2("train.tsv")
        .into_iter()
        .skip(20_000)
        .filter(|(text, _)| text.split_whitespace().count() >= 6)
        .take(700)
        .collect();
    let baseline = served_accuracy(&s, &validation);
    let mut worst = baseline;
    let mut outcomes = Vec::new();
    let (mut accepted, mut held, mut over_quota) = (0, 0, 0);
    for wave in 0..3 {
        // Honest users send true labels; the attacker floods flipped ones.
        for (i, (text, label)) in unseen[wave * 40..(wave + 1) * 40].iter().enumerate() {
            let key = &honest[i % honest.len()];
            let r = post_json_with_key(
                &t,
                "/feedback",
                key,
                &json!({"text": text, "correct_label": label}),
            );
            assert_eq!(r.status, 200, "{}", r.text());
        }
        for (text, label) in &unseen[120 + wave * 150..120 + (wave + 1) * 150] {
            let flipped = if label == "positive" {
                "negative"
            } else {
                "positive"
            };
            let r = post_json_with_key(
                &t,
                "/feedback",
                &attacker,
                &json!({"text": text, "correct_label": flipped}),
            );
            match r.status {
                200 if r.json()["status"] == "held" => held += 1,
                200 => accepted += 1,
                429 => {
                    assert_eq!(r.code(), "feedback_quota", "{}", r.text());
                    assert!(r.header("retry-after").is_some());
                    over_quota += 1;
                }
                other => panic!("unexpected {other}: {}", r.text()),
            }
        }
        let report = post_json(&s, "/admin/retrain?wait=true", &json!({}));
        assert_eq!(report.status, 200, "{}", report.text());
        outcomes.push(report.json()["outcome"].clone());
        let accuracy = served_accuracy(&s, &validation);
        worst = worst.min(accuracy);
        println!(
            "wave {wave}: served accuracy {:.2}% (baseline {:.2}%), retrain {}",
            accuracy * 100.0,
            baseline * 100.0,
            report.json()
        );
    }
    // The quota let through 150 of the 450 flipped rows; the rest stored nothing.
    assert_eq!(accepted + held, 150, "accepted {accepted}, held {held}");
    assert_eq!(over_quota, 300);
    let stored = get(&s, "/admin/feedback?limit=1000").json();
    let from_attacker = stored
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["api_key"] == "mallory")
        .count();
    assert_eq!(from_attacker, 150);
    assert!(held > 0, "confident contradictions from a new key are held");
    assert!(
        baseline - worst <= 0.005 + 1e-9,
        "served accuracy fell from {:.2}% to {:.2}% ({outcomes:?})",
        baseline * 100.0,
        worst * 100.0
    );
    // Held rows wait in the queue for an operator.
    let queue = get(&s, "/admin/queue?kind=correction").json();
    assert_eq!(queue["items"].as_array().unwrap().len(), held, "{queue}");
    let held_rows = get(&s, "/admin/feedback?status=held&limit=1000").json();
    assert_eq!(held_rows.as_array().unwrap().len(), held);
}
