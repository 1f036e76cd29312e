//! End-to-end tests of the one-shot commands through the real `sentimentd` binary, on
//! the shared SST-2 data read in place.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn shared_data() -> PathBuf {
    match std::env::var_os("SENTIMENT_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

fn sentimentd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sentimentd"))
        .args(args)
        .output()
        .expect("sentimentd runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("valid JSON on stdout")
}

#[test]
fn train_then_eval_on_sst2_reaches_the_accuracy_floor() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("models/sst2.bin");
    let sst2 = shared_data().join("sst2");
    let trained = json(&sentimentd(&[
        "train",
        "--data",
        sst2.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--json",
    ]));
    let metadata = &trained["metadata"];
    assert_eq!(metadata["training"]["examples"], 67_349);
    let train_accuracy = metadata["evaluations"]["validation"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(
        train_accuracy >= 0.82,
        "validation accuracy {train_accuracy}"
    );

    let validation = sst2.join("validation.tsv");
    let evaluated = json(&sentimentd(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        validation.to_str().unwrap(),
        "--json",
    ]));
    let metrics = &evaluated["metrics"];
    assert_eq!(metrics["examples"], 872);
    let accuracy = metrics["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.82, "validation accuracy {accuracy}");
    assert!(
        (accuracy - train_accuracy).abs() < 1e-12,
        "eval disagrees with train"
    );
    let confusion = metrics["confusion"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 872);

    // The human table names the metrics.
    let table = sentimentd(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        sst2.to_str().unwrap(),
    ]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(stdout(&table).contains("accuracy"));
    assert!(stdout(&table).contains("expected calibration error"));

    // Predict: arguments and stdin, plain and explained.
    let predicted = sentimentd(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--json",
        "a warm , funny and deeply moving film",
        "a dull , lifeless and boring mess",
    ]);
    let lines: Vec<serde_json::Value> = stdout(&predicted)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // The API's shape (/predict without the id): label, confidence, probabilities.
    assert_eq!(lines[0]["label"], "positive");
    assert_eq!(lines[1]["label"], "negative");
    assert!(
        lines[0]["probabilities"]["positive"].is_f64(),
        "{}",
        lines[0]
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_sentimentd"))
        .args(["predict", "--model", model.to_str().unwrap(), "--explain"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"It wasn't good at all.\n\nA brilliant, delightful film!\n")
        .unwrap();
    let explained = child.wait_with_output().unwrap();
    assert!(explained.status.success());
    let text = stdout(&explained);
    assert!(text.contains("towards negative"), "{text}");
    assert!(text.contains("NOT_good") || text.contains("n't"), "{text}");
    assert!(text.contains("brilliant"), "{text}");
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = sentimentd(&[
        "eval",
        "--model",
        "/nonexistent/model.bin",
        "--data",
        "/nonexistent",
    ]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("/nonexistent/model.bin"),
        "{}",
        stderr(&missing)
    );

    let not_a_model = dir.path().join("model.bin");
    std::fs::write(&not_a_model, "sentence\tlabel\n").unwrap();
    let refused = sentimentd(&["predict", "--model", not_a_model.to_str().unwrap(), "hello"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("not a sentiment model file"),
        "{}",
        stderr(&refused)
    );

    let bad_rows = dir.path().join("bad.tsv");
    std::fs::write(
        &bad_rows,
        "sentence\tlabel\ngood film\t1\nbad film\tmaybe\nawful\t0\n",
    )
    .unwrap();
    let out = dir.path().join("m.bin");
    let strict = sentimentd(&[
        "train",
        "--data",
        bad_rows.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--strict",
    ]);
    assert!(!strict.status.success());
    assert!(
        stderr(&strict).contains(":3"),
        "line number missing: {}",
        stderr(&strict)
    );
    assert!(!out.exists());
    let lenient = sentimentd(&[
        "train",
        "--data",
        bad_rows.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(lenient.status.success(), "{}", stderr(&lenient));
    assert!(
        stderr(&lenient).contains("skipped 1 malformed row"),
        "{}",
        stderr(&lenient)
    );
    assert!(out.exists());

    let bad_c = sentimentd(&[
        "train",
        "--data",
        bad_rows.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--c=-1",
    ]);
    assert!(!bad_c.status.success());
    assert!(stderr(&bad_c).contains("--c"), "{}", stderr(&bad_c));
}

#[test]
fn help_explains_every_command() {
    let help = sentimentd(&["--help"]);
    assert!(help.status.success());
    for command in ["train", "eval", "predict", "tune"] {
        assert!(stdout(&help).contains(command), "--help lacks {command}");
        let sub = sentimentd(&[command, "--help"]);
        assert!(sub.status.success());
        assert!(
            stdout(&sub).contains("--"),
            "{command} --help lists no flags"
        );
    }
}

/// The config file's `data_dir` is where every command works, not only `serve`: the
/// commands resolve the directory through one path (flag or environment, then the
/// file, then the default).
#[test]
fn every_command_works_in_the_config_files_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("from-config");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", data_dir.to_str().unwrap()),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sentimentd"))
            .args(args)
            .args(["--config", config])
            .env_remove("SENTIMENT_DATA_DIR")
            .env_remove("SENTIMENT_KEYS_FILE")
            .output()
            .expect("sentimentd runs")
    };
    let out = run(&["keys", "add", "--name", "ops"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(data_dir.join("keys.toml").is_file(), "{}", stderr(&out));
    let out = run(&["keys", "list"]);
    assert!(stdout(&out).starts_with("ops\t"), "{}", stderr(&out));
    // No registry or database there yet: each command says which directory it looked in.
    let export = tmp.path().join("export.csv");
    for command in [
        vec!["models"],
        vec!["rollback"],
        vec!["retrain"],
        vec!["feedback", "export", "--out", export.to_str().unwrap()],
    ] {
        let out = run(&command);
        assert!(!out.status.success(), "{command:?} succeeded");
        assert!(
            stderr(&out).contains(data_dir.to_str().unwrap()),
            "{command:?}: {}",
            stderr(&out)
        );
    }
}
