//! Cross-fitting: an honest estimate of how a candidate does on feedback it was
//! trained on. Feedback is dealt into k folds by a stable hash of its normalised text;
//! each fold is scored by a model trained on the base data and the other folds. The
//! feedback weight is chosen from a small grid by that score.
//!
//! All fits share one vectorising pass ([`PreparedTexts`]): a fold's rows get weight 0,
//! which leaves them out of the fit exactly; the vocabulary and IDF (computed without
//! labels) come from every text.

use super::settings::RetrainSettings;
use sentiment_core::text::normalise;
use sentiment_core::{Label, PreparedTexts, TrainConfig, TrainError};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The fold of a feedback text: it depends only on the normalised text, so an item
/// stays in its fold across retrains and a repeated text always lands in the same one.
pub fn fold_of(text: &str, folds: usize) -> usize {
    let digest = Sha256::digest(normalise(text).as_bytes());
    let bucket = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (bucket % folds as u64) as usize
}

/// The cross-fitted score of one weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightScore {
    pub weight: f64,
    /// Feedback items whose cross-fitted prediction matches their label.
    pub correct: usize,
    pub accuracy: f64,
}

/// What cross-fitting found.
#[derive(Debug, Clone, Serialize)]
pub struct CrossFit {
    /// The weight chosen: best score, then nearest the preferred weight.
    pub weight: f64,
    pub scores: Vec<WeightScore>,
    /// Cross-fitted p(positive) of each feedback item, at the chosen weight.
    #[serde(skip)]
    pub p_positive: Vec<f64>,
    /// Models fitted (folds x weights, less those that did not depend on the weight).
    pub fits: usize,
    pub folds: usize,
}

/// Cross-fits the feedback rows of `prepared`: rows `0..n_base` are base examples
/// (weight 1); the rest are feedback, in `folds[i - n_base]`.
pub fn cross_fit(
    prepared: &PreparedTexts,
    labels: &[Label],
    n_base: usize,
    folds: &[usize],
    settings: &RetrainSettings,
    config: &TrainConfig,
) -> Result<CrossFit, TrainError> {
    let n_feedback = labels.len() - n_base;
    debug_assert_eq!(folds.len(), n_feedback);
    let mut fits = 0;
    let mut by_weight: Vec<(f64, Vec<f64>)> = Vec::new();
    // A fold whose complement holds no feedback is fitted on the base data alone,
    // whatever the weight: fit it once.
    let mut base_only: Vec<Option<Vec<f64>>> = vec![None; settings.folds];
    for &weight in &settings.feedback_weights {
        let mut p = vec![0.5; n_feedback];
        for (fold, cached_base_only) in base_only.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n_feedback).filter(|&i| folds[i] == fold).collect();
            if members.is_empty() {
                continue;
            }
            let others_empty = members.len() == n_feedback;
            if others_empty {
                if let Some(cached) = cached_base_only.as_ref() {
                    for (&i, &q) in members.iter().zip(cached) {
                        p[i] = q;
                    }
                    continue;
                }
            }
            let mut weights = vec![1.0; labels.len()];
            for (i, w) in weights[n_base..].iter_mut().enumerate() {
                *w = if folds[i] == fold { 0.0 } else { weight };
            }
            let fit = prepared.fit(labels, &weights, config, &|_| {})?;
            fits += 1;
            let scored: Vec<f64> = members
                .iter()
                .map(|&i| prepared.p_positive(n_base + i, &fit.linear))
                .collect();
            for (&i, &q) in members.iter().zip(&scored) {
                p[i] = q;
            }
            if others_empty {
                *cached_base_only = Some(scored);
            }
        }
        by_weight.push((weight, p));
    }
    let truth = &labels[n_base..];
    let scores: Vec<WeightScore> = by_weight
        .iter()
        .map(|(weight, p)| {
            let correct = count_correct(truth, p);
            WeightScore {
                weight: *weight,
                correct,
                accuracy: correct as f64 / n_feedback.max(1) as f64,
            }
        })
        .collect();
    let best = scores
        .iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            b.correct
                .cmp(&a.correct)
                .then(
                    settings
                        .preference(a.weight)
                        .total_cmp(&settings.preference(b.weight)),
                )
                .then(a.weight.total_cmp(&b.weight))
        })
        .map(|(i, _)| i)
        .expect("the weight grid is not empty");
    Ok(CrossFit {
        weight: scores[best].weight,
        p_positive: by_weight.swap_remove(best).1,
        scores,
        fits,
        folds: settings.folds,
    })
}

/// How many probabilities fall on the side of their label (0.5 counts as positive,
/// as in a prediction).
pub fn count_correct(truth: &[Label], p_positive: &[f64]) -> usize {
    truth
        .iter()
        .zip(p_positive)
        .filter(|(&label, &p)| sentiment_core::Prediction::from_p_positive(p).label == label)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stable_balanced_and_ignore_case_and_spacing() {
        let texts: Vec<String> = (0..3_000).map(|i| format!("review number {i}")).collect();
        let folds: Vec<usize> = texts.iter().map(|t| fold_of(t, 3)).collect();
        let again: Vec<usize> = texts.iter().map(|t| fold_of(t, 3)).collect();
        assert_eq!(folds, again, "stable across runs");
        for k in 0..3 {
            let share = folds.iter().filter(|&&f| f == k).count() as f64 / 3_000.0;
            assert!((0.30..0.37).contains(&share), "fold {k}: {share}");
        }
        assert_eq!(fold_of("Great  Film", 3), fold_of("great film", 3));
        // Adding items never moves the ones already dealt.
        assert_eq!(fold_of("review number 7", 3), folds[7]);
    }

    fn toy() -> (Vec<String>, Vec<Label>) {
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for (text, label) in [
            ("a great film", Label::Positive),
            ("truly great acting", Label::Positive),
            ("i loved it", Label::Positive),
            ("wonderful and moving", Label::Positive),
            ("a terrible film", Label::Negative),
            ("truly awful acting", Label::Negative),
            ("i hated it", Label::Negative),
            ("boring and dull", Label::Negative),
        ] {
            texts.push(text.to_string());
            labels.push(label);
        }
        (texts, labels)
    }

    #[test]
    fn each_item_is_scored_by_a_model_that_never_saw_it_and_reruns_agree() {
        let (mut texts, mut labels) = toy();
        let n_base = texts.len();
        // Feedback in a new "domain": the base data says nothing about these words.
        let feedback = [
            ("tasty food", Label::Positive),
            ("tasty dessert", Label::Positive),
            ("tasty bread", Label::Positive),
            ("rude staff", Label::Negative),
            ("rude waiter", Label::Negative),
            ("rude owner", Label::Negative),
        ];
        for (t, l) in feedback {
            texts.push(t.into());
            labels.push(l);
        }
        let folds: Vec<usize> = texts[n_base..].iter().map(|t| fold_of(t, 3)).collect();
        let settings = RetrainSettings {
            feedback_weights: vec![1.0, 5.0],
            ..RetrainSettings::default()
        };
        let config = TrainConfig::default();
        let prepared = PreparedTexts::new(&texts, &config.vectorizer).unwrap();
        let first = cross_fit(&prepared, &labels, n_base, &folds, &settings, &config).unwrap();
        let second = cross_fit(&prepared, &labels, n_base, &folds, &settings, &config).unwrap();
        assert_eq!(first.scores, second.scores);
        assert_eq!(first.p_positive, second.p_positive);
        assert_eq!(first.scores.len(), 2);
        assert_eq!(first.p_positive.len(), feedback.len());
        // A fold's label does not reach its own score: flipping every label of fold
        // 0 leaves fold 0's cross-fitted probabilities as they were.
        let mut flipped = labels.clone();
        for (i, &f) in folds.iter().enumerate() {
            if f == 0 {
                flipped[n_base + i] = flipped[n_base + i].flipped();
            }
        }
        let one = RetrainSettings {
            feedback_weights: vec![5.0],
            ..RetrainSettings::default()
        };
        let plain = cross_fit(&prepared, &labels, n_base, &folds, &one, &config).unwrap();
        let other = cross_fit(&prepared, &flipped, n_base, &folds, &one, &config).unwrap();
        assert!(folds.contains(&0));
        for (i, &f) in folds.iter().enumerate() {
            if f == 0 {
                assert_eq!(other.p_positive[i], plain.p_positive[i], "item {i}");
            }
        }
    }

    #[test]
    fn a_single_item_is_scored_by_the_base_model_once() {
        let (mut texts, mut labels) = toy();
        let n_base = texts.len();
        texts.push("not bad at all".into());
        labels.push(Label::Positive);
        let settings = RetrainSettings::default();
        let config = TrainConfig::default();
        let prepared = PreparedTexts::new(&texts, &config.vectorizer).unwrap();
        let folds = [fold_of("not bad at all", settings.folds)];
        let fit = cross_fit(&prepared, &labels, n_base, &folds, &settings, &config).unwrap();
        assert_eq!(fit.fits, 1, "one base-only fit serves every weight");
        assert!(fit.scores.windows(2).all(|w| w[0].correct == w[1].correct));
        assert_eq!(
            fit.weight, settings.feedback_weight,
            "ties go to the preferred weight"
        );
    }
}
