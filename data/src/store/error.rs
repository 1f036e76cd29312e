//! The error type of the store.
//!
//! Errors are `Clone` because one failed COMMIT has to be reported to every caller whose
//! write was in that batch; the underlying SQLite and I/O errors are therefore kept
//! behind an `Arc`. Messages name the file and say what the operator can do, since they
//! end up in the daemon's log and in HTTP error bodies.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::ErrorCode;

use super::QueueState;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The data directory or database file cannot be written: read-only mount, wrong
    /// owner or permissions.
    #[error(
        "the data directory {dir} is read-only or not writable by this user ({detail}); \
         make it writable (check mount options, owner and permissions) or point the \
         daemon at another data directory",
        dir = .dir.display()
    )]
    ReadOnly { dir: PathBuf, detail: String },

    /// The disk holding the database is full (SQLITE_FULL or ENOSPC).
    #[error(
        "the disk holding {file} is full ({detail}); free some space, later writes will \
         succeed again without a restart",
        file = .path.display()
    )]
    DiskFull { path: PathBuf, detail: String },

    /// Any other SQLite failure, with what the store was doing at the time.
    #[error("{context}: {source} (database {file})", file = .path.display())]
    Sqlite {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: Arc<rusqlite::Error>,
    },

    /// A file-system operation outside SQLite (creating the directory, writing an export).
    #[error(
        "{action} {file}: {source} (check that the path exists and that this user may \
         write it)",
        file = .path.display()
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },

    /// The writer thread has stopped, so nothing more can be written.
    #[error(
        "the store's writer thread has stopped, so writes cannot be recorded; see the \
         earlier errors in the log and restart the daemon"
    )]
    WriterGone,

    /// A row the caller named does not exist.
    #[error("no {what} with id {id}; list them to see which ids exist")]
    NotFound { what: &'static str, id: String },

    /// A queue action that the item's current state does not allow.
    #[error("queue item {id} is {}: cannot {action}; {hint}", queue_state_name(.state))]
    InvalidTransition {
        id: i64,
        state: QueueState,
        action: String,
        hint: &'static str,
    },

    /// A value the caller passed is out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The database was written by a newer version of this program.
    #[error(
        "{file} has schema version {found}, but this build only knows versions up to \
         {supported}; run the newer sentimentd that created it, or move the file away",
        file = .path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// Writing the CSV of an export failed.
    #[error("writing the export {file}: {message}", file = .path.display())]
    Export { path: PathBuf, message: String },
}

impl StoreError {
    /// Turns a SQLite error into the most useful variant: read-only and disk-full
    /// conditions get their own messages because the operator can fix them.
    pub(crate) fn sqlite(context: &'static str, db: &Path, err: rusqlite::Error) -> Self {
        let code = err.sqlite_error_code();
        match code {
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen)
                if dir_is_read_only(db) || code == Some(ErrorCode::ReadOnly) =>
            {
                StoreError::ReadOnly {
                    dir: parent_dir(db),
                    detail: format!("{context}: {err}"),
                }
            }
            Some(ErrorCode::DiskFull) => StoreError::DiskFull {
                path: db.to_path_buf(),
                detail: format!("{context}: {err}"),
            },
            _ => StoreError::Sqlite {
                context,
                path: db.to_path_buf(),
                source: Arc::new(err),
            },
        }
    }

    /// Same for `std::io` errors: EROFS/EACCES and ENOSPC get the actionable variants.
    pub(crate) fn io(action: &'static str, path: &Path, err: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match err.kind() {
            ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied => StoreError::ReadOnly {
                dir: parent_dir(path),
                detail: format!("{action} {}: {err}", path.display()),
            },
            ErrorKind::StorageFull => StoreError::DiskFull {
                path: path.to_path_buf(),
                detail: format!("{action}: {err}"),
            },
            _ => StoreError::Io {
                action,
                path: path.to_path_buf(),
                source: Arc::new(err),
            },
        }
    }

    /// True for the errors that concern the disk rather than the request, i.e. the ones
    /// that make the store "not writable" for readiness purposes.
    pub fn is_storage_failure(&self) -> bool {
        match self {
            StoreError::ReadOnly { .. }
            | StoreError::DiskFull { .. }
            | StoreError::Io { .. }
            | StoreError::WriterGone => true,
            // A constraint violation is about the request (a duplicate id), not the disk.
            StoreError::Sqlite { source, .. } => {
                source.sqlite_error_code() != Some(ErrorCode::ConstraintViolation)
            }
            _ => false,
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// SQLite reports "unable to open database file" for many reasons; only call it
/// read-only when the directory really refuses writes, so the message is not a lie.
fn dir_is_read_only(db: &Path) -> bool {
    let dir = parent_dir(db);
    let probe = dir.join(format!(".sentiment-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        ),
    }
}

/// Attaches "what was being done" and the database path to rusqlite results.
pub(crate) trait SqlContext<T> {
    /// Context from a connection: its file name is the database path.
    fn ctx(self, context: &'static str, conn: &rusqlite::Connection) -> Result<T, StoreError>;
    /// Context with an explicit path (before a connection exists).
    fn ctx_path(self, context: &'static str, db: &Path) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str, conn: &rusqlite::Connection) -> Result<T, StoreError> {
        self.map_err(|e| {
            let path = PathBuf::from(conn.path().unwrap_or(""));
            StoreError::sqlite(context, &path, e)
        })
    }

    fn ctx_path(self, context: &'static str, db: &Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(context, db, e))
    }
}

/// A queue state as the API spells it (`labelled`), for messages.
fn queue_state_name(state: &QueueState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{state:?}").to_lowercase())
}
