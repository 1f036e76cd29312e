//! Learning as feedback arrives: accepted feedback makes a retrain due, debounced so a
//! burst becomes one retrain, and spaced by a minimum interval. The schedule still
//! runs besides; `retrain.after_feedback = 0` leaves the schedule alone.
//!
//! A retrain is due when at least `after_feedback` accepted rows arrived since the
//! last retrain started, and either `quiet_seconds` passed without another row or
//! `max_delay_seconds` passed since the first waiting row; never sooner than
//! `min_interval_seconds` after the last start.

use super::settings::RetrainSettings;
use crate::events::now_unix_ms;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Default)]
struct Waiting {
    rows: usize,
    first: Option<Instant>,
    last: Option<Instant>,
    last_start: Option<Instant>,
}

/// The feedback waiting for a retrain.
#[derive(Debug, Default)]
pub struct Trigger {
    waiting: Mutex<Waiting>,
}

impl Trigger {
    /// An accepted feedback row was stored.
    pub fn feedback_accepted(&self) {
        self.feedback_accepted_at(Instant::now());
    }

    fn feedback_accepted_at(&self, now: Instant) {
        let mut w = self.waiting.lock().expect("trigger lock");
        w.rows += 1;
        w.first.get_or_insert(now);
        w.last = Some(now);
    }

    /// A retrain (of any origin) started: it reads the feedback stored so far.
    pub fn retrain_started(&self) {
        let mut w = self.waiting.lock().expect("trigger lock");
        *w = Waiting {
            last_start: Some(Instant::now()),
            ..Waiting::default()
        };
    }

    /// Rows waiting for the next retrain.
    pub fn waiting_rows(&self) -> usize {
        self.waiting.lock().expect("trigger lock").rows
    }

    /// When the waiting feedback makes a retrain due, if no more arrives; None when
    /// nothing is due (too few rows, or learning from feedback is off).
    pub fn due(&self, settings: &RetrainSettings) -> Option<Instant> {
        let w = self.waiting.lock().expect("trigger lock");
        if !settings.learns_continuously() || w.rows < settings.after_feedback {
            return None;
        }
        let (first, last) = (w.first?, w.last?);
        let debounced = (last + settings.quiet()).min(first + settings.max_delay());
        Some(match w.last_start {
            Some(start) => debounced.max(start + settings.min_interval()),
            None => debounced,
        })
    }

    /// [`Trigger::due`] as Unix milliseconds.
    pub fn due_unix_ms(&self, settings: &RetrainSettings) -> Option<i64> {
        let due = self.due(settings)?;
        let ahead = due.saturating_duration_since(Instant::now());
        Some(now_unix_ms() + ahead.as_millis() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn settings() -> RetrainSettings {
        RetrainSettings {
            after_feedback: 2,
            quiet_seconds: 5,
            max_delay_seconds: 30,
            min_interval_seconds: 20,
            ..RetrainSettings::default()
        }
    }

    #[test]
    fn due_after_enough_rows_and_a_quiet_period() {
        let trigger = Trigger::default();
        let s = settings();
        let t0 = Instant::now();
        trigger.feedback_accepted_at(t0);
        assert_eq!(trigger.due(&s), None, "one row of the two needed");
        trigger.feedback_accepted_at(t0 + Duration::from_secs(1));
        assert_eq!(trigger.due(&s), Some(t0 + Duration::from_secs(6)));
    }

    #[test]
    fn a_steady_stream_waits_at_most_the_max_delay() {
        let trigger = Trigger::default();
        let s = settings();
        let t0 = Instant::now();
        for second in 0..40 {
            trigger.feedback_accepted_at(t0 + Duration::from_secs(second));
        }
        assert_eq!(trigger.due(&s), Some(t0 + Duration::from_secs(30)));
    }

    #[test]
    fn retrains_are_spaced_and_a_start_takes_the_waiting_rows() {
        let trigger = Trigger::default();
        let s = settings();
        trigger.retrain_started();
        let started = Instant::now();
        assert_eq!(trigger.waiting_rows(), 0);
        trigger.feedback_accepted_at(started);
        trigger.feedback_accepted_at(started);
        let due = trigger.due(&s).unwrap();
        assert!(due >= started + Duration::from_secs(20) - Duration::from_millis(50));
        let off = RetrainSettings {
            after_feedback: 0,
            ..settings()
        };
        assert_eq!(trigger.due(&off), None, "weekly only");
    }
}
