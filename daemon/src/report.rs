//! Human-readable tables of metrics.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use sentiment_core::EvaluationReport;

fn percent(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

/// Accuracy, calibration and the per-class table of one evaluation.
pub fn metrics_table(name: &str, report: &EvaluationReport) -> String {
    let mut summary = Table::new();
    summary.load_preset(UTF8_FULL_CONDENSED);
    summary.set_header(vec![name, "value"]);
    summary.add_row(vec![
        Cell::new("examples"),
        right(report.examples.to_string()),
    ]);
    summary.add_row(vec![Cell::new("accuracy"), right(percent(report.accuracy))]);
    summary.add_row(vec![Cell::new("macro F1"), right(percent(report.macro_f1))]);
    summary.add_row(vec![
        Cell::new("log loss"),
        right(format!("{:.4}", report.log_loss)),
    ]);
    summary.add_row(vec![
        Cell::new("expected calibration error"),
        right(format!("{:.4}", report.expected_calibration_error)),
    ]);
    summary.add_row(vec![
        Cell::new("mean confidence"),
        right(percent(report.mean_confidence)),
    ]);

    let mut classes = Table::new();
    classes.load_preset(UTF8_FULL_CONDENSED);
    classes.set_header(vec![
        "class",
        "precision",
        "recall",
        "F1",
        "support",
        "predicted negative",
        "predicted positive",
    ]);
    for (label, metrics, row) in [
        ("negative", &report.negative, report.confusion[0]),
        ("positive", &report.positive, report.confusion[1]),
    ] {
        classes.add_row(vec![
            Cell::new(label),
            right(percent(metrics.precision)),
            right(percent(metrics.recall)),
            right(percent(metrics.f1)),
            right(metrics.support.to_string()),
            right(row[0].to_string()),
            right(row[1].to_string()),
        ]);
    }
    format!("{summary}\n{classes}")
}
