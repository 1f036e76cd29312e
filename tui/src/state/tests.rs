//! Messages in, state out.

use std::time::Duration;

use super::*;
use crate::api::{Alert, Event, FeedbackView, Label, QueueDecision};
use crate::fixtures::*;

fn store_with(msgs: Vec<Msg>) -> Store {
    let mut s = Store::default();
    for m in msgs {
        s.apply(m, NOW);
    }
    s
}

#[test]
fn prediction_events_fill_the_stream_newest_first_and_the_rate() {
    let s = store_with(vec![
        prediction_event("a", "good", Label::Positive, 0.9, NOW - 1500),
        prediction_event("b", "bad", Label::Negative, 0.8, NOW - 200),
        prediction_event("c", "meh", Label::Positive, 0.55, NOW - 100),
    ]);
    let ids: Vec<_> = s.predictions.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a"]);
    assert_eq!(s.rate.last(3, NOW), vec![0, 1, 2]);
    assert_eq!(s.current_version.as_deref(), Some("v1"));
    assert_eq!(s.events_seen, 3);
}

#[test]
fn a_snapshot_merges_with_events_without_counting_twice() {
    let mut s = store_with(vec![prediction_event(
        "b",
        "bad",
        Label::Negative,
        0.8,
        NOW - 200,
    )]);
    s.apply(
        Msg::Predictions(vec![
            prediction("b", "bad", Label::Negative, 0.8, NOW - 200),
            prediction("a", "good", Label::Positive, 0.9, NOW - 90_000),
        ]),
        NOW,
    );
    let ids: Vec<_> = s.predictions.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(s.predictions_per_min.last(2, NOW), vec![1, 1]);
}

#[test]
fn the_stream_is_capped_like_the_daemons_list() {
    let msgs = (0..MAX_PREDICTIONS + 5)
        .map(|i| prediction_event(&i.to_string(), "t", Label::Positive, 0.9, NOW))
        .collect();
    let s = store_with(msgs);
    assert_eq!(s.predictions.len(), MAX_PREDICTIONS);
    assert_eq!(s.predictions[0].id, (MAX_PREDICTIONS + 4).to_string());
}

#[test]
fn connection_states_follow_the_connection() {
    let mut s = Store::default();
    assert_eq!(s.conn, ConnState::Connecting { attempt: 0 });
    s.apply(Msg::Connected, NOW);
    assert!(s.is_connected());
    s.apply(
        Msg::Disconnected {
            error: "connection refused".into(),
            retry_in: Duration::from_millis(500),
            attempt: 1,
        },
        NOW,
    );
    let expected = ConnState::Disconnected {
        error: "connection refused".into(),
        retry_at_ms: NOW + 500,
        attempt: 1,
    };
    assert_eq!(s.conn, expected);
    // Retrying keeps the error (and countdown) on screen until it works.
    s.apply(Msg::Connecting { attempt: 2 }, NOW + 500);
    assert_eq!(s.conn, expected);
    s.apply(Msg::Connected, NOW + 600);
    assert_eq!(
        s.conn,
        ConnState::Connected {
            since_ms: NOW + 600
        }
    );
}

#[test]
fn queue_actions_show_at_once_and_settle_with_the_daemons_answer() {
    let mut s = store_with(vec![queue_page(vec![
        queue_item(1, "meh", "pending"),
        queue_item(2, "so so", "pending"),
    ])]);
    assert_eq!(s.queue.counts.pending, 2);
    let label = QueueDecision::Label {
        label: Label::Negative,
    };
    s.apply(
        Msg::QueueSent {
            id: 1,
            action: label.clone(),
        },
        NOW,
    );
    assert!(!s.queue.needs_review(&s.queue.items[0]));
    assert!(s.queue.needs_review(&s.queue.items[1]));

    let mut done = queue_item(1, "meh", "labelled");
    done.label = Some(Label::Negative);
    s.apply(
        Msg::QueueActed {
            id: 1,
            action: label,
            result: Ok(done),
        },
        NOW,
    );
    assert!(s.queue.in_flight.is_empty());
    assert_eq!(s.queue.items[0].state, "labelled");
    assert_eq!(s.queue.done_this_session, 1);
    assert_eq!(s.notice.as_ref().unwrap().text, "item 1 labelled negative");

    s.apply(
        Msg::QueueSent {
            id: 2,
            action: QueueDecision::Skip {},
        },
        NOW,
    );
    s.apply(
        Msg::QueueActed {
            id: 2,
            action: QueueDecision::Skip {},
            result: Err("already_resolved: item 2".into()),
        },
        NOW,
    );
    assert!(s.queue.in_flight.is_empty());
    assert_eq!(s.queue.done_this_session, 1);
    assert!(s.notice.as_ref().unwrap().error);
}

#[test]
fn alerts_count_until_acknowledged_and_the_daemons_list_wins() {
    let alert = |id: u64, at| Alert {
        id,
        at_unix_ms: at,
        rule: "accuracy_drop".into(),
        message: "feedback accuracy 0.61 < 0.75".into(),
        model_version: "v1".into(),
        acknowledged: false,
    };
    let mut s = store_with(vec![Msg::Event(Event::Alert(alert(6, NOW - 10)))]);
    assert_eq!(s.unacknowledged_alerts(), 1);
    s.apply(Msg::Event(Event::Alert(alert(6, NOW - 10))), NOW); // the same one again
    assert_eq!(s.alerts.len(), 1);
    s.apply(
        Msg::Alerts(Some(vec![alert(7, NOW - 5), alert(6, NOW - 10)])),
        NOW,
    );
    assert_eq!(
        s.alerts.len(),
        2,
        "the daemon's list replaces what events brought"
    );
    assert_eq!(s.alerts[0].key, "7");
    s.apply(Msg::AlertAcked { key: "7".into() }, NOW);
    assert_eq!(s.unacknowledged_alerts(), 1);
    s.apply(Msg::Alerts(None), NOW);
    assert_eq!(s.alerts_api, Some(false));
}

#[test]
fn feedback_volume_comes_from_the_snapshot_and_new_events_once_each() {
    let fb = |id, at| FeedbackView {
        id,
        created_unix_ms: at,
        text: "fine".into(),
        predicted_label: Some(Label::Negative),
        correct_label: Label::Positive,
        confidence: Some(0.6),
        prediction_id: None,
        source: "api".into(),
        api_key: None,
        model_version: Some("v1".into()),
        status: "accepted".into(),
    };
    let mut s = store_with(vec![Msg::Feedback(vec![
        fb(1, NOW - 120_000),
        fb(2, NOW - 1000),
    ])]);
    assert_eq!(s.feedback_per_min.last(3, NOW), vec![1, 0, 1]);
    let ev = |id| {
        Msg::Event(Event::Feedback {
            id,
            correct_label: Label::Positive,
            status: "accepted".into(),
            source: "api".into(),
            at_unix_ms: NOW,
        })
    };
    s.apply(ev(2), NOW); // already in the snapshot
    s.apply(ev(3), NOW);
    assert_eq!(s.feedback_per_min.last(1, NOW), vec![2]);
}

#[test]
fn retrain_progress_and_outcome_are_logged() {
    let mut s = store_with(vec![Msg::Retrain(Some(Default::default()))]);
    assert_eq!(s.retrain.available, Some(true));
    s.apply(
        Msg::Event(Event::RetrainProgress {
            stage: "training".into(),
            message: "fitting".into(),
            at_unix_ms: NOW,
        }),
        NOW,
    );
    assert!(s.retrain.running);
    s.apply(
        Msg::Event(Event::RetrainFinished {
            outcome: "promoted".into(),
            version: Some("v2".into()),
            message: "0.85 > 0.83".into(),
            at_unix_ms: NOW,
        }),
        NOW,
    );
    assert!(!s.retrain.running);
    assert_eq!(s.retrain.log.len(), 2);
    assert_eq!(
        s.retrain.last_outcome.as_deref(),
        Some("promoted (v2): 0.85 > 0.83")
    );
    s.apply(Msg::Retrain(None), NOW);
    assert_eq!(s.retrain.available, Some(false));
}

#[test]
fn a_model_change_moves_the_current_mark_and_drops_stale_explanations() {
    let mut s = store_with(vec![Msg::Models(vec![
        model("v1", true, "promoted", 0.83),
        model("v2", false, "candidate", 0.85),
    ])]);
    assert_eq!(s.current_version.as_deref(), Some("v1"));
    s.apply(Msg::ExplainRequested { key: "meh".into() }, NOW);
    s.apply(
        Msg::Event(Event::ModelChanged {
            version: "v2".into(),
            previous: Some("v1".into()),
            at_unix_ms: NOW,
        }),
        NOW,
    );
    assert_eq!(s.current_version.as_deref(), Some("v2"));
    assert!(s.models[1].current && !s.models[0].current);
    assert!(s.explanations.is_empty());
}

#[test]
fn the_histogram_bins_confidence_and_counts_the_unsure() {
    let s = store_with(vec![
        prediction_event("a", "x", Label::Positive, 0.5, NOW),
        prediction_event("b", "x", Label::Positive, 0.56, NOW),
        prediction_event("c", "x", Label::Negative, 0.999, NOW),
        prediction_event("d", "x", Label::Negative, 1.0, NOW),
    ]);
    let h = s.confidence_histogram();
    assert_eq!(h[0], (1, 1));
    assert_eq!(h[1], (1, 1));
    assert_eq!(h[9], (2, 0));
}

#[test]
fn a_daemon_on_another_protocol_version_is_named_once() {
    let health = |protocol_version| {
        Msg::Health(crate::api::HealthResponse {
            status: "ok".into(),
            ready: true,
            model_version: Some("v1".into()),
            protocol_version,
            ..Default::default()
        })
    };
    let s = store_with(vec![health(crate::api::PROTOCOL_VERSION)]);
    assert!(s.notice.is_none(), "same version: nothing to say");
    let mut s = store_with(vec![health(0)]);
    let notice = s.notice.take().expect("an older daemon is named");
    assert!(notice.error);
    assert!(notice.text.contains("protocol 0"), "{}", notice.text);
    s.apply(health(0), NOW);
    assert!(s.notice.is_none(), "said once, not on every poll");
    s.apply(health(crate::api::PROTOCOL_VERSION + 1), NOW);
    assert!(s.notice.unwrap().text.contains("upgrade the console"));
}
