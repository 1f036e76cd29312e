//! The real hf-hub client against the test Hub.

use super::test_server::{Access, RepoKind, TestHub};
use super::{HubClient, HubConfig, HubError, BASE_DATA_PATTERNS};
use crate::{locate_splits, read_many, MalformedPolicy, ReadOptions};
use std::time::Duration;

/// A client for `hub`, caching under `cache`, retrying quickly (tests wait for nothing).
fn client(url: &str, cache: &std::path::Path, adjust: impl FnOnce(&mut HubConfig)) -> HubClient {
    let mut config = HubConfig {
        endpoint: url.to_string(),
        cache_dir: Some(cache.to_path_buf()),
        max_attempts: 1,
        base_delay: Duration::from_millis(10),
        ..HubConfig::default()
    };
    adjust(&mut config);
    HubClient::new(config).unwrap()
}

fn strict() -> ReadOptions {
    ReadOptions {
        format: None,
        malformed: MalformedPolicy::Fail,
    }
}

#[test]
fn fetches_the_sst2_parquet_splits_into_the_cache() {
    let hub = TestHub::start();
    let cache = tempfile::tempdir().unwrap();
    let client = client(&hub.url(), cache.path(), |_| {});
    let base = client.fetch_base_dataset().unwrap();
    assert_eq!(base.repo, "stanfordnlp/sst2");
    assert!(!base.offline);
    assert_eq!(
        base.files,
        [
            "data/train-00000-of-00001.parquet",
            "data/validation-00000-of-00001.parquet"
        ]
    );
    assert!(base.dir.starts_with(cache.path()), "{}", base.dir.display());
    assert_eq!(base.commit.len(), 40);
    // The downloaded files are the Hub's bytes, and the Parquet reader takes the folder.
    let hub_train = hub
        .file(RepoKind::Dataset, "stanfordnlp/sst2", &base.files[0])
        .unwrap();
    assert_eq!(
        std::fs::read(base.dir.join(&base.files[0])).unwrap(),
        hub_train
    );
    let splits = locate_splits(&base.dir).unwrap();
    assert_eq!(
        read_many(&splits.train, &strict()).unwrap().examples.len(),
        67_349
    );
    assert_eq!(
        read_many(&splits.validation, &strict())
            .unwrap()
            .examples
            .len(),
        872
    );

    // A second fetch finds everything cached at the same commit.
    let again = client.fetch_base_dataset().unwrap();
    assert_eq!(again.dir, base.dir);
    assert_eq!(again.files, base.files);
}

#[test]
fn uses_the_cached_copy_when_the_hub_is_down() {
    let hub = TestHub::start();
    let cache = tempfile::tempdir().unwrap();
    let url = hub.url();
    let first = client(&url, cache.path(), |_| {})
        .fetch_base_dataset()
        .unwrap();
    drop(hub);
    let offline = client(&url, cache.path(), |_| {})
        .fetch_base_dataset()
        .unwrap();
    assert!(offline.offline);
    assert_eq!(offline.dir, first.dir);
}

#[test]
fn a_missing_repository_is_a_clear_404() {
    let hub = TestHub::start();
    let cache = tempfile::tempdir().unwrap();
    let client = client(&hub.url(), cache.path(), |c| {
        c.base_dataset = "nobody/no-such-data".into();
    });
    let error = client.fetch_base_dataset().unwrap_err();
    assert!(matches!(error, HubError::RepoNotFound { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("nobody/no-such-data"), "{message}");
    assert!(message.contains("404"), "{message}");
}

#[test]
fn a_repository_without_the_splits_says_which_files_it_wanted() {
    let hub = TestHub::start();
    hub.create_repo(RepoKind::Dataset, "someone/empty");
    let cache = tempfile::tempdir().unwrap();
    let client = client(&hub.url(), cache.path(), |c| {
        c.base_dataset = "someone/empty".into();
    });
    let error = client.fetch_base_dataset().unwrap_err();
    assert!(matches!(error, HubError::MissingFiles { .. }), "{error:?}");
    assert!(error.to_string().contains(BASE_DATA_PATTERNS[0]), "{error}");
}

#[test]
fn a_token_protected_hub_answers_401_with_advice() {
    let access = Access {
        token: Some("hf_right".into()),
        read_only_token: None,
    };
    let hub = TestHub::start_with(Some(&super::test_server::shared_hub_dir()), access);
    let cache = tempfile::tempdir().unwrap();

    let error = client(&hub.url(), cache.path(), |_| {})
        .fetch_base_dataset()
        .unwrap_err();
    assert!(
        matches!(
            error,
            HubError::Unauthorized {
                token_set: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("export HF_TOKEN"), "{error}");

    let error = client(&hub.url(), cache.path(), |c| {
        c.token = Some("hf_wrong".into())
    })
    .fetch_base_dataset()
    .unwrap_err();
    assert!(
        matches!(
            error,
            HubError::Unauthorized {
                token_set: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("not accepted"), "{error}");

    let ok = client(&hub.url(), cache.path(), |c| {
        c.token = Some("hf_right".into())
    })
    .fetch_base_dataset()
    .unwrap();
    assert_eq!(ok.files.len(), 2);
}

#[test]
fn a_hub_that_is_down_is_unreachable_after_the_retries() {
    let hub = TestHub::start();
    let url = hub.url();
    drop(hub);
    let cache = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let error = client(&url, cache.path(), |c| c.max_attempts = 2)
        .fetch_base_dataset()
        .unwrap_err();
    assert!(
        matches!(error, HubError::Unreachable { attempts: 3, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains("cannot reach"),
        "{message}"
    );
    // Backoff, not a hot loop: two retries at 10 ms base wait at least ~20 ms.
    assert!(started.elapsed() >= Duration::from_millis(10));
}

#[test]
fn commits_several_files_at_once_and_reads_them_back() {
    let hub = TestHub::start();
    hub.create_repo(RepoKind::Model, "acme/sentiment");
    let cache = tempfile::tempdir().unwrap();
    let client = client(&hub.url(), cache.path(), |c| {
        c.token = Some("hf_any".into())
    });
    let files = vec![
        ("versions/v1/model.bin".to_string(), vec![1u8, 2, 3, 0, 255]),
        ("registry.json".to_string(), b"{\"current\": 1}".to_vec()),
    ];
    let commit = client
        .commit_model_files("acme/sentiment", files, "add v1")
        .unwrap();
    assert_eq!(commit.len(), 40);
    assert_eq!(
        hub.file(RepoKind::Model, "acme/sentiment", "versions/v1/model.bin"),
        Some(vec![1u8, 2, 3, 0, 255])
    );
    let path = client
        .download_model_file("acme/sentiment", "registry.json")
        .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), b"{\"current\": 1}");
}

#[test]
fn writes_need_a_token_with_write_access() {
    let access = Access {
        token: None,
        read_only_token: Some("hf_read".into()),
    };
    let hub = TestHub::start_with(None, access);
    hub.create_repo(RepoKind::Model, "acme/sentiment");
    let cache = tempfile::tempdir().unwrap();
    let files = || vec![("a.txt".to_string(), b"a".to_vec())];

    let error = client(&hub.url(), cache.path(), |_| {})
        .commit_model_files("acme/sentiment", files(), "x")
        .unwrap_err();
    assert!(matches!(error, HubError::MissingToken { .. }), "{error:?}");
    assert!(error.to_string().contains("HF_TOKEN"), "{error}");

    let error = client(&hub.url(), cache.path(), |c| {
        c.token = Some("hf_read".into())
    })
    .commit_model_files("acme/sentiment", files(), "x")
    .unwrap_err();
    assert!(matches!(error, HubError::Forbidden { .. }), "{error:?}");
    assert!(error.to_string().contains("403"), "{error}");

    let error = client(&hub.url(), cache.path(), |c| {
        c.token = Some("hf_any".into())
    })
    .commit_model_files("acme/missing", files(), "x")
    .unwrap_err();
    assert!(matches!(error, HubError::RepoNotFound { .. }), "{error:?}");
}
