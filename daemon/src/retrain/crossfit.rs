//! Cross-fitting: an honest estimate of how a candidate does on feedback it was
//! trained on. Feedback is dealt into k folds by a stable hash of its normalised text;
//! each fold is scored by a model trained on the base data and the other folds. The
//! feedback weight is chosen from a small grid by that score.
//!
//! All fits share one vectorising pass ([`PreparedTexts`]): a fold's rows get weight 0,
//! which leaves them out of the fit exactly; the vocabulary and IDF (computed without
//! labels) come from every text.

use super::settings::RetrainSettings;
use rayon::prelude::*;
use sentiment_core::text::normalise;
use sentiment_core::{Label, LinearModel, PreparedTexts, TrainConfig, TrainError};
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
    /// Models fitted: the base-only one, then folds x weights (less folds with no
    /// feedback or no other feedback).
    pub fits: usize,
    /// L-BFGS iterations over all those fits.
    pub iterations: usize,
    pub folds: usize,
    /// A fold's fit at the chosen weight (the base-only fit when no fold needed
    /// one): the candidate's fit, every fold at that weight, starts from it.
    #[serde(skip)]
    pub nearest_fit: Option<LinearModel>,
}

/// Cross-fits the feedback rows of `prepared`: rows `0..n_base` are base examples
/// (weight 1); the rest are feedback, in `folds[i - n_base]`.
///
/// The fits are warm-started, and no fit starts from a model that saw the labels of
/// the fold it scores: first the base data alone (every feedback row at weight 0),
/// then each fold at the first weight from that fit, and each fold at the next weight
/// from the same fold at the weight before. The problems differ in a few hundred
/// weighted rows out of tens of thousands, so the optimiser starts near the minimum
/// and needs a fraction of a cold fit's iterations.
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
    let members: Vec<Vec<usize>> = (0..settings.folds)
        .map(|fold| (0..n_feedback).filter(|&i| folds[i] == fold).collect())
        .collect();
    let mut base_weights = vec![1.0; labels.len()];
    base_weights[n_base..].fill(0.0);
    // Base data of one class (a tiny or odd base set) has no base-only model: the
    // chains then start cold, and a fold with no other feedback cannot be scored.
    let base_only = match prepared.fit(labels, &base_weights, config, &|_| {}) {
        Ok(fit) => Some(fit),
        Err(TrainError::OneClass(_)) => None,
        Err(e) => return Err(e),
    };
    // The folds' chains are independent: they run side by side (each fit is
    // deterministic whatever the threads do, so the results are too).
    let chains: Vec<FoldChain> = members
        .par_iter()
        .enumerate()
        .map(|(fold, members)| {
            fold_chain(
                prepared,
                labels,
                n_base,
                folds,
                fold,
                members,
                base_only.as_ref().map(|fit| &fit.linear),
                settings,
                config,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut by_weight: Vec<(f64, Vec<f64>)> = settings
        .feedback_weights
        .iter()
        .map(|&weight| (weight, vec![0.5; n_feedback]))
        .collect();
    for (chain, members) in chains.iter().zip(&members) {
        for ((_, p), scored) in by_weight.iter_mut().zip(&chain.p_positive) {
            for (&i, &q) in members.iter().zip(scored) {
                p[i] = q;
            }
        }
    }
    let fits = usize::from(base_only.is_some()) + chains.iter().map(|c| c.fits).sum::<usize>();
    let iterations = base_only
        .as_ref()
        .map_or(0, |fit| fit.summary.iterations as usize)
        + chains.iter().map(|c| c.iterations).sum::<usize>();
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
    let (_, p_positive) = by_weight.swap_remove(best);
    // The candidate's start: the fit at the chosen weight that left out the fewest
    // items (the nearest to the fit on all of them).
    let nearest_fit = chains
        .into_iter()
        .zip(&members)
        .filter_map(|(mut chain, members)| {
            Some((members.len(), chain.fits_by_weight.swap_remove(best)?))
        })
        .min_by_key(|(left_out, _)| *left_out)
        .map(|(_, fit)| fit);
    Ok(CrossFit {
        weight: scores[best].weight,
        p_positive,
        scores,
        fits,
        iterations,
        folds: settings.folds,
        nearest_fit: nearest_fit.or(base_only.map(|fit| fit.linear)),
    })
}

/// One fold's fits over the weight grid.
struct FoldChain {
    /// Cross-fitted p(positive) of the fold's members, per weight.
    p_positive: Vec<Vec<f64>>,
    /// The fit at each weight (none when the fold needed no fit of its own).
    fits_by_weight: Vec<Option<LinearModel>>,
    fits: usize,
    iterations: usize,
}

/// Fits fold `fold` (leaving its `members` out) at each weight of the grid in turn:
/// the first from the base-only fit, each next one from the one before. None of these
/// starts saw the fold's labels.
#[allow(clippy::too_many_arguments)]
fn fold_chain(
    prepared: &PreparedTexts,
    labels: &[Label],
    n_base: usize,
    folds: &[usize],
    fold: usize,
    members: &[usize],
    base_only: Option<&LinearModel>,
    settings: &RetrainSettings,
    config: &TrainConfig,
) -> Result<FoldChain, TrainError> {
    let n_weights = settings.feedback_weights.len();
    let score = |fit: &LinearModel| -> Vec<f64> {
        let scorer = prepared.scorer(fit);
        members
            .iter()
            .map(|&i| scorer.p_positive(n_base + i))
            .collect()
    };
    if members.is_empty() {
        return Ok(FoldChain {
            p_positive: vec![Vec::new(); n_weights],
            fits_by_weight: vec![None; n_weights],
            fits: 0,
            iterations: 0,
        });
    }
    if members.len() == folds.len() {
        // No other fold holds feedback: this fold's model is the base-only one,
        // whatever the weight.
        let Some(base_only) = base_only else {
            return Err(TrainError::OneClass(one_class(labels, n_base)));
        };
        let scored = score(base_only);
        return Ok(FoldChain {
            p_positive: vec![scored; n_weights],
            fits_by_weight: vec![None; n_weights],
            fits: 0,
            iterations: 0,
        });
    }
    let mut chain = FoldChain {
        p_positive: Vec::with_capacity(n_weights),
        fits_by_weight: Vec::with_capacity(n_weights),
        fits: 0,
        iterations: 0,
    };
    let mut weights = vec![1.0; labels.len()];
    let mut previous = base_only.cloned();
    for &weight in &settings.feedback_weights {
        for (i, w) in weights[n_base..].iter_mut().enumerate() {
            *w = if folds[i] == fold { 0.0 } else { weight };
        }
        let fit = match &previous {
            Some(start) => prepared.fit_from(labels, &weights, config, start, &|_| {})?,
            None => prepared.fit(labels, &weights, config, &|_| {})?,
        };
        chain.fits += 1;
        chain.iterations += fit.summary.iterations as usize;
        chain.p_positive.push(score(&fit.linear));
        previous = Some(fit.linear.clone());
        chain.fits_by_weight.push(Some(fit.linear));
    }
    Ok(chain)
}

/// The class the base data has alone, for [`TrainError::OneClass`].
fn one_class(labels: &[Label], n_base: usize) -> &'static str {
    match labels[..n_base].first() {
        Some(Label::Positive) => "positive",
        _ => "negative",
    }
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
    fn base_data_of_one_class_cross_fits_from_cold_starts() {
        let mut texts: Vec<String> = vec!["a terrible film".into(), "boring and dull".into()];
        let mut labels = vec![Label::Negative, Label::Negative];
        let n_base = texts.len();
        for i in 0..12 {
            let (text, label) = if i % 2 == 0 {
                (format!("tasty dish number {i}"), Label::Positive)
            } else {
                (format!("rude waiter number {i}"), Label::Negative)
            };
            texts.push(text);
            labels.push(label);
        }
        let folds: Vec<usize> = texts[n_base..].iter().map(|t| fold_of(t, 3)).collect();
        let settings = RetrainSettings::default();
        let config = TrainConfig::default();
        let prepared = PreparedTexts::new(&texts, &config.vectorizer).unwrap();
        let fit = cross_fit(&prepared, &labels, n_base, &folds, &settings, &config).unwrap();
        assert_eq!(
            fit.fits,
            3 * settings.feedback_weights.len(),
            "no base-only fit"
        );
        assert!(fit.nearest_fit.is_some());
    }

    #[test]
    fn an_empty_fold_needs_no_model_even_without_a_base_only_one() {
        let mut texts: Vec<String> = vec!["a terrible film".into(), "boring and dull".into()];
        let mut labels = vec![Label::Negative, Label::Negative];
        let n_base = texts.len();
        // One positive text in fold 0 and one in fold 1; fold 2 stays empty.
        for fold in [0, 1] {
            let text = (0..)
                .map(|i| format!("tasty dish {i}"))
                .find(|t| fold_of(t, 3) == fold)
                .unwrap();
            texts.push(text);
            labels.push(Label::Positive);
        }
        let folds: Vec<usize> = texts[n_base..].iter().map(|t| fold_of(t, 3)).collect();
        assert_eq!(folds, [0, 1]);
        let config = TrainConfig::default();
        let prepared = PreparedTexts::new(&texts, &config.vectorizer).unwrap();
        let settings = RetrainSettings::default();
        let fit = cross_fit(&prepared, &labels, n_base, &folds, &settings, &config).unwrap();
        assert_eq!(fit.fits, 2 * settings.feedback_weights.len());
        assert_eq!(fit.p_positive.len(), 2);
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
        assert_eq!(fit.fits, 1, "the base-only fit serves every weight");
        assert!(fit.scores.windows(2).all(|w| w[0].correct == w[1].correct));
        assert_eq!(
            fit.weight, settings.feedback_weight,
            "ties go to the preferred weight"
        );
    }
}
