//! Feedback shards: planned once, retried with the same path and rows, marked
//! uploaded only when told, and the schema upgrade of an existing database.

use super::*;

#[test]
fn a_shard_takes_the_unsharded_accepted_feedback_and_is_reused_until_uploaded() {
    let (_dir, store) = temp_store();
    assert_eq!(store.plan_feedback_shard_wait("n1", "a.csv").unwrap(), None);
    let first = store
        .submit_feedback_wait(new_feedback("good", Label::Positive))
        .unwrap();
    let mut held = new_feedback("held back", Label::Negative);
    held.status = FeedbackStatus::Held;
    let held = store.submit_feedback_wait(held).unwrap();

    let shard = store
        .plan_feedback_shard_wait("n1", "feedback/n1/a.csv")
        .unwrap()
        .unwrap();
    assert_eq!(shard.path, "feedback/n1/a.csv");
    assert_eq!(shard.node_id, "n1");
    assert_eq!(shard.uploaded_unix_ms, None);
    assert_eq!(
        shard.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        [first.id]
    );

    // Not uploaded yet (say the Hub was down): planning again returns the same shard,
    // even though more feedback arrived; the new row waits for the next one.
    let second = store
        .submit_feedback_wait(new_feedback("bad", Label::Negative))
        .unwrap();
    let again = store
        .plan_feedback_shard_wait("n1", "feedback/n1/b.csv")
        .unwrap()
        .unwrap();
    assert_eq!(again, shard);
    assert_eq!(
        store.shard_counts().unwrap(),
        ShardCounts {
            uploaded_shards: 0,
            pending_shards: 1,
            unsharded_feedback: 1,
            uploaded_feedback: 0,
        }
    );

    store.mark_shard_uploaded_wait(shard.id, "c0ffee").unwrap();
    // Twice is a mistake, and says so.
    assert!(store.mark_shard_uploaded_wait(shard.id, "c0ffee").is_err());
    let uploaded = store.feedback_shard(shard.id).unwrap().unwrap();
    assert_eq!(uploaded.commit.as_deref(), Some("c0ffee"));
    assert!(uploaded.uploaded_unix_ms.is_some());

    // The next shard has the row that waited, and (once accepted) the held one.
    store
        .set_feedback_status_wait(held.id, FeedbackStatus::Accepted)
        .unwrap();
    let next = store
        .plan_feedback_shard_wait("n1", "feedback/n1/b.csv")
        .unwrap()
        .unwrap();
    assert_ne!(next.id, shard.id);
    assert_eq!(next.path, "feedback/n1/b.csv");
    assert_eq!(
        next.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        [held.id, second.id]
    );
    store.mark_shard_uploaded_wait(next.id, "beef").unwrap();
    assert_eq!(store.plan_feedback_shard_wait("n1", "c.csv").unwrap(), None);
    let counts = store.shard_counts().unwrap();
    assert_eq!((counts.uploaded_shards, counts.uploaded_feedback), (2, 3));
}

#[test]
fn a_pending_shard_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(&dir, StoreOptions::default());
    store
        .submit_feedback_wait(new_feedback("kept", Label::Positive))
        .unwrap();
    let shard = store
        .plan_feedback_shard_wait("n1", "feedback/n1/x.csv")
        .unwrap()
        .unwrap();
    drop(store);
    let store = open_in(&dir, StoreOptions::default());
    let again = store
        .plan_feedback_shard_wait("n1", "feedback/n1/y.csv")
        .unwrap()
        .unwrap();
    assert_eq!(again, shard);
}

#[test]
fn a_version_1_database_is_upgraded_with_its_feedback_unsharded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    {
        // The layout as the first release wrote it, with a row in it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(super::super::schema::MIGRATIONS[0])
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO feedback (created_unix_ms, text, correct_label, source, status) \
             VALUES (1, 'old but gold', 1, 'api', 'accepted')",
            [],
        )
        .unwrap();
    }
    let store = open_in(&dir, StoreOptions::default());
    assert_eq!(store.feedback(FeedbackFilter::default()).unwrap().len(), 1);
    assert_eq!(store.shard_counts().unwrap().unsharded_feedback, 1);
    let shard = store
        .plan_feedback_shard_wait("n1", "feedback/n1/old.csv")
        .unwrap()
        .unwrap();
    assert_eq!(shard.rows[0].text, "old but gold");
}
