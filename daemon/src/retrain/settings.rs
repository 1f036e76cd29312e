//! How retraining learns: the `[retrain]` section of the config file, resolved once
//! (file, then `SENTIMENT_*` variables and flags where a command has them) into
//! [`RetrainSettings`], which the daemon and every command hand to the one retrain job.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Everything a retrain needs to know besides its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainSettings {
    /// Feedback weights (relative to a base example) the retrain tries; the one with
    /// the best cross-fitted accuracy on feedback trains the candidate.
    pub feedback_weights: Vec<f64>,
    /// Among weights that score the same, the one nearest this wins.
    pub feedback_weight: f64,
    /// Cross-fitting folds: each feedback item is scored by a model trained without
    /// its fold.
    pub folds: usize,
    /// How much base test accuracy a candidate may lose against the reference version
    /// (a fraction: 0.005 = half a point).
    pub base_tolerance: f64,
    /// Largest share of one retrain's feedback one untrusted sender (a user key or an
    /// anonymous address) may contribute, when others sent feedback too.
    pub max_share_per_key: f64,
    /// Rows an untrusted sender may always contribute, whatever the share.
    pub min_rows_per_key: usize,
    /// Retrain once this many accepted feedback rows arrived since the last retrain
    /// started; 0 turns learning from feedback off (the schedule alone retrains).
    pub after_feedback: usize,
    /// Wait for this many seconds without new feedback before starting, so a burst
    /// becomes one retrain...
    pub quiet_seconds: u64,
    /// ...but never longer than this after the first waiting row.
    pub max_delay_seconds: u64,
    /// At least this many seconds between the starts of two retrains the feedback
    /// triggers.
    pub min_interval_seconds: u64,
}

impl Default for RetrainSettings {
    fn default() -> Self {
        RetrainSettings {
            feedback_weights: vec![1.0, 2.0, 5.0, 10.0],
            feedback_weight: 5.0,
            folds: 3,
            base_tolerance: 0.005,
            max_share_per_key: 0.25,
            min_rows_per_key: 20,
            after_feedback: 1,
            quiet_seconds: 5,
            max_delay_seconds: 30,
            min_interval_seconds: 20,
        }
    }
}

impl RetrainSettings {
    /// Checks the values; the message names the config key.
    pub fn validate(&self) -> Result<(), String> {
        let weight_ok = |w: f64| w.is_finite() && w > 0.0;
        if self.feedback_weights.is_empty() || !self.feedback_weights.iter().all(|&w| weight_ok(w))
        {
            return Err("retrain.feedback_weights must list at least one positive number".into());
        }
        if !weight_ok(self.feedback_weight) {
            return Err("retrain.feedback_weight must be a positive number".into());
        }
        if !(2..=10).contains(&self.folds) {
            return Err(format!(
                "retrain.folds must be between 2 and 10, got {}",
                self.folds
            ));
        }
        if !(0.0..=1.0).contains(&self.base_tolerance) {
            return Err("retrain.base_tolerance must be in [0, 1]".into());
        }
        if !(self.max_share_per_key > 0.0 && self.max_share_per_key <= 1.0) {
            return Err("retrain.max_share_per_key must be in (0, 1]".into());
        }
        if self.max_delay_seconds < self.quiet_seconds {
            return Err("retrain.max_delay_seconds must be at least retrain.quiet_seconds".into());
        }
        Ok(())
    }

    /// Whether accepted feedback starts retrains by itself.
    pub fn learns_continuously(&self) -> bool {
        self.after_feedback > 0
    }

    pub fn quiet(&self) -> Duration {
        Duration::from_secs(self.quiet_seconds)
    }

    pub fn max_delay(&self) -> Duration {
        Duration::from_secs(self.max_delay_seconds)
    }

    pub fn min_interval(&self) -> Duration {
        Duration::from_secs(self.min_interval_seconds)
    }

    /// The grid weight nearest the preferred one (ties: the smaller weight).
    pub fn preference(&self, weight: f64) -> f64 {
        (weight - self.feedback_weight).abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        assert!(RetrainSettings::default().validate().is_ok());
        let bad = |f: fn(&mut RetrainSettings)| {
            let mut s = RetrainSettings::default();
            f(&mut s);
            s.validate().unwrap_err()
        };
        assert!(bad(|s| s.feedback_weights.clear()).contains("feedback_weights"));
        assert!(bad(|s| s.feedback_weights = vec![1.0, -2.0]).contains("feedback_weights"));
        assert!(bad(|s| s.folds = 1).contains("folds"));
        assert!(bad(|s| s.max_share_per_key = 0.0).contains("max_share_per_key"));
        assert!(bad(|s| s.quiet_seconds = 60).contains("max_delay_seconds"));
    }

    #[test]
    fn the_file_section_parses_with_defaults_for_what_it_leaves_out() {
        let s: RetrainSettings = toml::from_str("folds = 5\nafter_feedback = 0").unwrap();
        assert_eq!(s.folds, 5);
        assert!(!s.learns_continuously());
        assert_eq!(
            s.feedback_weights,
            RetrainSettings::default().feedback_weights
        );
        assert!(toml::from_str::<RetrainSettings>("fold = 5").is_err());
    }
}
