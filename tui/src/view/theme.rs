//! Colours and small formatting helpers shared by the views.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use crate::api::Label;

pub const POSITIVE: Color = Color::Green;
pub const NEGATIVE: Color = Color::Red;
pub const ACCENT: Color = Color::Cyan;
pub const WARN: Color = Color::Yellow;
pub const DIM: Color = Color::DarkGray;

pub fn label_color(label: Label) -> Color {
    match label {
        Label::Positive => POSITIVE,
        Label::Negative => NEGATIVE,
    }
}

pub fn label_span(label: Label) -> Span<'static> {
    let text = match label {
        Label::Positive => "▲ pos",
        Label::Negative => "▼ neg",
    };
    Span::styled(
        text,
        Style::new()
            .fg(label_color(label))
            .add_modifier(Modifier::BOLD),
    )
}

pub fn selected() -> Style {
    Style::new()
        .bg(Color::Rgb(40, 50, 70))
        .add_modifier(Modifier::BOLD)
}

pub fn header() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

pub fn key() -> Style {
    Style::new().fg(Color::Black).bg(ACCENT)
}

/// A confidence as a short bar plus its value, coloured by how sure it is.
pub fn confidence_spans(c: f64, low_threshold: bool) -> Vec<Span<'static>> {
    let filled = (((c - 0.5) / 0.5).clamp(0.0, 1.0) * 5.0).round() as usize;
    let color = if low_threshold { WARN } else { Color::Gray };
    vec![
        Span::styled("■".repeat(filled), Style::new().fg(color)),
        Span::styled("·".repeat(5 - filled), Style::new().fg(DIM)),
        Span::styled(format!(" {c:.3}"), Style::new().fg(color)),
    ]
}

/// `HH:MM:SS` of a unix time in milliseconds, at a fixed UTC offset.
pub fn clock(unix_ms: i64, offset_secs: i32) -> String {
    let secs = (unix_ms.div_euclid(1000) + i64::from(offset_secs)).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `YYYY-MM-DD HH:MM` of a unix time in milliseconds, at a fixed UTC offset.
pub fn date_time(unix_ms: i64, offset_secs: i32) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            time::UtcOffset::from_whole_seconds(offset_secs)
                .ok()
                .map(|o| t.to_offset(o))
        });
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        None => "-".into(),
    }
}

/// "3s", "4m", "2h", "5d": how long ago.
pub fn ago(unix_ms: i64, now_ms: i64) -> String {
    let s = (now_ms - unix_ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Cuts text to `max` characters (not bytes), marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    let one_line = text.replace(['\n', '\r', '\t'], " ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_truncates_by_character() {
        assert_eq!(clock(3_723_000, 0), "01:02:03");
        assert_eq!(clock(0, 3600), "01:00:00");
        assert_eq!(date_time(1_795_901_904_144, 0), "2026-11-28 21:38");
        assert_eq!(ago(0, 125_000), "2m");
        assert_eq!(truncate("héllo wörld", 6), "héllo…");
    }
}
