use super::*;

#[test]
fn feedback_round_trips_with_every_field() {
    let (_dir, store) = temp_store();
    let mut fb = new_feedback("a \"quoted\", multi\nline text", Label::Negative);
    fb.predicted_label = None;
    fb.confidence = None;
    let record = store.submit_feedback_wait(fb.clone()).unwrap();
    assert!(record.id > 0);
    assert!(record.created_unix_ms > 0);
    let read = store.feedback_by_id(record.id).unwrap().unwrap();
    assert_eq!(read, record);
    assert_eq!(read.text, fb.text);
    assert_eq!(read.predicted_label, None);
    assert_eq!(read.correct_label, Label::Negative);
    assert_eq!(read.api_key.as_deref(), Some("ci"));
    assert_eq!(store.feedback_by_id(record.id + 1).unwrap(), None);
}

#[test]
fn feedback_filter_by_status_since_and_limit() {
    let (_dir, store) = temp_store();
    let mut ids = Vec::new();
    for (i, status) in [
        FeedbackStatus::Accepted,
        FeedbackStatus::Rejected,
        FeedbackStatus::Accepted,
        FeedbackStatus::Accepted,
    ]
    .into_iter()
    .enumerate()
    {
        let mut fb = new_feedback(&format!("t{i}"), Label::Positive);
        fb.status = status;
        ids.push(store.submit_feedback_wait(fb).unwrap().id);
    }
    let all = store.feedback(FeedbackFilter::default()).unwrap();
    assert_eq!(all.iter().map(|f| f.id).collect::<Vec<_>>(), ids);
    let accepted = store
        .feedback(FeedbackFilter {
            status: Some(FeedbackStatus::Accepted),
            since_id: Some(ids[0]),
            limit: Some(1),
        })
        .unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].id, ids[2]);
}

#[test]
fn invalid_feedback_is_refused_and_does_not_count() {
    let (_dir, store) = temp_store();
    let err = store
        .submit_feedback_wait(new_feedback("   ", Label::Positive))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    let mut fb = new_feedback("ok", Label::Positive);
    fb.confidence = Some(1.5);
    assert!(store.submit_feedback_wait(fb).is_err());
    assert_eq!(store.counters().unwrap().total_feedback, 0);
}

#[test]
fn held_feedback_gets_a_correction_item_in_the_same_write() {
    let (_dir, store) = temp_store();
    let mut fb = new_feedback("held one", Label::Positive);
    fb.status = FeedbackStatus::Held;
    let record = store.submit_feedback_wait(fb).unwrap();
    let open = store.queue(QueueFilter::default()).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, QueueKind::Correction);
    assert_eq!(open[0].feedback_id, Some(record.id));
    assert_eq!(open[0].proposed_label, Some(Label::Positive));
    assert_eq!(open[0].predicted_label, Some(Label::Negative));
    // Enqueueing the same correction again returns the existing item.
    let again = store
        .enqueue_wait(NewQueueItem {
            kind: QueueKind::Correction,
            text: String::new(),
            predicted_label: None,
            confidence: None,
            prediction_id: None,
            feedback_id: Some(record.id),
            model_version: None,
            reason: None,
        })
        .unwrap();
    assert_eq!(again.id, open[0].id);
}

#[test]
fn recent_predictions_are_trimmed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(
        &dir,
        StoreOptions {
            recent_predictions: 10,
            ..StoreOptions::default()
        },
    );
    for n in 0..25 {
        store.record_prediction(prediction(n, n % 5 == 0));
    }
    store.flush().unwrap();
    let recent = store.recent_predictions(100).unwrap();
    let ids: Vec<_> = recent.iter().map(|p| p.id.clone()).collect();
    let expected: Vec<_> = (15..25).rev().map(|n| format!("p{n}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(recent[0], prediction(24, false));
    assert_eq!(store.recent_predictions(3).unwrap().len(), 3);
    assert_eq!(store.prediction("p20").unwrap(), Some(prediction(20, true)));
    assert_eq!(store.prediction("p3").unwrap(), None, "trimmed");
    let counters = store.counters().unwrap();
    assert_eq!(counters.total_predictions, 25);
    assert_eq!(counters.low_confidence, 5);
}

/// Background writes (predictions, their review items) wait for more, so that a
/// stream of predictions costs a few large commits; an acknowledged write never waits
/// for that linger and takes what lingers along in its own commit.
#[test]
fn background_writes_linger_until_an_acknowledged_write_takes_them_along() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(
        &dir,
        StoreOptions {
            // Far longer than the test may take: only an acknowledged write ends it.
            linger_ms: 600_000,
            ..StoreOptions::default()
        },
    );
    for n in 0..50 {
        store.record_prediction(prediction(n, n == 7));
    }
    let (queued_tx, queued_rx) = std::sync::mpsc::channel();
    store.enqueue(low_confidence_item("p7"), move |result| {
        let _ = queued_tx.send(result);
    });
    let started = std::time::Instant::now();
    store
        .submit_feedback_wait(new_feedback("not bad at all", Label::Positive))
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the feedback waited for the linger: {:?}",
        started.elapsed()
    );
    let item = queued_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the review item was committed with the feedback")
        .unwrap();
    assert_eq!(item.prediction_id.as_deref(), Some("p7"));
    assert_eq!(store.recent_predictions(100).unwrap().len(), 50);
    let stats = store.writer_stats();
    assert_eq!(
        (stats.commits, stats.requests),
        (1, 52),
        "50 predictions, a review item and the feedback in one commit"
    );
}

/// Closing the store ends a linger at once, and what lingered is committed.
#[test]
fn closing_the_store_commits_what_lingers_without_waiting_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        linger_ms: 600_000,
        ..StoreOptions::default()
    };
    let store = open_in(&dir, options.clone());
    for n in 0..5 {
        store.record_prediction(prediction(n, false));
    }
    let started = std::time::Instant::now();
    drop(store);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "closing waited for the linger: {:?}",
        started.elapsed()
    );
    let store = open_in(&dir, options);
    assert_eq!(store.recent_predictions(100).unwrap().len(), 5);
    assert_eq!(store.counters().unwrap().total_predictions, 5);
}

#[test]
fn counters_and_predictions_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open_in(&dir, StoreOptions::default());
        for n in 0..7 {
            store.record_prediction(prediction(n, n < 2));
        }
        let mut held = new_feedback("held", Label::Negative);
        held.status = FeedbackStatus::Held;
        store.submit_feedback_wait(held).unwrap();
        store
            .submit_feedback_wait(new_feedback("ok", Label::Positive))
            .unwrap();
        // No flush: dropping the last handle commits what is queued.
    }
    let store = open_in(&dir, StoreOptions::default());
    let counters = store.counters().unwrap();
    assert_eq!(counters.total_predictions, 7);
    assert_eq!(counters.low_confidence, 2);
    assert_eq!(counters.total_feedback, 2);
    assert_eq!(
        counters.feedback_by_status,
        FeedbackStatusCounts {
            accepted: 1,
            held: 1,
            rejected: 0
        }
    );
    assert_eq!(store.recent_predictions(100).unwrap().len(), 7);
    assert_eq!(store.queue_counts().unwrap().open_corrections, 1);
    // Ids keep growing after a restart.
    let next = store
        .submit_feedback_wait(new_feedback("after", Label::Positive))
        .unwrap();
    assert_eq!(next.id, 3);
}

#[test]
fn a_duplicate_prediction_id_fails_alone() {
    let (_dir, store) = temp_store();
    store.record_prediction(prediction(1, false));
    store.record_prediction(prediction(1, false));
    store.record_prediction(prediction(2, false));
    store.flush().unwrap();
    assert_eq!(store.counters().unwrap().total_predictions, 2);
    assert_eq!(store.recent_predictions(10).unwrap().len(), 2);
    store.check_writable().unwrap();
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    drop(Store::open(&path, StoreOptions::default()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path, StoreOptions::default()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer sentimentd"), "{err}");
}

#[test]
fn the_file_is_in_wal_mode() {
    let (dir, store) = temp_store();
    store
        .submit_feedback_wait(new_feedback("x", Label::Positive))
        .unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE_NAME)).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn the_write_ahead_log_is_cut_back_after_a_reader_held_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 256 << 10;
    let store = open_in(
        &dir,
        StoreOptions {
            wal_size_limit: limit,
            ..StoreOptions::default()
        },
    );
    let wal = dir.path().join(format!("{DB_FILE_NAME}-wal"));
    // A reader in the middle of a transaction (an export from another process, say)
    // keeps every frame written after its snapshot in the log.
    let reader = rusqlite::Connection::open(dir.path().join(DB_FILE_NAME)).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT COUNT(*) FROM feedback", [], |r| r.get(0))
        .unwrap();
    let long = "a long review ".repeat(150);
    for i in 0..1_500 {
        store
            .submit_feedback_wait(new_feedback(&format!("{long}{i}"), Label::Positive))
            .unwrap();
    }
    let grown = std::fs::metadata(&wal).unwrap().len();
    assert!(grown > 4 * limit, "the log grew to only {grown} bytes");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    // Once the reader is gone, the next commit's checkpoint folds the log in, and the
    // write after it starts the log over, cut back to the limit.
    for i in 0..3 {
        store
            .submit_feedback_wait(new_feedback(&format!("after {i}"), Label::Negative))
            .unwrap();
    }
    let after = std::fs::metadata(&wal).unwrap().len();
    assert!(
        after <= limit,
        "the log is still {after} bytes (it had grown to {grown}; the limit is {limit})"
    );
    assert_eq!(store.counters().unwrap().total_feedback, 1_503);
}

#[test]
fn serde_spellings_are_lowercase() {
    assert_eq!(
        serde_json::to_string(&FeedbackStatus::Held).unwrap(),
        "\"held\""
    );
    assert_eq!(
        serde_json::to_string(&QueueKind::LowConfidence).unwrap(),
        "\"low_confidence\""
    );
    assert_eq!(
        serde_json::to_string(&QueueAction::Label(Label::Positive)).unwrap(),
        "{\"label\":\"positive\"}"
    );
    assert_eq!(
        "Rejected".parse::<FeedbackStatus>().unwrap(),
        FeedbackStatus::Rejected
    );
    assert_eq!(
        "skipped".parse::<QueueSelect>().unwrap(),
        QueueSelect::Only(QueueState::Skipped)
    );
    assert!("nope".parse::<QueueSelect>().is_err());
}

#[test]
fn feedback_client_round_trips_and_defaults_to_none() {
    let (_dir, store) = temp_store();
    let mut keyed = new_feedback("from a user key", Label::Positive);
    keyed.client = Some("key:alice".into());
    let keyed = store.submit_feedback_wait(keyed).unwrap();
    assert_eq!(keyed.client.as_deref(), Some("key:alice"));
    let mut anonymous = new_feedback("from nobody", Label::Negative);
    anonymous.client = Some("addr:2001:db8::1".into());
    anonymous.api_key = None;
    let anonymous = store.submit_feedback_wait(anonymous).unwrap();
    let trusted = store
        .submit_feedback_wait(new_feedback("from the socket", Label::Positive))
        .unwrap();
    assert_eq!(trusted.client, None);

    assert_eq!(
        store.feedback_by_id(keyed.id).unwrap().as_ref(),
        Some(&keyed)
    );
    let all = store.feedback(FeedbackFilter::default()).unwrap();
    let clients: Vec<_> = all.iter().map(|f| f.client.as_deref()).collect();
    assert_eq!(
        clients,
        vec![Some("key:alice"), Some("addr:2001:db8::1"), None]
    );
    assert_eq!(all[1], anonymous);

    // Held feedback keeps it too, through the queue.
    let mut held = new_feedback("held", Label::Negative);
    held.status = FeedbackStatus::Held;
    held.client = Some("key:bob".into());
    let held = store.submit_feedback_wait(held).unwrap();
    let item = store
        .queue(QueueFilter::default())
        .unwrap()
        .into_iter()
        .find(|i| i.feedback_id == Some(held.id))
        .unwrap();
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap();
    assert_eq!(done.feedback.unwrap().client.as_deref(), Some("key:bob"));

    // JSON without the field (an older peer) reads as None.
    let mut json = serde_json::to_value(&trusted).unwrap();
    json.as_object_mut().unwrap().remove("client");
    let back: FeedbackRecord = serde_json::from_value(json).unwrap();
    assert_eq!(back, trusted);
}

#[test]
fn feedback_volume_counts_each_kind_in_the_narrowest_bucket_that_covers_it() {
    let (_dir, store) = temp_store();
    let submit = |text: &str, predicted: Option<Label>, correct: Label, source: &str| {
        let mut fb = new_feedback(text, correct);
        fb.predicted_label = predicted;
        fb.source = source.into();
        store.submit_feedback_wait(fb).unwrap().id
    };
    let correction = submit("a", Some(Label::Negative), Label::Positive, "api");
    submit("b", Some(Label::Positive), Label::Positive, "api");
    let bare = submit("c", None, Label::Negative, "socket");
    submit("d", Some(Label::Negative), Label::Positive, "operator");
    submit(
        "e",
        Some(Label::Positive),
        Label::Positive,
        "operator_accept",
    );
    // Nothing older than a minute: one-minute buckets, all rows in the newest one.
    let now = store
        .feedback_by_id(correction)
        .unwrap()
        .unwrap()
        .created_unix_ms
        + 1;
    let (width, buckets) = store.feedback_volume(now, 60).unwrap();
    assert_eq!(width, 60_000);
    let total: u64 = buckets.iter().map(VolumeBucket::total).sum();
    assert_eq!(total, 5, "{buckets:?}");
    let sum = |f: fn(&VolumeBucket) -> u64| buckets.iter().map(f).sum::<u64>();
    assert_eq!(sum(|b| b.corrections), 1);
    assert_eq!(sum(|b| b.confirmations), 1);
    assert_eq!(sum(|b| b.labels), 1);
    assert_eq!(sum(|b| b.operator_labels), 2);

    // Move the correction three hours back and the bare label two: the width grows
    // to five minutes (36 buckets), and each old row has a bucket of its own (the
    // bare label's has no prediction at all to compare).
    let old = now - 3 * 3_600_000;
    let bare_at = now - 2 * 3_600_000;
    store
        .exec_on_writer(&format!(
            "UPDATE feedback SET created_unix_ms = {old} WHERE id = {correction}; \
             UPDATE feedback SET created_unix_ms = {bare_at} WHERE id = {bare}"
        ))
        .unwrap();
    let (width, buckets) = store.feedback_volume(now, 60).unwrap();
    assert_eq!(width, 300_000);
    assert_eq!(buckets.len(), 3, "{buckets:?}");
    assert_eq!(buckets[0].start_unix_ms, old / width * width);
    assert_eq!(buckets[0].corrections, 1);
    assert_eq!(
        buckets[1],
        VolumeBucket {
            start_unix_ms: bare_at / width * width,
            labels: 1,
            ..VolumeBucket::default()
        }
    );
    assert!(buckets.iter().all(|b| b.start_unix_ms % width == 0));

    // A row older than 60 days falls outside even daily buckets.
    let ancient = now - 61 * 86_400_000;
    store
        .exec_on_writer(&format!(
            "UPDATE feedback SET created_unix_ms = {ancient} WHERE id = {correction}"
        ))
        .unwrap();
    let (width, buckets) = store.feedback_volume(now, 60).unwrap();
    assert_eq!(width, 86_400_000);
    let total: u64 = buckets.iter().map(VolumeBucket::total).sum();
    assert_eq!(total, 4, "the 61-day-old row is left out: {buckets:?}");
}
