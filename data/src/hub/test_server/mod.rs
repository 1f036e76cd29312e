//! A Hugging Face Hub-compatible HTTP server for tests: not product code.
//!
//! It speaks the subset of the Hub API that `hf-hub` 1.x uses to read repositories,
//! download files (also as whole snapshots) and commit small files, so tests exercise
//! the real client against a local endpoint (`HF_ENDPOINT`). Repositories live in a
//! temporary directory, seeded from the shared data's `hub/` tree
//! (`hub/{models,datasets,spaces}/{owner}/{name}/...`).
//!
//! Routes covered (`{kinds}` is `models`, `datasets` or `spaces`; a model's download
//! URL has no `models/` prefix, as on the Hub):
//!
//! | route | what hf-hub calls it for |
//! |---|---|
//! | `GET /api/{kinds}/{owner}/{name}` | repository info, `exists()` |
//! | `GET /api/{kinds}/{owner}/{name}/revision/{rev}` | info at a revision: the commit sha a snapshot pins |
//! | `GET /api/{kinds}/{owner}/{name}/tree/{rev}[/{path}][?recursive=true]` | file listing (one page, no `Link` header) |
//! | `HEAD`, `GET /[{kinds}/]{owner}/{name}/resolve/{rev}/{path}` | download metadata (`ETag`, `X-Repo-Commit`, `Content-Length`, `X-Linked-Size`) and bytes (`Range` supported) |
//! | `POST /api/{kinds}/{owner}/{name}/preupload/{rev}` | upload mode per file: always `regular` (inline) |
//! | `POST /api/{kinds}/{owner}/{name}/commit/{rev}` | NDJSON commit: `header`, `file` (base64), `deletedFile`, honouring `parentCommit` |
//! | `POST /api/repos/create` | creating a repository (409 when it exists) |
//!
//! The service uses these for: base data (info, revision, tree, resolve), model
//! versions (`push`/`pull`, replicas polling `registry.json`, `retrain --hub`: info,
//! resolve, preupload, commit with `parentCommit`) and feedback shards (a commit per
//! shard on the dataset repository; `retrain --hub` lists and downloads them with a
//! snapshot of `feedback/**/*.csv`: revision, tree, resolve). `TestHub::stop` and
//! `restart` take the port down and back up for the Hub-down tests.
//!
//! Not covered: LFS/Xet uploads (`lfsFile`; preupload never asks for them), branches
//! and tags other than `main`, pagination, pull requests. Any known commit sha of a
//! repository resolves to its current files: tests do not read old revisions.
//!
//! Errors look like the Hub's: a JSON body `{"error": ...}` plus `X-Error-Code`
//! (`RepoNotFound`, `EntryNotFound`, `RevisionNotFound`) and `X-Error-Message`.

mod routes;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use store::RepoKind;

/// Who may do what. With no token configured, anyone may read and any bearer token
/// may write (a write without one is a 401), like public repositories on the Hub.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// When set, every request needs `Authorization: Bearer {token}` (else 401).
    pub token: Option<String>,
    /// When set, this token may read but its writes get a 403.
    pub read_only_token: Option<String>,
}

/// A running test Hub on 127.0.0.1 (a free port); stops when dropped.
pub struct TestHub {
    addr: SocketAddr,
    root: tempfile::TempDir,
    state: Arc<routes::Hub>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestHub {
    /// A Hub serving a copy of the shared data's `hub/` tree, open to everyone.
    pub fn start() -> TestHub {
        TestHub::start_with(Some(&shared_hub_dir()), Access::default())
    }

    /// A Hub seeded from `seed` (a `hub/`-shaped tree), or empty, with `access` rules.
    pub fn start_with(seed: Option<&Path>, access: Access) -> TestHub {
        let root = tempfile::Builder::new()
            .prefix("test-hub-")
            .tempdir()
            .expect("temporary directory for the test Hub");
        if let Some(seed) = seed {
            store::copy_tree(seed, root.path()).expect("seed the test Hub");
        }
        let state = Arc::new(routes::Hub {
            store: store::Store::new(root.path().to_path_buf()),
            access,
        });
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind the test Hub to a free port");
        let addr = listener.local_addr().expect("test Hub address");
        let mut hub = TestHub {
            addr,
            root,
            state,
            shutdown: None,
            thread: None,
        };
        hub.serve(listener);
        hub
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = self.state.clone();
        let thread = std::thread::Builder::new()
            .name("test-hub".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test Hub runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    axum::serve(listener, routes::router(state))
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .expect("test Hub server");
                });
            })
            .expect("test Hub thread");
        self.shutdown = Some(shutdown);
        self.thread = Some(thread);
    }

    /// Takes the Hub down: its port refuses connections until [`TestHub::restart`].
    /// The repositories are kept.
    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Brings a stopped Hub back on the same port with the same repositories.
    pub fn restart(&mut self) {
        if self.thread.is_some() {
            return;
        }
        let listener = std::net::TcpListener::bind(self.addr).expect("rebind the test Hub's port");
        self.serve(listener);
    }

    /// The endpoint to give hf-hub (`HF_ENDPOINT`), e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where the repositories live: `{root}/{kinds}/{owner}/{name}/...`.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The current files of a repository (for assertions), or None if it has none.
    pub fn file(&self, kind: RepoKind, repo: &str, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root().join(kind.plural()).join(repo).join(path)).ok()
    }

    /// Creates an empty repository.
    pub fn create_repo(&self, kind: RepoKind, repo: &str) {
        std::fs::create_dir_all(self.root().join(kind.plural()).join(repo)).expect("create repo");
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The shared data's `hub/` tree (`SENTIMENT_SHARED_DATA`, default `../shared/data`
/// beside the workspace).
pub fn shared_hub_dir() -> PathBuf {
    std::env::var_os("SENTIMENT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
        .join("hub")
}
