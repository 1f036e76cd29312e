//! The connection: every byte the console exchanges with the daemon goes through here,
//! on tokio tasks, so the render loop never waits on the network.
//!
//! Three tasks share one [`Client`]:
//! - `events` holds `GET /events` open, turns frames into [`Msg::Event`] and
//!   reconnects with exponential backoff, announcing each state on the channel;
//! - `refresher` re-fetches snapshots: what events marked dirty (a few times a second
//!   at most, so a burst of 100 queue events costs one fetch) plus counters every 2 s;
//! - `commands` runs operator actions the UI sends as [`Command`]s.

pub mod client;
pub mod sse;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::Method;
use serde_json::json;
use tokio::sync::mpsc;

pub use client::{ApiError, Client};

use crate::api::{
    Alert, CurrentVersion, Event, ExplainResponse, FeedbackView, PredictRequest, PromoteRequest,
    QueueDecision, QueueItemView, QueueResponse, RetrainStarted, VersionRequest,
};
use crate::message::Msg;

/// A keep-alive arrives every 15 s; three missed ones mean the stream is dead even if
/// the socket has not said so.
const STREAM_IDLE_LIMIT: Duration = Duration::from_secs(45);
const BACKOFF_START: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const POLL_EVERY: Duration = Duration::from_secs(2);
const DEBOUNCE: Duration = Duration::from_millis(250);

/// What the UI asks the connection to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    RefreshAll,
    /// Which slice of the queue the Queue view shows (`state`, `kind` query values).
    SetQueueQuery {
        state: String,
        kind: Option<String>,
    },
    Queue {
        id: i64,
        action: QueueDecision,
    },
    Explain {
        key: String,
        text: String,
    },
    Retrain,
    Promote {
        version: String,
    },
    Rollback {
        version: Option<String>,
    },
    AckAlert {
        key: String,
        id: u64,
    },
}

/// The UI's end: send commands; dropping it stops the tasks.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Command>,
}

impl Handle {
    pub fn send(&self, cmd: Command) {
        // The tasks only stop when the app is quitting; nothing to report then.
        let _ = self.tx.send(cmd);
    }
}

#[derive(Default)]
struct Dirty {
    all: AtomicBool,
    queue: AtomicBool,
    models: AtomicBool,
    alerts: AtomicBool,
    retrain: AtomicBool,
    /// Set while `/events` is up; polling a dead daemon would only repeat the error.
    connected: AtomicBool,
    queue_query: Mutex<(String, Option<String>)>,
}

/// Starts the connection tasks; messages go to `out`.
pub fn spawn(client: Client, out: mpsc::UnboundedSender<Msg>) -> Handle {
    let (tx, rx) = mpsc::unbounded_channel();
    let dirty = Arc::new(Dirty {
        queue_query: Mutex::new(("open".into(), None)),
        ..Default::default()
    });
    tokio::spawn(events(client.clone(), out.clone(), dirty.clone()));
    tokio::spawn(refresher(client.clone(), out.clone(), dirty.clone()));
    tokio::spawn(commands(client, out, dirty, rx));
    Handle { tx }
}

fn backoff(attempt: u32) -> Duration {
    BACKOFF_START
        .saturating_mul(2u32.saturating_pow(attempt.min(8)))
        .min(BACKOFF_MAX)
}

async fn events(client: Client, out: mpsc::UnboundedSender<Msg>, dirty: Arc<Dirty>) {
    let mut attempt = 0u32;
    loop {
        if out.send(Msg::Connecting { attempt }).is_err() {
            return;
        }
        let error = match stream_events(&client, &out, &dirty, &mut attempt).await {
            Ok(()) => "the daemon closed the event stream".to_owned(),
            Err(e) => e.to_string(),
        };
        dirty.connected.store(false, Ordering::Relaxed);
        if out.is_closed() {
            return;
        }
        let retry_in = backoff(attempt);
        let _ = out.send(Msg::Disconnected {
            error,
            retry_in,
            attempt,
        });
        tokio::time::sleep(retry_in).await;
        attempt = attempt.saturating_add(1);
    }
}

async fn stream_events(
    client: &Client,
    out: &mpsc::UnboundedSender<Msg>,
    dirty: &Dirty,
    attempt: &mut u32,
) -> Result<(), ApiError> {
    let resp = tokio::time::timeout(
        Duration::from_secs(5),
        client.open(Method::GET, "/events", None),
    )
    .await
    .map_err(|_| ApiError::Timeout(Duration::from_secs(5)))??;
    if !resp.status().is_success() {
        return Err(ApiError::Http(format!(
            "/events answered {}",
            resp.status()
        )));
    }
    let mut body = resp.into_body();
    let mut decoder = sse::Decoder::default();
    loop {
        let frame = match tokio::time::timeout(STREAM_IDLE_LIMIT, body.frame()).await {
            Err(_) => return Err(ApiError::Timeout(STREAM_IDLE_LIMIT)),
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => return Err(ApiError::Http(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        for f in decoder.push(chunk) {
            if f.event == "hello" {
                *attempt = 0;
                dirty.connected.store(true, Ordering::Relaxed);
                dirty.all.store(true, Ordering::Relaxed);
                out.send(Msg::Connected).map_err(|_| closed())?;
                continue;
            }
            let Some(event) = Event::decode(&f.event, &f.data) else {
                continue;
            };
            mark_dirty(dirty, &event);
            out.send(Msg::Event(event)).map_err(|_| closed())?;
        }
    }
}

fn closed() -> ApiError {
    ApiError::Http("console closing".into())
}

/// Which snapshots an event makes stale. Predictions, feedback and alerts are folded
/// in from the event itself; queue and model lists are re-read because an event
/// carries only an id.
fn mark_dirty(dirty: &Dirty, event: &Event) {
    match event {
        Event::QueueChanged { .. } | Event::Feedback { .. } => {
            dirty.queue.store(true, Ordering::Relaxed)
        }
        Event::ModelChanged { .. } | Event::RetrainFinished { .. } => {
            dirty.models.store(true, Ordering::Relaxed);
            dirty.retrain.store(true, Ordering::Relaxed);
        }
        Event::Hello {} | Event::RetrainProgress { .. } => {}
        Event::Lagged { .. } => dirty.all.store(true, Ordering::Relaxed),
        Event::Alert(_) => dirty.alerts.store(true, Ordering::Relaxed),
        Event::Prediction(p) if p.low_confidence => dirty.queue.store(true, Ordering::Relaxed),
        Event::Prediction(_) => {}
    }
}

async fn refresher(client: Client, out: mpsc::UnboundedSender<Msg>, dirty: Arc<Dirty>) {
    let mut tick = tokio::time::interval(DEBOUNCE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_poll = Duration::ZERO;
    while !out.is_closed() {
        tick.tick().await;
        since_poll += DEBOUNCE;
        if !dirty.connected.load(Ordering::Relaxed) {
            continue;
        }
        let all = dirty.all.swap(false, Ordering::Relaxed);
        if all {
            fetch_all(&client, &out).await;
        }
        if dirty.queue.swap(false, Ordering::Relaxed) || all {
            let q = dirty.queue_query.lock().unwrap().clone();
            send_result(
                &out,
                "queue",
                fetch_queue(&client, &q.0, q.1.as_deref()).await,
                Msg::Queue,
            );
        }
        if dirty.models.swap(false, Ordering::Relaxed) {
            send_result(
                &out,
                "models",
                client.get("/admin/models").await,
                Msg::Models,
            );
        }
        if dirty.alerts.swap(false, Ordering::Relaxed) {
            send_optional(
                &out,
                "alerts",
                client.get("/admin/alerts").await,
                Msg::Alerts,
            );
        }
        if dirty.retrain.swap(false, Ordering::Relaxed) {
            send_optional(
                &out,
                "retrain",
                client.get("/admin/retrain").await,
                Msg::Retrain,
            );
        }
        if since_poll >= POLL_EVERY || all {
            since_poll = Duration::ZERO;
            send_result(&out, "metrics", client.get("/metrics").await, Msg::Metrics);
            send_result(&out, "health", client.get("/health").await, Msg::Health);
        }
    }
}

/// Everything a fresh console (or one that missed events) needs.
async fn fetch_all(client: &Client, out: &mpsc::UnboundedSender<Msg>) {
    send_result(
        out,
        "predictions",
        client.get("/admin/predictions?limit=1000").await,
        Msg::Predictions,
    );
    send_result(
        out,
        "models",
        client.get("/admin/models").await,
        Msg::Models,
    );
    send_result(out, "feedback", fetch_feedback(client).await, Msg::Feedback);
    send_optional(
        out,
        "alerts",
        client.get("/admin/alerts").await,
        Msg::Alerts,
    );
    send_optional(
        out,
        "retrain",
        client.get("/admin/retrain").await,
        Msg::Retrain,
    );
}

/// Feedback is listed oldest first, 1000 at a time; page through it (bounded, so a
/// huge store costs a capped number of requests — the chart only needs recent hours).
async fn fetch_feedback(client: &Client) -> Result<Vec<FeedbackView>, ApiError> {
    let mut all: Vec<FeedbackView> = Vec::new();
    for _ in 0..50 {
        let since = all.last().map(|f| f.id).unwrap_or(0);
        let page: Vec<FeedbackView> = client
            .get(&format!("/admin/feedback?since_id={since}&limit=1000"))
            .await?;
        let done = page.len() < 1000;
        all.extend(page);
        if done {
            break;
        }
    }
    Ok(all)
}

async fn fetch_queue(
    client: &Client,
    state: &str,
    kind: Option<&str>,
) -> Result<QueueResponse, ApiError> {
    let mut path = format!("/admin/queue?state={state}&limit=500");
    if let Some(kind) = kind {
        path.push_str("&kind=");
        path.push_str(kind);
    }
    client.get(&path).await
}

fn send_result<T>(
    out: &mpsc::UnboundedSender<Msg>,
    what: &str,
    result: Result<T, ApiError>,
    wrap: impl FnOnce(T) -> Msg,
) {
    let msg = match result {
        Ok(v) => wrap(v),
        Err(e) => Msg::Notice {
            text: format!("fetching {what}: {e}"),
            error: true,
        },
    };
    let _ = out.send(msg);
}

/// Like [`send_result`] for endpoints a daemon may not have yet: their absence is a
/// state (`None`), not an error.
fn send_optional<T>(
    out: &mpsc::UnboundedSender<Msg>,
    what: &str,
    result: Result<T, ApiError>,
    wrap: impl FnOnce(Option<T>) -> Msg,
) {
    match result {
        Err(ApiError::NotAvailable(_)) => {
            let _ = out.send(wrap(None));
        }
        other => send_result(out, what, other, |v| wrap(Some(v))),
    }
}

async fn commands(
    client: Client,
    out: mpsc::UnboundedSender<Msg>,
    dirty: Arc<Dirty>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    while let Some(cmd) = rx.recv().await {
        // Each action runs on its own task so a slow one (a retrain request, an
        // explanation) never holds up the next label in a fast review flow.
        let (client, out, dirty) = (client.clone(), out.clone(), dirty.clone());
        tokio::spawn(async move { run(cmd, &client, &out, &dirty).await });
    }
}

async fn run(cmd: Command, client: &Client, out: &mpsc::UnboundedSender<Msg>, dirty: &Dirty) {
    let notice = |text: String, error: bool| {
        let _ = out.send(Msg::Notice { text, error });
    };
    match cmd {
        Command::RefreshAll => dirty.all.store(true, Ordering::Relaxed),
        Command::SetQueueQuery { state, kind } => {
            *dirty.queue_query.lock().unwrap() = (state, kind);
            dirty.queue.store(true, Ordering::Relaxed);
        }
        Command::Queue { id, action } => {
            let result: Result<QueueItemView, ApiError> =
                client.post(&format!("/admin/queue/{id}"), &action).await;
            let _ = out.send(Msg::QueueActed {
                id,
                action,
                result: result.map_err(|e| e.to_string()),
            });
        }
        Command::Explain { key, text } => {
            // /admin/explain records nothing; daemons without it fall back to
            // /predict?explain=true, which counts (and may queue) the text.
            let body = PredictRequest { text };
            let result: Result<ExplainResponse, ApiError> = match client
                .post("/admin/explain", &body)
                .await
            {
                Err(ApiError::NotAvailable(_)) => client.post("/predict?explain=true", &body).await,
                other => other,
            };
            let _ = out.send(Msg::Explained {
                key,
                result: result.map_err(|e| e.to_string()),
            });
        }
        Command::Retrain => {
            match client
                .post::<RetrainStarted>("/admin/retrain", &json!({}))
                .await
            {
                Ok(_) => notice("retrain started".into(), false),
                Err(e) if e.code() == Some("already_running") => {
                    notice("a retrain is already running".into(), true)
                }
                Err(e) => notice(format!("retrain: {e}"), true),
            }
            dirty.retrain.store(true, Ordering::Relaxed);
        }
        Command::Promote { version } => {
            let r = client
                .post::<CurrentVersion>(
                    "/admin/promote",
                    &PromoteRequest {
                        version: version.clone(),
                    },
                )
                .await;
            match r {
                Ok(_) => notice(format!("promoted {version}"), false),
                Err(e) => notice(format!("promote {version}: {e}"), true),
            }
            dirty.models.store(true, Ordering::Relaxed);
        }
        Command::Rollback { version } => {
            let body = VersionRequest { version };
            match client
                .post::<CurrentVersion>("/admin/rollback", &body)
                .await
            {
                Ok(now) => notice(format!("rolled back to {}", now.version), false),
                Err(e) => notice(format!("rollback: {e}"), true),
            }
            dirty.models.store(true, Ordering::Relaxed);
        }
        Command::AckAlert { key, id } => {
            let r = client
                .post::<Alert>(&format!("/admin/alerts/{id}/ack"), &json!({}))
                .await;
            match r {
                // Older daemons cannot store an ack; it then lives in this console only.
                Ok(_) | Err(ApiError::NotAvailable(_)) => {}
                Err(e) => return notice(format!("acknowledging alert {id}: {e}"), true),
            }
            let _ = out.send(Msg::AlertAcked { key });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(10), BACKOFF_MAX);
    }
}
