//! Real-world text and the API's contract, end to end against the real daemon and CLI:
//! text with Windows-1252 mojibake (C1 controls) and stray controls is cleaned the same
//! way on every entry and predicts as the cleaned text does; invalid UTF-8 on stdin is
//! read lossily; every error has a specific code and says what to do.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// The clean-up the daemon promises, spelled out independently of its code: the C1
/// controls the tests use, as Windows-1252 reads them, and other controls as spaces.
fn cleaned(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{0096}' => '\u{2013}',
            '\u{0097}' => '\u{2014}',
            '\u{0092}' => '\u{2019}',
            '\u{0093}' => '\u{201C}',
            '\u{0094}' => '\u{201D}',
            '\u{0085}' => '\u{2026}',
            '\u{0080}' => '\u{20AC}',
            '\t' | '\n' | '\r' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Review sentences from SST-2's training split (the longer ones: whole sentences, not
/// phrases), each with mojibake and a stray control spliced in.
fn dirty_reviews(n: usize) -> Vec<String> {
    let train = std::fs::read_to_string(shared_data().join("sst2/train.tsv")).unwrap();
    let inserts = [
        "\u{0096}", "\u{0097}", "\u{0092}", "\u{0093}", "\u{0094}", "\u{0085}", "\u{0080}",
        "\u{0007}", "\u{001B}", "\u{0081}",
    ];
    train
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .filter(|s| s.len() > 60)
        .take(n)
        .enumerate()
        .map(|(i, s)| {
            let mid = s[..s.len() / 2].rfind(' ').unwrap_or(0);
            format!(
                "{}{}{}s{}",
                &s[..mid],
                inserts[i % inserts.len()],
                &s[mid..],
                inserts[(i + 3) % inserts.len()]
            )
        })
        .collect()
}

#[test]
fn a_batch_of_1000_reviews_with_c1_controls_predicts_as_the_cleaned_texts() {
    let daemon = Daemon::start(&[]);
    let t = daemon.tcp();
    let dirty = dirty_reviews(1000);
    assert_eq!(dirty.len(), 1000);
    assert!(dirty.iter().all(|s| s.chars().any(|c| c.is_control())));
    let clean: Vec<String> = dirty.iter().map(|s| cleaned(s)).collect();
    let a = post_json(&t, "/predict/batch", &json!({ "texts": dirty }));
    assert_eq!(a.status, 200, "{}", a.text());
    let b = post_json(&t, "/predict/batch", &json!({ "texts": clean }));
    assert_eq!(b.status, 200, "{}", b.text());
    let (a, b) = (a.json(), b.json());
    let (a, b) = (
        a["predictions"].as_array().unwrap(),
        b["predictions"].as_array().unwrap(),
    );
    assert_eq!(a.len(), 1000);
    let same = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x["label"] == y["label"] && x["confidence"] == y["confidence"])
        .count();
    eprintln!("1000 texts with C1 controls: 200; {same} of 1000 with the same label and confidence as the cleaned texts");
    assert_eq!(same, 1000);

    // One truly invalid item still fails the batch, naming its index.
    let mut bad = dirty_reviews(10);
    bad[7] = " \u{0007}\u{0081} ".into();
    let r = post_json(&t, "/predict/batch", &json!({ "texts": bad }));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "empty_text"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("texts[7]"), "{}", r.text());
}

#[test]
fn predict_feedback_and_explain_clean_text_the_same_way() {
    let daemon = Daemon::start(&[]);
    let t = daemon.tcp();
    let dirty = "a gorgeous\u{0096}witty film \u{0093}that\u{0094} isn\u{0092}t dull\u{0007}";
    let clean = cleaned(dirty);
    assert_eq!(
        clean,
        "a gorgeous\u{2013}witty film \u{201C}that\u{201D} isn\u{2019}t dull "
    );
    let p = post_json(&t, "/predict?explain=true", &json!({ "text": dirty }));
    assert_eq!(p.status, 200, "{}", p.text());
    let q = post_json(&t, "/predict?explain=true", &json!({ "text": clean }));
    let (p, q) = (p.json(), q.json());
    assert_eq!(p["probabilities"], q["probabilities"]);
    assert_eq!(p["explanation"], q["explanation"]);

    let s = daemon.socket();
    let e = post_json(&s, "/admin/explain", &json!({ "text": dirty }));
    assert_eq!(e.status, 200, "{}", e.text());
    assert_eq!(e.json()["probabilities"], q["probabilities"]);

    let f = post_json(
        &t,
        "/feedback",
        &json!({"text": dirty, "predicted_label": "negative", "correct_label": "positive"}),
    );
    assert_eq!(f.status, 200, "{}", f.text());
    // What is stored (and trains the next model) is the cleaned text.
    let stored = get(&s, "/admin/feedback").json();
    assert_eq!(stored[0]["text"], Value::String(clean.clone()));
    let recent = get(&s, "/admin/predictions?limit=5").json();
    assert!(recent
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["text"] == Value::String(clean.clone())));
}

fn model_file() -> std::path::PathBuf {
    let dir = short_tempdir();
    let model = dir.join("model.bin");
    let out = sentimentd(&[
        "train",
        "--data",
        small_base_data().join("train.tsv").to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

fn predict_stdin(model: &std::path::Path, extra: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(bin())
        .args(["predict", "--model", model.to_str().unwrap()])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn predict_on_stdin_keeps_one_line_per_input_line_through_bad_bytes_and_blank_lines() {
    let model = model_file();
    // Line 2 carries a raw cp1252 en dash (0x96, not UTF-8); line 3 is blank; line 4 a
    // C1 control in UTF-8; line 5 is the cleaned form of line 4.
    let input = b"a gorgeous film\nwitty \x96 and moving\n\nnot bad\xC2\x96 at all\nnot bad\xE2\x80\x93 at all\nthe end\n";
    let out = predict_stdin(&model, &["--json"], input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    assert_eq!(lines[1]["text"], "witty \u{FFFD} and moving");
    assert!(lines[1]["label"].is_string(), "{}", lines[1]);
    assert_eq!(lines[2]["error"]["code"], "empty_text", "{}", lines[2]);
    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[3]["text"], "not bad\u{2013} at all");
    assert_eq!(lines[3]["probabilities"], lines[4]["probabilities"]);
    assert!(lines[5]["label"].is_string());
    // The API's shape: probabilities, not a nested prediction.
    assert!(
        lines[0]["probabilities"]["positive"].is_f64(),
        "{}",
        lines[0]
    );
    assert!(
        stderr.contains("1 line(s) of stdin were not valid UTF-8"),
        "{stderr}"
    );

    // The plain form keeps the lines too, and says what is wrong with the blank one.
    let out = predict_stdin(&model, &[], input);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    assert!(lines[2].starts_with("error\t"), "{stdout}");
}

/// The error code and message of a response, with the status.
fn error_of(r: &Response) -> (u16, String, String) {
    let body = r.json();
    (
        r.status,
        body["error"]["code"].as_str().unwrap_or("").to_string(),
        body["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn every_error_has_a_specific_code_and_says_what_to_do() {
    let daemon = Daemon::start(&[]);
    let (t, s) = (daemon.tcp(), daemon.socket());
    let json_header = [("Content-Type", "application/json")];

    // A path parameter that is not a number.
    let r = request(
        &s,
        "POST",
        "/admin/queue/abc",
        &json_header,
        b"{\"action\": \"skip\"}",
    );
    let (status, code, message) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "invalid_path"), "{message}");
    assert!(
        message.contains("abc") && message.contains("whole number"),
        "{message}"
    );
    let r = request(&s, "POST", "/admin/alerts/x/ack", &[], b"");
    assert_eq!(error_of(&r).1, "invalid_path");
    // Unknown fields beside a decision are refused as in every other body.
    let r = post_json(&s, "/admin/queue/1", &json!({"action": "skip", "x": 42}));
    assert_eq!(error_of(&r).0, 400, "{}", r.text());
    // Labels are spelled as the schema says.
    let r = post_json(
        &t,
        "/feedback",
        &json!({"text": "fine", "correct_label": "Pos"}),
    );
    assert_eq!(error_of(&r).0, 400, "{}", r.text());
    // Rolling back from a version without a parent is a conflict, not a bad request.
    let r = post_json(&s, "/admin/rollback", &json!({}));
    assert_eq!(error_of(&r).1, "nothing_to_roll_back_to", "{}", r.text());
    assert_eq!(r.status, 409);

    // A missing correct_label is named as missing, not as an invalid label.
    let r = post_json(&t, "/feedback", &json!({"text": "fine"}));
    let (status, code, message) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(
        message.contains("missing field `correct_label`"),
        "{message}"
    );

    // The body limit is stated.
    let huge = json!({"text": "a".repeat(5 << 20)});
    let (status, code, message) = error_of(&post_json(&t, "/predict", &huge));
    assert_eq!((status, code.as_str()), (413, "body_too_large"));
    assert!(message.contains("4194304 bytes"), "{message}");

    // A bare JSON array is not the object the route takes.
    let r = request(&t, "POST", "/predict", &json_header, b"[\"great fun\"]");
    let (status, code, message) = error_of(&r);
    assert_eq!(
        (status, code.as_str()),
        (400, "invalid_request"),
        "{message}"
    );
    assert!(message.contains("JSON object"), "{message}");
    let r = request(&t, "POST", "/predict/batch", &json_header, b"[[\"a\"]]");
    assert_eq!(error_of(&r).0, 400);

    // Unknown query parameters are refused, naming the ones the route takes.
    let r = post_json(&t, "/predict?explian=true", &json!({"text": "fine"}));
    let (status, code, message) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "unknown_query_parameter"));
    assert!(
        message.contains("explian") && message.contains("explain"),
        "{message}"
    );
    let r = post_json(&t, "/predict/batch?x=1", &json!({"texts": ["fine"]}));
    assert!(
        error_of(&r).2.contains("no query parameters"),
        "{}",
        r.text()
    );
    assert_eq!(get(&s, "/admin/queue?state=all&limit=5").status, 200);
    assert_eq!(get(&s, "/admin/queue?sate=all").status, 400);

    // A queue item decided twice: the state is spelled as the API spells it.
    let low = (0..200).map(|i| format!("so so {i}")).find_map(|text| {
        let p = post_json(&t, "/predict", &json!({ "text": text })).json();
        (p["low_confidence"] == true).then_some(())
    });
    if low.is_some() {
        // The queue is written by the store's writer thread: wait for the item.
        let mut id = None;
        for _ in 0..100 {
            id = get(&s, "/admin/queue").json()["items"][0]["id"].as_i64();
            if id.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let id = id.expect("the low-confidence prediction is queued");
        let path = format!("/admin/queue/{id}");
        let body = json!({"action": "label", "label": "negative"});
        assert_eq!(post_json(&s, &path, &body).status, 200);
        let (status, code, message) = error_of(&post_json(&s, &path, &body));
        assert_eq!((status, code.as_str()), (409, "already_resolved"));
        assert!(
            message.contains("is labelled") && !message.contains("Labelled"),
            "{message}"
        );
    }
}

#[test]
fn methods_are_checked_before_keys_and_the_bearer_scheme_is_case_insensitive() {
    let dir = short_tempdir();
    let keys = dir.join("keys.toml");
    let user = add_key(&keys, "u", "unlimited", "user");
    let daemon = Daemon::start(&["--auth", "on", "--keys-file", keys.to_str().unwrap()]);
    let t = daemon.tcp();
    // TRACE on an operator route, with a user key and with none: 405, not 403/401.
    for headers in [
        vec![],
        vec![("Authorization".to_string(), format!("Bearer {user}"))],
    ] {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        for (method, path) in [
            ("TRACE", "/admin/queue"),
            ("DELETE", "/admin/retrain"),
            ("PUT", "/predict"),
        ] {
            let r = request(&t, method, path, &headers, b"");
            assert_eq!(
                (r.status, r.code().as_str()),
                (405, "method_not_allowed"),
                "{method} {path}: {}",
                r.text()
            );
        }
    }
    // A served method still needs the right key.
    assert_eq!(get(&t, "/admin/queue").status, 401);
    let body = json!({"text": "fine"}).to_string();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} {user}");
        let r = request(
            &t,
            "POST",
            "/predict",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{scheme}: {}", r.text());
    }
    // What Prometheus sends with a bearer credentials file (docs/OPERATIONS.md).
    let auth = format!("Bearer {user}");
    let r = request(
        &t,
        "GET",
        "/metrics/prometheus",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains("sentiment_predictions_total"));
    assert_eq!(get(&t, "/metrics/prometheus").code(), "missing_api_key");
    let operations = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/OPERATIONS.md"),
    )
    .unwrap();
    assert!(operations.contains("metrics_path: /metrics/prometheus"));
    assert!(operations.contains("credentials_file:"));
}

#[test]
fn keys_refuses_an_unknown_tier_and_lists_roles_as_the_flags_spell_them() {
    let dir = short_tempdir();
    let keys = dir.join("keys.toml");
    let keys_arg = keys.to_str().unwrap();
    let out = sentimentd(&[
        "keys",
        "add",
        "--keys-file",
        keys_arg,
        "--name",
        "g",
        "--tier",
        "gold",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown tier \"gold\"") && stderr.contains("[tiers]"),
        "{stderr}"
    );
    assert!(!keys.exists() || !std::fs::read_to_string(&keys).unwrap().contains("\"g\""));
    // A tier the config file adds is fine.
    let config = dir.join("config.toml");
    std::fs::write(&config, "[tiers]\ngold = 100\n").unwrap();
    let out = sentimentd(&[
        "keys",
        "add",
        "--keys-file",
        keys_arg,
        "--name",
        "g",
        "--tier",
        "gold",
        "--role",
        "admin",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    add_key(&keys, "u", "free", "user");
    let out = sentimentd(&["keys", "list", "--keys-file", keys_arg]);
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(
        listed.contains("g\tgold\tadmin") && listed.contains("u\tfree\tuser"),
        "{listed}"
    );
    assert!(
        !listed.contains("Admin") && !listed.contains("User"),
        "{listed}"
    );
}

#[test]
fn serve_binds_before_training_so_a_busy_port_fails_at_once_and_logs_have_no_colour() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let dir = short_tempdir();
    let started = std::time::Instant::now();
    // No model yet: without the early bind this would train version 1 from the whole
    // SST-2 training split first.
    let out = hermetic(Command::new(bin()))
        .args(["serve", "--data-dir", dir.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--base-data", shared_data().join("sst2").to_str().unwrap()])
        .env("HOME", &dir)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(
        !dir.join("models/v1").exists(),
        "trained before binding: {stderr}"
    );
    assert!(elapsed < std::time::Duration::from_secs(3), "{elapsed:?}");

    // stderr here is a file, not a terminal: no ANSI escape codes in the log.
    let daemon = Daemon::start(&[]);
    let logs = daemon.logs();
    assert!(logs.contains("ready"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in a log file: {logs:?}"
    );
}

/// Feedback in made-up words no base text has, so a retrain on it is promoted.
fn send_learnable_feedback(target: &Target, n: usize) {
    for i in 0..n {
        let (text, label) = if i % 2 == 0 {
            (
                format!("the flurbish thing number {i} was flurbish"),
                "positive",
            )
        } else {
            (
                format!("the gronkle thing number {i} was gronkle"),
                "negative",
            )
        };
        let r = post_json(
            target,
            "/feedback",
            &json!({"text": text, "correct_label": label}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

#[test]
fn the_cli_retrain_speaks_the_api_shape_and_the_daemon_reports_it_as_last() {
    let daemon = Daemon::start(&[]);
    let s = daemon.socket();
    let dir = daemon.data_dir.to_str().unwrap().to_string();
    send_learnable_feedback(&s, 200);
    let out = sentimentd(&["retrain", "--data-dir", &dir, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["outcome"], "promoted", "{cli}");
    assert_eq!(cli["version"], "v2", "{cli}");
    assert!(
        cli["message"].as_str().unwrap().starts_with("promoted"),
        "{cli}"
    );
    assert!(
        cli.get("reason").is_none() && cli.get("record").is_none(),
        "{cli}"
    );
    assert!(
        cli["comparison"]["evidence"]["candidate_base_test"].is_f64(),
        "{cli}"
    );
    // The daemon did not run it, and still reports it as the last retrain.
    let status = get(&s, "/admin/retrain").json();
    assert_eq!(status["last"]["version"], "v2", "{status}");
    assert_eq!(status["last"]["outcome"], "promoted", "{status}");
    assert_eq!(status["last"]["message"], cli["message"], "{status}");
    // A retrain the daemon runs afterwards is the last one again.
    send_learnable_feedback(&s, 10);
    let own = post_json(&s, "/admin/retrain?wait=true", &json!({})).json();
    let status = get(&s, "/admin/retrain").json();
    assert_eq!(
        status["last"]["finished_unix_ms"], own["finished_unix_ms"],
        "{status}"
    );
}

#[test]
fn a_feedback_export_is_training_data_and_escapes_formulas() {
    let daemon = Daemon::start(&[]);
    let s = daemon.socket();
    send_learnable_feedback(&s, 40);
    for (text, label) in [
        ("=HYPERLINK(\"http://x\")", "negative"),
        ("+1 great", "positive"),
        ("-lrb- a gem -rrb-", "positive"),
        ("@everyone awful", "negative"),
    ] {
        let r = post_json(
            &s,
            "/feedback",
            &json!({"text": text, "correct_label": label}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let dir = daemon.data_dir.clone();
    let export = dir.with_extension("export.csv");
    let out = sentimentd(&[
        "feedback",
        "export",
        "--data-dir",
        dir.to_str().unwrap(),
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&export).unwrap();
    for escaped in ["'=HYPERLINK", "'+1 great", "'-lrb- a gem", "'@everyone"] {
        assert!(csv.contains(escaped), "{escaped} not escaped:\n{csv}");
    }
    // `train` reads it: text and correct_label, every row, texts as sent.
    let model = dir.with_extension("model.bin");
    let out = sentimentd(&[
        "train",
        "--data",
        export.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--strict",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trained: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trained["metadata"]["training"]["examples"], 44, "{trained}");
    // So does `retrain --base-data`.
    let out = sentimentd(&[
        "retrain",
        "--data-dir",
        dir.to_str().unwrap(),
        "--base-data",
        export.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_files_are_named_in_the_error() {
    let dir = short_tempdir();
    let missing = dir.join("nowhere/missing.bin");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["predict", "--model", m, "fine"],
        vec!["eval", "--model", m, "--data", m],
        vec!["train", "--data", m, "--out", m],
        vec!["tune", "--data", m],
        vec!["replay", "--data-dir", dir.to_str().unwrap(), "--stream", m],
        vec!["serve", "--config", m],
        vec![
            "feedback",
            "export",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            m,
        ],
    ] {
        let out = hermetic(Command::new(bin()))
            .args(&args)
            .env("HOME", &dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains("missing.bin") || stderr.contains(dir.to_str().unwrap()),
            "{args:?} does not name the path: {stderr}"
        );
        // The reason once, not repeated by the error chain.
        assert!(
            stderr.matches("No such file or directory").count() <= 1,
            "{args:?}: {stderr}"
        );
    }
}
