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
            open_audit: 0,
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

fn audit_item(prediction_id: &str) -> NewQueueItem {
    NewQueueItem {
        kind: QueueKind::Audit,
        reason: Some("audit".into()),
        ..low_confidence_item(prediction_id)
    }
}

#[test]
fn accepting_a_low_confidence_item_stores_operator_accept_feedback() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap();
    let fb = done.feedback.expect("feedback created");
    assert_eq!(fb.source, "operator_accept");
    assert_eq!(fb.status, FeedbackStatus::Accepted);
    assert_eq!(fb.correct_label, Label::Positive);
    assert_eq!(fb.client, None);
    assert_eq!(done.item.result_feedback_id, Some(fb.id));
    assert_eq!(store.feedback_by_id(fb.id).unwrap(), Some(fb));
}

#[test]
fn audit_items_round_trip_with_their_reason() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(audit_item("p1")).unwrap();
    assert_eq!(item.kind, QueueKind::Audit);
    assert_eq!(item.reason.as_deref(), Some("audit"));
    assert_eq!(item.state, QueueState::Pending);
    assert_eq!(store.queue_item(item.id).unwrap(), Some(item.clone()));
    let audits = store
        .queue(QueueFilter {
            kind: Some(QueueKind::Audit),
            ..QueueFilter::default()
        })
        .unwrap();
    assert_eq!(audits, vec![item]);

    let low = store.enqueue_wait(low_confidence_item("p2")).unwrap();
    assert_eq!(low.reason.as_deref(), Some("low_confidence"));
    let mut unknown = low_confidence_item("p3");
    unknown.reason = Some("unknown_text".into());
    let unknown = store.enqueue_wait(unknown).unwrap();
    assert_eq!(
        store
            .queue_item(unknown.id)
            .unwrap()
            .unwrap()
            .reason
            .as_deref(),
        Some("unknown_text")
    );
    let mut no_reason = low_confidence_item("p4");
    no_reason.reason = None;
    let no_reason = store.enqueue_wait(no_reason).unwrap();
    assert_eq!(
        store.queue_item(no_reason.id).unwrap().unwrap().reason,
        None
    );

    // Serde spelling.
    assert_eq!(
        serde_json::to_string(&QueueKind::Audit).unwrap(),
        "\"audit\""
    );
    assert_eq!(QueueKind::Audit.as_str(), "audit");
}

#[test]
fn an_audit_item_needs_text_and_no_feedback_id() {
    let (_dir, store) = temp_store();
    let mut item = audit_item("p1");
    item.feedback_id = Some(1);
    let err = store.enqueue_wait(item).unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("audit"), "{err}");
    let mut item = audit_item("p1");
    item.text = "  ".into();
    let err = store.enqueue_wait(item).unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
}

#[test]
fn labelling_an_audit_item_stores_the_label_but_no_feedback() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(audit_item("p1")).unwrap();
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Label(Label::Negative))
        .unwrap();
    assert_eq!(done.feedback, None);
    assert_eq!(done.item.state, QueueState::Labelled);
    assert_eq!(done.item.label, Some(Label::Negative));
    assert_eq!(done.item.result_feedback_id, None);
    let resolved = done.item.resolved_unix_ms.expect("resolved time");
    assert_eq!(store.counters().unwrap().total_feedback, 0);
    assert_eq!(store.feedback(FeedbackFilter::default()).unwrap(), vec![]);
    assert_eq!(
        store.audit_labels().unwrap(),
        vec![AuditLabel {
            queue_id: item.id,
            text: item.text.clone(),
            predicted_label: Some(Label::Positive),
            label: Label::Negative,
            model_version: Some("v1".into()),
            created_unix_ms: item.created_unix_ms,
            resolved_unix_ms: resolved,
        }]
    );
}

#[test]
fn accepting_an_audit_item_confirms_the_prediction_without_feedback() {
    let (_dir, store) = temp_store();
    let item = store.enqueue_wait(audit_item("p1")).unwrap();
    let done = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap();
    assert_eq!(done.feedback, None);
    assert_eq!(done.item.state, QueueState::Accepted);
    assert_eq!(done.item.label, Some(Label::Positive));
    assert_eq!(done.item.result_feedback_id, None);
    assert_eq!(store.counters().unwrap().total_feedback, 0);
    let labels = store.audit_labels().unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].queue_id, item.id);
    assert_eq!(labels[0].label, Label::Positive);

    // Nothing to accept without a predicted label; the item stays open.
    let mut unlabelled = audit_item("p2");
    unlabelled.predicted_label = None;
    let item = store.enqueue_wait(unlabelled).unwrap();
    let err = store
        .resolve_queue_item_wait(item.id, QueueAction::Accept)
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
    assert_eq!(
        store.queue_item(item.id).unwrap().unwrap().state,
        QueueState::Pending
    );
    assert_eq!(store.audit_labels().unwrap().len(), 1);
}

#[test]
fn rejected_and_skipped_audit_items_are_not_audit_labels() {
    let (_dir, store) = temp_store();
    let rejected = store.enqueue_wait(audit_item("p1")).unwrap();
    let skipped = store.enqueue_wait(audit_item("p2")).unwrap();
    let done = store
        .resolve_queue_item_wait(rejected.id, QueueAction::Reject)
        .unwrap();
    assert_eq!(done.feedback, None);
    assert_eq!(done.item.state, QueueState::Rejected);
    assert_eq!(done.item.label, None);
    let done = store
        .resolve_queue_item_wait(skipped.id, QueueAction::Skip)
        .unwrap();
    assert_eq!(done.feedback, None);
    assert_eq!(done.item.state, QueueState::Skipped);
    assert_eq!(store.audit_labels().unwrap(), vec![]);
    assert_eq!(store.counters().unwrap().total_feedback, 0);

    // A skipped audit item can still be labelled later; a rejected one cannot.
    store
        .resolve_queue_item_wait(skipped.id, QueueAction::Label(Label::Positive))
        .unwrap();
    let err = store
        .resolve_queue_item_wait(rejected.id, QueueAction::Label(Label::Positive))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
    let labels = store.audit_labels().unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].queue_id, skipped.id);
}

#[test]
fn audit_labels_come_oldest_first_and_only_from_audit_items() {
    let (_dir, store) = temp_store();
    let a = store.enqueue_wait(audit_item("a")).unwrap();
    let b = store.enqueue_wait(audit_item("b")).unwrap();
    let low = store.enqueue_wait(low_confidence_item("c")).unwrap();
    store
        .resolve_queue_item_wait(low.id, QueueAction::Label(Label::Negative))
        .unwrap();
    // Resolved in the reverse order of creation.
    store
        .resolve_queue_item_wait(b.id, QueueAction::Accept)
        .unwrap();
    store
        .resolve_queue_item_wait(a.id, QueueAction::Label(Label::Negative))
        .unwrap();
    let ids: Vec<_> = store
        .audit_labels()
        .unwrap()
        .into_iter()
        .map(|l| l.queue_id)
        .collect();
    assert_eq!(ids, vec![a.id, b.id]);
    // Only the low-confidence label became feedback.
    assert_eq!(store.counters().unwrap().total_feedback, 1);
}

#[test]
fn a_prediction_is_queued_once_across_low_confidence_and_audit() {
    let (_dir, store) = temp_store();
    let low = store.enqueue_wait(low_confidence_item("p1")).unwrap();
    let again = store.enqueue_wait(audit_item("p1")).unwrap();
    assert_eq!(again, low);
    assert_eq!(again.kind, QueueKind::LowConfidence);

    let audit = store.enqueue_wait(audit_item("p2")).unwrap();
    assert_eq!(
        store.enqueue_wait(low_confidence_item("p2")).unwrap(),
        audit
    );
    assert_eq!(store.enqueue_wait(audit_item("p2")).unwrap(), audit);

    // Also once the existing item is decided.
    store
        .resolve_queue_item_wait(audit.id, QueueAction::Reject)
        .unwrap();
    let after = store.enqueue_wait(low_confidence_item("p2")).unwrap();
    assert_eq!(after.id, audit.id);
    assert_eq!(after.state, QueueState::Rejected);

    // Items without a prediction id are never merged.
    let mut x = audit_item("x");
    x.prediction_id = None;
    let first = store.enqueue_wait(x.clone()).unwrap();
    let second = store.enqueue_wait(x).unwrap();
    assert_ne!(first.id, second.id);

    let all = store
        .queue(QueueFilter {
            state: QueueSelect::All,
            ..QueueFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 4);
}

#[test]
fn counts_count_open_audit_items() {
    let (_dir, store) = temp_store();
    let a = store.enqueue_wait(audit_item("a")).unwrap();
    let b = store.enqueue_wait(audit_item("b")).unwrap();
    let c = store.enqueue_wait(audit_item("c")).unwrap();
    store.enqueue_wait(low_confidence_item("l")).unwrap();
    held(&store, "h", Label::Positive);
    store
        .resolve_queue_item_wait(a.id, QueueAction::Skip)
        .unwrap();
    store
        .resolve_queue_item_wait(b.id, QueueAction::Label(Label::Negative))
        .unwrap();
    store
        .resolve_queue_item_wait(c.id, QueueAction::Reject)
        .unwrap();
    assert_eq!(
        store.queue_counts().unwrap(),
        QueueCounts {
            pending: 2,
            skipped: 1,
            labelled: 1,
            accepted: 0,
            rejected: 1,
            open_low_confidence: 1,
            open_corrections: 1,
            open_audit: 1,
        }
    );
}

#[test]
fn a_text_waiting_as_low_confidence_is_not_queued_again_until_it_is_decided() {
    let (_dir, store) = temp_store();
    let same_text = |prediction_id: &str| NewQueueItem {
        text: "meh, i guess".into(),
        ..low_confidence_item(prediction_id)
    };
    let first = store.enqueue_wait(same_text("p1")).unwrap();
    // The same text predicted unsure again: the waiting item answers for it, also
    // once it has been skipped (still open).
    assert_eq!(store.enqueue_wait(same_text("p2")).unwrap().id, first.id);
    store
        .resolve_queue_item_wait(first.id, QueueAction::Skip)
        .unwrap();
    assert_eq!(store.enqueue_wait(same_text("p3")).unwrap().id, first.id);
    // Another text, and an audit draw of the same text, are queued as usual.
    let other = store.enqueue_wait(low_confidence_item("p4")).unwrap();
    assert_ne!(other.id, first.id);
    let audit = store
        .enqueue_wait(NewQueueItem {
            text: "meh, i guess".into(),
            ..audit_item("p5")
        })
        .unwrap();
    assert_ne!(audit.id, first.id);
    let open = store.queue(QueueFilter::default()).unwrap();
    assert_eq!(open.len(), 3, "{open:?}");
    assert!(open
        .iter()
        .any(|i| i.id == first.id && i.prediction_id.as_deref() == Some("p1")));

    // Once it is decided, the text can wait again (the next model may still be unsure).
    store
        .resolve_queue_item_wait(first.id, QueueAction::Label(Label::Negative))
        .unwrap();
    let again = store.enqueue_wait(same_text("p6")).unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(again.state, QueueState::Pending);
    assert_eq!(store.queue(QueueFilter::default()).unwrap().len(), 3);
}
