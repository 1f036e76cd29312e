//! The writer thread: the only code that writes to the database.
//!
//! Requests arrive over a bounded std channel. The thread blocks for the first one,
//! then takes whatever else is already queued (up to `max_batch`) and applies the lot in
//! one transaction with one COMMIT, i.e. one fsync of the WAL: group commit. Nothing
//! anybody waits for waits to fill a batch, so a lone feedback is committed at once,
//! and under load the batches grow by themselves while the previous COMMIT is syncing:
//! the fsync cost is shared by everyone who arrived meanwhile, and throughput is not
//! capped at one fsync per request. Background writes (predictions and their review
//! items, which nobody waits for) are the exception: a batch of nothing else lingers a
//! few milliseconds for more (`Writer::linger`) and commits without an fsync.
//!
//! Each request runs inside its own SAVEPOINT, so one that fails (unknown id, bad
//! transition) is undone alone and the rest of the batch still commits. The `done`
//! callbacks run after the COMMIT returned, so a caller that got an id has a row that
//! is on disk. If the COMMIT fails (disk full, read-only file system), every request of
//! the batch gets that error, the transaction is rolled back, and the thread carries on
//! with the next batch: a later write succeeds as soon as the disk does.

use super::error::{SqlContext, StoreError};
use super::feedback::{self, FeedbackRecord, FeedbackStatus, NewFeedback};
use super::predictions::{self, PredictionRecord};
use super::queue::{self, NewQueueItem, QueueAction, QueueItem, Resolution};
use super::shards;
use super::{counters, sql::now_unix_ms};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A completion callback, called exactly once (from the writer thread, or from the
/// submitting thread if the writer is gone).
pub(crate) type Done<T> = Box<dyn FnOnce(Result<T, StoreError>) + Send + 'static>;

/// One request to the writer.
pub(crate) enum Command {
    Feedback(NewFeedback, Done<FeedbackRecord>),
    Prediction(PredictionRecord),
    /// Predictions to count without keeping them (batch predictions): total, low.
    CountPredictions(u64, u64),
    /// A queue item; `background` when it is a prediction's review item, which, like
    /// the prediction itself, nobody waits for (see [`Command::is_background`]).
    Enqueue {
        item: NewQueueItem,
        done: Done<QueueItem>,
        background: bool,
    },
    Resolve(i64, QueueAction, Done<Resolution>),
    SetStatus(i64, FeedbackStatus, Done<FeedbackRecord>),
    /// Plans a feedback shard: node id, path for a new one; answers its id.
    PlanShard(String, String, Done<Option<i64>>),
    /// Marks a shard uploaded: id, Hub commit.
    MarkShard(i64, String, Done<()>),
    /// Answered once everything sent before it is committed.
    Flush(Done<()>),
    /// A real write, to find out whether the disk takes writes again.
    Probe(Done<()>),
    /// Runs SQL on the writer connection (fault injection in tests).
    #[cfg(test)]
    Exec(String, Done<()>),
}

impl Command {
    /// Whether nobody waits for this write to answer a request: a prediction, a count
    /// of batch predictions, a prediction's review item. A batch of nothing else may
    /// linger for more (`Writer::linger`) and commits without an fsync.
    pub(crate) fn is_background(&self) -> bool {
        matches!(
            self,
            Command::Prediction(_)
                | Command::CountPredictions(..)
                | Command::Enqueue {
                    background: true,
                    ..
                }
        )
    }

    /// Reports `err` without running the request.
    pub(crate) fn fail(self, err: StoreError) {
        match self {
            Command::Feedback(_, done) | Command::SetStatus(_, _, done) => call(done, Err(err)),
            Command::Enqueue { done, .. } => call(done, Err(err)),
            Command::Resolve(_, _, done) => call(done, Err(err)),
            Command::Flush(done) | Command::Probe(done) => call(done, Err(err)),
            Command::PlanShard(_, _, done) => call(done, Err(err)),
            Command::MarkShard(_, _, done) => call(done, Err(err)),
            #[cfg(test)]
            Command::Exec(_, done) => call(done, Err(err)),
            Command::Prediction(p) => {
                tracing::warn!(prediction = %p.id, error = %err, "prediction not recorded");
            }
            Command::CountPredictions(total, _) => {
                tracing::warn!(predictions = total, error = %err, "batch predictions not counted");
            }
        }
    }
}

/// Runs a callback, containing a panic in it: a bug in a caller's callback must not
/// take the writer thread (and with it every later write) down.
fn call<T>(done: Done<T>, result: Result<T, StoreError>) {
    if catch_unwind(AssertUnwindSafe(move || done(result))).is_err() {
        tracing::error!("a store completion callback panicked; the writer carries on");
    }
}

/// What the writer thread shares with the `Store` handles.
#[derive(Default)]
pub(crate) struct Health {
    pub(crate) stopped: AtomicBool,
    /// The storage error of the last batch, cleared by the next successful COMMIT.
    pub(crate) last_error: Mutex<Option<StoreError>>,
    pub(crate) commits: AtomicU64,
    pub(crate) committed_requests: AtomicU64,
    pub(crate) failed_batches: AtomicU64,
}

impl Health {
    fn set(&self, error: Option<StoreError>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    pub(crate) fn last_error(&self) -> Option<StoreError> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) health: std::sync::Arc<Health>,
    pub(crate) max_batch: usize,
    pub(crate) recent_predictions: usize,
    /// How long a batch of background writes waits for more (see `linger`).
    pub(crate) linger: Duration,
    /// The durability asked for; a batch of nothing but predictions commits with
    /// `NORMAL` whatever it is (see `run_batch`).
    pub(crate) synchronous: super::Synchronous,
}

/// Called after COMMIT with the COMMIT's error, if any.
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;

impl Writer {
    /// The thread body: runs until every `Store` handle (and so every sender) is gone.
    pub(crate) fn run(mut self, rx: Receiver<Command>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        while let Ok(first) = rx.recv() {
            batch.push(first);
            self.take_queued(&rx, &mut batch);
            self.linger(&rx, &mut batch);
            self.process(&mut batch);
        }
        // Everything is committed; fold the WAL back into the main file so that the
        // database is a single file while the daemon is down.
        if let Err(err) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::debug!(error = %err, "final WAL checkpoint failed (harmless)");
        }
        self.health.stopped.store(true, Ordering::SeqCst);
    }

    /// Adds what is already queued to the batch, up to `max_batch`. False once every
    /// sender is gone (the store is closing).
    fn take_queued(&self, rx: &Receiver<Command>, batch: &mut Vec<Command>) -> bool {
        while batch.len() < self.max_batch {
            match rx.try_recv() {
                Ok(command) => batch.push(command),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    /// While the batch is only background writes (predictions and their review items:
    /// nobody waits for them), waits up to `linger` for more before committing. Under
    /// prediction load a batch otherwise held two or three predictions, and its COMMIT
    /// (WAL frames, checksums, the trim) cost more than the inserts: the writer took a
    /// quarter of the daemon's CPU. Senders of anything acknowledged unpark this
    /// thread (`Store::send`), so a feedback never waits for the linger; background
    /// senders do not, so a busy prediction stream costs no wake-up per request.
    fn linger(&self, rx: &Receiver<Command>, batch: &mut Vec<Command>) {
        if self.linger.is_zero() {
            return;
        }
        let deadline = Instant::now() + self.linger;
        while batch.len() < self.max_batch && batch.iter().all(Command::is_background) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::park_timeout(deadline - now);
            if !self.take_queued(rx, batch) {
                break;
            }
        }
    }

    #[cfg(not(test))]
    fn process(&mut self, batch: &mut Vec<Command>) {
        self.run_batch_guarded(batch);
    }

    /// Test builds run `Exec` commands on their own, outside any transaction (so that a
    /// fault that prevents BEGIN can be turned off again), in submission order.
    #[cfg(test)]
    fn process(&mut self, batch: &mut Vec<Command>) {
        while let Some(pos) = batch.iter().position(|c| matches!(c, Command::Exec(..))) {
            let mut rest = batch.split_off(pos);
            self.run_batch_guarded(batch);
            if let Command::Exec(sql, done) = rest.remove(0) {
                let result = self
                    .conn
                    .execute_batch(&sql)
                    .ctx("running test SQL", &self.conn);
                call(done, result);
            }
            *batch = rest;
        }
        self.run_batch_guarded(batch);
    }

    fn run_batch_guarded(&mut self, batch: &mut Vec<Command>) {
        if batch.is_empty() {
            return;
        }
        // A bug in the batch code must not stop the thread; the callbacks of that batch
        // are dropped uncalled (callers see their channel closed).
        if catch_unwind(AssertUnwindSafe(|| self.run_batch(batch))).is_err() {
            tracing::error!("the store writer panicked in a batch; rolling it back");
            batch.clear();
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
    }

    fn run_batch(&mut self, batch: &mut Vec<Command>) {
        let conn = &self.conn;
        if let Err(err) = conn
            .execute_batch("BEGIN IMMEDIATE")
            .ctx("starting a write transaction", conn)
        {
            tracing::error!(error = %err, "store write failed");
            // Health first, callers after: a caller told of the failure must find
            // `check_writable` failing too (as after a failed COMMIT below).
            self.health.failed_batches.fetch_add(1, Ordering::Relaxed);
            self.health.set(Some(err.clone()));
            for command in batch.drain(..) {
                command.fail(err.clone());
            }
            return;
        }
        let now = now_unix_ms();
        let background = batch.iter().all(Command::is_background);
        let mut finishers: Vec<Finish> = Vec::with_capacity(batch.len());
        let mut aborted: Option<StoreError> = None;
        let mut storage_error: Option<StoreError> = None;
        // Predictions are written together after the rest, in one savepoint with one
        // counter update: they are most of the traffic, and nobody waits for them.
        let mut predictions: Vec<PredictionRecord> = Vec::new();
        // Writes that went through: only they prove the disk takes writes again. A
        // batch of nothing but a flush must not clear a recorded failure.
        let mut written = 0usize;
        for command in batch.drain(..) {
            if let Some(err) = &aborted {
                command.fail(err.clone());
                continue;
            }
            let command = match command {
                Command::Prediction(p) => {
                    predictions.push(p);
                    continue;
                }
                other => other,
            };
            let is_write = !matches!(command, Command::Flush(_));
            let (finish, error) = self.apply(command, now);
            finishers.push(finish);
            if error.is_none() && is_write {
                written += 1;
            }
            if let Some(err) = error {
                // SQLite may roll back the whole transaction on I/O errors and
                // SQLITE_FULL; then the earlier requests of the batch are lost too.
                if self.conn.is_autocommit() {
                    aborted = Some(err.clone());
                }
                if err.is_storage_failure() {
                    storage_error = Some(err);
                }
            }
        }
        let recorded = predictions.len();
        if recorded > 0 && aborted.is_none() {
            match savepoint(&self.conn, |c| predictions::insert_all(c, &predictions)) {
                Ok(()) => written += recorded,
                Err(err) => {
                    tracing::warn!(predictions = recorded, error = %err, "predictions not recorded");
                    if self.conn.is_autocommit() {
                        aborted = Some(err.clone());
                    }
                    if err.is_storage_failure() {
                        storage_error = Some(err);
                    }
                }
            }
        }
        if recorded > 0 && aborted.is_none() {
            let keep = self.recent_predictions;
            if let Err(err) = savepoint(&self.conn, |c| predictions::trim(c, keep)) {
                tracing::warn!(error = %err, "could not trim the recent predictions");
            }
        }
        let conn = &self.conn;
        // A batch of background writes only (predictions and their review items: nothing
        // was acknowledged) need not wait for the disk: in WAL mode a NORMAL commit
        // still survives the process being killed, and the next FULL commit syncs the
        // WAL these frames are in. This saves an fsync per batch under prediction load.
        let relaxed = background
            && self.synchronous == super::Synchronous::Full
            && conn.execute_batch("PRAGMA synchronous = NORMAL").is_ok();
        let commit_error = match aborted {
            Some(err) => Some(err),
            None => match conn
                .execute_batch("COMMIT")
                .ctx("committing a write batch", conn)
            {
                Ok(()) => None,
                Err(err) => {
                    if !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    Some(err)
                }
            },
        };
        if relaxed {
            if let Err(err) = conn.execute_batch("PRAGMA synchronous = FULL") {
                tracing::error!(error = %err, "could not set synchronous = FULL again");
            }
        }
        if let Some(err) = &commit_error {
            tracing::error!(error = %err, requests = finishers.len(), predictions = recorded, "store batch not written");
            self.health.failed_batches.fetch_add(1, Ordering::Relaxed);
        } else {
            self.health.commits.fetch_add(1, Ordering::Relaxed);
            self.health
                .committed_requests
                .fetch_add((finishers.len() + recorded) as u64, Ordering::Relaxed);
        }
        match commit_error.clone().or(storage_error) {
            Some(err) => self.health.set(Some(err)),
            None if written > 0 => self.health.set(None),
            None => {}
        }
        for finish in finishers {
            if catch_unwind(AssertUnwindSafe(|| finish(commit_error.as_ref()))).is_err() {
                tracing::error!("a store completion callback panicked; the writer carries on");
            }
        }
    }

    /// Runs one request in a savepoint. Returns what to do after COMMIT and the
    /// request's own error, if it failed.
    fn apply(&self, command: Command, now: i64) -> (Finish, Option<StoreError>) {
        let conn = &self.conn;
        match command {
            Command::Feedback(fb, done) => {
                finish(done, savepoint(conn, |c| feedback::insert(c, &fb, now)))
            }
            Command::Enqueue { item, done, .. } => {
                finish(done, savepoint(conn, |c| queue::enqueue(c, &item, now)))
            }
            Command::Resolve(id, action, done) => finish(
                done,
                savepoint(conn, |c| queue::resolve(c, id, action, now)),
            ),
            Command::SetStatus(id, status, done) => finish(
                done,
                savepoint(conn, |c| feedback::set_status(c, id, status, now)),
            ),
            // Gathered by `run_batch` and written with `predictions::insert_all`.
            Command::Prediction(_) => unreachable!("predictions are written together"),
            Command::CountPredictions(total, low) => {
                let result = savepoint(conn, |c| {
                    counters::bump(c, counters::TOTAL_PREDICTIONS, total as i64)?;
                    counters::bump(c, counters::LOW_CONFIDENCE, low as i64)
                });
                let error = result.as_ref().err().cloned();
                let finish: Finish = Box::new(move |commit: Option<&StoreError>| {
                    if let Some(err) = error.as_ref().or(commit) {
                        tracing::warn!(predictions = total, error = %err, "batch predictions not counted");
                    }
                });
                (finish, result.err())
            }
            Command::PlanShard(node, path, done) => finish(
                done,
                savepoint(conn, |c| shards::plan(c, &node, &path, now)),
            ),
            Command::MarkShard(id, commit, done) => finish(
                done,
                savepoint(conn, |c| shards::mark_uploaded(c, id, &commit, now)),
            ),
            Command::Flush(done) => finish(done, Ok(())),
            Command::Probe(done) => finish(
                done,
                savepoint(conn, |c| counters::bump(c, counters::HEALTH_PROBES, 1)),
            ),
            #[cfg(test)]
            Command::Exec(_, done) => finish(
                done,
                Err(StoreError::InvalidArgument(
                    "test SQL runs outside batches".into(),
                )),
            ),
        }
    }
}

/// Wraps a request's result into its post-COMMIT callback. A request that failed on its
/// own reports its own error (more specific than the COMMIT's).
fn finish<T: Send + 'static>(
    done: Done<T>,
    result: Result<T, StoreError>,
) -> (Finish, Option<StoreError>) {
    let error = result.as_ref().err().cloned();
    let finish: Finish = Box::new(move |commit: Option<&StoreError>| {
        let outcome = match (result, commit) {
            (Ok(_), Some(err)) => Err(err.clone()),
            (result, _) => result,
        };
        done(outcome);
    });
    (finish, error)
}

/// Runs `f` in a savepoint: on error only `f`'s changes are undone.
fn savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    exec_cached(conn, "SAVEPOINT request")?;
    match f(conn) {
        Ok(value) => {
            exec_cached(conn, "RELEASE request")?;
            Ok(value)
        }
        Err(err) => {
            // If SQLite already rolled the whole transaction back there is no
            // savepoint left to return to; the batch code sees that and fails the batch.
            if !conn.is_autocommit() {
                let undo = exec_cached(conn, "ROLLBACK TO request")
                    .and_then(|()| exec_cached(conn, "RELEASE request"));
                if let Err(undo_err) = undo {
                    // Committing half a request is worse than losing the batch: roll
                    // everything back, which makes the batch code fail the batch.
                    tracing::error!(error = %undo_err, "could not undo a failed request");
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
            Err(err)
        }
    }
}

fn exec_cached(conn: &Connection, sql: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(|_| ())
        .ctx("managing a savepoint", conn)
}
