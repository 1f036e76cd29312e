//! Models: the version history, accuracy across versions, and retraining.

use std::collections::BTreeSet;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, BorderType, Cell, Chart, Dataset, GraphType, Paragraph, Row, Table, TableState,
    Wrap,
};
use ratatui::Frame;

use super::theme::{self, ACCENT, DIM, WARN};
use crate::app::App;

const SERIES_COLORS: [Color; 4] = [Color::Cyan, Color::Magenta, Color::Yellow, Color::LightBlue];

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    // The table grows with the history, up to half the screen; the chart gets the rest.
    let rows = app.visible_models().len() as u16 + 4;
    let [table, bottom] = Layout::vertical([
        Constraint::Length(rows.clamp(6, (area.height / 2).max(6))),
        Constraint::Min(8),
    ])
    .areas(area);
    let [chart, retrain] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
    draw_table(frame, table, app);
    draw_chart(frame, chart, app);
    draw_retrain(frame, retrain, app);
}

/// Evaluation sets seen in any version, `base_test` first.
fn eval_sets(app: &App) -> Vec<String> {
    let mut sets: BTreeSet<String> = app
        .store
        .models
        .iter()
        .flat_map(|m| m.accuracy.keys().cloned())
        .collect();
    let mut out = Vec::new();
    if sets.remove("base_test") {
        out.push("base_test".to_owned());
    }
    out.extend(sets);
    out
}

fn draw_table(frame: &mut Frame, area: Rect, app: &App) {
    let sets = eval_sets(app);
    let models = app.visible_models();
    let mut header = vec![
        "version".to_owned(),
        "status".into(),
        "created".into(),
        "rows".into(),
    ];
    header.extend(sets.iter().cloned());
    header.push("decision".into());
    let rows: Vec<Row> = models
        .iter()
        .map(|m| {
            let version = if m.current {
                Span::styled(
                    format!("★ {}", m.version),
                    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
                )
            } else {
                Span::raw(format!("  {}", m.version))
            };
            let status_style = match m.status.as_str() {
                "promoted" => Style::new().fg(theme::POSITIVE),
                "rejected" => Style::new().fg(theme::NEGATIVE),
                _ => Style::new().fg(WARN),
            };
            let mut cells = vec![
                Cell::from(version),
                Cell::from(Span::styled(m.status.clone(), status_style)),
                Cell::from(theme::date_time(
                    i64::try_from(m.created_unix_ms).unwrap_or(i64::MAX),
                    app.utc_offset_secs,
                )),
                Cell::from(Line::from(m.total_rows().to_string()).right_aligned()),
            ];
            for s in &sets {
                cells.push(Cell::from(
                    m.accuracy
                        .get(s)
                        .map(|a| format!("{:.2}%", a * 100.0))
                        .unwrap_or_else(|| "-".into()),
                ));
            }
            cells.push(Cell::from(Span::styled(
                m.decision.clone(),
                Style::new().fg(Color::Gray),
            )));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(16),
        Constraint::Length(8),
    ];
    widths.extend(
        sets.iter()
            .map(|s| Constraint::Length(s.len().max(7) as u16)),
    );
    widths.push(Constraint::Min(20));
    let title = format!(
        " versions {} · serving {} ",
        models.len(),
        app.store.current_version.as_deref().unwrap_or("-")
    );
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme::header()))
        .row_highlight_style(theme::selected())
        .highlight_symbol("▶ ")
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(title)
                .title_bottom(Line::from(" t retrain · p promote · b roll back ").right_aligned()),
        );
    let mut state = TableState::default().with_selected(app.model_selected_index());
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_chart(frame: &mut Frame, area: Rect, app: &App) {
    let models = &app.store.models; // oldest first: x is the version's position
    let sets = eval_sets(app);
    let points: Vec<Vec<(f64, f64)>> = sets
        .iter()
        .map(|s| {
            models
                .iter()
                .enumerate()
                .filter_map(|(i, m)| m.accuracy.get(s).map(|a| (i as f64, a * 100.0)))
                .collect()
        })
        .collect();
    let all = points.iter().flatten().map(|p| p.1);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(" accuracy across versions (%) ");
    if lo > hi {
        let p = Paragraph::new(Span::styled("no versions yet", Style::new().fg(DIM))).block(block);
        frame.render_widget(p, area);
        return;
    }
    let (lo, hi) = ((lo - 1.0).floor().max(0.0), (hi + 1.0).ceil().min(100.0));
    let datasets: Vec<Dataset> = sets
        .iter()
        .zip(&points)
        .enumerate()
        .map(|(i, (name, pts))| {
            Dataset::default()
                .name(name.clone())
                .marker(symbols::Marker::Braille)
                .graph_type(if pts.len() > 1 {
                    GraphType::Line
                } else {
                    GraphType::Scatter
                })
                .style(Style::new().fg(SERIES_COLORS[i % SERIES_COLORS.len()]))
                .data(pts)
        })
        .collect();
    // Half a step of margin each side keeps the first and last points off the axes.
    let x_max = models.len() as f64 - 0.5;
    let x_labels: Vec<Span> = match models.len() {
        0 => vec![],
        1 => vec![Span::raw(models[0].version.clone())],
        2 => vec![
            Span::raw(models[0].version.clone()),
            Span::raw(models[1].version.clone()),
        ],
        n => vec![
            Span::raw(models[0].version.clone()),
            Span::raw(models[n / 2].version.clone()),
            Span::raw(models[n - 1].version.clone()),
        ],
    };
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([0.0, x_max])
                .labels(x_labels)
                .style(Style::new().fg(DIM)),
        )
        .y_axis(
            Axis::default()
                .bounds([lo, hi])
                .labels(vec![
                    Span::raw(format!("{lo:.0}")),
                    Span::raw(format!("{:.0}", (lo + hi) / 2.0)),
                    Span::raw(format!("{hi:.0}")),
                ])
                .style(Style::new().fg(DIM)),
        );
    frame.render_widget(chart, area);
}

fn draw_retrain(frame: &mut Frame, area: Rect, app: &App) {
    let r = &app.store.retrain;
    let state = match (r.available, r.running) {
        (Some(false), _) => Span::styled(
            "not offered by this daemon (run `sentimentd retrain`)",
            Style::new().fg(DIM),
        ),
        (_, true) => Span::styled(
            "⟳ running",
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ),
        (_, false) => Span::styled("idle · t starts one", Style::new().fg(theme::POSITIVE)),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled("retrain ", Style::new().fg(DIM)),
        state,
    ])];
    if let Some(cron) = &r.schedule {
        lines.push(Line::from(vec![
            Span::styled("schedule ", Style::new().fg(DIM)),
            Span::raw(format!("{cron} (UTC)")),
        ]));
    }
    if let Some(last) = &r.last_outcome {
        lines.push(Line::from(vec![
            Span::styled("last ", Style::new().fg(DIM)),
            Span::raw(last.clone()),
        ]));
    }
    lines.push(Line::from(""));
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(lines.len());
    let skip = r.log.len().saturating_sub(room);
    for (at, stage, msg) in r.log.iter().skip(skip) {
        lines.push(Line::from(vec![
            Span::styled(theme::clock(*at, app.utc_offset_secs), Style::new().fg(DIM)),
            Span::styled(format!(" {stage:<10} "), Style::new().fg(ACCENT)),
            Span::raw(msg.clone()),
        ]));
    }
    let p = Paragraph::new(lines).wrap(Wrap { trim: true }).block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .title(" retrain progress "),
    );
    frame.render_widget(p, area);
}
