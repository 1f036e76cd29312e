//! The explain pane: which n-grams pushed a prediction which way.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};
use ratatui::Frame;

use super::theme::{self, ACCENT, DIM, NEGATIVE, POSITIVE};
use crate::api::NgramContribution;
use crate::state::Explain;

pub fn draw(frame: &mut Frame, area: Rect, text: &str, explain: Option<&Explain>) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(ACCENT))
        .title(" explain · Esc closes ");
    let mut lines = vec![
        Line::from(Span::styled(
            format!("“{}”", theme::truncate(text, 300)),
            Style::new().add_modifier(Modifier::ITALIC),
        )),
        Line::from(""),
    ];
    match explain {
        None => lines.push(Line::from(Span::styled(
            "press e to explain this one (the daemon counts it as a prediction)",
            Style::new().fg(DIM),
        ))),
        Some(Explain::Loading) => lines.push(Line::from(Span::styled(
            "asking the daemon…",
            Style::new().fg(DIM),
        ))),
        Some(Explain::Failed(e)) => lines.push(Line::from(Span::styled(
            format!("could not explain: {e}"),
            Style::new().fg(NEGATIVE),
        ))),
        Some(Explain::Ready(x)) => {
            let mut head = vec![Span::raw("now: ")];
            head.push(theme::label_span(x.label));
            head.push(Span::raw(format!(
                " {:.3} by {}",
                x.confidence, x.model_version
            )));
            lines.push(Line::from(head));
            let e = &x.explanation;
            let width = usize::from(area.width.saturating_sub(4));
            let max = e
                .towards_positive
                .iter()
                .chain(&e.towards_negative)
                .map(|c| c.contribution.abs())
                .fold(0.0f64, f64::max)
                .max(1e-9);
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "towards positive",
                Style::new().fg(POSITIVE).add_modifier(Modifier::BOLD),
            )));
            push_terms(&mut lines, &e.towards_positive, max, width, POSITIVE);
            lines.push(Line::from(Span::styled(
                "towards negative",
                Style::new().fg(NEGATIVE).add_modifier(Modifier::BOLD),
            )));
            push_terms(&mut lines, &e.towards_negative, max, width, NEGATIVE);
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                format!("bias {:+.3} · {} known n-grams", e.bias, e.known_ngrams),
                Style::new().fg(DIM),
            )));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

fn push_terms(
    lines: &mut Vec<Line<'static>>,
    terms: &[NgramContribution],
    max: f64,
    width: usize,
    color: ratatui::style::Color,
) {
    if terms.is_empty() {
        lines.push(Line::from(Span::styled("  (none)", Style::new().fg(DIM))));
    }
    let name_w = 18.min(width / 2);
    let bar_w = width.saturating_sub(name_w + 10).max(1);
    for c in terms {
        let n = ((c.contribution.abs() / max) * bar_w as f64)
            .round()
            .max(1.0) as usize;
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<name_w$}", theme::truncate(&c.ngram, name_w))),
            Span::styled(format!("{:>+6.2} ", c.contribution), Style::new().fg(color)),
            Span::styled("█".repeat(n), Style::new().fg(color)),
        ]));
    }
}
