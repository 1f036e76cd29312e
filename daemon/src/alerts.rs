//! Degradation alerts: the rules, and the list of alerts raised (kept in
//! `DATA_DIR/alerts.json`, so acknowledgements survive restarts).
//!
//! Rules:
//! - `accuracy_drop`: a newly current model's base test accuracy is more than 5%
//!   (relative) below the best earlier promoted version's;
//! - `confidence_drop`: the rolling average confidence of live predictions is more
//!   than 10% (relative) below the mean confidence the current model had on its test
//!   set when it was promoted. Raised once per model version until it recovers.

use std::path::PathBuf;
use std::sync::Mutex;

pub const ACCURACY_DROP: f64 = 0.05;
pub const CONFIDENCE_DROP: f64 = 0.10;
/// Live predictions needed before the confidence rule judges.
pub const MIN_PREDICTIONS_FOR_CONFIDENCE: usize = 200;

/// One alert, as the API shows it and `alerts.json` keeps it.
pub use sentiment_protocol::Alert;

/// The alerts raised so far, newest last.
pub struct AlertBook {
    path: PathBuf,
    alerts: Mutex<Vec<Alert>>,
}

impl AlertBook {
    /// Loads the list; an unreadable file is logged and started afresh (alerts are
    /// advice, not data that must never be lost).
    pub fn open(path: PathBuf) -> AlertBook {
        let alerts = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                tracing::warn!(%error, file = %path.display(), "cannot read the alerts file; starting a new list");
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        AlertBook {
            path,
            alerts: Mutex::new(alerts),
        }
    }

    pub fn list(&self) -> Vec<Alert> {
        self.alerts.lock().expect("alerts lock").clone()
    }

    pub fn unacknowledged(&self) -> usize {
        self.alerts
            .lock()
            .expect("alerts lock")
            .iter()
            .filter(|a| !a.acknowledged)
            .count()
    }

    /// Whether an alert for this rule and version is already open.
    pub fn is_open(&self, rule: &str, version: &str) -> bool {
        self.alerts
            .lock()
            .expect("alerts lock")
            .iter()
            .any(|a| a.rule == rule && a.model_version == version && !a.acknowledged)
    }

    /// Adds an alert, logs it as a warning, and returns it.
    pub fn raise(&self, rule: &str, version: &str, message: String, at_unix_ms: i64) -> Alert {
        let mut alerts = self.alerts.lock().expect("alerts lock");
        let alert = Alert {
            id: alerts.last().map_or(1, |a| a.id + 1),
            at_unix_ms,
            rule: rule.to_string(),
            message,
            model_version: version.to_string(),
            acknowledged: false,
        };
        tracing::warn!(rule, version, "alert: {}", alert.message);
        alerts.push(alert.clone());
        self.save(&alerts);
        alert
    }

    /// Marks an alert acknowledged; `None` if there is no such alert.
    pub fn acknowledge(&self, id: u64) -> Option<Alert> {
        let mut alerts = self.alerts.lock().expect("alerts lock");
        let alert = alerts.iter_mut().find(|a| a.id == id)?;
        alert.acknowledged = true;
        let copy = alert.clone();
        self.save(&alerts);
        Some(copy)
    }

    fn save(&self, alerts: &[Alert]) {
        let temp = self.path.with_extension("json.tmp");
        let result = serde_json::to_vec_pretty(alerts)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&temp, bytes))
            .and_then(|()| std::fs::rename(&temp, &self.path));
        if let Err(error) = result {
            tracing::error!(%error, file = %self.path.display(), "cannot save the alerts list");
        }
    }
}

/// The accuracy rule: `Some(message)` if `new` is more than 5% below `best_before`.
pub fn accuracy_drop(
    new_version: &str,
    new: f64,
    best_version: &str,
    best_before: f64,
) -> Option<String> {
    (new < best_before * (1.0 - ACCURACY_DROP)).then(|| {
        format!(
            "{new_version} base test accuracy {:.2}% is {:.1}% below the best earlier version {best_version} ({:.2}%)",
            new * 100.0,
            (1.0 - new / best_before) * 100.0,
            best_before * 100.0
        )
    })
}

/// The confidence rule: `Some(message)` if the live average is more than 10% below
/// the reference.
pub fn confidence_drop(version: &str, live: f64, samples: usize, reference: f64) -> Option<String> {
    (live < reference * (1.0 - CONFIDENCE_DROP)).then(|| {
        format!(
            "average confidence of the last {samples} predictions is {:.1}%, {:.1}% below the {:.1}% {version} had on its test set when promoted",
            live * 100.0,
            (1.0 - live / reference) * 100.0,
            reference * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_fire_only_past_their_thresholds() {
        assert!(accuracy_drop("v3", 0.80, "v2", 0.83).is_none());
        let m = accuracy_drop("v3", 0.78, "v2", 0.83).unwrap();
        assert!(m.contains("78.00%") && m.contains("v2"), "{m}");
        assert!(confidence_drop("v1", 0.80, 500, 0.88).is_none());
        assert!(confidence_drop("v1", 0.78, 500, 0.88).is_some());
    }

    #[test]
    fn raise_acknowledge_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.json");
        let book = AlertBook::open(path.clone());
        let a = book.raise("accuracy_drop", "v2", "worse".into(), 5);
        let b = book.raise("confidence_drop", "v2", "unsure".into(), 6);
        assert_eq!((a.id, b.id), (1, 2));
        assert!(book.is_open("confidence_drop", "v2"));
        assert_eq!(book.unacknowledged(), 2);
        assert!(book.acknowledge(1).unwrap().acknowledged);
        assert!(book.acknowledge(9).is_none());
        let again = AlertBook::open(path);
        assert_eq!(again.unacknowledged(), 1);
        assert_eq!(again.list().len(), 2);
    }
}
