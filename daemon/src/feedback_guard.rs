//! Bounds on what one API key can do to the training data.
//!
//! A flood of label-flipped corrections from one key is held back at three places:
//! here (a rolling 24-hour feedback quota per key, and corrections that contradict a
//! confident prediction from a key with little track record held for an operator),
//! in the retrain (no key may exceed `max_share_per_key` of one retrain's feedback),
//! and at the promotion gate.
//!
//! The quota is counted in memory, seeded from the store the first time a key is seen
//! (so a restart does not hand out a fresh day), and reserved before the row is
//! written: concurrent requests cannot overshoot it, and a request refused for the
//! quota stores nothing.

use sentiment_data::store::KeyActivity;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The quota's window.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// `[feedback]` in the config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackPolicy {
    /// Feedback rows one user API key may send in any 24 hours; 0 = no limit. Trusted
    /// senders (the socket, admin keys) have no quota.
    pub max_per_key_per_day: u32,
    /// Feedback rows one anonymous client address may send in any 24 hours (auth
    /// off); 0 = no limit.
    pub max_per_address_per_day: u32,
    /// Hold for review a correction from an untrusted sender (a user key or an
    /// anonymous caller) that contradicts a prediction the served model makes with at
    /// least this confidence; `"off"`: never hold.
    #[serde(deserialize_with = "number_or_off")]
    pub hold_contradicting_confidence: Option<f64>,
    /// Accepted rows after which a sender's confident contradictions are no longer
    /// held; 0 = always held (a sender could otherwise earn the exemption with rows
    /// that agree with the model, then flood).
    pub min_history: u64,
}

impl Default for FeedbackPolicy {
    fn default() -> Self {
        FeedbackPolicy {
            max_per_key_per_day: 1_000,
            max_per_address_per_day: 1_000,
            hold_contradicting_confidence: Some(0.8),
            min_history: 0,
        }
    }
}

/// A number, or the string `"off"` for none.
fn number_or_off<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrOff {
        Number(f64),
        Word(String),
    }
    match NumberOrOff::deserialize(d)? {
        NumberOrOff::Number(n) => Ok(Some(n)),
        NumberOrOff::Word(w) if w.eq_ignore_ascii_case("off") => Ok(None),
        NumberOrOff::Word(w) => Err(serde::de::Error::custom(format!(
            "expected a confidence between 0.5 and 1.0 or \"off\", got {w:?}"
        ))),
    }
}

impl FeedbackPolicy {
    pub fn validate(&self) -> Result<(), String> {
        match self.hold_contradicting_confidence {
            Some(c) if !(0.5..=1.0).contains(&c) => Err(format!(
                "feedback.hold_contradicting_confidence must be between 0.5 and 1.0, got {c}"
            )),
            _ => Ok(()),
        }
    }

    /// Whether a correction to `correct` should wait for an operator, given what the
    /// served model says about the text and the sender's accepted history.
    pub fn should_hold(
        &self,
        model_says: sentiment_core::Label,
        model_confidence: f64,
        correct: sentiment_core::Label,
        history: u64,
    ) -> bool {
        match self.hold_contradicting_confidence {
            Some(threshold) => {
                let exempt = self.min_history > 0 && history >= self.min_history;
                model_says != correct && model_confidence >= threshold && !exempt
            }
            None => false,
        }
    }
}

/// What the quota decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// A slot is reserved at this time; give it back with [`FeedbackGuard::release`]
    /// if the row is not stored.
    Admitted {
        at_unix_ms: i64,
    },
    OverQuota {
        retry_after_seconds: u64,
    },
}

#[derive(Debug, Default)]
struct Ledger {
    recent: VecDeque<i64>,
    accepted: u64,
}

/// Per-key quota and history, shared by every request.
#[derive(Debug, Default)]
pub struct FeedbackGuard {
    keys: Mutex<HashMap<String, Ledger>>,
}

impl FeedbackGuard {
    /// Whether the key's ledger was already seeded from the store.
    pub fn knows(&self, key: &str) -> bool {
        self.keys.lock().unwrap().contains_key(key)
    }

    /// Seeds a key's ledger from the store (a no-op if another request did first).
    pub fn seed(&self, key: &str, activity: KeyActivity) {
        self.keys
            .lock()
            .unwrap()
            .entry(key.to_string())
            .or_insert_with(|| Ledger {
                recent: activity.recent_unix_ms.into(),
                accepted: activity.accepted,
            });
    }

    /// Reserves one row of `key`'s quota at `now`, or says when one frees up.
    pub fn admit(&self, key: &str, limit: u32, now_unix_ms: i64) -> Admission {
        let mut keys = self.keys.lock().unwrap();
        let ledger = keys.entry(key.to_string()).or_default();
        while ledger
            .recent
            .front()
            .is_some_and(|&t| t <= now_unix_ms - WINDOW_MS)
        {
            ledger.recent.pop_front();
        }
        if limit > 0 && ledger.recent.len() >= limit as usize {
            let oldest = ledger.recent.front().copied().unwrap_or(now_unix_ms);
            let wait_ms = (oldest + WINDOW_MS - now_unix_ms).max(1_000);
            return Admission::OverQuota {
                retry_after_seconds: (wait_ms as u64).div_ceil(1_000),
            };
        }
        ledger.recent.push_back(now_unix_ms);
        Admission::Admitted {
            at_unix_ms: now_unix_ms,
        }
    }

    /// Gives back a reservation whose row was not stored.
    pub fn release(&self, key: &str, at_unix_ms: i64) {
        if let Some(ledger) = self.keys.lock().unwrap().get_mut(key) {
            if let Some(i) = ledger.recent.iter().rposition(|&t| t == at_unix_ms) {
                ledger.recent.remove(i);
            }
        }
    }

    /// The key's accepted rows so far.
    pub fn history(&self, key: &str) -> u64 {
        self.keys
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |ledger| ledger.accepted)
    }

    /// Counts a stored, accepted row towards the key's history.
    pub fn record_accepted(&self, key: &str) {
        if let Some(ledger) = self.keys.lock().unwrap().get_mut(key) {
            ledger.accepted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_core::Label;

    #[test]
    fn the_quota_is_exact_rolls_over_and_gives_back_unstored_rows() {
        let guard = FeedbackGuard::default();
        guard.seed(
            "k",
            KeyActivity {
                recent_unix_ms: vec![0, 10],
                accepted: 2,
            },
        );
        assert_eq!(
            guard.admit("k", 3, 100),
            Admission::Admitted { at_unix_ms: 100 }
        );
        let Admission::OverQuota {
            retry_after_seconds,
        } = guard.admit("k", 3, 200)
        else {
            panic!("the fourth row in a day must be refused");
        };
        assert_eq!(retry_after_seconds, 86_400);
        guard.release("k", 100);
        assert!(matches!(
            guard.admit("k", 3, 300),
            Admission::Admitted { .. }
        ));
        // A day after the first row, its slot is free again.
        assert!(matches!(
            guard.admit("k", 3, WINDOW_MS),
            Admission::Admitted { .. }
        ));
        assert!(matches!(
            guard.admit("k", 0, 400),
            Admission::Admitted { .. }
        ));
        assert_eq!(guard.history("k"), 2);
        guard.record_accepted("k");
        assert_eq!(guard.history("k"), 3);
    }

    #[test]
    fn holding_can_be_turned_off_in_the_file() {
        let off: FeedbackPolicy =
            toml::from_str("hold_contradicting_confidence = \"off\"").unwrap();
        assert_eq!(off.hold_contradicting_confidence, None);
        let on: FeedbackPolicy = toml::from_str("hold_contradicting_confidence = 0.9").unwrap();
        assert_eq!(on.hold_contradicting_confidence, Some(0.9));
        assert_eq!(
            toml::from_str::<FeedbackPolicy>("")
                .unwrap()
                .hold_contradicting_confidence,
            Some(0.8)
        );
        assert!(
            toml::from_str::<FeedbackPolicy>("hold_contradicting_confidence = \"never\"").is_err()
        );
    }

    #[test]
    fn only_confident_contradictions_from_new_keys_are_held() {
        let policy = FeedbackPolicy {
            hold_contradicting_confidence: Some(0.9),
            min_history: 5,
            ..FeedbackPolicy::default()
        };
        use Label::{Negative, Positive};
        assert!(policy.should_hold(Positive, 0.95, Negative, 0));
        assert!(!policy.should_hold(Positive, 0.95, Positive, 0), "agrees");
        assert!(
            !policy.should_hold(Positive, 0.6, Negative, 0),
            "unsure model"
        );
        assert!(
            !policy.should_hold(Positive, 0.95, Negative, 5),
            "known key"
        );
        let defaults = FeedbackPolicy::default();
        assert!(defaults.should_hold(Positive, 0.99, Negative, 0));
        assert!(
            defaults.should_hold(Positive, 0.99, Negative, 10_000),
            "no history exemption by default"
        );
        assert!(
            !defaults.should_hold(Positive, 0.6, Negative, 0),
            "borderline"
        );
        let off = FeedbackPolicy {
            hold_contradicting_confidence: None,
            ..defaults
        };
        assert!(!off.should_hold(Positive, 0.99, Negative, 0));
    }
}
