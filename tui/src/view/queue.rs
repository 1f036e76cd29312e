//! Queue: low-confidence predictions and corrections awaiting review, with counts by
//! state and the keys of the labelling flow always in sight.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::theme::{self, ACCENT, DIM, WARN};
use crate::api::QueueDecision;
use crate::app::{App, QUEUE_KINDS, QUEUE_STATES};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let [counts, rest, detail] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(6),
    ])
    .areas(area);
    draw_counts(frame, counts, app);
    draw_table(frame, rest, app);
    draw_detail(frame, detail, app);
}

fn count(label: &str, n: u64, color: Color) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!("{label} "), Style::new().fg(DIM)),
        Span::styled(
            n.to_string(),
            Style::new().fg(color).add_modifier(Modifier::BOLD),
        ),
        Span::raw("   "),
    ]
}

fn draw_counts(frame: &mut Frame, area: Rect, app: &App) {
    let q = &app.store.queue;
    let c = &q.counts;
    let mut spans = Vec::new();
    spans.extend(count("pending", c.pending, WARN));
    spans.extend(count("skipped", c.skipped, Color::Gray));
    spans.extend(count("labelled", c.labelled, theme::POSITIVE));
    spans.extend(count("accepted", c.accepted, theme::POSITIVE));
    spans.extend(count("rejected", c.rejected, theme::NEGATIVE));
    spans.push(Span::styled("│ open: ", Style::new().fg(DIM)));
    spans.push(Span::raw(format!(
        "{} low-confidence, {} corrections   ",
        c.open_low_confidence, c.open_corrections
    )));
    spans.push(Span::styled("│ done here ", Style::new().fg(DIM)));
    spans.push(Span::styled(
        q.done_this_session.to_string(),
        Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
    ));
    if !q.in_flight.is_empty() {
        spans.push(Span::styled(
            format!(" (+{} sending)", q.in_flight.len()),
            Style::new().fg(DIM),
        ));
    }
    let kind = QUEUE_KINDS[app.ui.queue_kind].unwrap_or("all kinds");
    let title = format!(
        " review queue · showing {} · {} (v/t change) ",
        QUEUE_STATES[app.ui.queue_state], kind
    );
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(title);
    frame.render_widget(Paragraph::new(Line::from(spans)).block(block), area);
}

fn state_style(state: &str) -> Style {
    match state {
        "pending" => Style::new().fg(WARN),
        "skipped" => Style::new().fg(Color::Gray),
        "labelled" | "accepted" => Style::new().fg(theme::POSITIVE),
        "rejected" => Style::new().fg(theme::NEGATIVE),
        _ => Style::new(),
    }
}

fn draw_table(frame: &mut Frame, area: Rect, app: &App) {
    let items = app.visible_queue();
    if items.is_empty() {
        let text = if app.store.queue.loaded {
            "nothing to review here — low-confidence predictions and corrections land in this queue"
        } else {
            "loading the queue…"
        };
        let p = Paragraph::new(Span::styled(text, Style::new().fg(DIM))).block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(" items "),
        );
        frame.render_widget(p, area);
        return;
    }
    let text_w = usize::from(area.width.saturating_sub(52)).max(10);
    let rows: Vec<Row> = items
        .iter()
        .map(|i| {
            let sending = app.store.queue.in_flight.get(&i.id);
            let state_cell = match sending {
                Some(a) => Cell::from(Span::styled(
                    format!("→{}", short(a)),
                    Style::new().fg(ACCENT).add_modifier(Modifier::ITALIC),
                )),
                None => {
                    let mut s = i.state.clone();
                    if let Some(l) = i.label {
                        s = format!("{s}:{}", &l.as_str()[..3]);
                    }
                    Cell::from(Span::styled(s, state_style(&i.state)))
                }
            };
            let kind = if i.kind == "correction" {
                "corr"
            } else {
                "low"
            };
            let predicted = match (i.predicted_label, i.confidence) {
                (Some(l), Some(c)) => Line::from(vec![
                    theme::label_span(l),
                    Span::styled(format!(" {c:.2}"), Style::new().fg(DIM)),
                ]),
                (Some(l), None) => Line::from(theme::label_span(l)),
                _ => Line::from("-"),
            };
            let row = Row::new(vec![
                Cell::from(Span::styled(format!("#{}", i.id), Style::new().fg(DIM))),
                Cell::from(kind),
                state_cell,
                Cell::from(predicted),
                Cell::from(Span::styled(
                    theme::ago(i.created_unix_ms, app.now_ms),
                    Style::new().fg(DIM),
                )),
                Cell::from(theme::truncate(&i.text, text_w)),
            ]);
            if sending.is_some() {
                row.style(Style::new().fg(DIM))
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Length(4),
            Constraint::Length(12),
            Constraint::Length(11),
            Constraint::Length(4),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["id", "kind", "state", "predicted", "age", "text"]).style(theme::header()))
    .row_highlight_style(theme::selected())
    .highlight_symbol("▶ ")
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .title(format!(" items {} ", items.len())),
    );
    let mut state = TableState::default().with_selected(app.queue_selected_index());
    frame.render_stateful_widget(table, area, &mut state);
}

fn short(a: &QueueDecision) -> &'static str {
    match a {
        QueueDecision::Label { label } => match label {
            crate::api::Label::Positive => "pos",
            crate::api::Label::Negative => "neg",
        },
        QueueDecision::Accept {} => "accept",
        QueueDecision::Reject {} => "reject",
        QueueDecision::Skip {} => "skip",
    }
}

fn draw_detail(frame: &mut Frame, area: Rect, app: &App) {
    let keys = Line::from(vec![
        Span::styled(" p ", theme::key()),
        Span::styled(" positive  ", Style::new().fg(theme::POSITIVE)),
        Span::styled(" n ", theme::key()),
        Span::styled(" negative  ", Style::new().fg(theme::NEGATIVE)),
        Span::styled(" a ", theme::key()),
        Span::raw(" accept  "),
        Span::styled(" x ", theme::key()),
        Span::raw(" reject  "),
        Span::styled(" s ", theme::key()),
        Span::raw(" skip"),
    ]);
    let (title, body) = match app.selected_queue_item() {
        Some(i) => {
            let what = if i.kind == "correction" {
                "a user's correction: accept keeps it for training"
            } else {
                "a low-confidence prediction: label it, or accept the predicted label"
            };
            (
                format!(
                    " #{} · {} · {} ",
                    i.id,
                    what,
                    i.model_version.as_deref().unwrap_or("-")
                ),
                i.text.clone(),
            )
        }
        None => (" selected ".to_owned(), String::new()),
    };
    let p = Paragraph::new(vec![Line::from(body), Line::from(""), keys])
        .wrap(Wrap { trim: true })
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(Style::new().fg(ACCENT))
                .title(title),
        );
    frame.render_widget(p, area);
}
