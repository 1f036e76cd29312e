use super::*;
use std::collections::HashSet;
use std::sync::mpsc;

#[test]
fn group_commit_under_concurrency_keeps_every_feedback() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2_000;
    let (_dir, store) = temp_store();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = store.clone();
            let tx = tx.clone();
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    let tx = tx.clone();
                    let text = format!("thread {t} item {i}");
                    store.submit_feedback(new_feedback(&text, Label::Positive), move |r| {
                        tx.send((text, r)).unwrap();
                    });
                }
            });
        }
    });
    drop(tx);
    let mut ids = HashSet::new();
    let mut count = 0;
    for (text, result) in rx {
        let record = result.expect("feedback acknowledged");
        assert_eq!(record.text, text);
        assert!(ids.insert(record.id), "id {} given twice", record.id);
        count += 1;
    }
    assert_eq!(count, THREADS * PER_THREAD);
    // Everything acknowledged is readable by another connection, ids included.
    let stored = store.feedback(FeedbackFilter::default()).unwrap();
    assert_eq!(stored.len(), THREADS * PER_THREAD);
    assert_eq!(stored.iter().map(|f| f.id).collect::<HashSet<_>>(), ids);
    assert_eq!(
        store.counters().unwrap().total_feedback as usize,
        THREADS * PER_THREAD
    );
    let stats = store.writer_stats();
    assert_eq!(stats.requests as usize, THREADS * PER_THREAD);
    assert!(
        stats.commits < stats.requests,
        "requests were batched: {stats:?}"
    );
}

#[test]
fn readers_see_consistent_snapshots_while_writes_go_on() {
    let (_dir, store) = temp_store();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..2_000 {
                store.record_prediction(prediction(i, false));
                store.submit_feedback(new_feedback(&format!("w{i}"), Label::Negative), |r| {
                    r.unwrap();
                });
            }
            store.flush().unwrap();
        })
    };
    let mut last = 0;
    while !writer.is_finished() {
        let counters = store.counters().unwrap();
        // Counters and rows are written in the same transaction, so they agree.
        assert_eq!(
            counters.total_feedback, counters.feedback_by_status.accepted,
            "{counters:?}"
        );
        assert!(counters.total_feedback >= last, "counters never go back");
        last = counters.total_feedback;
    }
    writer.join().unwrap();
    assert_eq!(store.counters().unwrap().total_feedback, 2_000);
}

#[test]
fn flush_waits_for_everything_submitted_before_it() {
    let (_dir, store) = temp_store();
    let (tx, rx) = mpsc::channel();
    for i in 0..500 {
        let tx = tx.clone();
        store.submit_feedback(new_feedback(&format!("f{i}"), Label::Positive), move |r| {
            tx.send(r.is_ok()).unwrap();
        });
    }
    store.flush().unwrap();
    // All callbacks have run by the time flush returns.
    drop(tx);
    assert_eq!(rx.try_iter().filter(|ok| *ok).count(), 500);
}

#[test]
fn the_handle_is_send_sync_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Store>();
    fn assert_error<T: std::error::Error + Send + Sync + Clone + 'static>() {}
    assert_error::<StoreError>();
}

#[test]
fn a_panicking_callback_does_not_stop_the_writer() {
    let (_dir, store) = temp_store();
    store.submit_feedback(new_feedback("boom", Label::Positive), |_| {
        panic!("callback bug (expected in this test)")
    });
    store.flush().unwrap();
    let record = store
        .submit_feedback_wait(new_feedback("after", Label::Positive))
        .unwrap();
    assert_eq!(
        record.id, 2,
        "the first write was committed despite the panic"
    );
    store.check_writable().unwrap();
}

#[test]
fn blocking_calls_from_a_callback_are_refused_not_deadlocked() {
    let (_dir, store) = temp_store();
    let (tx, rx) = mpsc::channel();
    let inner = store.clone();
    store.submit_feedback(new_feedback("x", Label::Positive), move |_| {
        tx.send(inner.flush()).unwrap();
    });
    let result = rx.recv().unwrap();
    assert!(
        matches!(result, Err(StoreError::InvalidArgument(_))),
        "{result:?}"
    );
}

#[test]
fn dropping_the_last_handle_from_a_callback_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_in(&dir, StoreOptions::default());
    let (tx, rx) = mpsc::channel();
    let moved = store.clone();
    store.submit_feedback(new_feedback("x", Label::Positive), move |r| {
        drop(moved);
        tx.send(r.is_ok()).unwrap();
    });
    drop(store);
    assert!(rx.recv().unwrap());
}
