//! Upgrading a database written by an older build.

use super::*;
use crate::store::schema::{MIGRATIONS, SCHEMA_VERSION};
use rusqlite::{params, Connection};
use std::path::Path;

/// A database as a build with schema version 2 left it: a few feedback rows, one in a
/// shard, and queue items of both old kinds in several states. The last queue item
/// was deleted, so the AUTOINCREMENT counter (4) is above the largest id (3).
fn create_version_2(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    for migration in &MIGRATIONS[..2] {
        conn.execute_batch(migration).unwrap();
    }
    conn.pragma_update(None, "user_version", 2).unwrap();
    conn.execute_batch(
        "INSERT INTO feedback_shards (id, path, node_id, created_unix_ms, rows) \
             VALUES (1, 'feedback/n/1.csv', 'n', 10, 1);
         INSERT INTO feedback (id, created_unix_ms, text, predicted_label, correct_label, \
             confidence, prediction_id, source, api_key, model_version, status, shard_id) VALUES
             (1, 100, 'user row', 0, 1, 0.6, 'p-user', 'api', 'alice', 'v1', 'accepted', 1),
             (2, 200, 'held row', 1, 0, NULL, NULL, 'api', 'bob', 'v1', 'held', NULL),
             (3, 300, 'operator row', 1, 0, 0.55, 'p-low', 'operator', NULL, 'v1', 'accepted', \
                 NULL);
         INSERT INTO queue (id, kind, text, predicted_label, proposed_label, confidence, \
             prediction_id, feedback_id, model_version, created_unix_ms, state, label, \
             resolved_unix_ms, result_feedback_id, position) VALUES
             (1, 'low_confidence', 'operator row', 1, NULL, 0.55, 'p-low', NULL, 'v1', 150, \
                 'labelled', 0, 160, 3, 1),
             (2, 'correction', 'held row', 1, 0, NULL, NULL, 2, 'v1', 200, 'skipped', NULL, \
                 NULL, NULL, 5),
             (3, 'low_confidence', 'still open', 0, NULL, 0.51, 'p-open', NULL, 'v1', 250, \
                 'pending', NULL, NULL, NULL, 3),
             (4, 'low_confidence', 'deleted', 0, NULL, 0.5, 'p-gone', NULL, 'v1', 260, \
                 'pending', NULL, NULL, NULL, 4);
         DELETE FROM queue WHERE id = 4;
         UPDATE counters SET value = 5 WHERE name = 'queue_position';
         UPDATE counters SET value = 3 WHERE name = 'total_feedback';",
    )
    .unwrap();
}

fn queue_rows(conn: &Connection) -> Vec<Vec<rusqlite::types::Value>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, kind, text, predicted_label, proposed_label, confidence, prediction_id, \
             feedback_id, model_version, created_unix_ms, state, label, resolved_unix_ms, \
             result_feedback_id, position FROM queue ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |row| {
        (0..15).map(|i| row.get(i)).collect::<rusqlite::Result<_>>()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn a_version_2_database_is_migrated_keeping_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    create_version_2(&path);
    let before = queue_rows(&Connection::open(&path).unwrap());
    assert_eq!(before.len(), 3);

    let store = Store::open(&path, StoreOptions::default()).unwrap();

    // The queue, row for row, with no reason.
    let raw = Connection::open(&path).unwrap();
    assert_eq!(queue_rows(&raw), before);
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 5);
    let all = store
        .queue(QueueFilter {
            state: QueueSelect::All,
            ..QueueFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|i| i.reason.is_none()));
    assert_eq!(all[0].kind, QueueKind::LowConfidence);
    assert_eq!(all[0].state, QueueState::Labelled);
    assert_eq!(all[0].label, Some(Label::Negative));
    assert_eq!(all[0].result_feedback_id, Some(3));
    assert_eq!(all[1].kind, QueueKind::Correction);
    assert_eq!(all[1].feedback_id, Some(2));
    assert_eq!(all[1].proposed_label, Some(Label::Negative));
    // Review order (position) is kept: the skipped correction comes last.
    let open: Vec<_> = store
        .queue(QueueFilter::default())
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(open, vec![3, 2]);
    let counts = store.queue_counts().unwrap();
    assert_eq!(
        (
            counts.open_low_confidence,
            counts.open_corrections,
            counts.open_audit
        ),
        (1, 1, 0)
    );

    // Feedback, with no client, and its shard.
    let feedback = store.feedback(FeedbackFilter::default()).unwrap();
    assert_eq!(feedback.len(), 3);
    assert!(feedback.iter().all(|f| f.client.is_none()));
    assert_eq!(feedback[0].api_key.as_deref(), Some("alice"));
    assert_eq!(feedback[1].status, FeedbackStatus::Held);
    let shard = store.feedback_shard(1).unwrap().unwrap();
    assert_eq!(shard.rows.len(), 1);
    assert_eq!(shard.rows[0].id, 1);

    // The indexes are back, and the foreign keys hold.
    let mut indexes: Vec<String> = raw
        .prepare(
            "SELECT name FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'queue' AND sql IS NOT NULL",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        vec![
            "queue_by_state",
            "queue_one_per_feedback",
            "queue_one_per_prediction",
            "queue_open_low_confidence_by_text"
        ]
    );
    let tables: i64 = raw
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'queue_new'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
    let violations: i64 = raw
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
    let integrity: String = raw
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    // The old rows still work: the skipped correction resolves against its feedback,
    // and a prediction queued before the upgrade is not queued again, even as audit.
    let done = store
        .resolve_queue_item_wait(2, QueueAction::Accept)
        .unwrap();
    assert_eq!(done.feedback.unwrap().status, FeedbackStatus::Accepted);
    let audit = NewQueueItem {
        kind: QueueKind::Audit,
        text: "still open".into(),
        predicted_label: Some(Label::Negative),
        confidence: None,
        prediction_id: Some("p-open".into()),
        feedback_id: None,
        model_version: Some("v2".into()),
        reason: Some("audit".into()),
    };
    assert_eq!(store.enqueue_wait(audit.clone()).unwrap().id, 3);

    // New ids continue after the old AUTOINCREMENT counter: id 4 is never reused.
    let fresh = store
        .enqueue_wait(NewQueueItem {
            prediction_id: Some("p-new".into()),
            ..audit
        })
        .unwrap();
    assert_eq!(fresh.id, 5);
    assert_eq!(fresh.kind, QueueKind::Audit);
    assert_eq!(fresh.reason.as_deref(), Some("audit"));
    store
        .resolve_queue_item_wait(fresh.id, QueueAction::Label(Label::Positive))
        .unwrap();
    assert_eq!(store.audit_labels().unwrap().len(), 1);
    let mut fb = new_feedback("after the upgrade", Label::Positive);
    fb.client = Some("key:carol".into());
    let fb = store.submit_feedback_wait(fb).unwrap();
    assert_eq!(fb.id, 4);
    assert_eq!(
        store.feedback_by_id(4).unwrap().unwrap().client.as_deref(),
        Some("key:carol")
    );

    // Opening again is a no-op.
    drop(store);
    drop(raw);
    let store = Store::open(&path, StoreOptions::default()).unwrap();
    assert_eq!(store.queue_item(5).unwrap().unwrap().kind, QueueKind::Audit);
    assert_eq!(store.audit_labels().unwrap().len(), 1);
}

#[test]
fn an_empty_version_2_database_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        let conn = Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..2] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let store = Store::open(&path, StoreOptions::default()).unwrap();
    let item = store
        .enqueue_wait(NewQueueItem {
            kind: QueueKind::Audit,
            text: "t".into(),
            predicted_label: None,
            confidence: None,
            prediction_id: None,
            feedback_id: None,
            model_version: None,
            reason: None,
        })
        .unwrap();
    assert_eq!(item.id, 1);
    let conn = Connection::open(&path).unwrap();
    let kinds: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM queue WHERE kind = ?1",
            params!["audit"],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kinds, 1);
}
