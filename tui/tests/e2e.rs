//! End to end: a real `sentimentd` on a temporary data dir, the console's connection
//! and state store against its socket, operator keys fed through the app, and the
//! daemon asked afterwards what it stored. Also: the console survives a daemon
//! restart and says so.
//!
//! The daemon binary: `SENTIMENTD_BIN`, else `target/release/sentimentd` of this
//! workspace, else it is built with `cargo build --release -p sentimentd`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use sentiment_tui::api::{Label, PredictRequest, PredictResponse, QueueDecision, QueueResponse};
use sentiment_tui::app::App;
use sentiment_tui::conn::{self, Client, Command as ConnCommand, Handle};
use sentiment_tui::message::Msg;
use sentiment_tui::state::{ConnState, Explain};
use tokio::sync::mpsc::UnboundedReceiver;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn daemon_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SENTIMENTD_BIN") {
        return PathBuf::from(p);
    }
    // Beside this test's own binary (target/<profile>/deps/e2e-…), wherever the
    // target directory is (CARGO_TARGET_DIR moves it).
    let built = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("sentimentd")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| workspace().join("target/release/sentimentd"));
    if !built.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "sentimentd"])
            .current_dir(workspace())
            .status()
            .expect("run cargo to build the daemon");
        assert!(
            status.success(),
            "building sentimentd failed; set SENTIMENTD_BIN to a built daemon"
        );
    }
    built
}

fn base_data() -> PathBuf {
    let shared = std::env::var_os("SENTIMENT_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data"));
    shared.join("sst2")
}

/// The daemon process; killed when the test ends, however it ends.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        // Any free loopback port: the console only uses the socket.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("daemon.log"))
            .unwrap();
        let child = Command::new(daemon_binary())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--base-data")
            .arg(base_data())
            // Nearly every prediction is "unsure", so the queue fills quickly.
            .args(["--low-confidence-threshold", "0.99"])
            .env_remove("SENTIMENT_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start sentimentd");
        Daemon { child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_ready(client: &Client, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(h) = client
            .get::<sentiment_tui::api::HealthResponse>("/health")
            .await
        {
            if h.ready {
                return;
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
            panic!("the daemon never became ready; its log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The run loop without a terminal: apply messages, forward commands, until `done`.
async fn pump(
    app: &mut App,
    rx: &mut UnboundedReceiver<Msg>,
    handle: &Handle,
    what: &str,
    done: impl Fn(&App) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for cmd in app.outbox.drain(..) {
            handle.send(cmd);
        }
        if done(app) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out waiting for: {what}");
        if let Ok(Some(msg)) =
            tokio::time::timeout(left.min(Duration::from_millis(200)), rx.recv()).await
        {
            app.now_ms = now_ms();
            app.apply(msg);
        }
    }
}

fn now_ms() -> i64 {
    sentiment_tui::run::now_ms()
}

fn key(app: &mut App, c: char) {
    app.on_key(KeyEvent::from(KeyCode::Char(c)));
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(140, 40)).unwrap();
    t.draw(|f| sentiment_tui::view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    buf.content
        .chunks(140)
        .map(|r| r.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn serving(client: &Client) -> String {
    let info: sentiment_tui::api::ModelInfoResponse = client.get("/model_info").await.unwrap();
    info.version
}

/// Models tab: `t` retrains (the labels above are its new data), then `p`/`b` with
/// `y` promote and roll back, checked against what the daemon serves.
async fn retrain_promote_and_roll_back(
    app: &mut App,
    rx: &mut UnboundedReceiver<Msg>,
    handle: &Handle,
    client: &Client,
) {
    key(app, '3');
    key(app, 't');
    pump(app, rx, handle, "retrain finished", |a| {
        a.store.retrain.last_outcome.is_some()
            && !a.store.retrain.running
            && a.store.models.len() >= 2
    })
    .await;
    assert!(
        app.store.retrain.log.len() >= 2,
        "progress was streamed: {:?}",
        app.store.retrain.log
    );
    let models = screen(app);
    assert!(
        models.contains("v2") && models.contains("retrain progress"),
        "{models}"
    );

    // Newest first: row 0 is v2, row 1 is v1. Serve the one not serving, then the other.
    let v2_current = app
        .store
        .models
        .iter()
        .any(|m| m.version == "v2" && m.current);
    let (first, first_keys, second, second_keys) = if v2_current {
        ("v1", ['j', 'b', 'y'], "v2", ['k', 'p', 'y'])
    } else {
        ("v2", ['g', 'p', 'y'], "v1", ['j', 'b', 'y'])
    };
    for (want, keys) in [(first, first_keys), (second, second_keys)] {
        for c in keys {
            key(app, c);
        }
        pump(app, rx, handle, "model changed", |a| {
            a.store.current_version.as_deref() == Some(want)
        })
        .await;
        assert_eq!(serving(client).await, want);
    }
}

const TEXTS: [&str; 8] = [
    "meh",
    "so so",
    "it was okay i guess",
    "the plot was fine but the acting",
    "a film about a man and his dog",
    "not the worst thing i have seen this year",
    "some scenes work , others do not",
    "long , and then it ends",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_labels_the_queue_on_a_real_daemon_and_survives_a_restart() {
    let dir = tempfile::Builder::new()
        .prefix("stui")
        .tempdir_in("/tmp")
        .unwrap();
    let socket = dir.path().join("run/sentimentd.sock");
    let mut daemon = Daemon::start(dir.path());
    let client = Client::new(&socket);
    wait_ready(&client, dir.path()).await;

    // The console: connection tasks feeding an app, as `run` wires them.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = conn::spawn(Client::new(&socket), tx);
    let mut app = App::new(socket.display().to_string(), now_ms());
    pump(&mut app, &mut rx, &handle, "connected", |a| {
        a.store.is_connected()
    })
    .await;
    pump(&mut app, &mut rx, &handle, "first snapshots", |a| {
        !a.store.models.is_empty() && a.store.queue.loaded
    })
    .await;
    assert_eq!(app.store.current_version.as_deref(), Some("v1"));

    // Traffic from a caller; the console sees it stream in and the queue fill.
    for t in TEXTS {
        let _: PredictResponse = client
            .post(
                "/predict",
                &PredictRequest {
                    text: t.to_string(),
                },
            )
            .await
            .unwrap();
    }
    pump(&mut app, &mut rx, &handle, "predictions streamed", |a| {
        a.store.predictions.len() >= TEXTS.len()
    })
    .await;
    pump(&mut app, &mut rx, &handle, "queue filled", |a| {
        a.visible_queue().iter().filter(|i| i.is_open()).count() >= 5
    })
    .await;
    let live = screen(&app);
    assert!(live.contains("● connected"), "{live}");
    assert!(live.contains("long , and then it ends"), "{live}");

    // Explain the newest prediction through the same socket.
    key(&mut app, 'e');
    pump(&mut app, &mut rx, &handle, "explanation", |a| {
        matches!(
            a.store.explanations.get("long , and then it ends"),
            Some(Explain::Ready(_))
        )
    })
    .await;
    assert!(screen(&app).contains("towards negative"));
    let explained_id = app.store.predictions[0].id.clone();
    key(&mut app, 'f');

    // The operator's review: five keys, five different actions.
    key(&mut app, '2');
    let first_queue_cmd = app.outbox.len();
    for c in ['p', 'n', 'a', 'x', 's'] {
        key(&mut app, c);
    }
    let sent: HashMap<i64, QueueDecision> = app.outbox[first_queue_cmd..]
        .iter()
        .filter_map(|c| match c {
            ConnCommand::Queue { id, action } => Some((*id, action.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent.len(),
        5,
        "five distinct items acted on: {:?}",
        app.outbox
    );
    pump(&mut app, &mut rx, &handle, "actions confirmed", |a| {
        a.store.queue.in_flight.is_empty() && a.store.queue.done_this_session == 5
    })
    .await;

    // Ask the daemon, not the console, what it stored.
    let page: QueueResponse = client
        .get("/admin/queue?state=all&limit=1000")
        .await
        .unwrap();
    for (id, action) in &sent {
        let item = page
            .items
            .iter()
            .find(|i| i.id == *id)
            .expect("item still listed");
        let (state, label) = match action {
            QueueDecision::Label { label } => ("labelled", Some(*label)),
            QueueDecision::Accept {} => ("accepted", None),
            QueueDecision::Reject {} => ("rejected", None),
            QueueDecision::Skip {} => ("skipped", None),
        };
        assert_eq!(item.state, state, "item {id} after {action:?}");
        if let Some(l) = label {
            assert_eq!(item.label, Some(l));
        }
    }
    assert_eq!(page.counts.labelled, 2);
    assert!(sent.values().any(|a| *a
        == QueueDecision::Label {
            label: Label::Positive
        }));
    // The console's own view catches up through queue_changed events.
    pump(&mut app, &mut rx, &handle, "counts refreshed", |a| {
        a.store.queue.counts.labelled == 2
    })
    .await;
    let q = screen(&app);
    assert!(
        q.contains("labelled 2") && q.contains("accepted 1") && q.contains("rejected 1"),
        "{q}"
    );

    // Features the daemon may not have yet are states, not crashes.
    assert!(app.store.retrain.available.is_some());
    assert!(app.store.alerts_api.is_some());
    if app.store.retrain.available == Some(true) {
        retrain_promote_and_roll_back(&mut app, &mut rx, &handle, &client).await;
    } else {
        eprintln!("this daemon has no /admin/retrain: retrain, promote and rollback not exercised");
    }

    // Restart the daemon: the console says it lost it, then reconnects by itself.
    daemon.stop();
    pump(&mut app, &mut rx, &handle, "disconnect noticed", |a| {
        matches!(a.store.conn, ConnState::Disconnected { .. })
    })
    .await;
    assert!(screen(&app).contains("◌ disconnected"));
    let _ = std::fs::remove_file(&socket);
    let _daemon = Daemon::start(dir.path());
    wait_ready(&client, dir.path()).await;
    pump(&mut app, &mut rx, &handle, "reconnected", |a| {
        a.store.is_connected()
    })
    .await;
    // Events flow again on the new subscription...
    let after: PredictResponse = client
        .post(
            "/predict",
            &PredictRequest {
                text: "back again".into(),
            },
        )
        .await
        .unwrap();
    let after_id = after.prediction_id;
    pump(&mut app, &mut rx, &handle, "events after restart", |a| {
        a.store.predictions.iter().any(|p| p.id == after_id)
    })
    .await;
    // ...and the re-read snapshot kept what the daemon stored before the restart.
    assert!(app.store.predictions.iter().any(|p| p.id == explained_id));
    assert_eq!(app.store.queue.counts.labelled, 2);
    assert!(screen(&app).contains("● connected"));
}
