//! The commands' contract, end to end through the real binary: invalid UTF-8 and stray
//! bytes on stdin are read lossily, keys, the early bind, the CLI retrain's shape,
//! feedback exports, and missing files named in errors. (How the API cleans text and
//! names its errors is tested in-process: tests/api.)

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

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
