//! The promotion gate: a candidate replaces the current model only if it is not worse
//! on the base test set beyond a tolerance, not worse on held-out feedback, and
//! strictly better on at least one of them.
//!
//! The plan's gate ("better on the base test set") would reject exactly the models the
//! feedback loop exists for: corrections from a new domain lift accuracy there while
//! the base accuracy stays flat. This gate lets those through and still refuses a
//! model that trades base accuracy away beyond the tolerance.

use serde::{Deserialize, Serialize};

/// Accuracies of one model on the two evaluation sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub base_test: f64,
    /// `None` when no feedback is held out yet.
    pub feedback_holdout: Option<f64>,
}

/// The gate's verdict, with the reason in words (recorded with the version).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub promote: bool,
    pub reason: String,
}

/// Accuracies are ratios of counts; differences below this are equality.
const EPSILON: f64 = 1e-9;

fn points(x: f64) -> f64 {
    x * 100.0
}

/// Decides with `tolerance` as a fraction (0.005 = half a point).
pub fn decide(current: Scores, candidate: Scores, tolerance: f64) -> Decision {
    let reject = |reason: String| Decision {
        promote: false,
        reason,
    };
    let base_change = candidate.base_test - current.base_test;
    if base_change < -tolerance - EPSILON {
        return reject(format!(
            "rejected: base test accuracy would drop {:.2} points ({:.2}% -> {:.2}%), more than the {:.2}-point tolerance",
            points(-base_change),
            points(current.base_test),
            points(candidate.base_test),
            points(tolerance)
        ));
    }
    let feedback_change = match (current.feedback_holdout, candidate.feedback_holdout) {
        (Some(cur), Some(cand)) => Some((cur, cand, cand - cur)),
        _ => None,
    };
    if let Some((cur, cand, change)) = feedback_change {
        if change < -EPSILON {
            return reject(format!(
                "rejected: held-out feedback accuracy would drop {:.2} points ({:.2}% -> {:.2}%)",
                points(-change),
                points(cur),
                points(cand)
            ));
        }
    }
    let better_base = base_change > EPSILON;
    let better_feedback = feedback_change.is_some_and(|(_, _, change)| change > EPSILON);
    let summary = format!(
        "base test {:.2}% -> {:.2}%{}",
        points(current.base_test),
        points(candidate.base_test),
        match feedback_change {
            Some((cur, cand, _)) => format!(
                ", held-out feedback {:.2}% -> {:.2}%",
                points(cur),
                points(cand)
            ),
            None => ", no held-out feedback yet".to_string(),
        }
    );
    if better_base || better_feedback {
        Decision {
            promote: true,
            reason: format!("promoted: {summary}"),
        }
    } else {
        reject(format!("rejected: not better on either set ({summary})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(base: f64, feedback: Option<f64>) -> Scores {
        Scores {
            base_test: base,
            feedback_holdout: feedback,
        }
    }

    #[test]
    fn domain_gain_with_flat_base_is_promoted() {
        let d = decide(s(0.830, Some(0.79)), s(0.829, Some(0.85)), 0.005);
        assert!(d.promote, "{}", d.reason);
        assert!(d.reason.contains("79.00% -> 85.00%"));
    }

    #[test]
    fn base_drop_beyond_tolerance_is_rejected_whatever_the_feedback_gain() {
        let d = decide(s(0.830, Some(0.70)), s(0.820, Some(0.95)), 0.005);
        assert!(!d.promote);
        assert!(d.reason.contains("drop 1.00 points"), "{}", d.reason);
    }

    #[test]
    fn exactly_at_the_tolerance_passes_the_base_check() {
        assert!(decide(s(0.830, Some(0.80)), s(0.825, Some(0.81)), 0.005).promote);
    }

    #[test]
    fn feedback_drop_is_rejected_even_with_a_base_gain() {
        let d = decide(s(0.830, Some(0.80)), s(0.840, Some(0.79)), 0.005);
        assert!(!d.promote);
        assert!(d.reason.contains("held-out feedback"));
    }

    #[test]
    fn equal_on_both_is_rejected() {
        let d = decide(s(0.83, Some(0.8)), s(0.83, Some(0.8)), 0.005);
        assert!(!d.promote);
        assert!(d.reason.contains("not better"));
    }

    #[test]
    fn without_held_out_feedback_only_a_base_gain_promotes() {
        assert!(decide(s(0.83, None), s(0.84, None), 0.005).promote);
        assert!(!decide(s(0.83, None), s(0.829, None), 0.005).promote);
        assert!(!decide(s(0.83, Some(0.8)), s(0.829, None), 0.005).promote);
    }
}
