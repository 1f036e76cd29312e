//! Counters and latency histograms, and their Prometheus text rendering.
//!
//! Counters start from the store's persisted totals, so they survive restarts; the
//! store keeps the durable copy, these atomics keep the hot path lock-free.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (Prometheus `le`).
const BUCKETS: [f64; 14] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A fixed-bucket latency histogram.
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(BUCKETS.len());
        self.counts[bucket].fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// The smallest bucket bound holding at least `q` of the observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let target = (q * total as f64).ceil() as u64;
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count.load(Relaxed);
            if seen >= target {
                return Some(BUCKETS.get(i).copied().unwrap_or(f64::INFINITY));
            }
        }
        None
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Relaxed);
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }
}

/// Routes whose latency is tracked separately; everything else is `other`.
pub const TRACKED_ROUTES: [&str; 4] = ["/predict", "/predict/batch", "/feedback", "other"];

/// The daemon's live numbers.
#[derive(Default)]
pub struct Metrics {
    pub predictions: AtomicU64,
    pub feedback: AtomicU64,
    pub low_confidence: AtomicU64,
    pub rate_limited: AtomicU64,
    pub latency: [Histogram; TRACKED_ROUTES.len()],
    pub responses_4xx: AtomicU64,
    pub responses_5xx: AtomicU64,
    /// Predictions drawn into the queue as audit items.
    pub audit_sampled: AtomicU64,
    /// Feedback rows the share cap left out of retrains.
    pub feedback_capped: AtomicU64,
    /// Feedback rows held for review.
    pub feedback_held: AtomicU64,
}

impl Metrics {
    pub fn route_index(path: &str) -> usize {
        TRACKED_ROUTES
            .iter()
            .position(|r| *r == path)
            .unwrap_or(TRACKED_ROUTES.len() - 1)
    }

    pub fn observe(&self, path: &str, status: u16, elapsed: Duration) {
        self.latency[Self::route_index(path)].observe(elapsed);
        if (400..500).contains(&status) {
            self.responses_4xx.fetch_add(1, Relaxed);
        } else if status >= 500 {
            self.responses_5xx.fetch_add(1, Relaxed);
        }
    }
}

/// The gauges that do not live in [`Metrics`].
pub struct Snapshot<'a> {
    pub metrics: &'a Metrics,
    pub model_version: &'a str,
    pub test_accuracy: Option<f64>,
    pub average_confidence: Option<f64>,
    pub queue_pending: u64,
    pub alerts_unacknowledged: usize,
    /// Live accuracy by version (from the audit).
    pub live: &'a [crate::live_accuracy::LiveAccuracy],
}

/// Prometheus text exposition format 0.0.4.
pub fn render_prometheus(s: &Snapshot<'_>) -> String {
    let m = s.metrics;
    let mut out = String::with_capacity(4096);
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    counter(
        &mut out,
        "sentiment_predictions_total",
        "Texts predicted.",
        m.predictions.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_feedback_total",
        "Feedback stored.",
        m.feedback.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_low_confidence_total",
        "Predictions below the confidence threshold.",
        m.low_confidence.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_rate_limited_total",
        "Requests refused with 429.",
        m.rate_limited.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_http_4xx_total",
        "Client error responses.",
        m.responses_4xx.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_http_5xx_total",
        "Server error responses.",
        m.responses_5xx.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_audit_sampled_total",
        "Predictions drawn at random into the review queue as audit items.",
        m.audit_sampled.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_feedback_capped_total",
        "Feedback rows left out of retrains by the per-sender share cap.",
        m.feedback_capped.load(Relaxed),
    );
    counter(
        &mut out,
        "sentiment_feedback_held_total",
        "Feedback rows held for an operator's review.",
        m.feedback_held.load(Relaxed),
    );
    if !s.live.is_empty() {
        for (name, help, value) in [
            (
                "sentiment_live_accuracy",
                "Accuracy on operator-labelled audit samples of live predictions, by serving version.",
                (|l: &crate::live_accuracy::LiveAccuracy| l.accuracy) as fn(&_) -> f64,
            ),
            (
                "sentiment_live_accuracy_lower",
                "Lower bound of the live accuracy's 95% Wilson interval.",
                |l| l.lower,
            ),
            (
                "sentiment_live_accuracy_upper",
                "Upper bound of the live accuracy's 95% Wilson interval.",
                |l| l.upper,
            ),
            (
                "sentiment_live_audited",
                "Audit samples labelled by operators, by serving version.",
                |l| l.audited as f64,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for live in s.live {
                let _ = writeln!(out, "{name}{{version=\"{}\"}} {}", live.version, value(live));
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP sentiment_model_info The model being served.\n# TYPE sentiment_model_info gauge\nsentiment_model_info{{version=\"{}\"}} 1",
        s.model_version
    );
    if let Some(accuracy) = s.test_accuracy {
        let _ = writeln!(out, "# HELP sentiment_model_test_accuracy Accuracy of the served model on its base test split.\n# TYPE sentiment_model_test_accuracy gauge\nsentiment_model_test_accuracy {accuracy}");
    }
    if let Some(confidence) = s.average_confidence {
        let _ = writeln!(out, "# HELP sentiment_average_confidence Mean confidence of the recent predictions.\n# TYPE sentiment_average_confidence gauge\nsentiment_average_confidence {confidence}");
    }
    let _ = writeln!(out, "# HELP sentiment_queue_pending Items awaiting an operator's label.\n# TYPE sentiment_queue_pending gauge\nsentiment_queue_pending {}", s.queue_pending);
    let _ = writeln!(out, "# HELP sentiment_alerts_unacknowledged Degradation alerts not yet acknowledged.\n# TYPE sentiment_alerts_unacknowledged gauge\nsentiment_alerts_unacknowledged {}", s.alerts_unacknowledged);
    let _ = writeln!(out, "# HELP sentiment_request_duration_seconds Request latency by route.\n# TYPE sentiment_request_duration_seconds histogram");
    for (i, route) in TRACKED_ROUTES.iter().enumerate() {
        m.latency[i].render(
            &mut out,
            "sentiment_request_duration_seconds",
            &format!("route=\"{route}\""),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_and_rendering() {
        let h = Histogram::default();
        for _ in 0..99 {
            h.observe(Duration::from_micros(200));
        }
        h.observe(Duration::from_millis(30));
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Some(0.000_25));
        assert_eq!(h.quantile(0.99), Some(0.000_25));
        assert_eq!(h.quantile(1.0), Some(0.05));
        let mut out = String::new();
        h.render(&mut out, "x", "route=\"/p\"");
        assert!(out.contains("x_bucket{route=\"/p\",le=\"+Inf\"} 100"));
        assert!(out.contains("x_count{route=\"/p\"} 100"));
    }
}
