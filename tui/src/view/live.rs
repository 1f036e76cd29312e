//! Live: the prediction stream, its rate, the serving model, and the explain pane.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Sparkline, Table, TableState};
use ratatui::Frame;

use super::theme::{ACCENT, DIM, WARN};
use super::{explain, theme};
use crate::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let [top, rest] = Layout::vertical([Constraint::Length(5), Constraint::Min(3)]).areas(area);
    let [info, spark] =
        Layout::horizontal([Constraint::Length(44), Constraint::Min(20)]).areas(top);
    draw_info(frame, info, app);
    draw_rate(frame, spark, app);
    if app.ui.explain_open {
        let [table, pane] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(rest);
        draw_table(frame, table, app);
        if let Some(p) = app.selected_prediction() {
            explain::draw(frame, pane, &p.text, app.store.explanations.get(&p.text));
        }
    } else {
        draw_table(frame, rest, app);
    }
}

fn draw_info(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.store;
    let version = s.current_version.as_deref().unwrap_or("-");
    let health = s.health.as_ref().map(|h| h.status.as_str()).unwrap_or("-");
    let (total, low, avg) = match &s.metrics {
        Some(m) => (
            m.total_predictions.to_string(),
            m.low_confidence_count.to_string(),
            m.average_confidence
                .map(|a| format!("{a:.3}"))
                .unwrap_or("-".into()),
        ),
        None => ("-".into(), "-".into(), "-".into()),
    };
    let health_style = if health == "ok" {
        Style::new().fg(theme::POSITIVE)
    } else {
        Style::new().fg(WARN)
    };
    let lines = vec![
        Line::from(vec![
            Span::styled("model ", Style::new().fg(DIM)),
            Span::styled(
                version.to_owned(),
                Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
            ),
            Span::styled("  health ", Style::new().fg(DIM)),
            Span::styled(health.to_owned(), health_style),
            Span::styled("  queue ", Style::new().fg(DIM)),
            Span::raw(
                s.metrics
                    .as_ref()
                    .map(|m| m.queue_pending.to_string())
                    .unwrap_or("-".into()),
            ),
        ]),
        Line::from(vec![
            Span::styled("predictions ", Style::new().fg(DIM)),
            Span::raw(total),
            Span::styled("  low-conf ", Style::new().fg(DIM)),
            Span::styled(low, Style::new().fg(WARN)),
        ]),
        Line::from(vec![
            Span::styled("avg confidence ", Style::new().fg(DIM)),
            Span::raw(avg),
            Span::styled("  events ", Style::new().fg(DIM)),
            Span::raw(s.events_seen.to_string()),
        ]),
    ];
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(" serving ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_rate(frame: &mut Frame, area: Rect, app: &App) {
    let n = usize::from(area.width.saturating_sub(2));
    let data = app.store.rate.last(n, app.now_ms);
    let now = data.last().copied().unwrap_or(0);
    let window = data.len().min(60);
    let per_min: u64 = data[data.len() - window..].iter().sum();
    let peak = data.iter().max().copied().unwrap_or(0);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(Line::from(vec![
            Span::raw(" predictions/s "),
            Span::styled(
                format!("{now}"),
                Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(" · {per_min} in the last minute · peak {peak} "),
                Style::new().fg(DIM),
            ),
        ]));
    let spark = Sparkline::default()
        .block(block)
        .data(&data)
        .style(Style::new().fg(ACCENT));
    frame.render_widget(spark, area);
}

fn draw_table(frame: &mut Frame, area: Rect, app: &App) {
    let rows_data = app.visible_predictions();
    let text_w = usize::from(area.width.saturating_sub(40)).max(10);
    let rows: Vec<Row> = rows_data
        .iter()
        .map(|p| {
            let mut conf = theme::confidence_spans(p.confidence, p.low_confidence);
            if p.low_confidence {
                conf.push(Span::styled(" ?", Style::new().fg(WARN)));
            }
            Row::new(vec![
                Cell::from(Span::styled(
                    theme::clock(p.created_unix_ms, app.utc_offset_secs),
                    Style::new().fg(DIM),
                )),
                Cell::from(theme::label_span(p.label)),
                Cell::from(Line::from(conf)),
                Cell::from(Span::styled(p.model_version.clone(), Style::new().fg(DIM))),
                Cell::from(theme::truncate(&p.text, text_w)),
            ])
        })
        .collect();
    let follow = if app.ui.live_selected.is_none() {
        " following newest"
    } else {
        " paused · f follows"
    };
    let title = Line::from(vec![
        Span::raw(" predictions "),
        Span::styled(
            format!("{}{} ", rows_data.len(), follow),
            Style::new().fg(DIM),
        ),
    ]);
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(5),
            Constraint::Length(14),
            Constraint::Length(4),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["time", "label", "confidence", "ver", "text"]).style(theme::header()))
    .row_highlight_style(theme::selected())
    .highlight_symbol("▶ ")
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .title(title),
    );
    let mut state = TableState::default().with_selected(app.live_selected_index());
    if rows_data.is_empty() {
        let msg = Paragraph::new(Line::from(Span::styled(
            "no predictions yet — they stream in here as callers use POST /predict",
            Style::new().fg(DIM),
        )))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(" predictions "),
        );
        frame.render_widget(msg, area);
        return;
    }
    frame.render_stateful_widget(table, area, &mut state);
}
