//! The demo page end to end in headless Chromium: a real daemon serves it, the driver
//! in `tests/browser/demo.mjs` (Playwright's `playwright-core` on Debian's `chromium`)
//! predicts and corrects as a visitor would, and this test then asks the daemon, over
//! its operator socket, whether the correction was stored. Screenshots are kept under
//! the target directory in `browser-artifacts/`.
//!
//! Needs `node`, `/usr/bin/chromium` (or `CHROMIUM`) and `npm ci` in `tests/browser`;
//! `bash .ci/run` installs them. `SENTIMENT_SKIP_BROWSER=1` skips it where they cannot be
//! installed, saying so.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn driver_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `<target>/browser-artifacts`, beside the test binaries' profile directory.
fn artifacts_dir() -> PathBuf {
    let target = Path::new(bin())
        .parent()
        .and_then(Path::parent)
        .expect("the daemon binary sits in <target>/<profile>/");
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn prerequisites_missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "{chromium} is missing: `apt-get install -y chromium` (bash .ci/run does it)"
        ));
    }
    if !driver_dir().join("node_modules/playwright-core").is_dir() {
        return Some(format!(
            "playwright-core is not installed: `npm ci --prefix {}` (bash .ci/run does it)",
            driver_dir().display()
        ));
    }
    None
}

#[test]
fn a_visitor_predicts_and_corrects_in_the_browser_and_the_daemon_stores_it() {
    if std::env::var_os("SENTIMENT_SKIP_BROWSER").is_some() {
        eprintln!("SKIPPED: SENTIMENT_SKIP_BROWSER is set");
        return;
    }
    if let Some(missing) = prerequisites_missing() {
        panic!("the browser test cannot run: {missing} (or set SENTIMENT_SKIP_BROWSER=1)");
    }
    // The default configuration: anonymous callers on loopback may predict and correct.
    let open = Daemon::start(&[]);
    // And one that requires keys, where the page must say so.
    let locked = Daemon::start(&["--auth", "on"]);
    let out = artifacts_dir();

    let output = Command::new("node")
        .arg(driver_dir().join("demo.mjs"))
        .args(["--url", &format!("http://127.0.0.1:{}/", open.port)])
        .args(["--auth-url", &format!("http://127.0.0.1:{}/", locked.port)])
        .args(["--out", out.to_str().unwrap()])
        .current_dir(driver_dir())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser driver failed:\n{}\n{stdout}\ndaemon log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        open.logs()
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("the driver prints its report"))
            .expect("the driver's report is JSON");

    // The page showed the served model.
    let info = get(&open.tcp(), "/model_info").json();
    assert_eq!(report["version"], info["version"]);
    let accuracy = info["metrics"]["base_test"]["accuracy"].as_f64().unwrap();
    assert_eq!(
        report["accuracy"].as_str().unwrap(),
        format!("{:.1}%", accuracy * 100.0)
    );

    // The prediction the page made is the daemon's, with the text typed.
    let prediction_id = report["predictionId"].as_str().unwrap();
    let predictions = get(&open.socket(), "/admin/predictions?limit=10").json();
    let prediction = predictions
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == prediction_id)
        .unwrap_or_else(|| panic!("prediction {prediction_id} not recorded: {predictions}"));
    assert_eq!(prediction["text"], report["text"]);
    assert_eq!(prediction["label"], report["label"]);

    // The correction the page sent is stored, durably, as that prediction's.
    let feedback = get(&open.socket(), "/admin/feedback").json();
    let stored = feedback
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == report["feedbackId"])
        .unwrap_or_else(|| panic!("correction {} not stored: {feedback}", report["feedbackId"]));
    assert_eq!(stored["prediction_id"], prediction_id);
    assert_eq!(stored["text"], report["text"]);
    assert_eq!(stored["correct_label"], report["correctedTo"]);
    assert_eq!(stored["predicted_label"], report["label"]);
    assert_ne!(stored["correct_label"], stored["predicted_label"]);

    // With keys required, the page says so instead of failing silently.
    assert_eq!(report["auth"]["message"], "This server needs an API key");
    assert_eq!(report["auth"]["badge"], "API key needed");

    for shot in report["screenshots"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&report["auth"]["screenshot"]))
    {
        let path = Path::new(shot.as_str().unwrap());
        let bytes = std::fs::read(path).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            path.display()
        );
        println!("screenshot: {}", path.display());
    }
}
