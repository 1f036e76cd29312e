//! Keys in, UI state and commands out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::api::Label;
use crate::fixtures::*;

fn app() -> App {
    App::new("/tmp/x/run/sentimentd.sock".into(), NOW)
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

fn code(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

#[test]
fn number_keys_and_tab_switch_views() {
    let mut a = app();
    assert_eq!(a.tab(), Tab::Live);
    press(&mut a, "3");
    assert_eq!(a.tab(), Tab::Models);
    code(&mut a, KeyCode::Tab);
    assert_eq!(a.tab(), Tab::Metrics);
    code(&mut a, KeyCode::BackTab);
    code(&mut a, KeyCode::BackTab);
    assert_eq!(a.tab(), Tab::Queue);
    press(&mut a, "q");
    assert!(a.should_quit);
}

#[test]
fn labelling_sends_each_action_and_moves_to_the_next_open_item() {
    let mut a = app();
    a.apply(queue_page(vec![
        queue_item(1, "meh", "pending"),
        queue_item(2, "so so", "labelled"),
        queue_item(3, "fine i guess", "pending"),
        queue_item(4, "whatever", "skipped"),
    ]));
    press(&mut a, "2pnx");
    assert_eq!(
        a.outbox,
        vec![
            Command::Queue {
                id: 1,
                action: QueueDecision::Label {
                    label: Label::Positive
                }
            },
            Command::Queue {
                id: 3,
                action: QueueDecision::Label {
                    label: Label::Negative
                }
            },
            Command::Queue {
                id: 4,
                action: QueueDecision::Reject {}
            },
        ]
    );
    assert_eq!(a.store.queue.in_flight.len(), 3);
    // Nothing left to review: another key is refused, not sent twice.
    a.outbox.clear();
    press(&mut a, "a");
    assert!(a.outbox.is_empty());
    assert!(a.store.notice.as_ref().unwrap().error);
}

#[test]
fn the_selection_survives_a_refresh_that_drops_resolved_items() {
    let mut a = app();
    a.apply(queue_page(vec![
        queue_item(1, "a", "pending"),
        queue_item(2, "b", "pending"),
        queue_item(3, "c", "pending"),
    ]));
    press(&mut a, "2s");
    assert_eq!(a.selected_queue_item().unwrap().id, 2);
    // The daemon's next page no longer lists item 1: the selection stays on item 2.
    a.apply(queue_page(vec![
        queue_item(2, "b", "pending"),
        queue_item(3, "c", "pending"),
    ]));
    assert_eq!(a.selected_queue_item().unwrap().id, 2);
    press(&mut a, "a");
    assert_eq!(a.selected_queue_item().unwrap().id, 3);
}

#[test]
fn queue_scope_keys_ask_for_another_slice() {
    let mut a = app();
    press(&mut a, "2vt");
    assert_eq!(
        a.outbox,
        vec![
            Command::SetQueueQuery {
                state: "pending".into(),
                kind: None
            },
            Command::SetQueueQuery {
                state: "pending".into(),
                kind: Some("low_confidence".into())
            },
        ]
    );
}

#[test]
fn slash_filters_the_current_table() {
    let mut a = app();
    a.apply(prediction_event(
        "a",
        "a great film",
        Label::Positive,
        0.9,
        NOW,
    ));
    a.apply(prediction_event(
        "b",
        "a dull film",
        Label::Negative,
        0.9,
        NOW,
    ));
    press(&mut a, "/DULL");
    assert!(a.ui.editing_filter);
    press(&mut a, "q"); // typed into the filter, not quitting
    assert!(!a.should_quit);
    code(&mut a, KeyCode::Backspace);
    code(&mut a, KeyCode::Enter);
    let texts: Vec<_> = a
        .visible_predictions()
        .iter()
        .map(|p| p.text.clone())
        .collect();
    assert_eq!(texts, ["a dull film"]);
    press(&mut a, "2");
    assert_eq!(a.filter(), "", "filters are per tab");
    press(&mut a, "1");
    code(&mut a, KeyCode::Esc);
    assert_eq!(a.visible_predictions().len(), 2);
}

#[test]
fn promote_and_rollback_ask_first() {
    let mut a = app();
    a.apply(Msg::Models(vec![
        model("v1", false, "promoted", 0.83),
        model("v2", true, "promoted", 0.85),
    ]));
    press(&mut a, "3p");
    assert!(
        a.ui.confirm.is_none(),
        "the serving version cannot be promoted again"
    );
    press(&mut a, "jp");
    assert_eq!(
        a.ui.confirm.as_ref().unwrap().question,
        "Promote v1 and serve it now?"
    );
    press(&mut a, "n");
    assert!(a.ui.confirm.is_none() && a.outbox.is_empty());
    press(&mut a, "by");
    assert_eq!(
        a.outbox,
        vec![Command::Rollback {
            version: Some("v1".into())
        }]
    );
}

#[test]
fn explaining_asks_once_per_text_and_pins_the_row() {
    let mut a = app();
    a.apply(prediction_event("a", "not bad", Label::Positive, 0.9, NOW));
    press(&mut a, "e");
    assert_eq!(
        a.outbox,
        vec![Command::Explain {
            key: "not bad".into(),
            text: "not bad".into()
        }]
    );
    assert_eq!(a.ui.live_selected.as_deref(), Some("a"));
    assert!(a.ui.explain_open);
    a.apply(prediction_event("b", "newer", Label::Positive, 0.9, NOW));
    assert_eq!(a.selected_prediction().unwrap().id, "a");
    press(&mut a, "e");
    assert_eq!(a.outbox.len(), 1, "already asked");
    code(&mut a, KeyCode::Esc);
    assert!(!a.ui.explain_open);
    press(&mut a, "f");
    assert_eq!(a.selected_prediction().unwrap().id, "b");
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut a = app();
    press(&mut a, "?");
    assert!(a.ui.help);
    press(&mut a, "3");
    assert!(!a.ui.help);
    assert_eq!(a.tab(), Tab::Live, "the closing key does nothing else");
}

#[test]
fn retrain_on_a_daemon_without_it_explains_instead_of_sending() {
    let mut a = app();
    a.apply(Msg::Retrain(None));
    press(&mut a, "3t");
    assert!(a.outbox.is_empty());
    assert!(a
        .store
        .notice
        .as_ref()
        .unwrap()
        .text
        .contains("sentimentd retrain"));
    a.apply(Msg::Retrain(Some(Default::default())));
    press(&mut a, "t");
    assert_eq!(a.outbox, vec![Command::Retrain]);
}
