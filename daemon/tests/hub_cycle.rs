//! The many-machine cycle through the Hub, end to end: daemons upload feedback
//! shards, `retrain --hub` (as the weekly workflow runs it) trains and pushes a new
//! version, and replicas poll and serve it; and what happens when the Hub is down or
//! serves something broken. Real `sentimentd` processes, the real hf-hub client, the
//! Hub-compatible test server.

mod common;

use common::*;
use sentiment_data::hub::test_server::{Access, RepoKind, TestHub};
use sentiment_data::{read_examples, write_examples, Format, ReadOptions};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MODEL_REPO: &str = "acme/sentiment";
const DATASET_REPO: &str = "acme/feedback";
const BASE_REPO: &str = "acme/sst2-small";
const TOKEN: &str = "hf_test_write";

/// A Hub with an empty model repo, an empty dataset repo for feedback, and a small
/// base dataset in the Hub's Parquet layout (the small SST-2 sample), so that
/// bootstraps and the retrain take seconds.
fn test_hub() -> TestHub {
    let hub = TestHub::start_with(None, Access::default());
    hub.create_repo(RepoKind::Model, MODEL_REPO);
    hub.create_repo(RepoKind::Dataset, DATASET_REPO);
    let data = hub.root().join("datasets").join(BASE_REPO).join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (split, file) in [("train", "train.tsv"), ("validation", "validation.tsv")] {
        write_parquet(
            &small_base_data().join(file),
            &data.join(format!("{split}-00000-of-00001.parquet")),
        );
    }
    hub
}

/// SST-2 TSV (`sentence<TAB>label`) to Parquet in the Hub's layout.
fn write_parquet(tsv: &Path, out: &Path) {
    let data = read_examples(tsv, &ReadOptions::default()).unwrap();
    write_examples(out, Format::Parquet, &data.examples).unwrap();
}

/// A config file with the Hub section, short intervals and no cron retrain.
fn config_file(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.with_extension("toml");
    std::fs::write(
        &path,
        format!(
            // The nodes take anonymous feedback in a made-up vocabulary; this test is
            // about the Hub, not about holding contradictions for review.
            "[feedback]\nhold_contradicting_confidence = \"off\"\n\
             [retrain]\nschedule = \"off\"\n[hub]\nmodel_repo = \"{MODEL_REPO}\"\n\
             dataset_repo = \"{DATASET_REPO}\"\nbase_dataset = \"{BASE_REPO}\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn hub_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HF_ENDPOINT", url.to_string()),
        ("HF_TOKEN", TOKEN.to_string()),
        // Fail fast when the Hub is down: the next interval retries anyway.
        ("SENTIMENT_HUB_RETRIES", "0".to_string()),
    ]
}

fn start_node(url: &str, node: &str, dir: PathBuf, intervals: &str) -> Daemon {
    let config = config_file(&dir, intervals);
    let env = hub_env(url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Daemon::start_in_env(
        dir,
        &["--config", config.to_str().unwrap(), "--node-id", node],
        &env,
    )
}

fn sentimentd(args: &[&str], env: &[(&str, String)]) -> Output {
    hermetic(Command::new(bin()))
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("sentimentd runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The shards on the Hub for `node`, as (path, data rows).
fn shards(hub: &TestHub, node: &str) -> Vec<(String, usize)> {
    let dir = hub
        .root()
        .join("datasets")
        .join(DATASET_REPO)
        .join("feedback")
        .join(node);
    let mut out: Vec<(String, usize)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| {
                    let path = e.unwrap().path();
                    let rows = csv::Reader::from_path(&path).unwrap().records().count();
                    (
                        path.file_name().unwrap().to_string_lossy().into_owned(),
                        rows,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn version(daemon: &Daemon) -> String {
    get(&daemon.tcp(), "/model_info").json()["version"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What one load client saw: (requests that succeeded, failures, versions served).
type ClientTally = (usize, Vec<String>, Vec<String>);

/// Clients hitting every daemon for the whole test.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<ClientTally>>,
}

impl Load {
    fn start(targets: Vec<Target>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = targets
            .into_iter()
            .map(|t| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let (mut ok, mut failures, mut versions) =
                        (0, Vec::new(), Vec::<String>::new());
                    while !stop.load(Ordering::Relaxed) {
                        match try_request(
                            &t,
                            "POST",
                            "/predict",
                            &[("Content-Type", "application/json")],
                            br#"{"text": "a film"}"#,
                        ) {
                            Ok(r) if r.status == 200 => {
                                ok += 1;
                                let v = r.json()["model_version"].as_str().unwrap().to_string();
                                if versions.last() != Some(&v) {
                                    versions.push(v);
                                }
                            }
                            Ok(r) => failures.push(format!("{}: {}", r.status, r.text())),
                            Err(e) => failures.push(e.to_string()),
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    (ok, failures, versions)
                })
            })
            .collect();
        Load { stop, threads }
    }

    /// Stops, and returns the versions each client saw in order, after checking
    /// that no request failed.
    fn finish(self) -> Vec<Vec<String>> {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|t| {
                let (ok, failures, versions) = t.join().unwrap();
                assert!(failures.is_empty(), "failed requests: {failures:?}");
                assert!(ok > 0);
                versions
            })
            .collect()
    }
}

#[test]
fn the_weekly_cycle_feedback_shards_retrain_on_the_hub_and_replicas_follow() {
    let hub = test_hub();
    let url = hub.url();
    let env = hub_env(&url);
    let intervals = "poll_interval = 1\nshard_interval = 1\n";

    // Node A bootstraps v1 from the Hub's base dataset and publishes it.
    let a = start_node(&url, "node-a", short_tempdir(), intervals);
    let out = sentimentd(
        &[
            "push",
            "--data-dir",
            a.data_dir.to_str().unwrap(),
            "--repo",
            MODEL_REPO,
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Node B starts from the Hub's current version.
    let b_dir = short_tempdir();
    let out = sentimentd(
        &[
            "pull",
            "--data-dir",
            b_dir.to_str().unwrap(),
            "--repo",
            MODEL_REPO,
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let b = start_node(&url, "node-b", b_dir, intervals);
    assert_eq!((version(&a), version(&b)), ("v1".into(), "v1".into()));

    let load = Load::start(vec![a.tcp(), b.tcp()]);

    // Both take feedback; each uploads it as shards of its own within an interval.
    send_learnable_feedback_from(&a.tcp(), 0, 120);
    send_learnable_feedback_from(&b.tcp(), 120, 120);
    wait_until("both nodes' shards", Duration::from_secs(30), || {
        let rows = |node| shards(&hub, node).iter().map(|s| s.1).sum::<usize>();
        rows("node-a") == 120 && rows("node-b") == 120
    });
    for (name, _) in shards(&hub, "node-a") {
        assert!(
            name.ends_with("Z.csv") && name.len() == "20261129T030000.000Z.csv".len(),
            "{name}"
        );
    }

    // The weekly job: an empty runner directory, the token from the secrets.
    let runner = tempfile::tempdir().unwrap();
    let summary = runner.path().join("summary.md");
    let mut job_env = env.clone();
    job_env.push(("GITHUB_STEP_SUMMARY", summary.to_str().unwrap().to_string()));
    let job_config = config_file(&runner.path().join("hub"), "");
    let out = sentimentd(
        &[
            "retrain",
            "--hub",
            "--config",
            job_config.to_str().unwrap(),
            "--data-dir",
            runner.path().join("sentimentd").to_str().unwrap(),
        ],
        &job_env,
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains("240 feedback rows from the shards"),
        "{stderr}"
    );
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(table.contains("## Retrain: v2 promoted"), "{table}");
    assert!(table.contains("| base test (reference v1 at "), "{table}");
    assert!(table.contains("| new feedback, cross-fitted |"), "{table}");
    let index: serde_json::Value = serde_json::from_slice(
        &hub.file(RepoKind::Model, MODEL_REPO, "registry.json")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(index["current"], 2, "{index}");

    // Both replicas serve v2 within a poll interval (plus the download), without a
    // failed request on the way.
    let pushed = Instant::now();
    wait_until("both daemons on v2", Duration::from_secs(15), || {
        version(&a) == "v2" && version(&b) == "v2"
    });
    let took = pushed.elapsed();
    // Let every load client make a request after the switch: one that was asleep
    // between requests when the check above passed would otherwise stop having seen
    // only v1 (this failed once in ten runs).
    std::thread::sleep(Duration::from_millis(200));
    let seen = load.finish();
    for versions in &seen {
        assert_eq!(versions, &["v1", "v2"], "{seen:?}");
    }
    // (1 s poll interval; the rest is the download and load on a shared test machine.)
    eprintln!("both replicas served v2 {took:?} after the push");
    // The Hub's numbers and bytes, in each data directory.
    let hub_v2 = hub
        .file(RepoKind::Model, MODEL_REPO, "versions/v2/model.bin")
        .unwrap();
    for node in [&a, &b] {
        assert_eq!(
            std::fs::read(node.data_dir.join("models/v2/model.bin")).unwrap(),
            hub_v2
        );
    }

    // The next week with no new feedback: not promoted (exit 3), which the workflow
    // treats as success.
    let out = sentimentd(
        &[
            "retrain",
            "--hub",
            "--config",
            job_config.to_str().unwrap(),
            "--data-dir",
            tempfile::tempdir().unwrap().path().to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("nothing to do"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn feedback_taken_while_the_hub_is_down_is_uploaded_once_it_is_back() {
    let mut hub = test_hub();
    let url = hub.url();
    let mut node = start_node(
        &url,
        "node-a",
        short_tempdir(),
        "poll_interval = 0\nshard_interval = 1\n",
    );
    hub.stop();
    send_learnable_feedback_from(&node.tcp(), 0, 30);
    // Several intervals pass with the Hub down: the uploads fail, the node serves on.
    wait_until("a failed upload", Duration::from_secs(10), || {
        node.logs().contains("feedback upload failed")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(get(&node.tcp(), "/health").status, 200);
    assert!(shards(&hub, "node-a").is_empty());
    let logs = node.logs();
    let failed_path = logs
        .split("cannot upload the feedback shard feedback/node-a/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no failed shard in the log:\n{logs}"))
        .to_string();
    hub.restart();
    // Everything goes up once, and the shard that failed went up under the same name
    // (a retry re-sends the same file, it does not make a second one).
    wait_until("the pending feedback", Duration::from_secs(20), || {
        shards(&hub, "node-a").iter().map(|s| s.1).sum::<usize>() == 30
    });
    let names: Vec<String> = shards(&hub, "node-a").into_iter().map(|s| s.0).collect();
    assert!(
        names.contains(&failed_path),
        "{failed_path} not in {names:?}"
    );

    // With uploads only on shutdown, feedback goes up when the daemon stops.
    node.terminate();
    let dir = std::mem::take(&mut node.data_dir);
    drop(node);
    let mut node = start_node(
        &url,
        "node-a",
        dir,
        "poll_interval = 0\nshard_interval = 0\n",
    );
    send_learnable_feedback_from(&node.tcp(), 30, 5);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(shards(&hub, "node-a").len(), names.len());
    node.terminate();
    let after = shards(&hub, "node-a");
    assert_eq!(after.len(), names.len() + 1, "{after:?}");
    assert_eq!(after.iter().map(|s| s.1).sum::<usize>(), 35);
}

#[test]
fn a_replica_keeps_serving_when_the_hub_is_down_or_its_model_is_corrupt() {
    let mut hub = test_hub();
    let url = hub.url();
    let env = hub_env(&url);
    let a = start_node(
        &url,
        "node-a",
        short_tempdir(),
        "poll_interval = 1\nshard_interval = 0\n",
    );
    let out = sentimentd(
        &[
            "push",
            "--data-dir",
            a.data_dir.to_str().unwrap(),
            "--repo",
            MODEL_REPO,
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let socket = a.socket();
    let poll = |target: &Target| {
        let r = request(target, "POST", "/admin/hub/poll", &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    assert_eq!(poll(&socket)["outcome"], "unchanged");
    let load = Load::start(vec![a.tcp()]);

    // The Hub is down: polls fail, serving goes on.
    hub.stop();
    let report = poll(&socket);
    assert_eq!(report["outcome"], "failed", "{report}");
    assert!(
        report["message"].as_str().unwrap().contains("cannot reach"),
        "{report}"
    );
    assert_eq!(report["version"], "v1");
    hub.restart();

    // Someone pushes an index whose current version is a corrupt artifact: refused.
    let mut model = std::fs::read(a.data_dir.join("models/v1/model.bin")).unwrap();
    let last = model.len() - 1;
    model[last] ^= 0xff;
    let index: serde_json::Value = serde_json::from_slice(
        &hub.file(RepoKind::Model, MODEL_REPO, "registry.json")
            .unwrap(),
    )
    .unwrap();
    let mut v2 = index["versions"]["v1"].clone();
    v2["version"] = json!(2);
    v2["model"] = json!("versions/v2/model.bin");
    v2["metadata"] = json!("versions/v1/metadata.json");
    let mut broken = index.clone();
    broken["versions"]["v2"] = v2;
    broken["current"] = json!(2);
    // Pushed as a real commit, through the real client.
    let cache = tempfile::tempdir().unwrap();
    let pusher = sentiment_data::hub::HubClient::new(sentiment_data::hub::HubConfig {
        endpoint: url.clone(),
        token: Some(TOKEN.into()),
        cache_dir: Some(cache.path().to_path_buf()),
        ..sentiment_data::hub::HubConfig::default()
    })
    .unwrap();
    pusher
        .commit_model_files(
            MODEL_REPO,
            vec![
                ("versions/v2/model.bin".into(), model),
                ("registry.json".into(), broken.to_string().into_bytes()),
            ],
            "a broken v2",
        )
        .unwrap();
    let report = poll(&socket);
    assert_eq!(report["outcome"], "failed", "{report}");
    assert_eq!(report["version"], "v1");
    let message = report["message"].as_str().unwrap();
    assert!(
        message.contains("checksum") || message.contains("corrupt"),
        "{message}"
    );
    assert!(!a.data_dir.join("models/v2").exists());
    // The timer's polls fail the same way, logged as warnings.
    wait_until("a logged poll failure", Duration::from_secs(10), || {
        a.logs().contains("polling the Hub failed")
    });
    assert_eq!(version(&a), "v1");
    let seen = load.finish();
    assert_eq!(seen, [vec!["v1".to_string()]]);

    // Over TCP without an admin key, the operator route is refused.
    let r = request(&a.tcp(), "POST", "/admin/hub/poll", &[], b"");
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.code(), "operator_only");
}

#[test]
fn a_missing_token_is_a_clear_error_before_any_work() {
    let hub = test_hub();
    let url = hub.url();
    let no_token = [("HF_ENDPOINT", url.clone())];

    // retrain --hub pushes, so it needs a token: it says so at once.
    let runner = tempfile::tempdir().unwrap();
    let config = config_file(&runner.path().join("hub"), "");
    let out = sentimentd(
        &[
            "retrain",
            "--hub",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            runner.path().join("d").to_str().unwrap(),
        ],
        &no_token,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no Hugging Face token") && stderr.contains("HF_TOKEN"),
        "{stderr}"
    );
    assert!(!runner.path().join("d/models").exists());

    // A daemon told to upload feedback refuses to start without one.
    let dir = short_tempdir();
    let config = config_file(&dir, "");
    let out = sentimentd(
        &[
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
            "--base-data",
            small_base_data().to_str().unwrap(),
        ],
        &no_token,
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("HF_TOKEN") && stderr.contains(DATASET_REPO),
        "{stderr}"
    );
}
