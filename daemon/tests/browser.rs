//! The pages end to end in headless Chromium (Playwright's `playwright-core` on
//! Debian's `chromium`), each against a real daemon:
//!
//! - the demo page: the driver in `tests/browser/demo.mjs` predicts and corrects as a
//!   visitor would, and this test then asks the daemon, over its operator socket,
//!   whether the correction was stored;
//! - the dashboard: a daemon that has served predictions, taken feedback, promoted a
//!   retrained version and rejected another, and raised an alert; the driver in
//!   `tests/browser/dashboard.mjs` checks every chart and table against
//!   `/metrics/dashboard`, sees an update arrive without reload, and looks at the page
//!   as an operator, as a user, at phone width and in the dark scheme.
//!
//! Screenshots are kept under the target directory in `browser-artifacts/`.
//!
//! Needs `node`, `/usr/bin/chromium` (or `CHROMIUM`) and `npm ci` in `tests/browser`;
//! `bash .ci/run` installs them. `SENTIMENT_SKIP_BROWSER=1` skips it where they cannot be
//! installed, saying so.

mod common;

use common::*;
use serde_json::json;
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

/// False (after saying why) when `SENTIMENT_SKIP_BROWSER` is set; panics when the
/// browser or the driver's packages are missing.
fn browser_available() -> bool {
    if std::env::var_os("SENTIMENT_SKIP_BROWSER").is_some() {
        eprintln!("SKIPPED: SENTIMENT_SKIP_BROWSER is set");
        return false;
    }
    if let Some(missing) = prerequisites_missing() {
        panic!("the browser test cannot run: {missing} (or set SENTIMENT_SKIP_BROWSER=1)");
    }
    true
}

/// Runs a driver script; its last line of output is its JSON report.
fn run_driver(script: &str, args: &[&str], daemon: &Daemon) -> serde_json::Value {
    let output = Command::new("node")
        .arg(driver_dir().join(script))
        .args(args)
        .current_dir(driver_dir())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser driver {script} failed:\n{}\n{stdout}\ndaemon log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        daemon.logs()
    );
    serde_json::from_str(stdout.lines().last().expect("the driver prints its report"))
        .expect("the driver's report is JSON")
}

fn assert_png(path: &serde_json::Value) {
    let path = Path::new(path.as_str().unwrap());
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        path.display()
    );
    println!("screenshot: {}", path.display());
}

#[test]
fn a_visitor_predicts_and_corrects_in_the_browser_and_the_daemon_stores_it() {
    if !browser_available() {
        return;
    }
    // The default configuration: anonymous callers on loopback may predict and correct.
    let open = Daemon::start(&[]);
    // And one that requires keys, where the page must say so.
    let locked = Daemon::start(&["--auth", "on"]);
    let out = artifacts_dir();

    let report = run_driver(
        "demo.mjs",
        &[
            "--url",
            &format!("http://127.0.0.1:{}/", open.port),
            "--auth-url",
            &format!("http://127.0.0.1:{}/", locked.port),
            "--out",
            out.to_str().unwrap(),
        ],
        &open,
    );

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
        assert_png(shot);
    }
}

#[test]
fn the_dashboard_shows_a_learning_daemon_live_to_operators_and_users() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.toml");
    let admin_key = add_key(&keys, "ops", "unlimited", "admin");
    let user_key = add_key(&keys, "alice", "unlimited", "user");
    // Every prediction is drawn for audit, so that live accuracy has figures.
    let daemon = Daemon::start(&[
        "--auth",
        "on",
        "--keys-file",
        keys.to_str().unwrap(),
        "--audit-share",
        "1",
    ]);
    let (tcp, socket) = (daemon.tcp(), daemon.socket());

    // Its history: v2 promoted; v3 rejected, served by hand (which raises an alert)
    // and rolled back to v2; v4 rejected.
    send_learnable_feedback(&socket, 40);
    assert_eq!(retrain_and_wait(&socket)["outcome"], "promoted");
    send_poison(&socket, 2_000);
    assert_eq!(retrain_and_wait(&socket)["outcome"], "rejected");
    let promote = post_json(&socket, "/admin/promote", &json!({"version": "v3"}));
    assert_eq!(promote.status, 200, "{}", promote.text());
    let rollback = post_json(&socket, "/admin/rollback", &json!({"version": "v2"}));
    assert_eq!(rollback.status, 200, "{}", rollback.text());
    let fresh = post_json(
        &socket,
        "/feedback",
        &json!({"text": "one more flurbish thing", "correct_label": "positive"}),
    );
    assert_eq!(fresh.status, 200, "{}", fresh.text());
    assert_eq!(retrain_and_wait(&socket)["outcome"], "rejected");

    // Users predict (two texts no model knows are low-confidence) and correct one.
    for text in [
        "a gorgeous, witty, moving film",
        "dull and far too long",
        "qwzx vbnm plok",
        "zzzt frobble wug",
    ] {
        let r = post_json_with_key(&tcp, "/predict", &user_key, &json!({ "text": text }));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let correction = post_json_with_key(
        &tcp,
        "/feedback",
        &user_key,
        &json!({"text": "dull and far too long", "predicted_label": "negative", "correct_label": "positive"}),
    );
    assert_eq!(correction.status, 200, "{}", correction.text());
    // An operator reviews the queue: one prediction was wrong, the others right.
    let queue = get(&socket, "/admin/queue?limit=100").json();
    let items = queue["items"].as_array().unwrap();
    assert!(items.len() >= 3, "{queue}");
    for (i, item) in items.iter().enumerate() {
        let decision = if i == 0 {
            let wrong = if item["predicted_label"] == "positive" {
                "negative"
            } else {
                "positive"
            };
            json!({"action": "label", "label": wrong})
        } else {
            json!({"action": "accept"})
        };
        let id = item["id"].as_i64().unwrap();
        let r = post_json(&socket, &format!("/admin/queue/{id}"), &decision);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // One more low-confidence prediction, left in the queue.
    let r = post_json_with_key(&tcp, "/predict", &user_key, &json!({"text": "blorp snarf"}));
    assert!(r.json()["low_confidence"] == true, "{}", r.text());

    let out = artifacts_dir();
    let report = run_driver(
        "dashboard.mjs",
        &[
            "--url",
            &format!("http://127.0.0.1:{}/", daemon.port),
            "--admin-key",
            &admin_key,
            "--user-key",
            &user_key,
            "--out",
            out.to_str().unwrap(),
        ],
        &daemon,
    );
    println!("dashboard report: {report}");

    // The page showed this daemon's versions and figures.
    let versions: Vec<(String, String)> = report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("v1", "promoted"),
            ("v2", "promoted"),
            ("v3", "promoted"),
            ("v4", "rejected")
        ]
        .map(|(v, s)| (v.to_string(), s.to_string()))
    );
    let metrics = get(&socket, "/metrics").json();
    let shown = &report["shownTotals"];
    assert_eq!(shown["total_feedback"], metrics["total_feedback"]);
    assert_eq!(
        shown["alerts_unacknowledged"],
        metrics["alerts_unacknowledged"]
    );
    assert_eq!(metrics["alerts_unacknowledged"], 1);
    // The driver's own prediction is the only one since it read the page.
    assert_eq!(
        shown["total_predictions"].as_u64().unwrap() + 1,
        metrics["total_predictions"].as_u64().unwrap()
    );
    assert!(
        report["lowConfidenceRows"].as_u64().unwrap() >= 1,
        "{report}"
    );
    assert_eq!(report["alertRows"], 1);
    // Live accuracy from the audited predictions, with its interval.
    let live_accuracy = &metrics["live_accuracy"];
    assert!(live_accuracy["audited"].as_u64().unwrap() >= 3, "{metrics}");
    assert_eq!(shown["live_accuracy"], live_accuracy["accuracy"]);

    // It updated without a reload, and stayed within its origin and its CSP.
    let live = &report["liveUpdate"];
    assert_eq!(live["navigations"], 0);
    assert_eq!(
        live["after"].as_u64().unwrap(),
        live["before"].as_u64().unwrap() + 1
    );
    for list in [
        "cspViolations",
        "consoleErrors",
        "pageErrors",
        "foreignRequests",
    ] {
        assert_eq!(report[list], json!([]), "{list}: {report}");
    }
    // A user's view has no other user's text.
    assert_eq!(report["userView"]["view"], "user");
    assert_eq!(report["userView"]["leaked"], json!([]));
    assert!(report["userView"]["textsChecked"].as_u64().unwrap() >= 1);

    println!(
        "dashboard: {} bytes on first load in {} requests, first chart at {:.0} ms",
        report["bytes"],
        report["requests"],
        report["timeToFirstChartMs"].as_f64().unwrap()
    );
    for shot in report["screenshots"].as_array().unwrap() {
        assert_png(shot);
    }
}
