//! The promotion gate: a candidate replaces the current model only when every check
//! that can be made says it is no worse, and at least one says it is better.
//!
//! 1. **Base floor.** Base test accuracy at most `tolerance` below the *reference*
//!    version: the bootstrap version, trained on the base data alone. The floor is
//!    fixed, not the current version's accuracy, so promotions cannot drift down step
//!    by step (with the current version as the floor, ten promotions may lose ten
//!    tolerances). Not the best promoted version either: a version that got lucky on
//!    the test set would raise the bar above what honest candidates reach, and the
//!    loop would stop learning.
//! 2. **Fresh feedback, cross-fitted.** On the accepted feedback the current version
//!    was not trained on, the candidate's cross-fitted predictions (each item scored by
//!    a model that never saw it) are right at least as often as the current version.
//!    Feedback the current version trained on is left out of this comparison: its
//!    score there is in-sample and would beat any honest estimate.
//! 3. **Audit set.** On operator-labelled random samples of live predictions (never
//!    trained on), the candidate is right at least as often as the current version.
//!    This is the check a stream of corrections cannot bias: corrections are, by
//!    construction, texts the current model got wrong.
//! 4. **Better on something:** base test, fresh cross-fitted feedback, the audit set,
//!    or the feedback it was trained on (it answers more corrections right that the
//!    current version gets wrong than the other way round). This is what lets a single
//!    clean correction go live.

use serde::{Deserialize, Serialize};

/// Correct answers of current and candidate on the same items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paired {
    pub items: usize,
    pub current_correct: usize,
    pub candidate_correct: usize,
}

impl Paired {
    pub fn current_accuracy(&self) -> f64 {
        ratio(self.current_correct, self.items)
    }
    pub fn candidate_accuracy(&self) -> f64 {
        ratio(self.candidate_correct, self.items)
    }
}

/// The feedback trained on, in-sample: items only one of the two gets right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flips {
    pub items: usize,
    /// The current version is wrong and the candidate right.
    pub fixed: usize,
    /// The current version is right and the candidate wrong.
    pub broken: usize,
}

/// A version's base test accuracy, named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionScore {
    pub version: String,
    pub base_test: f64,
}

/// Every number the gate looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub reference: VersionScore,
    /// Why this reference (recorded in the decision).
    pub reference_why: String,
    pub current: VersionScore,
    pub candidate_base_test: f64,
    pub base_test_items: usize,
    /// Cross-fitted candidate against the current version on feedback the current
    /// version was not trained on; None when there is none.
    pub fresh_feedback: Option<Paired>,
    /// The audit set; None when no audit item is labelled yet.
    pub audit: Option<Paired>,
    pub trained_feedback: Flips,
}

/// The gate's verdict, with the reason in words (recorded with the version).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub promote: bool,
    pub reason: String,
}

/// Accuracies are ratios of counts; differences below this are equality.
const EPSILON: f64 = 1e-9;

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn paired_text(name: &str, p: &Paired) -> String {
    format!(
        "{name} {} -> {} ({} -> {} of {})",
        pct(p.current_accuracy()),
        pct(p.candidate_accuracy()),
        p.current_correct,
        p.candidate_correct,
        p.items
    )
}

/// Decides, with `tolerance` as a fraction of base test accuracy (0.005 = half a
/// point) below the reference.
pub fn decide(e: &Evidence, tolerance: f64) -> Decision {
    let mut facts = vec![format!(
        "base test {} -> {} (floor {}: reference {} at {} less {:.2} points; {})",
        pct(e.current.base_test),
        pct(e.candidate_base_test),
        pct(e.reference.base_test - tolerance),
        e.reference.version,
        pct(e.reference.base_test),
        tolerance * 100.0,
        e.reference_why,
    )];
    facts.push(match &e.fresh_feedback {
        Some(p) => paired_text("cross-fitted new feedback", p),
        None => "no new feedback to cross-fit".into(),
    });
    facts.push(match &e.audit {
        Some(p) => paired_text("audit set", p),
        None => "no labelled audit items yet".into(),
    });
    let t = e.trained_feedback;
    facts.push(format!(
        "trained feedback: {} of {} now answered right that {} got wrong, {} the other way",
        t.fixed, t.items, e.current.version, t.broken
    ));
    let summary = facts.join("; ");
    let reject = |why: String| Decision {
        promote: false,
        reason: format!("rejected: {why} ({summary})"),
    };

    let floor = e.reference.base_test - tolerance;
    if e.candidate_base_test < floor - EPSILON {
        return reject(format!(
            "base test accuracy {} is below the floor {}",
            pct(e.candidate_base_test),
            pct(floor)
        ));
    }
    if let Some(p) = &e.fresh_feedback {
        if p.candidate_correct < p.current_correct {
            return reject(format!(
                "worse on new feedback, cross-fitted ({} -> {} right of {})",
                p.current_correct, p.candidate_correct, p.items
            ));
        }
    }
    if let Some(p) = &e.audit {
        if p.candidate_correct < p.current_correct {
            return reject(format!(
                "worse on the audit set ({} -> {} right of {})",
                p.current_correct, p.candidate_correct, p.items
            ));
        }
    }
    let mut better = Vec::new();
    if e.candidate_base_test > e.current.base_test + EPSILON {
        better.push("base test");
    }
    if e.fresh_feedback
        .is_some_and(|p| p.candidate_correct > p.current_correct)
    {
        better.push("cross-fitted new feedback");
    }
    if e.audit
        .is_some_and(|p| p.candidate_correct > p.current_correct)
    {
        better.push("audit set");
    }
    if t.fixed > t.broken {
        better.push("the feedback it was trained on");
    }
    if better.is_empty() {
        return reject("not better on anything".into());
    }
    Decision {
        promote: true,
        reason: format!("promoted: better on {} ({summary})", better.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(current_base: f64, candidate_base: f64) -> Evidence {
        Evidence {
            reference: VersionScore {
                version: "v1".into(),
                base_test: 0.830,
            },
            reference_why: "the bootstrap version".into(),
            current: VersionScore {
                version: "v2".into(),
                base_test: current_base,
            },
            candidate_base_test: candidate_base,
            base_test_items: 1000,
            fresh_feedback: None,
            audit: None,
            trained_feedback: Flips {
                items: 0,
                fixed: 0,
                broken: 0,
            },
        }
    }

    fn paired(current: usize, candidate: usize) -> Option<Paired> {
        Some(Paired {
            items: 100,
            current_correct: current,
            candidate_correct: candidate,
        })
    }

    #[test]
    fn a_single_clean_correction_goes_live() {
        let mut e = evidence(0.830, 0.830);
        e.fresh_feedback = Some(Paired {
            items: 1,
            current_correct: 0,
            candidate_correct: 0,
        });
        e.trained_feedback = Flips {
            items: 1,
            fixed: 1,
            broken: 0,
        };
        let d = decide(&e, 0.005);
        assert!(d.promote, "{}", d.reason);
        assert!(
            d.reason.contains("the feedback it was trained on"),
            "{}",
            d.reason
        );
        assert!(
            d.reason.contains("1 of 1 now answered right"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn the_floor_is_the_reference_not_the_current_version() {
        // The current version is well above the reference: a candidate may lose
        // against it as long as it stays above the reference's floor.
        let mut e = evidence(0.840, 0.826);
        e.fresh_feedback = paired(70, 80);
        assert!(decide(&e, 0.005).promote);
        // And may not go below the floor however much it gains elsewhere.
        let mut e = evidence(0.830, 0.8249);
        e.fresh_feedback = paired(10, 95);
        let d = decide(&e, 0.005);
        assert!(!d.promote);
        assert!(d.reason.contains("below the floor 82.50%"), "{}", d.reason);
        assert!(d.reason.contains("reference v1"), "{}", d.reason);
    }

    #[test]
    fn drift_is_bounded_over_ten_promotions() {
        // Each candidate loses as much as it may against the current version, and
        // gains on feedback. Chained, the served base accuracy never ends more than
        // the tolerance below the reference.
        let tolerance = 0.005;
        let mut current = 0.830;
        let mut promoted = 0;
        for _ in 0..10 {
            let mut e = evidence(current, current - tolerance);
            e.fresh_feedback = paired(50, 60);
            if decide(&e, tolerance).promote {
                current -= tolerance;
                promoted += 1;
            }
            assert!(current >= 0.830 - tolerance - 1e-12, "{current}");
        }
        assert_eq!(promoted, 1, "only the first step fits under the floor");
    }

    #[test]
    fn ten_promotions_in_small_steps_stop_at_the_floor() {
        // A quarter tolerance lost at each promotion: four go through, then the
        // floor holds, where a floor relative to the current version would have let
        // all ten through (2.5 tolerances in all).
        let tolerance = 0.005;
        let mut current = 0.830;
        let mut promoted = 0;
        for _ in 0..10 {
            let mut e = evidence(current, current - tolerance / 4.0);
            e.fresh_feedback = paired(50, 60);
            if decide(&e, tolerance).promote {
                current -= tolerance / 4.0;
                promoted += 1;
            }
            assert!(current >= 0.830 - tolerance - 1e-12, "{current}");
        }
        assert_eq!(promoted, 4);
    }

    #[test]
    fn worse_on_fresh_feedback_or_audit_is_rejected_whatever_else_gains() {
        let mut e = evidence(0.830, 0.840);
        e.fresh_feedback = paired(60, 59);
        let d = decide(&e, 0.005);
        assert!(!d.promote);
        assert!(d.reason.contains("worse on new feedback"), "{}", d.reason);

        let mut e = evidence(0.830, 0.840);
        e.fresh_feedback = paired(0, 40);
        e.audit = paired(80, 79);
        e.trained_feedback = Flips {
            items: 100,
            fixed: 90,
            broken: 0,
        };
        let d = decide(&e, 0.005);
        assert!(!d.promote);
        assert!(
            d.reason.contains("worse on the audit set (80 -> 79"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn equal_everywhere_is_rejected_and_each_gain_promotes() {
        let d = decide(&evidence(0.83, 0.83), 0.005);
        assert!(!d.promote);
        assert!(d.reason.contains("not better on anything"), "{}", d.reason);
        assert!(
            d.reason.contains("no labelled audit items yet"),
            "{}",
            d.reason
        );

        assert!(decide(&evidence(0.83, 0.831), 0.005).promote);
        let mut e = evidence(0.83, 0.83);
        e.audit = paired(70, 71);
        assert!(decide(&e, 0.005).reason.contains("better on audit set"));
        let mut e = evidence(0.83, 0.83);
        e.trained_feedback = Flips {
            items: 10,
            fixed: 3,
            broken: 3,
        };
        assert!(!decide(&e, 0.005).promote, "as many broken as fixed");
    }
}
