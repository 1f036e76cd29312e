//! Views rendered into ratatui's TestBackend, asserted on the buffer's text (and, for
//! colours that carry meaning, its styles).

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;

use super::draw;
use crate::api::{
    Alert, Event, ExplainResponse, ExplanationBody, Label, MetricsResponse, NgramContribution,
    Probabilities,
};
use crate::app::App;
use crate::fixtures::*;
use crate::message::Msg;

fn render(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, app)).unwrap();
    t.backend().buffer().clone()
}

fn lines(buf: &Buffer) -> Vec<String> {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect()
}

fn text(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

/// Where `needle` starts on screen, as (x, y).
fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
    for (y, line) in lines(buf).iter().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (line[..byte].chars().count() as u16, y as u16);
        }
    }
    panic!("{needle:?} not on screen:\n{}", text(buf));
}

fn connected_app() -> App {
    let mut a = App::new("/tmp/x/run/sentimentd.sock".into(), NOW);
    a.apply(Msg::Connected);
    a.apply(Msg::Models(vec![model("v1", true, "promoted", 0.8303)]));
    a
}

#[test]
fn live_shows_the_stream_coloured_by_label_and_the_connection() {
    let mut a = connected_app();
    a.apply(prediction_event(
        "a",
        "a gorgeous, witty film",
        Label::Positive,
        0.97,
        NOW - 3000,
    ));
    a.apply(prediction_event(
        "b",
        "a dull mess",
        Label::Negative,
        0.91,
        NOW - 2000,
    ));
    a.apply(prediction_event(
        "c",
        "it was fine",
        Label::Positive,
        0.58,
        NOW - 1000,
    ));
    let buf = render(&a, 120, 24);
    let screen = text(&buf);
    for want in [
        "1 Live",
        "2 Queue",
        "5 Alerts",
        "model v1",
        "predictions/s",
        "a gorgeous, witty film",
        "▼ neg",
        "0.580 ?",
        "● connected",
        "/tmp/x/run/sentimentd.sock",
        "following newest",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    let (x, y) = find(&buf, "▼ neg");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find(&buf, "▲ pos");
    assert_eq!(buf[(x, y)].fg, Color::Green);
    // Newest first: "it was fine" is above "a dull mess".
    assert!(find(&buf, "it was fine").1 < find(&buf, "a dull mess").1);
}

#[test]
fn a_lost_daemon_is_said_on_the_status_bar_with_the_retry() {
    let mut a = connected_app();
    a.apply(Msg::Disconnected {
        error: "cannot reach the daemon at /tmp/x/run/sentimentd.sock: Connection refused".into(),
        retry_in: std::time::Duration::from_millis(2000),
        attempt: 3,
    });
    let buf = render(&a, 160, 10);
    let status = lines(&buf)[9].clone();
    assert!(
        status.contains("◌ disconnected · retry 4 in 2.0s"),
        "{status}"
    );
    assert!(status.contains("Connection refused"), "{status}");
    assert_eq!(buf[find(&buf, "◌ disconnected")].bg, Color::Red);
}

#[test]
fn queue_view_snapshot() {
    let mut a = connected_app();
    a.apply(queue_page(vec![
        queue_item(1, "meh", "pending"),
        queue_item(2, "so so", "pending"),
    ]));
    a.on_action(crate::keymap::Action::GoTab(crate::keymap::Tab::Queue));
    a.on_action(crate::keymap::Action::Label(Label::Negative));
    let got = lines(&render(&a, 100, 16));
    let want = [
        " ◉ sentiment   1 Live   2 Queue 2   3 Models   4 Metrics   5 Alerts                        model v1",
        "╭ review queue · showing open · all kinds (v/t change) ────────────────────────────────────────────╮",
        "│pending 2   skipped 0   labelled 7   accepted 0   rejected 0   │ open: 2 low-confidence, 0 correct│",
        "╰──────────────────────────────────────────────────────────────────────────────────────────────────╯",
        "╭ items 2 ─────────────────────────────────────────────────────────────────────────────────────────╮",
        "│  id     kind state        predicted   age  text                                                  │",
        "│  #1     low  →neg         ▲ pos 0.55  1m   meh                                                   │",
        "│▶ #2     low  pending      ▲ pos 0.55  1m   so so                                                 │",
        "╰──────────────────────────────────────────────────────────────────────────────────────────────────╯",
        "╭ #2 · a low-confidence prediction: label it, or accept the predicted label · v1 ──────────────────╮",
        "│so so                                                                                             │",
        "│                                                                                                  │",
        "│p  positive   n  negative   a  accept   x  reject   s  skip                                       │",
        "│                                                                                                  │",
        "╰──────────────────────────────────────────────────────────────────────────────────────────────────╯",
        " ● connected  /tmp/x/run/sentimentd.sock",
    ];
    assert_eq!(got, want, "\n{}", got.join("\n"));
}

#[test]
fn an_unacknowledged_alert_badges_every_tab() {
    let mut a = connected_app();
    a.apply(Msg::Event(Event::Alert(Alert {
        id: 3,
        at_unix_ms: NOW - 60_000,
        rule: "low_confidence_rate".into(),
        message: "42% of the last 500 predictions were unsure (limit 25%)".into(),
        model_version: "v1".into(),
        acknowledged: false,
    })));
    for tab in ["1", "2", "3", "4", "5"] {
        a.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(tab.chars().next().unwrap()),
        ));
        let buf = render(&a, 120, 20);
        assert!(
            lines(&buf)[0].contains("5 Alerts  ⚠ 1"),
            "tab {tab}: {}",
            lines(&buf)[0]
        );
    }
    let screen = text(&render(&a, 120, 20));
    for want in [
        "1 unacknowledged",
        "NEW",
        "low_confidence_rate",
        "42% of the last 500",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    a.apply(Msg::AlertAcked { key: "3".into() });
    assert!(!lines(&render(&a, 120, 20))[0].contains('⚠'));
}

#[test]
fn models_view_lists_versions_with_accuracy_and_marks_the_serving_one() {
    let mut a = connected_app();
    a.apply(Msg::Models(vec![
        model("v1", false, "promoted", 0.8303),
        model("v2", false, "rejected", 0.8101),
        model("v3", true, "promoted", 0.8412),
    ]));
    a.apply(Msg::Retrain(None));
    a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('3'),
    ));
    let buf = render(&a, 140, 30);
    let screen = text(&buf);
    for want in [
        "versions 3 · serving v3",
        "★ v3",
        "84.12%",
        "81.01%",
        "rejected by test",
        "accuracy across versions",
        "base_test",
        "not offered by this daemon",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    assert!(find(&buf, "★ v3").1 < find(&buf, "v1 ").1, "newest first");
    assert_eq!(buf[find(&buf, "rejected by")].fg, Color::Gray);
    assert_eq!(buf[find(&buf, "rejected ")].fg, Color::Red);
}

#[test]
fn metrics_view_shows_distribution_volumes_and_latency() {
    let mut a = connected_app();
    for (i, c) in [0.52, 0.61, 0.93, 0.97, 0.99].iter().enumerate() {
        a.apply(prediction_event(
            &i.to_string(),
            "t",
            Label::Positive,
            *c,
            NOW,
        ));
    }
    let mut m = MetricsResponse {
        total_predictions: 5,
        low_confidence_count: 2,
        live_accuracy: Some(crate::api::LiveAccuracy {
            version: "v1".into(),
            audited: 40,
            correct: 33,
            accuracy: 0.825,
            lower: 0.6806,
            upper: 0.9125,
        }),
        ..Default::default()
    };
    m.latency.insert(
        "/predict".into(),
        crate::api::LatencySummary {
            count: 5,
            p50_ms: Some(0.25),
            p90_ms: Some(0.5),
            p99_ms: Some(1.0),
        },
    );
    a.apply(Msg::Metrics(m));
    a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('4'),
    ));
    let screen = text(&render(&a, 140, 40));
    for want in [
        "confidence distribution · 5 predictions",
        "0.50",
        "0.95",
        "/predict",
        "0.25",
        "1.00",
        "2 (40.0%)",
        "82.5% 68-91%",
        "feedback per minute",
        "predictions per minute · 5 in",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
}

#[test]
fn the_explain_pane_lists_the_ngrams_both_ways() {
    let mut a = connected_app();
    a.apply(prediction_event(
        "a",
        "not bad at all",
        Label::Positive,
        0.94,
        NOW,
    ));
    a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('e'),
    ));
    let c = |ngram: &str, contribution| NgramContribution {
        ngram: ngram.into(),
        tfidf: 0.4,
        weight: 6.0,
        contribution,
    };
    a.apply(Msg::Explained {
        key: "not bad at all".into(),
        result: Ok(ExplainResponse {
            label: Label::Positive,
            confidence: 0.94,
            probabilities: Probabilities {
                negative: 0.06,
                positive: 0.94,
            },
            model_version: "v1".into(),
            explanation: ExplanationBody {
                towards_positive: vec![c("not NOT_bad", 2.71)],
                towards_negative: vec![c("NOT_at NOT_all", -2.56)],
                bias: 0.45,
                known_ngrams: 9,
            },
        }),
    });
    let buf = render(&a, 140, 30);
    let screen = text(&buf);
    for want in [
        "explain · Esc closes",
        "towards positive",
        "not NOT_bad",
        "+2.71",
        "towards negative",
        "-2.56",
        "bias +0.450 · 9 known n-grams",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    assert_eq!(buf[find(&buf, "-2.56")].fg, Color::Red);
}

#[test]
fn help_lists_every_binding() {
    let mut a = connected_app();
    a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('?'),
    ));
    let screen = text(&render(&a, 120, 50));
    for b in crate::keymap::BINDINGS {
        assert!(
            screen.contains(b.help),
            "{:?} missing from help:\n{screen}",
            b.help
        );
    }
}

#[test]
fn confirmation_is_drawn_over_the_view() {
    let mut a = connected_app();
    a.apply(Msg::Models(vec![
        model("v1", false, "promoted", 0.83),
        model("v2", true, "promoted", 0.85),
    ]));
    for c in ['3', 'j', 'b'] {
        a.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        ));
    }
    let screen = text(&render(&a, 100, 30));
    assert!(screen.contains("Roll back serving to v1?"), "{screen}");
    assert!(screen.contains(" y  yes"), "{screen}");
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut a = connected_app();
    a.apply(prediction_event("a", "x", Label::Positive, 0.9, NOW));
    a.apply(queue_page(vec![queue_item(1, "meh", "pending")]));
    for tab in ['1', '2', '3', '4', '5', '?'] {
        a.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(tab),
        ));
        for (w, h) in [(1, 1), (20, 5), (40, 12)] {
            render(&a, w, h);
        }
    }
}
