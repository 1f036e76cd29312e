//! Live accuracy from the audit: operators label a random sample of live predictions
//! (audit items), and each version's share of right answers on them, with a 95%
//! Wilson score interval, is an unbiased view of how it does on real traffic.

use sentiment_data::store::{AuditLabel, Store, StoreError};
use std::collections::BTreeMap;

/// The z of a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Audited predictions a version needs before its live accuracy is compared.
pub const MIN_AUDITED: u64 = 20;

/// One version's live accuracy (a wire type: the console and `/metrics` show it).
pub use sentiment_protocol::LiveAccuracy;

/// The Wilson score interval of `correct` successes in `n` trials.
pub fn wilson(correct: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = correct as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Live accuracy of every version that served an audited prediction, by version
/// name (the version that made the prediction, as recorded with the audit item).
pub fn by_version(labels: &[AuditLabel]) -> BTreeMap<String, LiveAccuracy> {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for a in labels {
        let (Some(version), Some(predicted)) = (&a.model_version, a.predicted_label) else {
            continue;
        };
        let entry = counts.entry(version.clone()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(predicted == a.label);
    }
    counts
        .into_iter()
        .map(|(version, (audited, correct))| {
            let (lower, upper) = wilson(correct, audited);
            let accuracy = correct as f64 / audited as f64;
            (
                version.clone(),
                LiveAccuracy {
                    version,
                    audited,
                    correct,
                    accuracy,
                    lower,
                    upper,
                },
            )
        })
        .collect()
}

/// Live accuracy of every version, from the store's labelled audit items (blocking:
/// call it off the async workers).
pub fn from_store(store: &Store) -> Result<Vec<LiveAccuracy>, StoreError> {
    Ok(by_version(&store.audit_labels()?).into_values().collect())
}

/// The live-accuracy alert: the served version's 95% interval lies wholly below the
/// live accuracy its predecessor had (both with at least [`MIN_AUDITED`] labels).
pub fn drop_message(current: &LiveAccuracy, previous: &LiveAccuracy) -> Option<String> {
    if current.audited < MIN_AUDITED || previous.audited < MIN_AUDITED {
        return None;
    }
    (current.upper < previous.accuracy).then(|| {
        format!(
            "live accuracy of {} is {:.1}% (95% interval {:.1}-{:.1}%, {} audited), below the {:.1}% {} had on {} audited predictions",
            current.version,
            current.accuracy * 100.0,
            current.lower * 100.0,
            current.upper * 100.0,
            current.audited,
            previous.accuracy * 100.0,
            previous.version,
            previous.audited
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_core::Label;

    fn audit(version: &str, predicted: Label, label: Label) -> AuditLabel {
        AuditLabel {
            queue_id: 0,
            text: "t".into(),
            predicted_label: Some(predicted),
            label,
            model_version: Some(version.into()),
            created_unix_ms: 0,
            resolved_unix_ms: 0,
        }
    }

    #[test]
    fn wilson_matches_known_values() {
        // 80 of 100: the textbook interval is 71.1% - 86.7%.
        let (lo, hi) = wilson(80, 100);
        assert!((lo - 0.7112).abs() < 1e-3, "{lo}");
        assert!((hi - 0.8666).abs() < 1e-3, "{hi}");
        let (lo, hi) = wilson(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(5, 5).1, 1.0);
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn accuracy_is_counted_per_serving_version_and_the_alert_needs_a_real_drop() {
        use Label::{Negative as N, Positive as P};
        let mut labels = Vec::new();
        for i in 0..40 {
            labels.push(audit("v1", P, if i < 36 { P } else { N }));
            labels.push(audit("v2", P, if i < 20 { P } else { N }));
        }
        let live = by_version(&labels);
        assert_eq!((live["v1"].audited, live["v1"].correct), (40, 36));
        assert_eq!(live["v2"].accuracy, 0.5);
        let message = drop_message(&live["v2"], &live["v1"]).unwrap();
        assert!(message.contains("below the 90.0% v1 had"), "{message}");
        assert!(drop_message(&live["v1"], &live["v2"]).is_none());
        let few = LiveAccuracy {
            audited: 5,
            ..live["v2"].clone()
        };
        assert!(drop_message(&few, &live["v1"]).is_none(), "too few labels");
    }
}
