//! Metrics: confidence distribution, feedback and prediction volume, latency.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, BorderType, Row, Sparkline, Table};
use ratatui::Frame;

use super::theme::{self, ACCENT, DIM, WARN};
use crate::app::App;
use crate::state::HISTOGRAM_BINS;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let [hist, lat] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    let [fb, pr] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    draw_histogram(frame, hist, app);
    draw_latency(frame, lat, app);
    draw_volume(frame, fb, app, true);
    draw_volume(frame, pr, app, false);
}

fn draw_histogram(frame: &mut Frame, area: Rect, app: &App) {
    let bins = app.store.confidence_histogram();
    let total: u64 = bins.iter().map(|b| b.0).sum();
    let threshold_hint = "yellow: mostly queued as low-confidence";
    let bar_w = (area.width.saturating_sub(2) / HISTOGRAM_BINS as u16)
        .saturating_sub(1)
        .max(3);
    let bars: Vec<Bar> = bins
        .iter()
        .enumerate()
        .map(|(i, &(n, low))| {
            let from = 0.5 + 0.05 * i as f64;
            let color = if low * 2 > n { WARN } else { ACCENT };
            Bar::default()
                .value(n)
                .label(Line::from(format!("{from:.2}")))
                .style(Style::new().fg(color))
                .value_style(Style::new().fg(Color::Black).bg(color))
        })
        .collect();
    let chart = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_w)
        .bar_gap(1)
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(format!(" confidence distribution · {total} predictions "))
                .title_bottom(Line::from(Span::styled(
                    format!(" {threshold_hint} "),
                    Style::new().fg(DIM),
                ))),
        );
    frame.render_widget(chart, area);
}

fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
}

fn draw_latency(frame: &mut Frame, area: Rect, app: &App) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(" latency (ms) & counters ");
    let Some(m) = &app.store.metrics else {
        frame.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(
                "waiting for /metrics…",
                Style::new().fg(DIM),
            ))
            .block(block),
            area,
        );
        return;
    };
    let mut rows: Vec<Row> = m
        .latency
        .iter()
        .map(|(route, l)| {
            Row::new(vec![
                route.clone(),
                l.count.to_string(),
                ms(l.p50_ms),
                ms(l.p90_ms),
                ms(l.p99_ms),
            ])
        })
        .collect();
    rows.push(Row::new(vec![""; 5]));
    let pct = |n: u64| {
        if m.total_predictions == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}%", 100.0 * n as f64 / m.total_predictions as f64)
        }
    };
    let facts = [
        ("predictions", m.total_predictions.to_string()),
        (
            "low confidence",
            format!(
                "{} ({})",
                m.low_confidence_count,
                pct(m.low_confidence_count)
            ),
        ),
        ("feedback", m.total_feedback.to_string()),
        ("queue pending", m.queue_pending.to_string()),
        (
            "avg confidence",
            m.average_confidence
                .map(|a| format!("{a:.3}"))
                .unwrap_or("-".into()),
        ),
        (
            "test accuracy",
            m.test_accuracy
                .map(|a| format!("{:.2}%", a * 100.0))
                .unwrap_or("-".into()),
        ),
        (
            "live accuracy",
            m.live_accuracy
                .as_ref()
                .map(|l| l.describe())
                .unwrap_or("-".into()),
        ),
        (
            "audited",
            m.live_accuracy
                .as_ref()
                .map_or("0".into(), |l| l.audited.to_string()),
        ),
        ("held feedback", m.feedback_held.to_string()),
        ("to retrain", m.feedback_waiting.to_string()),
        ("rate limited", m.rate_limited.to_string()),
        ("uptime", format!("{:.0}s", m.uptime_seconds)),
    ];
    for (k, v) in facts {
        rows.push(Row::new(vec![
            Line::from(Span::styled(k, Style::new().fg(DIM))),
            Line::from(Span::styled(v, Style::new().add_modifier(Modifier::BOLD))),
        ]));
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(15),
            Constraint::Length(13),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["route", "count", "p50", "p90", "p99"]).style(theme::header()))
    .block(block);
    frame.render_widget(table, area);
}

fn draw_volume(frame: &mut Frame, area: Rect, app: &App, feedback: bool) {
    let series = if feedback {
        &app.store.feedback_per_min
    } else {
        &app.store.predictions_per_min
    };
    let n = usize::from(area.width.saturating_sub(2));
    let data = series.last(n, app.now_ms);
    let total: u64 = data.iter().sum();
    let peak = data.iter().max().copied().unwrap_or(0);
    let what = if feedback { "feedback" } else { "predictions" };
    let color = if feedback { Color::Magenta } else { ACCENT };
    let hours = n as f64 / 60.0;
    let title = Line::from(vec![
        Span::raw(format!(" {what} per minute ")),
        Span::styled(
            format!("· {total} in {hours:.1} h · peak {peak}/min "),
            Style::new().fg(DIM),
        ),
    ]);
    let spark = Sparkline::default()
        .data(&data)
        .style(Style::new().fg(color))
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(title)
                .title_bottom(
                    Line::from(Span::styled(" ← older · now → ", Style::new().fg(DIM)))
                        .right_aligned(),
                ),
        );
    frame.render_widget(spark, area);
}
