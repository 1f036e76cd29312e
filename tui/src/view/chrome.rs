//! The frame around every view: tab bar, status bar, help overlay, confirm dialog.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use super::theme::{self, ACCENT, DIM, WARN};
use crate::app::App;
use crate::keymap::{Scope, Tab, BINDINGS};
use crate::state::ConnState;

/// How long an action's outcome stays in the status bar.
const NOTICE_MS: i64 = 8_000;

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let unacked = app.store.unacknowledged_alerts();
    let mut spans = vec![Span::styled(
        " ◉ sentiment ",
        Style::new()
            .fg(Color::Black)
            .bg(ACCENT)
            .add_modifier(Modifier::BOLD),
    )];
    spans.push(Span::raw(" "));
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let current = i == app.ui.tab_index;
        let style = if current {
            Style::new()
                .fg(Color::Black)
                .bg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Gray)
        };
        let count = match tab {
            Tab::Queue if app.store.queue.loaded => {
                let c = &app.store.queue.counts;
                format!(" {}", c.pending + c.skipped)
            }
            _ => String::new(),
        };
        spans.push(Span::styled(
            format!(" {} {}{} ", i + 1, tab.title(), count),
            style,
        ));
        if *tab == Tab::Alerts && unacked > 0 {
            spans.push(Span::styled(
                format!(" ⚠ {unacked} "),
                Style::new()
                    .fg(Color::Black)
                    .bg(WARN)
                    .add_modifier(Modifier::BOLD),
            ));
        }
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Line::from(spans), area);
    let version = app.store.current_version.as_deref().unwrap_or("-");
    let right = Line::from(vec![
        Span::styled("model ", Style::new().fg(DIM)),
        Span::styled(
            version.to_owned(),
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
    ])
    .right_aligned();
    frame.render_widget(right, area);
}

pub fn status(frame: &mut Frame, area: Rect, app: &App) {
    if app.ui.editing_filter {
        let line = Line::from(vec![
            Span::styled(" / ", theme::key()),
            Span::raw(" filter: "),
            Span::styled(app.filter().to_owned(), Style::new().fg(Color::White)),
            Span::styled("█", Style::new().fg(ACCENT)),
            Span::styled("   Enter keep · Esc clear", Style::new().fg(DIM)),
        ]);
        frame.render_widget(line, area);
        return;
    }
    let mut spans = conn_spans(app);
    if let Some(h) = &app.store.health {
        if app.store.is_connected() && (h.status != "ok" || !h.problems.is_empty()) {
            let text = if h.problems.is_empty() {
                format!(" health {} ", h.status)
            } else {
                format!(" health {}: {} ", h.status, h.problems.join("; "))
            };
            spans.push(Span::styled(text, Style::new().fg(WARN)));
        }
    }
    if !app.filter().is_empty() {
        spans.push(Span::styled(
            format!(" filter “{}” ", app.filter()),
            Style::new().fg(Color::Black).bg(WARN),
        ));
    }
    if let Some(n) = &app.store.notice {
        if app.now_ms - n.at_ms < NOTICE_MS {
            let color = if n.error {
                Color::LightRed
            } else {
                Color::LightGreen
            };
            spans.push(Span::styled(
                format!(" {} ", n.text),
                Style::new().fg(color),
            ));
        }
    }
    let left = Line::from(spans);
    let hints = Line::from(hint_spans(app.tab())).right_aligned();
    // Hints only where they fit beside the left part; the help overlay has them all.
    if usize::from(area.width) > left.width() + hints.width() + 1 {
        frame.render_widget(hints, area);
    }
    frame.render_widget(left, area);
}

fn conn_spans(app: &App) -> Vec<Span<'static>> {
    match &app.store.conn {
        ConnState::Connected { .. } => vec![
            Span::styled(
                " ● connected ",
                Style::new().fg(Color::Black).bg(Color::Green),
            ),
            Span::styled(format!(" {} ", app.socket), Style::new().fg(DIM)),
        ],
        ConnState::Connecting { .. } => vec![Span::styled(
            format!(" … connecting to {} ", app.socket),
            Style::new().fg(Color::Black).bg(WARN),
        )],
        ConnState::Disconnected {
            error,
            retry_at_ms,
            attempt,
        } => {
            let secs = (retry_at_ms - app.now_ms).max(0) as f64 / 1000.0;
            vec![
                Span::styled(
                    format!(" ◌ disconnected · retry {} in {secs:.1}s ", attempt + 1),
                    Style::new()
                        .fg(Color::White)
                        .bg(Color::Red)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    format!(" {} ", theme::truncate(error, 80)),
                    Style::new().fg(Color::LightRed),
                ),
            ]
        }
    }
}

fn hint_spans(tab: Tab) -> Vec<Span<'static>> {
    let keys: &[(&str, &str)] = match tab {
        Tab::Live => &[("↑↓", "select"), ("e", "explain"), ("f", "follow")],
        Tab::Queue => &[
            ("p", "pos"),
            ("n", "neg"),
            ("a", "accept"),
            ("x", "reject"),
            ("s", "skip"),
        ],
        Tab::Models => &[("t", "retrain"), ("p", "promote"), ("b", "rollback")],
        Tab::Metrics => &[],
        Tab::Alerts => &[("a", "ack"), ("A", "ack all")],
    };
    let mut spans = Vec::new();
    for (k, what) in keys
        .iter()
        .chain(&[("/", "filter"), ("?", "help"), ("q", "quit")])
    {
        spans.push(Span::styled(format!(" {k} "), theme::key()));
        spans.push(Span::styled(
            format!(" {what} "),
            Style::new().fg(Color::Gray),
        ));
    }
    spans
}

fn centered(frame: &Frame, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(frame.area());
    let [h] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(v);
    h
}

pub fn help(frame: &mut Frame, tab: Tab) {
    let mut rows = Vec::new();
    let mut last_scope = None;
    for b in BINDINGS {
        if last_scope != Some(b.scope) {
            let title = match b.scope {
                Scope::Global => "everywhere".to_owned(),
                Scope::On(t) => format!("on {}", t.title()),
            };
            let style = if b.scope == Scope::On(tab) {
                theme::header().add_modifier(Modifier::UNDERLINED)
            } else {
                theme::header()
            };
            rows.push(Row::new(vec![
                Line::from(Span::styled(title, style)),
                Line::from(""),
            ]));
            last_scope = Some(b.scope);
        }
        rows.push(Row::new(vec![
            Line::from(Span::styled(b.shown, Style::new().fg(WARN))).right_aligned(),
            Line::from(b.help),
        ]));
    }
    let height = (rows.len() as u16 + 2).min(frame.area().height);
    let area = centered(frame, 72.min(frame.area().width), height);
    frame.render_widget(Clear, area);
    let table = Table::new(rows, [Constraint::Length(12), Constraint::Min(20)])
        .column_spacing(2)
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(Style::new().fg(ACCENT))
                .title(" keys · any key closes ")
                .title_bottom(Line::from(" mouse: not used ").right_aligned()),
        );
    frame.render_widget(table, area);
}

pub fn confirm(frame: &mut Frame, question: &str) {
    let area = centered(frame, 54.min(frame.area().width), 5);
    frame.render_widget(Clear, area);
    let p = Paragraph::new(vec![
        Line::from(Span::styled(
            question.to_owned(),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Line::from(""),
        Line::from(vec![
            Span::styled(" y ", theme::key()),
            Span::raw(" yes    "),
            Span::styled(" any other key ", theme::key()),
            Span::raw(" no"),
        ]),
    ])
    .wrap(Wrap { trim: true })
    .centered()
    .block(
        Block::bordered()
            .border_type(BorderType::Double)
            .border_style(Style::new().fg(WARN))
            .title(" confirm "),
    );
    frame.render_widget(p, area);
}
