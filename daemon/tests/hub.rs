//! The daemon and the Hugging Face Hub, end to end: the real `sentimentd` binary and
//! its real hf-hub client against the Hub-compatible test server.

mod common;

use common::{bin, get, hermetic, shared_data, short_tempdir, Daemon};
use sentiment_data::hub::test_server::{shared_hub_dir, Access, RepoKind, TestHub};
use std::process::{Command, Output};

/// `sentimentd ARGS` with `env`, hermetic otherwise, to completion.
fn sentimentd(args: &[&str], env: &[(&str, &str)]) -> Output {
    hermetic(Command::new(bin()))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("sentimentd runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn data_fetch_downloads_the_sst2_parquet_files_into_the_data_dir() {
    let hub = TestHub::start();
    let dir = short_tempdir();
    let url = hub.url();
    let out = sentimentd(
        &[
            "data",
            "fetch",
            "--data-dir",
            dir.to_str().unwrap(),
            "--json",
        ],
        &[("HF_ENDPOINT", &url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["repo"], "stanfordnlp/sst2");
    let folder = std::path::PathBuf::from(result["dir"].as_str().unwrap());
    assert!(
        folder.starts_with(dir.join("hub-cache")),
        "{}",
        folder.display()
    );
    for file in [
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
    ] {
        let shared = std::fs::read(
            shared_hub_dir()
                .join("datasets/stanfordnlp/sst2")
                .join(file),
        )
        .unwrap();
        assert_eq!(std::fs::read(folder.join(file)).unwrap(), shared, "{file}");
    }

    // The human form says where the files are.
    let out = sentimentd(
        &["data", "fetch", "--data-dir", dir.to_str().unwrap()],
        &[("HF_ENDPOINT", &url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(folder.to_str().unwrap()),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What CI on GitHub does instead of having ../shared/data: `data fetch --shared-dir`
/// lays SST-2 out as the shared directory holds it, byte for byte, marked partial.
#[test]
fn data_fetch_writes_a_partial_shared_data_directory_the_tests_can_read() {
    let hub = TestHub::start();
    let dir = short_tempdir();
    let shared = dir.join("shared");
    let url = hub.url();
    let out = sentimentd(
        &[
            "data",
            "fetch",
            "--data-dir",
            dir.join("data").to_str().unwrap(),
            "--shared-dir",
            shared.to_str().unwrap(),
        ],
        &[("HF_ENDPOINT", &url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in [
        "sst2/train.tsv",
        "sst2/validation.tsv",
        "hub/datasets/stanfordnlp/sst2/data/train-00000-of-00001.parquet",
        "hub/datasets/stanfordnlp/sst2/data/validation-00000-of-00001.parquet",
    ] {
        assert_eq!(
            std::fs::read(shared.join(file)).unwrap(),
            std::fs::read(shared_data().join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(shared.join("PARTIAL").is_file());
    assert!(!shared.join("domains").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fresh_daemon_bootstraps_from_the_hub_as_well_as_from_the_tsv_files() {
    let hub = TestHub::start();
    let url = hub.url();
    let from_hub = Daemon::start_in_env(short_tempdir(), &[], &[("HF_ENDPOINT", &url)]);
    let hub_info = get(&from_hub.tcp(), "/model_info").json();
    let tsv = shared_data().join("sst2");
    let from_tsv = Daemon::start_in(short_tempdir(), &["--base-data", tsv.to_str().unwrap()]);
    let tsv_info = get(&from_tsv.tcp(), "/model_info").json();

    let accuracy =
        |info: &serde_json::Value| info["metrics"]["base_test"]["accuracy"].as_f64().unwrap();
    let (hub_accuracy, tsv_accuracy) = (accuracy(&hub_info), accuracy(&tsv_info));
    assert!(
        hub_accuracy > 0.78,
        "accuracy from the Hub's SST-2: {hub_accuracy}"
    );
    // The same 67,349 + 872 examples, so the same model and the same score.
    assert!(
        (hub_accuracy - tsv_accuracy).abs() < 1e-9,
        "Hub {hub_accuracy} vs TSV {tsv_accuracy}"
    );
    // The version records where its data came from.
    let record = std::fs::read_to_string(from_hub.data_dir.join("models/v1/version.json")).unwrap();
    assert!(record.contains("stanfordnlp/sst2@"), "{record}");
    assert!(record.contains("hub-cache"), "{record}");
}

#[test]
fn without_base_data_an_unreachable_hub_names_both_ways_out() {
    let hub = TestHub::start();
    let url = hub.url();
    drop(hub);
    let dir = short_tempdir();
    let out = sentimentd(
        &[
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[("HF_ENDPOINT", &url), ("SENTIMENT_HUB_RETRIES", "1")],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    for wanted in [
        "cannot reach",
        &url,
        "--base-data",
        "HF_ENDPOINT",
        "stanfordnlp/sst2",
    ] {
        assert!(
            stderr.contains(wanted),
            "{wanted:?} missing from:\n{stderr}"
        );
    }
    // Offline with local data still works.
    let tsv = shared_data().join("sst2");
    let daemon = Daemon::start_in_env(
        dir,
        &["--base-data", tsv.to_str().unwrap()],
        &[("HF_ENDPOINT", &url)],
    );
    assert_eq!(get(&daemon.tcp(), "/health").status, 200);
}

#[test]
fn a_missing_repository_and_a_missing_token_are_explained() {
    let access = Access {
        token: Some("hf_test_token".into()),
        read_only_token: None,
    };
    let hub = TestHub::start_with(Some(&shared_hub_dir()), access);
    let url = hub.url();
    let dir = short_tempdir();
    let data_dir = dir.to_str().unwrap();

    let out = sentimentd(
        &["data", "fetch", "--data-dir", data_dir],
        &[("HF_ENDPOINT", &url)],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("export HF_TOKEN"),
        "{stderr}"
    );

    let auth = [("HF_ENDPOINT", url.as_str()), ("HF_TOKEN", "hf_test_token")];
    let out = sentimentd(
        &[
            "data",
            "fetch",
            "--data-dir",
            data_dir,
            "--repo",
            "nobody/nothing",
        ],
        &auth,
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("404") && stderr.contains("nobody/nothing"),
        "{stderr}"
    );

    let out = sentimentd(&["data", "fetch", "--data-dir", data_dir], &auth);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn push_sends_the_current_version_in_one_commit_and_pull_brings_it_back() {
    let hub = TestHub::start_with(None, Access::default());
    hub.create_repo(RepoKind::Model, "acme/sentiment");
    let url = hub.url();
    let daemon = Daemon::start(&[]);
    let data_dir = daemon.data_dir.to_str().unwrap();

    // No token: a clear error before any request.
    let out = sentimentd(
        &["push", "--data-dir", data_dir, "--repo", "acme/sentiment"],
        &[("HF_ENDPOINT", &url)],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("HF_TOKEN") && stderr.contains("token"),
        "{stderr}"
    );

    let auth = [("HF_ENDPOINT", url.as_str()), ("HF_TOKEN", "hf_write")];
    let out = sentimentd(
        &[
            "push",
            "--data-dir",
            data_dir,
            "--repo",
            "acme/sentiment",
            "--json",
        ],
        &auth,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["version"], "v1");
    assert_eq!(report["current"], "v1");
    let local_model = std::fs::read(daemon.data_dir.join("models/v1/model.bin")).unwrap();
    assert_eq!(
        hub.file(RepoKind::Model, "acme/sentiment", "versions/v1/model.bin"),
        Some(local_model.clone())
    );
    let index: serde_json::Value = serde_json::from_slice(
        &hub.file(RepoKind::Model, "acme/sentiment", "registry.json")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(index["current"], 1);
    assert!(
        index["versions"]["v1"]["base_test_accuracy"]
            .as_f64()
            .unwrap()
            > 0.7
    );
    assert!(hub
        .file(
            RepoKind::Model,
            "acme/sentiment",
            "versions/v1/metadata.json"
        )
        .is_some());

    // A fresh replica pulls the current version and serves it.
    let replica = short_tempdir();
    let out = sentimentd(
        &[
            "pull",
            "--data-dir",
            replica.to_str().unwrap(),
            "--repo",
            "acme/sentiment",
        ],
        &auth,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(replica.join("models/v1/model.bin")).unwrap(),
        local_model
    );
    assert_eq!(
        std::fs::read_to_string(replica.join("models/CURRENT"))
            .unwrap()
            .trim(),
        "v1"
    );
    let served = Daemon::start_in_env(replica, &[], &[("HF_ENDPOINT", &url)]);
    assert_eq!(get(&served.tcp(), "/model_info").json()["version"], "v1");
}
