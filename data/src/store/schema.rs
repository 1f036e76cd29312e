//! The database layout and how connections are opened.
//!
//! Migrations are numbered by `PRAGMA user_version`: version N means migrations
//! `1..=N` have run. Each migration runs in its own `BEGIN IMMEDIATE` transaction
//! together with the version bump, so a crash mid-migration leaves the previous version.

use super::error::{SqlContext, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a connection waits for a lock held by another connection before giving up
/// with SQLITE_BUSY. WAL readers never block the writer, so this only matters for
/// checkpoints and for a second process opening the same file.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations, in order. Never edit one that has shipped: add a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the initial layout.
    r#"
    -- AUTOINCREMENT so that an id is never reused, even after deletions: exports
    -- page with `since_id` and must not miss or repeat rows.
    CREATE TABLE feedback (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        created_unix_ms  INTEGER NOT NULL,
        text             TEXT    NOT NULL,
        predicted_label  INTEGER CHECK (predicted_label IN (0, 1)),
        correct_label    INTEGER NOT NULL CHECK (correct_label IN (0, 1)),
        confidence       REAL,
        prediction_id    TEXT,
        source           TEXT    NOT NULL,
        api_key          TEXT,
        model_version    TEXT,
        status           TEXT    NOT NULL CHECK (status IN ('accepted', 'held', 'rejected'))
    );
    CREATE INDEX feedback_by_status ON feedback (status, id);

    -- The labelling queue. `position` orders the review: it starts as the id, and a
    -- skip moves the item to the back by giving it a new, larger position.
    CREATE TABLE queue (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        kind              TEXT    NOT NULL CHECK (kind IN ('low_confidence', 'correction')),
        text              TEXT    NOT NULL,
        predicted_label   INTEGER CHECK (predicted_label IN (0, 1)),
        proposed_label    INTEGER CHECK (proposed_label IN (0, 1)),
        confidence        REAL,
        prediction_id     TEXT,
        feedback_id       INTEGER REFERENCES feedback (id),
        model_version     TEXT,
        created_unix_ms   INTEGER NOT NULL,
        state             TEXT    NOT NULL
                          CHECK (state IN ('pending', 'labelled', 'accepted', 'rejected', 'skipped')),
        label             INTEGER CHECK (label IN (0, 1)),
        resolved_unix_ms  INTEGER,
        result_feedback_id INTEGER REFERENCES feedback (id),
        position          INTEGER NOT NULL
    );
    CREATE INDEX queue_by_state ON queue (state, position);
    -- One queue item per low-confidence prediction and per held correction, so that
    -- enqueueing is idempotent.
    CREATE UNIQUE INDEX queue_one_per_prediction ON queue (prediction_id)
        WHERE kind = 'low_confidence' AND prediction_id IS NOT NULL;
    CREATE UNIQUE INDEX queue_one_per_feedback ON queue (feedback_id)
        WHERE kind = 'correction';

    -- The last N predictions. `seq` gives the order and makes trimming a range delete.
    CREATE TABLE predictions (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT    NOT NULL UNIQUE,
        text             TEXT    NOT NULL,
        label            INTEGER NOT NULL CHECK (label IN (0, 1)),
        confidence       REAL    NOT NULL,
        p_positive       REAL    NOT NULL,
        model_version    TEXT    NOT NULL,
        created_unix_ms  INTEGER NOT NULL,
        low_confidence   INTEGER NOT NULL,
        source           TEXT    NOT NULL
    );

    -- Monotonic counters that outlive the trimmed tables.
    CREATE TABLE counters (
        name   TEXT PRIMARY KEY,
        value  INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO counters (name, value) VALUES
        ('total_predictions', 0), ('total_feedback', 0), ('low_confidence', 0),
        ('queue_position', 0), ('health_probes', 0);
    "#,
    // 2: feedback shards for the Hugging Face Hub. A shard is planned (its rows tagged
    // with its id) before it is uploaded, and marked uploaded only after the Hub
    // commit succeeded; a planned shard keeps its path and rows until then, so a retry
    // rewrites the same file with the same rows (idempotent on the Hub).
    r#"
    CREATE TABLE feedback_shards (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        path              TEXT    NOT NULL UNIQUE,
        node_id           TEXT    NOT NULL,
        created_unix_ms   INTEGER NOT NULL,
        rows              INTEGER NOT NULL,
        uploaded_unix_ms  INTEGER,
        commit_oid        TEXT
    );
    CREATE INDEX feedback_shards_pending ON feedback_shards (id) WHERE uploaded_unix_ms IS NULL;
    ALTER TABLE feedback ADD COLUMN shard_id INTEGER REFERENCES feedback_shards (id);
    CREATE INDEX feedback_unsharded ON feedback (id) WHERE shard_id IS NULL AND status = 'accepted';
    CREATE INDEX feedback_by_shard ON feedback (shard_id, id) WHERE shard_id IS NOT NULL;
    "#,
    // 3: audit items in the queue (a random sample of predictions labelled by an
    // operator to measure the model; never trained on), a free-text `reason` on queue
    // items, and `feedback.client` (who sent a row when the sender is untrusted).
    //
    // SQLite cannot change a CHECK constraint in place, so `queue` is rebuilt the way
    // https://www.sqlite.org/lang_altertable.html#otheralter documents: create the new
    // table, copy the rows, drop the old one, rename the new one, recreate the indexes.
    // No table references `queue` (it only references `feedback`, which stays), so the
    // drop and the rename touch no other table's foreign keys, and `foreign_keys` can
    // stay on (it cannot be changed inside the migration's transaction anyway): the
    // copied rows are checked against `feedback` as they are inserted. The
    // AUTOINCREMENT counter of the old table is carried over so that no queue id is
    // ever reused.
    r#"
    CREATE TABLE queue_new (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        kind              TEXT    NOT NULL
                          CHECK (kind IN ('low_confidence', 'correction', 'audit')),
        text              TEXT    NOT NULL,
        predicted_label   INTEGER CHECK (predicted_label IN (0, 1)),
        proposed_label    INTEGER CHECK (proposed_label IN (0, 1)),
        confidence        REAL,
        prediction_id     TEXT,
        feedback_id       INTEGER REFERENCES feedback (id),
        model_version     TEXT,
        created_unix_ms   INTEGER NOT NULL,
        state             TEXT    NOT NULL
                          CHECK (state IN ('pending', 'labelled', 'accepted', 'rejected', 'skipped')),
        label             INTEGER CHECK (label IN (0, 1)),
        resolved_unix_ms  INTEGER,
        result_feedback_id INTEGER REFERENCES feedback (id),
        position          INTEGER NOT NULL,
        reason            TEXT
    );
    INSERT INTO queue_new (id, kind, text, predicted_label, proposed_label, confidence,
                           prediction_id, feedback_id, model_version, created_unix_ms,
                           state, label, resolved_unix_ms, result_feedback_id, position)
        SELECT id, kind, text, predicted_label, proposed_label, confidence,
               prediction_id, feedback_id, model_version, created_unix_ms,
               state, label, resolved_unix_ms, result_feedback_id, position
        FROM queue ORDER BY id;
    -- Keep the old table's AUTOINCREMENT high-water mark (it may exceed MAX(id)).
    DELETE FROM sqlite_sequence WHERE name = 'queue_new';
    UPDATE sqlite_sequence SET name = 'queue_new' WHERE name = 'queue';
    DROP TABLE queue;
    ALTER TABLE queue_new RENAME TO queue;
    CREATE INDEX queue_by_state ON queue (state, position);
    -- One queue item per held correction, and one per prediction across the kinds
    -- that queue predictions (low confidence and audit), so that enqueueing is
    -- idempotent.
    CREATE UNIQUE INDEX queue_one_per_feedback ON queue (feedback_id)
        WHERE kind = 'correction';
    CREATE UNIQUE INDEX queue_one_per_prediction ON queue (prediction_id)
        WHERE kind IN ('low_confidence', 'audit') AND prediction_id IS NOT NULL;

    -- "key:NAME" for a user API key, "addr:IP" for an anonymous caller; NULL for
    -- trusted senders and for rows older than this migration.
    ALTER TABLE feedback ADD COLUMN client TEXT;
    "#,
    // 4: feedback by arrival time, for the dashboard's feedback volume (read every few
    // seconds: the oldest row and the recent range, without scanning the table).
    r#"
    CREATE INDEX feedback_by_time ON feedback (created_unix_ms);
    "#,
    // 5: open (pending or skipped) low-confidence items by text, so that a text
    // already waiting for a label is not queued again each time it is predicted unsure.
    r#"
    CREATE INDEX queue_open_low_confidence_by_text ON queue (text)
        WHERE state IN ('pending', 'skipped') AND kind = 'low_confidence';
    "#,
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens the read-write connection the writer thread owns, switching the file to WAL
/// and bringing the schema up to date.
pub(crate) fn open_writer(
    path: &Path,
    synchronous: &str,
    wal_size_limit: u64,
) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .ctx_path("opening the database for writing", path)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx_path("setting the busy timeout", path)?;
    // WAL: readers (the daemon's queries, `feedback export` from another process) run
    // alongside the writer, and a commit is one sequential append to the -wal file.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .ctx_path("switching the database to WAL mode", path)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::InvalidArgument(format!(
            "{}: SQLite refused WAL mode (got {mode:?}); the data directory must be on a \
             local file system that supports shared memory (not NFS)",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", synchronous)
        .ctx_path("setting the synchronous mode", path)?;
    conn.pragma_update(
        None,
        "journal_size_limit",
        i64::try_from(wal_size_limit).unwrap_or(i64::MAX),
    )
    .ctx_path("setting the write-ahead log's size limit", path)?;
    conn.pragma_update(None, "foreign_keys", true)
        .ctx_path("enabling foreign keys", path)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Opens a read-only connection. Read-only by flag, so that a bug in a query path can
/// never write behind the writer thread's back, and so that an export can open the file
/// of a running daemon.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .ctx_path("opening the database for reading", path)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .ctx_path("setting the busy timeout", path)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .ctx_path("reading the schema version", path)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < SCHEMA_VERSION {
        return Err(StoreError::InvalidArgument(format!(
            "{}: schema version {version}, expected {SCHEMA_VERSION}; it is not a store \
             database, or one that sentimentd has not upgraded yet (start sentimentd once)",
            path.display()
        )));
    }
    Ok(conn)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    loop {
        // The version is read inside the IMMEDIATE transaction (which holds the write
        // lock), so two processes opening a fresh file cannot both run a migration.
        conn.execute_batch("BEGIN IMMEDIATE")
            .ctx_path("locking the database to check its schema", path)?;
        let step = migrate_one(conn, path);
        match step {
            Ok(true) => {
                conn.execute_batch("COMMIT")
                    .ctx_path("committing a schema upgrade", path)?;
            }
            Ok(false) => {
                conn.execute_batch("COMMIT")
                    .ctx_path("checking the database schema", path)?;
                return Ok(());
            }
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err);
            }
        }
    }
}

/// Runs the next migration if one is due; `Ok(false)` when the schema is current.
fn migrate_one(conn: &Connection, path: &Path) -> Result<bool, StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .ctx_path("reading the schema version", path)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version == SCHEMA_VERSION {
        return Ok(false);
    }
    let next = version + 1;
    conn.execute_batch(MIGRATIONS[version as usize])
        .ctx_path("upgrading the database schema", path)?;
    conn.pragma_update(None, "user_version", next)
        .ctx_path("recording the schema version", path)?;
    tracing::info!(path = %path.display(), version = next, "store schema migrated");
    Ok(true)
}
