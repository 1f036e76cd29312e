//! Read-only connections for the query methods of `Store`.
//!
//! In WAL mode readers see the last committed state and never wait for the writer, so
//! queries run on the caller's thread on their own connections rather than through the
//! writer's queue. A few idle connections are kept to save the cost of opening one per
//! query; more are opened when many threads read at once.

use super::error::StoreError;
use super::schema;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Mutex;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, max_idle: usize) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// Runs `f` inside one read transaction, so that a query made of several
    /// statements (the counters) sees a single snapshot.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = match self.lock().pop() {
            Some(conn) => conn,
            None => schema::open_reader(&self.path)?,
        };
        let result = (|| {
            // A deferred transaction: it takes its snapshot at the first SELECT and is
            // rolled back (a no-op for reads) when dropped.
            let tx = conn
                .unchecked_transaction()
                .map_err(|e| StoreError::sqlite("starting a read transaction", &self.path, e))?;
            f(&tx)
        })();
        let mut idle = self.lock();
        // A connection whose query failed is dropped rather than reused, in case the
        // failure left it in a strange state.
        if result.is_ok() && idle.len() < self.max_idle {
            idle.push(conn);
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while holding the lock cannot leave the Vec inconsistent.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
