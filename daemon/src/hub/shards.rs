//! Uploading accepted feedback to the Hub's dataset repository as shards, on a timer
//! and on shutdown.
//!
//! The bookkeeping is in the store (see `sentiment_data::store` shards): a shard is
//! planned with a fixed path and fixed rows, uploaded in one commit, and marked
//! uploaded only after that commit succeeded. A failed upload leaves the shard
//! pending and the next round sends the very same file to the very same path. We
//! chose this deterministic name per batch over "new name per attempt" because it
//! makes a retry idempotent even after a crash between the commit and the marking:
//! the Hub ends up with one file per batch, never two copies under two names. (The
//! retrain de-duplicates by node id + feedback id anyway, as a second line.)

use crate::hub::HubRuntime;
use anyhow::{Context, Result};
use sentiment_data::hub::{shard_csv, shard_path};
use sentiment_data::store::Store;

/// What one upload round sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub shards: Vec<String>,
    pub rows: usize,
}

/// Most shards sent in one round: the pending one, then one with what arrived since.
const MAX_SHARDS_PER_ROUND: usize = 4;

/// Uploads whatever accepted feedback has not been uploaded yet (blocking). On a Hub
/// error the shard stays pending and the error is returned; nothing is lost.
pub fn upload_pending(hub: &HubRuntime, store: &Store) -> Result<Uploaded> {
    let _one_at_a_time = hub.upload_lock.lock().unwrap_or_else(|p| p.into_inner());
    let mut done = Uploaded::default();
    for _ in 0..MAX_SHARDS_PER_ROUND {
        let path = shard_path(&hub.node_id, crate::events::now_unix_ms());
        let Some(shard) = store
            .plan_feedback_shard_wait(&hub.node_id, &path)
            .context("cannot plan a feedback shard")?
        else {
            break;
        };
        let bytes = shard_csv(&shard.node_id, &shard.rows);
        let commit = hub
            .client
            .upload_feedback_shard(&shard.path, bytes, shard.rows.len())
            .with_context(|| {
                format!(
                    "cannot upload the feedback shard {} ({} rows); it stays pending and is retried",
                    shard.path,
                    shard.rows.len()
                )
            })?;
        store
            .mark_shard_uploaded_wait(shard.id, &commit)
            .context("the shard was uploaded but could not be marked so; it will be re-sent to the same path")?;
        tracing::info!(shard = %shard.path, rows = shard.rows.len(), %commit, "feedback shard uploaded");
        done.rows += shard.rows.len();
        done.shards.push(shard.path);
    }
    Ok(done)
}
