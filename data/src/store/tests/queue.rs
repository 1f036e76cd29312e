use super::*;

#[test]
fn labelling_a_low_confidence_item_creates_accepted_operator_feedback() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    assert_eq!(item.state, QueueState::Pending);
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Label(Label::Negative))
        .unwrap();
    assert_eq!(done.item.state, QueueState::Labelled);
    assert_eq!(done.item.label, Some(Label::Negative));
    assert!(done.item.resolved_unix_ms.is_some());
    let fb = done.feedback.expect("feedback created");
    assert_eq!(done.item.result_feedback_id, Some(fb.id));
    assert_eq!(fb.status, FeedbackStatus::Accepted);
    assert_eq!(fb.source, "operator");
    assert_eq!(fb.correct_label, Label::Negative);
    assert_eq!(fb.predicted_label, Some(Label::Positive));
    assert_eq!(fb.prediction_id.as_deref(), Some("p1"));
    assert_eq!(store.feedback_by_id(fb.id).unwrap(), Some(fb));
    assert_eq!(store.counters().unwrap().total_feedback, 1);
    assert_eq!(store.queue(QueueFilter::default()).unwrap(), vec![]);
}

#[test]
fn accepting_a_low_confidence_item_confirms_the_prediction() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap();
    assert_eq!(done.item.state, QueueState::Accepted);
    assert_eq!(done.feedback.unwrap().correct_label, Label::Positive);

    let mut unlabelled = low_confidence_item("p2");
    unlabelled.predicted_label = None;
    let item = store.enqueue_wait(unlabelled).unwrap();
    let err = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
}

#[test]
fn rejecting_a_low_confidence_item_creates_no_feedback() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Reject)
        .unwrap();
    assert_eq!(done.item.state, QueueState::Rejected);
    assert_eq!(done.feedback, None);
    assert_eq!(store.counters().unwrap().total_feedback, 0);
}

#[test]
fn decided_items_cannot_be_decided_again_and_unknown_ids_are_not_found() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    store
        .resolve_queue_item_wait(item.id, QueueAction::Label(Label::Positive))
        .unwrap();
    let err = store
        .resolve_queue_item_wait(item.id, QueueAction::Reject)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::InvalidTransition {
                state: QueueState::Labelled,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("already been decided"), "{err}");
    let err = store
        .resolve_queue_item_wait(999, QueueAction::Skip)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    // The failed requests left nothing behind.
    assert_eq!(store.counters().unwrap().total_feedback, 1);
}

#[test]
fn skip_moves_an_item_to_the_back_and_keeps_it_open() {
    let (_dir, store) = temp_store();
    let a = store.enqueue_wait(low_confidence_item("a")).unwrap();
    let b = store.enqueue_wait(low_confidence_item("b")).unwrap();
    let skipped = store
        .resolve_queue_item_wait(a.id, QueueAction::Skip)
        .unwrap();
    assert_eq!(skipped.item.state, QueueState::Skipped);
    assert_eq!(skipped.feedback, None);
    let c = store.enqueue_wait(low_confidence_item("c")).unwrap();
    let order: Vec<_> = store
        .queue(QueueFilter::default())
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(order, vec![b.id, a.id, c.id]);
    let only_skipped = store
        .queue(QueueFilter {
            state: QueueSelect::Only(QueueState::Skipped),
            ..QueueFilter::default()
        })
        .unwrap();
    assert_eq!(only_skipped.len(), 1);
    // A skipped item can still be decided.
    let done = store
        .resolve_queue_item_wait(a.id, QueueAction::Label(Label::Positive))
        .unwrap();
    assert_eq!(done.item.state, QueueState::Labelled);
    let counts = store.queue_counts().unwrap();
    assert_eq!(
        counts,
        QueueCounts {
            pending: 2,
            skipped: 0,
            labelled: 1,
            accepted: 0,
            rejected: 0,
            open_low_confidence: 2,
            open_corrections: 0,
        }
    );
}

#[test]
fn enqueueing_the_same_prediction_twice_returns_the_first_item() {
    let (_dir, store) = temp_store();
    let first = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    let second = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    assert_eq!(first, second);
    assert_eq!(store.queue_counts().unwrap().pending, 1);
}

fn held(store: &Store, text: &str, label: Label) -> (FeedbackRecord, QueueItem) {
    let mut fb = new_feedback(text, label);
    fb.status = FeedbackStatus::Held;
    let fb = store.submit_feedback_wait(fb).unwrap();
    let item = store
        .queue(QueueFilter::default())
        .unwrap()
        .into_iter()
        .find(|i| i.feedback_id == Some(fb.id))
        .unwrap();
    (fb, item)
}

#[test]
fn accepting_or_rejecting_a_correction_flips_its_feedback() {
    let (_dir, store) = temp_store();
    let (fb, item) = held(&store, "good", Label::Positive);
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap();
    assert_eq!(done.item.state, QueueState::Accepted);
    assert_eq!(done.item.label, Some(Label::Positive));
    assert_eq!(done.feedback.as_ref().unwrap().id, fb.id);
    assert_eq!(
        store.feedback_by_id(fb.id).unwrap().unwrap().status,
        FeedbackStatus::Accepted
    );

    let (fb, item) = held(&store, "bad", Label::Negative);
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Reject)
        .unwrap();
    assert_eq!(done.item.state, QueueState::Rejected);
    assert_eq!(
        store.feedback_by_id(fb.id).unwrap().unwrap().status,
        FeedbackStatus::Rejected
    );
    // No new feedback rows: two user rows only.
    assert_eq!(store.counters().unwrap().total_feedback, 2);
}

#[test]
fn labelling_a_correction_against_the_user_replaces_the_users_row() {
    let (_dir, store) = temp_store();
    let (user, item) = held(&store, "meh", Label::Positive);
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Label(Label::Negative))
        .unwrap();
    assert_eq!(done.item.state, QueueState::Labelled);
    let operator = done.feedback.unwrap();
    assert_ne!(operator.id, user.id);
    assert_eq!(operator.source, "operator");
    assert_eq!(operator.correct_label, Label::Negative);
    assert_eq!(operator.status, FeedbackStatus::Accepted);
    assert_eq!(
        store.feedback_by_id(user.id).unwrap().unwrap().status,
        FeedbackStatus::Rejected
    );

    // Agreeing with the user accepts the user's own row.
    let (user, item) = held(&store, "great", Label::Positive);
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Label(Label::Positive))
        .unwrap();
    assert_eq!(done.feedback.unwrap().id, user.id);
    assert_eq!(
        store.feedback_by_id(user.id).unwrap().unwrap().status,
        FeedbackStatus::Accepted
    );
}

#[test]
fn setting_a_held_feedback_status_directly_closes_its_queue_item() {
    let (_dir, store) = temp_store();
    let (fb, item) = held(&store, "x", Label::Positive);
    let updated = store
        .set_feedback_status_wait(fb.id, FeedbackStatus::Accepted)
        .unwrap();
    assert_eq!(updated.status, FeedbackStatus::Accepted);
    let item = store.queue_item(item.id).unwrap().unwrap();
    assert_eq!(item.state, QueueState::Accepted);
    assert_eq!(store.queue_counts().unwrap().open_corrections, 0);
    let err = store
        .set_feedback_status_wait(12345, FeedbackStatus::Rejected)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                what: "feedback",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn queue_listing_filters_by_kind_and_pages() {
    let (_dir, store) = temp_store();
    for n in 0..5 {
        store
            .enqueue_wait(low_confidence_item(&format!("p{n}")))
            .unwrap();
    }
    held(&store, "c", Label::Negative);
    let corrections = store
        .queue(QueueFilter {
            kind: Some(QueueKind::Correction),
            ..QueueFilter::default()
        })
        .unwrap();
    assert_eq!(corrections.len(), 1);
    let page = store
        .queue(QueueFilter {
            kind: Some(QueueKind::LowConfidence),
            limit: Some(2),
            offset: 2,
            ..QueueFilter::default()
        })
        .unwrap();
    let ids: Vec<_> = page
        .iter()
        .map(|i| i.prediction_id.clone().unwrap())
        .collect();
    assert_eq!(ids, vec!["p2", "p3"]);
    let all = store
        .queue(QueueFilter {
            state: QueueSelect::All,
            ..QueueFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 6);
}

#[test]
fn a_correction_needs_an_existing_feedback_row() {
    let (_dir, store) = temp_store();
    let mut item = low_confidence_item("p");
    item.kind = QueueKind::Correction;
    let err = store.enqueue_wait(item.clone()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    item.feedback_id = Some(77);
    let err = store.enqueue_wait(item).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}
