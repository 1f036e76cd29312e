//! Alerts: degradation alerts, newest first, acknowledged or not.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::theme::{self, DIM, WARN};
use crate::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let source = match app.store.alerts_api {
        Some(false) => " · live events only (this daemon has no /admin/alerts)",
        _ => "",
    };
    let unacked = app.store.unacknowledged_alerts();
    let title = format!(" alerts · {unacked} unacknowledged{source} ");
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(title);
    let alerts = app.visible_alerts();
    if alerts.is_empty() {
        let p = Paragraph::new(vec![
            Line::from(Span::styled("no alerts.", Style::new().fg(theme::POSITIVE))),
            Line::from(Span::styled(
                "The daemon raises one when accuracy, confidence or traffic degrade; it shows up here at once and as a badge on the tab bar.",
                Style::new().fg(DIM),
            )),
        ])
        .wrap(Wrap { trim: true })
        .block(block);
        frame.render_widget(p, area);
        return;
    }
    let [area, detail] =
        ratatui::layout::Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
    if let Some(e) = app.alert_selected_index().and_then(|i| alerts.get(i)) {
        let a = &e.alert;
        let title = format!(
            " {} · {} · {} ",
            a.rule,
            a.model_version.as_str(),
            theme::ago(a.at_unix_ms, app.now_ms) + " ago"
        );
        let p = Paragraph::new(a.message.clone())
            .wrap(Wrap { trim: true })
            .block(
                Block::bordered()
                    .border_type(BorderType::Rounded)
                    .border_style(Style::new().fg(WARN))
                    .title(title)
                    .title_bottom(Line::from(" a acknowledge · A all ").right_aligned()),
            );
        frame.render_widget(p, detail);
    }
    let msg_w = usize::from(area.width.saturating_sub(48)).max(10);
    let rows: Vec<Row> = alerts
        .iter()
        .map(|e| {
            let a = &e.alert;
            let state = if a.acknowledged {
                Span::styled("ack", Style::new().fg(DIM))
            } else {
                Span::styled("NEW", Style::new().fg(WARN).add_modifier(Modifier::BOLD))
            };
            let row = Row::new(vec![
                Cell::from(state),
                Cell::from(theme::date_time(a.at_unix_ms, app.utc_offset_secs)),
                Cell::from(Span::styled(a.rule.clone(), Style::new().fg(WARN))),
                Cell::from(theme::truncate(&a.message, msg_w)),
            ]);
            if a.acknowledged {
                row.style(Style::new().fg(DIM))
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(4),
            Constraint::Length(17),
            Constraint::Length(22),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["", "time", "rule", "message"]).style(theme::header()))
    .row_highlight_style(theme::selected())
    .highlight_symbol("▶ ")
    .block(block);
    let mut state = TableState::default().with_selected(app.alert_selected_index());
    frame.render_stateful_widget(table, area, &mut state);
}
