//! The training set of a retrain: base examples plus accepted feedback, de-duplicated,
//! with feedback split into a train part and a held-out part by a stable hash.

use sentiment_core::text::normalise;
use sentiment_core::Label;
use sentiment_data::store::FeedbackRecord;
use sentiment_data::Example;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Which side of the feedback split a text falls on. It depends only on the
/// normalised text, so an example never moves between train and held-out across runs,
/// and a repeated text always lands on the same side.
pub fn is_held_out(text: &str, holdout_fraction: f64) -> bool {
    let digest = Sha256::digest(normalise(text).as_bytes());
    let bucket = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 10_000;
    (bucket as f64) < holdout_fraction * 10_000.0
}

/// What goes into training and evaluation.
#[derive(Debug, Default)]
pub struct RetrainSet {
    pub texts: Vec<String>,
    pub labels: Vec<Label>,
    pub weights: Vec<f64>,
    /// Held-out feedback, never trained on.
    pub holdout: Vec<Example>,
    /// Feedback ids trained on.
    pub trained_feedback_ids: Vec<i64>,
    /// Rows by origin, for the version record.
    pub rows: BTreeMap<String, u64>,
}

/// Limits on how much any one API key can weigh in one retrain.
#[derive(Debug, Clone, Copy)]
pub struct MixOptions {
    pub feedback_weight: f64,
    pub holdout_fraction: f64,
    /// Largest share of the used feedback that may come from one key (1.0: no cap).
    pub max_share_per_key: f64,
}

/// Merges base training data with feedback.
///
/// - Feedback is de-duplicated by normalised text, the newest (largest id) winning.
/// - A feedback text overrides a base example with the same normalised text: the
///   base example is dropped, so a correction is not fighting the base label.
/// - Feedback from any one key beyond `max_share_per_key` of the total is left out
///   (its oldest rows first), so one key cannot dominate a retrain.
pub fn build(base: &[Example], feedback: &[FeedbackRecord], options: &MixOptions) -> RetrainSet {
    let mut newest: HashMap<String, &FeedbackRecord> = HashMap::new();
    for record in feedback {
        let key = normalise(&record.text);
        match newest.get(&key) {
            Some(existing) if existing.id > record.id => {}
            _ => {
                newest.insert(key, record);
            }
        }
    }
    let mut kept: Vec<&FeedbackRecord> = newest.values().copied().collect();
    kept.sort_by_key(|r| r.id);
    let kept = cap_per_key(kept, options.max_share_per_key);
    let overridden: HashSet<String> = kept.iter().map(|r| normalise(&r.text)).collect();

    let mut set = RetrainSet::default();
    let mut base_rows = 0u64;
    for example in base {
        if overridden.contains(&normalise(&example.text)) {
            continue;
        }
        set.texts.push(example.text.clone());
        set.labels.push(example.label);
        set.weights.push(1.0);
        base_rows += 1;
    }
    let mut trained = 0u64;
    for record in &kept {
        if is_held_out(&record.text, options.holdout_fraction) {
            set.holdout.push(Example {
                text: record.text.clone(),
                label: record.correct_label,
            });
        } else {
            set.texts.push(record.text.clone());
            set.labels.push(record.correct_label);
            set.weights.push(options.feedback_weight);
            set.trained_feedback_ids.push(record.id);
            trained += 1;
        }
    }
    set.rows.insert("base".into(), base_rows);
    set.rows
        .insert("base_overridden".into(), base.len() as u64 - base_rows);
    set.rows.insert("feedback_train".into(), trained);
    set.rows
        .insert("feedback_holdout".into(), set.holdout.len() as u64);
    set.rows
        .insert("feedback_capped".into(), (newest.len() - kept.len()) as u64);
    set
}

/// Drops the oldest rows of any key above its share. Rows without a key (socket,
/// operators, anonymous) are not capped: they are the operators' own.
fn cap_per_key(rows: Vec<&FeedbackRecord>, max_share: f64) -> Vec<&FeedbackRecord> {
    if max_share >= 1.0 || rows.is_empty() {
        return rows;
    }
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        if let Some(key) = r.api_key.as_deref() {
            *by_key.entry(key).or_default() += 1;
        }
    }
    // The cap is a share of what the others sent, so that a flood cannot raise it:
    // a key may contribute at most share/(1-share) times the rest.
    let total = rows.len();
    let mut allowed: HashMap<&str, usize> = HashMap::new();
    for (&key, &count) in &by_key {
        let others = total - count;
        let cap = ((others as f64) * max_share / (1.0 - max_share)).floor() as usize;
        allowed.insert(key, count.min(cap.max(1)));
    }
    // Keep each key's newest rows.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut kept: Vec<&FeedbackRecord> = rows
        .into_iter()
        .rev()
        .filter(|r| match r.api_key.as_deref() {
            None => true,
            Some(key) => {
                let n = seen.entry(key).or_default();
                *n += 1;
                *n <= allowed[key]
            }
        })
        .collect();
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentiment_data::store::FeedbackStatus;

    fn fb(id: i64, text: &str, label: Label, key: Option<&str>) -> FeedbackRecord {
        FeedbackRecord {
            id,
            created_unix_ms: id,
            text: text.into(),
            predicted_label: None,
            correct_label: label,
            confidence: None,
            prediction_id: None,
            source: "api".into(),
            api_key: key.map(str::to_string),
            model_version: None,
            status: FeedbackStatus::Accepted,
        }
    }

    fn options() -> MixOptions {
        MixOptions {
            feedback_weight: 3.0,
            holdout_fraction: 0.2,
            max_share_per_key: 1.0,
        }
    }

    #[test]
    fn split_is_stable_and_roughly_the_fraction() {
        let texts: Vec<String> = (0..5_000).map(|i| format!("review number {i}")).collect();
        let held: Vec<bool> = texts.iter().map(|t| is_held_out(t, 0.2)).collect();
        let again: Vec<bool> = texts.iter().map(|t| is_held_out(t, 0.2)).collect();
        assert_eq!(held, again);
        let share = held.iter().filter(|&&h| h).count() as f64 / 5_000.0;
        assert!((0.18..0.22).contains(&share), "{share}");
        // Normalisation: case and spacing do not move a text.
        assert_eq!(
            is_held_out("Great  Film", 0.5),
            is_held_out("great film", 0.5)
        );
    }

    #[test]
    fn feedback_overrides_base_and_newest_feedback_wins() {
        let base = vec![
            Example {
                text: "Not bad".into(),
                label: Label::Negative,
            },
            Example {
                text: "awful".into(),
                label: Label::Negative,
            },
        ];
        let feedback = vec![
            fb(1, "not bad", Label::Negative, None),
            fb(2, "NOT BAD", Label::Positive, None),
        ];
        let set = build(
            &base,
            &feedback,
            &MixOptions {
                holdout_fraction: 0.0,
                ..options()
            },
        );
        assert_eq!(set.texts, vec!["awful".to_string(), "NOT BAD".to_string()]);
        assert_eq!(set.labels, vec![Label::Negative, Label::Positive]);
        assert_eq!(set.weights, vec![1.0, 3.0]);
        assert_eq!(set.trained_feedback_ids, vec![2]);
        assert_eq!(set.rows["base_overridden"], 1);
    }

    #[test]
    fn held_out_feedback_is_never_trained_on() {
        let feedback: Vec<FeedbackRecord> = (0..200)
            .map(|i| fb(i, &format!("text {i}"), Label::Positive, None))
            .collect();
        let set = build(&[], &feedback, &options());
        assert!(!set.holdout.is_empty());
        for held in &set.holdout {
            assert!(!set.texts.contains(&held.text));
        }
        assert_eq!(set.holdout.len() + set.texts.len(), 200);
    }

    #[test]
    fn one_key_cannot_dominate() {
        let mut feedback: Vec<FeedbackRecord> = (0..900)
            .map(|i| fb(i, &format!("flood {i}"), Label::Negative, Some("mallory")))
            .collect();
        feedback.extend(
            (900..1000).map(|i| fb(i, &format!("honest {i}"), Label::Positive, Some("alice"))),
        );
        let set = build(
            &[],
            &feedback,
            &MixOptions {
                holdout_fraction: 0.0,
                max_share_per_key: 0.25,
                ..options()
            },
        );
        let flood = set.texts.iter().filter(|t| t.starts_with("flood")).count();
        let honest = set.texts.iter().filter(|t| t.starts_with("honest")).count();
        assert_eq!(honest, 100);
        assert!(flood as f64 <= 0.25 / 0.75 * 100.0 + 1.0, "{flood}");
        assert_eq!(set.rows["feedback_capped"], 900 - flood as u64);
    }
}
