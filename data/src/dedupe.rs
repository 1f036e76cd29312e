//! De-duplication of examples by their normalised text.
//!
//! SST-2 alone repeats phrases, and feedback collected from live traffic repeats texts
//! the base data already has, sometimes with the other label. Training on both copies
//! would weight those texts twice and, for conflicts, teach the model both answers.

use crate::Example;
use rustc_hash::FxHashMap;
use sentiment_core::text::normalise;

/// What [`dedupe`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DedupeReport {
    /// Examples dropped because an earlier one had the same normalised text.
    pub duplicates: usize,
    /// Distinct texts whose copies did not all have the same label.
    pub conflicts: usize,
}

/// Keeps one example per normalised text ([`normalise`]: case, Unicode form, quotes
/// and whitespace do not make texts different).
///
/// The kept example stays at the position, and with the text, of the first occurrence,
/// but takes the label of the last one: data appended later (user feedback after the
/// base dataset) corrects what came before. Each distinct text whose copies disagree
/// counts once in [`DedupeReport::conflicts`], however many copies it has.
pub fn dedupe(examples: Vec<Example>) -> (Vec<Example>, DedupeReport) {
    let mut first_index: FxHashMap<String, usize> = FxHashMap::default();
    first_index.reserve(examples.len());
    let mut kept: Vec<Example> = Vec::with_capacity(examples.len());
    let mut conflicted: Vec<bool> = Vec::with_capacity(examples.len());
    let mut report = DedupeReport::default();
    for example in examples {
        let key = normalise(&example.text);
        match first_index.get(&key) {
            Some(&index) => {
                report.duplicates += 1;
                if kept[index].label != example.label {
                    kept[index].label = example.label;
                    conflicted[index] = true;
                }
            }
            None => {
                first_index.insert(key, kept.len());
                kept.push(example);
                conflicted.push(false);
            }
        }
    }
    report.conflicts = conflicted.iter().filter(|&&c| c).count();
    (kept, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_core::Label::{Negative, Positive};

    fn ex(text: &str, label: sentiment_core::Label) -> Example {
        Example::new(text, label)
    }

    #[test]
    fn keeps_first_position_and_text_with_last_label() {
        let input = vec![
            ex("Great movie", Positive),
            ex("awful", Negative),
            ex("  great   MOVIE ", Negative),
            ex("fine", Positive),
            ex("great movie", Negative),
        ];
        let (kept, report) = dedupe(input);
        assert_eq!(
            kept,
            vec![
                ex("Great movie", Negative),
                ex("awful", Negative),
                ex("fine", Positive)
            ]
        );
        assert_eq!(
            report,
            DedupeReport {
                duplicates: 2,
                conflicts: 1
            }
        );
    }

    #[test]
    fn a_conflict_that_flips_back_still_counts_once() {
        let input = vec![
            ex("meh", Positive),
            ex("MEH", Negative),
            ex("meh", Positive),
        ];
        let (kept, report) = dedupe(input);
        assert_eq!(kept, vec![ex("meh", Positive)]);
        assert_eq!(report.duplicates, 2);
        assert_eq!(report.conflicts, 1);
    }

    #[test]
    fn agreeing_duplicates_are_not_conflicts() {
        let (kept, report) = dedupe(vec![ex("a b", Positive), ex("A\tB", Positive)]);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            report,
            DedupeReport {
                duplicates: 1,
                conflicts: 0
            }
        );
    }

    #[test]
    fn unicode_variants_are_the_same_text() {
        let (kept, _) = dedupe(vec![
            ex("don\u{2019}t like it", Negative),
            ex("don't like it", Negative),
            ex("caf\u{e9}", Positive),
            ex("cafe\u{301}", Positive),
        ]);
        assert_eq!(kept.len(), 2);
    }

    #[test]
    fn no_duplicates_is_the_identity() {
        let input: Vec<Example> = (0..100).map(|i| ex(&format!("t{i}"), Positive)).collect();
        let (kept, report) = dedupe(input.clone());
        assert_eq!(kept, input);
        assert_eq!(report, DedupeReport::default());
        assert_eq!(dedupe(Vec::new()), (Vec::new(), DedupeReport::default()));
    }
}
