//! The durable store of the daemon: feedback, the labelling queue, the last N
//! predictions and the service's counters, in one SQLite file (`DATA_DIR/sentiment.db`).
//!
//! # Durability
//!
//! The file is in WAL mode. All writes go through one writer thread that commits in
//! batches (group commit, see `writer`), and a write's `done` callback runs only after
//! the COMMIT of its batch has returned. The writer runs with `synchronous = FULL` by
//! default: each COMMIT fsyncs the WAL, so an acknowledged write survives not only a
//! `kill -9` of the daemon but also a power cut or kernel crash. Group commit is what
//! makes that affordable: one fsync covers every request that arrived while the
//! previous one was in progress. [`Synchronous::Normal`] is available for disks with
//! very slow fsync: in WAL mode it still survives any *process* crash (the committed
//! transaction is in the -wal file in the OS page cache before COMMIT returns, and the
//! kernel writes it out even if the process dies), but a power cut may lose the last
//! commits (never corrupting the file). A batch of nothing but recorded predictions
//! (fire-and-forget, acknowledged to nobody) commits with `NORMAL` in either mode, so a
//! prediction load does not cost an fsync per batch; the next `FULL` commit syncs them.
//!
//! # Concurrency
//!
//! [`Store`] is a cheap `Clone` handle (`Send + Sync`). Writes are asynchronous: they
//! take a callback, which the daemon can make a oneshot sender. Reads are synchronous,
//! run on the caller's thread on read-only connections, and are never blocked by the
//! writer (WAL). Another process can read the file at the same time, which is how
//! [`export_feedback_csv`] works while the daemon runs. This module does not use tokio;
//! an async caller should run the synchronous reads with `spawn_blocking`.

mod counters;
mod error;
mod export;
mod feedback;
mod predictions;
mod queue;
mod readers;
mod schema;
mod shards;
mod sql;
mod writer;

#[cfg(test)]
mod tests;

pub use counters::{Counters, FeedbackStatusCounts};
pub use error::StoreError;
pub use export::{export_feedback_csv, EXPORT_COLUMNS};
pub use feedback::{
    FeedbackFilter, FeedbackRecord, FeedbackStatus, KeyActivity, NewFeedback, VolumeBucket,
    OPERATOR_SOURCES, VOLUME_BUCKETS_MS,
};
pub use predictions::PredictionRecord;
pub use queue::{
    AuditLabel, NewQueueItem, QueueAction, QueueCounts, QueueFilter, QueueItem, QueueKind,
    QueueSelect, QueueState, Resolution,
};
pub use shards::{FeedbackShard, ShardCounts};

use readers::Readers;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use writer::{Command, Done, Health, Writer};

/// The file name of the database inside the daemon's data directory.
pub const DB_FILE_NAME: &str = "sentiment.db";

/// How hard a COMMIT pushes the data to the disk (SQLite's `PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync the WAL on every COMMIT: survives process crashes and power loss.
    #[default]
    Full,
    /// No fsync at COMMIT (only at checkpoints): survives process crashes (`kill -9`),
    /// may lose the last commits on power loss.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// Tuning knobs of [`Store::open`]; the defaults suit the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreOptions {
    /// How many predictions the recent-predictions table keeps (older ones are deleted;
    /// the counters keep counting them).
    pub recent_predictions: usize,
    /// Durability of a COMMIT (see [`Synchronous`]); `Full` by default.
    pub synchronous: Synchronous,
    /// The most requests committed in one transaction.
    pub max_batch: usize,
    /// Requests that may wait for the writer before submitting blocks (back-pressure
    /// when the disk cannot keep up).
    pub queue_capacity: usize,
    /// Idle read-only connections kept for the query methods.
    pub idle_readers: usize,
    /// How long, in milliseconds, the writer waits for more when all it has is
    /// background writes (predictions and their review items), so that a stream of
    /// predictions is committed in a few large batches rather than many small ones.
    /// Acknowledged writes (feedback, queue decisions, flushes) never wait for it.
    /// 0 commits at once.
    pub linger_ms: u64,
    /// The size, in bytes, the write-ahead log is cut back to once it has been folded
    /// into the database (SQLite's `journal_size_limit`). A reader that holds its
    /// snapshot while writes go on (a long export, say) lets the log grow past its
    /// usual few MiB, and without a limit the file keeps that size for good.
    pub wal_size_limit: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            recent_predictions: 1_000,
            synchronous: Synchronous::Full,
            max_batch: 1_024,
            queue_capacity: 65_536,
            idle_readers: 4,
            linger_ms: 5,
            wal_size_limit: 16 << 20,
        }
    }
}

/// Writer activity since the store was opened (for metrics): `requests / commits` is
/// the average group-commit batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterStats {
    /// Successful COMMITs.
    pub commits: u64,
    /// Requests in successfully committed batches (including ones that failed on
    /// their own, such as an unknown id).
    pub requests: u64,
    /// Batches whose transaction could not be started or committed.
    pub failed_batches: u64,
    /// Predictions not recorded because the write queue was full or the writer gone.
    pub dropped_predictions: u64,
}

/// Handle to the store: clone it freely, all clones share one writer thread and one
/// pool of read connections. The writer stops, after committing everything submitted,
/// when the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `None` only while dropping (dropping the sender is what stops the writer).
    sender: Option<SyncSender<Command>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The writer thread: to wake it out of its linger when an acknowledged write
    /// arrives, and to recognise it (a blocking call from its callbacks would deadlock).
    writer_handle: std::thread::Thread,
    health: Arc<Health>,
    readers: Readers,
    /// Predictions dropped because the write queue was full.
    dropped_predictions: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.sender.take());
        // A writer lingering over background writes would otherwise sleep out its
        // linger before it noticed that every sender is gone.
        self.writer_handle.unpark();
        // Wait for the writer to commit what is queued, unless this is the writer
        // itself dropping the last handle from inside a callback.
        if std::thread::current().id() != self.writer_handle.id() {
            let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// How long [`Store::check_writable`] waits for its probe write.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens (creating the directory, the file and the schema if needed) the database
    /// at `path`, usually `data_dir.join(DB_FILE_NAME)`, and starts the writer thread.
    ///
    /// Fails with [`StoreError::ReadOnly`] if the directory or file cannot be written
    /// and [`StoreError::NewerSchema`] if a newer build created the file.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::io("creating the data directory", dir, e))?;
        }
        let conn = schema::open_writer(path, options.synchronous.pragma(), options.wal_size_limit)?;
        // A real write now, so that a read-only file or a full disk is reported by
        // `open` (and the daemon refuses to start) rather than by the first feedback.
        {
            use error::SqlContext;
            let probe = "UPDATE counters SET value = value + 1 WHERE name = 'health_probes'";
            conn.execute(probe, [])
                .ctx_path("checking that the database can be written", path)?;
        }
        let readers = Readers::new(path.to_path_buf(), options.idle_readers.max(1));
        // Fail now, not at the first query, if readers cannot open the file.
        readers.read(|_| Ok(()))?;

        let health = Arc::new(Health::default());
        let (sender, receiver) = mpsc::sync_channel(options.queue_capacity.max(1));
        let writer = Writer {
            conn,
            health: Arc::clone(&health),
            max_batch: options.max_batch.max(1),
            recent_predictions: options.recent_predictions,
            linger: Duration::from_millis(options.linger_ms),
            synchronous: options.synchronous,
        };
        let handle = std::thread::Builder::new()
            .name("sentiment-store-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::io("starting the writer thread for", path, e))?;
        tracing::info!(path = %path.display(), "store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer_handle: handle.thread().clone(),
                writer: Mutex::new(Some(handle)),
                sender: Some(sender),
                health,
                readers,
                dropped_predictions: AtomicU64::new(0),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn send(&self, command: Command) {
        let is_background = command.is_background();
        let Some(sender) = &self.inner.sender else {
            return command.fail(StoreError::WriterGone);
        };
        // `send` blocks while the queue is full: back-pressure rather than unbounded
        // memory when the disk is slower than the callers.
        if let Err(mpsc::SendError(command)) = sender.send(command) {
            return command.fail(StoreError::WriterGone);
        }
        // Somebody waits for this one: the writer must not linger (`Writer::linger`).
        if !is_background {
            self.inner.writer_handle.unpark();
        }
    }

    /// Records feedback. `done` runs on the writer thread after the batch holding it is
    /// committed (so the returned id is durable), or at once with
    /// [`StoreError::WriterGone`]. Held feedback also gets a correction item in the
    /// labelling queue, in the same transaction.
    pub fn submit_feedback(
        &self,
        feedback: NewFeedback,
        done: impl FnOnce(Result<FeedbackRecord, StoreError>) + Send + 'static,
    ) {
        self.send(Command::Feedback(feedback, Box::new(done)));
    }

    /// Records a prediction, fire-and-forget: counted in the counters (and in
    /// `low_confidence` if flagged) and kept among the last
    /// [`StoreOptions::recent_predictions`]. Failures are logged, not returned.
    ///
    /// Unlike the other writes this never blocks the caller: if the writer's queue is
    /// full, the prediction is dropped with a warning, because serving predictions
    /// matters more than remembering them.
    pub fn record_prediction(&self, prediction: PredictionRecord) {
        let Some(sender) = &self.inner.sender else {
            return;
        };
        let reason = match sender.try_send(Command::Prediction(prediction)) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => {
                "the store's write queue is full (the disk is slower than the traffic)"
            }
            Err(TrySendError::Disconnected(_)) => "the store's writer thread has stopped",
        };
        // Logged at the 1st, 2nd, 4th, 8th... drop, so that an overload or a dead
        // writer does not also flood the log.
        let dropped = self
            .inner
            .dropped_predictions
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if dropped.is_power_of_two() {
            tracing::warn!(dropped, "{reason}; predictions are not being recorded");
        }
    }

    /// Counts predictions that are not kept one by one (batch predictions): `total`
    /// predictions of which `low_confidence` were below the threshold. Never blocks;
    /// dropped with a warning if the write queue is full, like [`record_prediction`].
    ///
    /// [`record_prediction`]: Self::record_prediction
    pub fn count_predictions(&self, total: u64, low_confidence: u64) {
        let Some(sender) = &self.inner.sender else {
            return;
        };
        if let Err(error) = sender.try_send(Command::CountPredictions(total, low_confidence)) {
            tracing::warn!(total, "batch predictions not counted: {error}");
        }
    }

    /// Adds a prediction's review item to the labelling queue (idempotent per
    /// prediction id and per feedback id: see [`NewQueueItem`]). Like
    /// [`record_prediction`](Self::record_prediction) it is a background write, which
    /// may wait up to [`StoreOptions::linger_ms`] to be committed with others; `done`
    /// runs after COMMIT. [`enqueue_wait`](Self::enqueue_wait) commits at once.
    pub fn enqueue(
        &self,
        item: NewQueueItem,
        done: impl FnOnce(Result<QueueItem, StoreError>) + Send + 'static,
    ) {
        self.send(Command::Enqueue {
            item,
            done: Box::new(done),
            background: true,
        });
    }

    /// Applies an operator's decision to an open queue item (see [`QueueAction`] for
    /// what each does). Fails with [`StoreError::NotFound`] for an unknown id and
    /// [`StoreError::InvalidTransition`] for an item already decided. `done` runs after
    /// COMMIT.
    pub fn resolve_queue_item(
        &self,
        id: i64,
        action: QueueAction,
        done: impl FnOnce(Result<Resolution, StoreError>) + Send + 'static,
    ) {
        self.send(Command::Resolve(id, action, Box::new(done)));
    }

    /// Sets the status of a feedback row. Accepting or rejecting a held row also closes
    /// its correction item in the queue. `done` runs after COMMIT.
    pub fn set_feedback_status(
        &self,
        id: i64,
        status: FeedbackStatus,
        done: impl FnOnce(Result<FeedbackRecord, StoreError>) + Send + 'static,
    ) {
        self.send(Command::SetStatus(id, status, Box::new(done)));
    }

    /// The feedback shard to upload next (see the `shards` module): the one planned
    /// earlier and not yet uploaded if any (same path, same rows), else a new shard at
    /// `path` holding every accepted row not yet in a shard, else None. Waits for the
    /// commit.
    pub fn plan_feedback_shard_wait(
        &self,
        node_id: &str,
        path: &str,
    ) -> Result<Option<FeedbackShard>, StoreError> {
        let (node, path) = (node_id.to_string(), path.to_string());
        let planned = self.wait(|done| Command::PlanShard(node, path, done))?;
        match planned {
            None => Ok(None),
            Some(id) => self.inner.readers.read(|c| shards::get(c, id)),
        }
    }

    /// Records that the Hub commit `commit` holds shard `id`. Call it only after the
    /// commit succeeded.
    pub fn mark_shard_uploaded_wait(&self, id: i64, commit: &str) -> Result<(), StoreError> {
        let commit = commit.to_string();
        self.wait(|done| Command::MarkShard(id, commit, done))
    }

    /// One feedback shard with its rows.
    pub fn feedback_shard(&self, id: i64) -> Result<Option<FeedbackShard>, StoreError> {
        self.inner.readers.read(|c| shards::get(c, id))
    }

    /// How much feedback is uploaded, pending or waiting for a shard.
    pub fn shard_counts(&self) -> Result<ShardCounts, StoreError> {
        self.inner.readers.read(shards::counts)
    }

    /// Blocks until everything submitted before this call is committed (or has
    /// failed). For graceful shutdown and tests. Must not be called from a `done`
    /// callback (that would wait for itself).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.wait(Command::Flush)
    }

    /// [`submit_feedback`](Self::submit_feedback), waiting for the result. For
    /// synchronous callers (CLI, tests); not from a `done` callback.
    pub fn submit_feedback_wait(
        &self,
        feedback: NewFeedback,
    ) -> Result<FeedbackRecord, StoreError> {
        self.wait(|done| Command::Feedback(feedback, done))
    }

    /// [`enqueue`](Self::enqueue), waiting for the result.
    pub fn enqueue_wait(&self, item: NewQueueItem) -> Result<QueueItem, StoreError> {
        self.wait(|done| Command::Enqueue {
            item,
            done,
            background: false,
        })
    }

    /// [`resolve_queue_item`](Self::resolve_queue_item), waiting for the result.
    pub fn resolve_queue_item_wait(
        &self,
        id: i64,
        action: QueueAction,
    ) -> Result<Resolution, StoreError> {
        self.wait(|done| Command::Resolve(id, action, done))
    }

    /// [`set_feedback_status`](Self::set_feedback_status), waiting for the result.
    pub fn set_feedback_status_wait(
        &self,
        id: i64,
        status: FeedbackStatus,
    ) -> Result<FeedbackRecord, StoreError> {
        self.wait(|done| Command::SetStatus(id, status, done))
    }

    fn wait<T: Send + 'static>(
        &self,
        make: impl FnOnce(Done<T>) -> Command,
    ) -> Result<T, StoreError> {
        self.wait_timeout(make, None)
    }

    fn wait_timeout<T: Send + 'static>(
        &self,
        make: impl FnOnce(Done<T>) -> Command,
        timeout: Option<Duration>,
    ) -> Result<T, StoreError> {
        if std::thread::current().id() == self.inner.writer_handle.id() {
            return Err(StoreError::InvalidArgument(
                "a blocking store call was made from a done callback, which runs on the \
                 writer thread and would wait for itself; use the callback form"
                    .into(),
            ));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(make(Box::new(move |result| {
            let _ = tx.send(result);
        })));
        let received = match timeout {
            None => rx.recv().ok(),
            Some(timeout) => rx.recv_timeout(timeout).ok(),
        };
        received.unwrap_or(Err(StoreError::WriterGone))
    }

    /// Ok when writes can be expected to succeed: the writer thread is running and its
    /// last batch committed. After a failure it makes a real probe write (waiting up to
    /// a few seconds), so readiness comes back by itself once the disk has recovered.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        if self.inner.health.stopped.load(Ordering::SeqCst) || self.inner.sender.is_none() {
            return Err(StoreError::WriterGone);
        }
        let Some(last) = self.inner.health.last_error() else {
            return Ok(());
        };
        match self.wait_timeout(Command::Probe, Some(PROBE_TIMEOUT)) {
            Ok(()) => Ok(()),
            Err(StoreError::WriterGone) => Err(last),
            Err(err) => Err(err),
        }
    }

    /// How the writer has been batching, since this process opened the store.
    pub fn writer_stats(&self) -> WriterStats {
        let health = &self.inner.health;
        WriterStats {
            commits: health.commits.load(Ordering::Relaxed),
            requests: health.committed_requests.load(Ordering::Relaxed),
            failed_batches: health.failed_batches.load(Ordering::Relaxed),
            dropped_predictions: self.inner.dropped_predictions.load(Ordering::Relaxed),
        }
    }

    /// The counters (one consistent snapshot).
    pub fn counters(&self) -> Result<Counters, StoreError> {
        self.inner.readers.read(counters::read)
    }

    /// The most recent predictions, newest first, at most `limit` (and at most
    /// [`StoreOptions::recent_predictions`], the number kept).
    pub fn recent_predictions(&self, limit: usize) -> Result<Vec<PredictionRecord>, StoreError> {
        self.inner.readers.read(|c| predictions::recent(c, limit))
    }

    /// One prediction by id, if it is still among the recent ones.
    pub fn prediction(&self, prediction_id: &str) -> Result<Option<PredictionRecord>, StoreError> {
        self.inner
            .readers
            .read(|c| predictions::get(c, prediction_id))
    }

    /// Feedback rows, oldest first (see [`FeedbackFilter`]).
    pub fn feedback(&self, filter: FeedbackFilter) -> Result<Vec<FeedbackRecord>, StoreError> {
        self.inner.readers.read(|c| feedback::list(c, &filter))
    }

    /// Feedback counted by arrival time in at most `max_buckets` equal buckets: the
    /// bucket width (ms) and the non-empty buckets, oldest first (see
    /// [`VOLUME_BUCKETS_MS`] for how the width is chosen).
    pub fn feedback_volume(
        &self,
        now_unix_ms: i64,
        max_buckets: i64,
    ) -> Result<(i64, Vec<VolumeBucket>), StoreError> {
        self.inner
            .readers
            .read(|c| feedback::volume(c, now_unix_ms, max_buckets))
    }

    /// What one API key (by name) has sent since `since_unix_ms`, and its accepted
    /// total: the daemon's per-key feedback quota and hold rule start from this.
    pub fn key_activity(
        &self,
        api_key: &str,
        since_unix_ms: i64,
    ) -> Result<KeyActivity, StoreError> {
        self.inner
            .readers
            .read(|c| feedback::key_activity(c, api_key, since_unix_ms))
    }

    /// One feedback row by id.
    pub fn feedback_by_id(&self, id: i64) -> Result<Option<FeedbackRecord>, StoreError> {
        self.inner.readers.read(|c| feedback::get(c, id))
    }

    /// Queue items (see [`QueueFilter`] and [`QueueSelect`] for which and in what order).
    pub fn queue(&self, filter: QueueFilter) -> Result<Vec<QueueItem>, StoreError> {
        self.inner.readers.read(|c| queue::list(c, &filter))
    }

    /// One queue item by id.
    pub fn queue_item(&self, id: i64) -> Result<Option<QueueItem>, StoreError> {
        self.inner.readers.read(|c| queue::get(c, id))
    }

    /// How many queue items are in each state.
    pub fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        self.inner.readers.read(queue::counts)
    }

    /// Every audit item an operator labelled or accepted (rejected and open ones are
    /// left out), oldest first: held-out labels for measuring the model, never
    /// training data.
    pub fn audit_labels(&self) -> Result<Vec<AuditLabel>, StoreError> {
        self.inner.readers.read(queue::audit_labels)
    }

    /// Runs SQL on the writer connection, inside the current batch (fault injection).
    #[cfg(test)]
    pub(crate) fn exec_on_writer(&self, sql: &str) -> Result<(), StoreError> {
        let sql = sql.to_string();
        self.wait(|done| Command::Exec(sql, done))
    }
}
