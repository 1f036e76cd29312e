//! Training: labelled texts in, a [`SentimentModel`] out; and k-fold cross-validation
//! for choosing hyper-parameters on training data only.

use crate::features::{TfidfVectorizer, VectorizerConfig};
use crate::label::Label;
use crate::logreg::{Design, FitError, LinearModel, LogisticConfig};
use crate::metrics::{EvaluationReport, MetricsError};
use crate::model::{FitSummary, ModelMetadata, SentimentModel, TrainingSummary};
use crate::text::tokens;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Every hyper-parameter of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub vectorizer: VectorizerConfig,
    pub logistic: LogisticConfig,
    /// Scale each feature by its naive-Bayes log-count ratio before the regression
    /// (NB-LR, Wang & Manning 2012), with this smoothing; `None` for plain TF-IDF.
    #[serde(default)]
    pub naive_bayes_smoothing: Option<f64>,
}

/// The defaults were chosen by `sentimentd tune` (grouped 5-fold cross-validation on
/// the SST-2 training split, evaluated on held-out training sentences); see README.
impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            vectorizer: VectorizerConfig::default(),
            logistic: LogisticConfig::default(),
            naive_bayes_smoothing: Some(0.5),
        }
    }
}

/// The naive-Bayes log-count ratio of every feature:
/// `ln((alpha + pos_j) / |alpha + pos|_1) - ln((alpha + neg_j) / |alpha + neg|_1)`,
/// where `pos_j` sums feature `j` over positive examples (weighted).
fn log_count_ratios(design: &Design, labels: &[Label], weights: &[f64], alpha: f64) -> Vec<f64> {
    let side = |label: Label| {
        let row_weights: Vec<f64> = labels
            .iter()
            .zip(weights)
            .map(|(&l, &w)| if l == label { w } else { 0.0 })
            .collect();
        design.column_sums(&row_weights, alpha)
    };
    let sums = [side(Label::Negative), side(Label::Positive)];
    let totals = [sums[0].iter().sum::<f64>(), sums[1].iter().sum::<f64>()];
    (0..design.n_cols())
        .map(|j| (sums[1][j] / totals[1]).ln() - (sums[0][j] / totals[0]).ln())
        .collect()
}

/// Progress of one training run, for a progress bar.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainProgress {
    /// The texts are feature vectors now.
    Vectorised {
        rows: usize,
        features: usize,
        nonzeros: usize,
        seconds: f64,
    },
    /// One more pass of the optimiser over the data.
    Optimising { evaluations: usize, objective: f64 },
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{texts} texts but {labels} labels")]
    LengthMismatch { texts: usize, labels: usize },
    #[error("{texts} texts but {weights} example weights")]
    WeightsMismatch { texts: usize, weights: usize },
    #[error("the training data has only {0} examples: it needs both classes")]
    OneClass(&'static str),
    #[error("the training data has no n-gram in common with any vocabulary (all texts empty?)")]
    NoFeatures,
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("cross-validation needs 2 or more folds and at least as many examples, got {folds} folds for {examples} examples")]
    Folds { folds: usize, examples: usize },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// SHA-256 over (label, weight, text) of every example, in order.
fn data_hash<S: AsRef<str>>(texts: &[S], labels: &[Label], weights: &[f64]) -> String {
    let mut hasher = Sha256::new();
    for ((text, label), weight) in texts.iter().zip(labels).zip(weights) {
        hasher.update([label.index() as u8]);
        hasher.update(weight.to_le_bytes());
        hasher.update((text.as_ref().len() as u64).to_le_bytes());
        hasher.update(text.as_ref().as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Checks labels and weights against `n` texts; returns the weights (default 1 each).
fn checked_weights<'w>(
    n: usize,
    labels: &[Label],
    weights: Option<&'w [f64]>,
    ones: &'w mut Vec<f64>,
) -> Result<&'w [f64], TrainError> {
    if n != labels.len() {
        return Err(TrainError::LengthMismatch {
            texts: n,
            labels: labels.len(),
        });
    }
    let weights = match weights {
        Some(w) if w.len() != n => {
            return Err(TrainError::WeightsMismatch {
                texts: n,
                weights: w.len(),
            })
        }
        Some(w) => w,
        None => {
            *ones = vec![1.0; n];
            ones
        }
    };
    // A class is present when some example of it carries weight: a weight of 0
    // leaves an example out of the fit.
    let weighted = |label: Label| {
        labels
            .iter()
            .zip(weights)
            .any(|(&l, &w)| l == label && w > 0.0)
    };
    if !weighted(Label::Positive) {
        return Err(TrainError::OneClass("negative"));
    }
    if !weighted(Label::Negative) {
        return Err(TrainError::OneClass("positive"));
    }
    Ok(weights)
}

/// Trains a model on `texts` with their `labels`; `weights` (default 1 each) make some
/// examples count more, such as corrections from users.
pub fn train<S: AsRef<str> + Sync>(
    texts: &[S],
    labels: &[Label],
    weights: Option<&[f64]>,
    config: &TrainConfig,
    progress: &(dyn Fn(TrainProgress) + Sync),
) -> Result<SentimentModel, TrainError> {
    let mut ones = Vec::new();
    checked_weights(texts.len(), labels, weights, &mut ones)?;
    let prepared = PreparedTexts::new(texts, &config.vectorizer)?;
    progress(prepared.vectorised());
    prepared.train(texts, labels, weights, config, None, progress)
}

/// Training texts turned into TF-IDF rows once, so that several fits over the same
/// texts share one vectorising pass: a retrain fits one model per cross-fitting fold
/// and feedback weight, each with other example weights (a weight of 0 leaves a row
/// out of the loss, its gradient and the naive-Bayes counts, as if it were absent).
/// The vocabulary and IDF are those of all the texts; they are computed without
/// labels.
#[derive(Debug, Clone)]
pub struct PreparedTexts {
    vectorizer: TfidfVectorizer,
    /// The TF-IDF matrix transposed and its proportional columns merged, once for all
    /// fits. The matrix itself is not kept: everything a fit needs of it (the
    /// naive-Bayes counts, row scores) comes from the merged columns, and keeping it
    /// would hold 8 MB more on SST-2 for the whole retrain.
    design: Design,
    nonzeros: usize,
    vectorise_seconds: f64,
}

/// A linear model fitted on [`PreparedTexts`], with what the fit did.
#[derive(Debug, Clone)]
pub struct PreparedFit {
    pub linear: LinearModel,
    pub summary: FitSummary,
}

impl PreparedTexts {
    /// Vectorises `texts` (the vocabulary is fitted on them).
    pub fn new<S: AsRef<str> + Sync>(
        texts: &[S],
        config: &VectorizerConfig,
    ) -> Result<PreparedTexts, TrainError> {
        let started = Instant::now();
        let (vectorizer, matrix) = TfidfVectorizer::fit_transform(texts, config);
        if vectorizer.n_features() == 0 {
            return Err(TrainError::NoFeatures);
        }
        let design = Design::new(&matrix);
        Ok(PreparedTexts {
            vectorizer,
            nonzeros: matrix.nnz(),
            design,
            vectorise_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// How many texts.
    pub fn len(&self) -> usize {
        self.design.n_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn vectorised(&self) -> TrainProgress {
        TrainProgress::Vectorised {
            rows: self.len(),
            features: self.vectorizer.n_features(),
            nonzeros: self.nonzeros,
            seconds: self.vectorise_seconds,
        }
    }

    /// Fits the regression on every row with its label and weight.
    pub fn fit(
        &self,
        labels: &[Label],
        weights: &[f64],
        config: &TrainConfig,
        progress: &(dyn Fn(TrainProgress) + Sync),
    ) -> Result<PreparedFit, TrainError> {
        self.fit_with(labels, weights, config, None, progress, || {})
    }

    /// [`PreparedTexts::fit`] started from `start`, a fit over these texts with other
    /// example weights (another fold, another feedback weight). The minimum is the
    /// same; on a neighbouring problem the optimiser needs far fewer iterations.
    pub fn fit_from(
        &self,
        labels: &[Label],
        weights: &[f64],
        config: &TrainConfig,
        start: &LinearModel,
        progress: &(dyn Fn(TrainProgress) + Sync),
    ) -> Result<PreparedFit, TrainError> {
        self.fit_with(labels, weights, config, Some(start), progress, || {})
    }

    fn fit_with(
        &self,
        labels: &[Label],
        weights: &[f64],
        config: &TrainConfig,
        start: Option<&LinearModel>,
        progress: &(dyn Fn(TrainProgress) + Sync),
        on_optimising: impl FnOnce(),
    ) -> Result<PreparedFit, TrainError> {
        let mut ones = Vec::new();
        checked_weights(self.len(), labels, Some(weights), &mut ones)?;
        let ratios = config
            .naive_bayes_smoothing
            .map(|alpha| log_count_ratios(&self.design, labels, weights, alpha));
        let optimise_started = Instant::now();
        on_optimising();
        let targets: Vec<f64> = labels.iter().map(|l| l.target()).collect();
        let on_evaluation = |evaluations: usize, objective: f64| {
            progress(TrainProgress::Optimising {
                evaluations,
                objective,
            })
        };
        // The ratios scale the columns inside the fit, which returns weights for the
        // plain TF-IDF rows (ratios folded in): predicting needs no scaling.
        let (linear, report) = self.design.fit(
            ratios.as_deref(),
            &targets,
            weights,
            &config.logistic,
            start,
            &on_evaluation,
        )?;
        Ok(PreparedFit {
            linear,
            summary: FitSummary {
                iterations: report.iterations as u64,
                evaluations: report.evaluations as u64,
                objective: report.objective,
                vectorise_seconds: self.vectorise_seconds,
                optimise_seconds: optimise_started.elapsed().as_secs_f64(),
            },
        })
    }

    /// Scores prepared rows under `linear` as [`SentimentModel::predict`] would score
    /// their texts (to float rounding where columns merged).
    pub fn scorer(&self, linear: &LinearModel) -> RowScorer<'_> {
        RowScorer {
            design: &self.design,
            merged_weights: self.design.merged_weights(&linear.weights),
            bias: linear.bias,
        }
    }

    /// Fits on all rows and wraps the result as a model, as [`train`] does; `texts`
    /// are the prepared texts (for the data hash in the metadata). `start`: as in
    /// [`PreparedTexts::fit_from`].
    pub fn train<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        labels: &[Label],
        weights: Option<&[f64]>,
        config: &TrainConfig,
        start: Option<&LinearModel>,
        progress: &(dyn Fn(TrainProgress) + Sync),
    ) -> Result<SentimentModel, TrainError> {
        let mut ones = Vec::new();
        let weights = checked_weights(texts.len(), labels, weights, &mut ones)?;
        if texts.len() != self.len() {
            return Err(TrainError::LengthMismatch {
                texts: texts.len(),
                labels: self.len(),
            });
        }
        std::thread::scope(|scope| {
            // The data hash is serial work that needs nothing else. It runs on a thread
            // of its own once the optimiser starts, whose vector steps leave a core idle.
            let mut hashing = None;
            let fitted = self.fit_with(labels, weights, config, start, progress, || {
                hashing = Some(scope.spawn(|| data_hash(texts, labels, weights)));
            });
            let data_sha256 = match hashing {
                Some(thread) => thread
                    .join()
                    .expect("hashing the training data cannot panic"),
                None => data_hash(texts, labels, weights),
            };
            let PreparedFit { linear, summary } = fitted?;
            Ok(self.model(linear, summary, data_sha256, labels, weights, config))
        })
    }

    /// A model from a fit on these texts.
    fn model(
        &self,
        linear: LinearModel,
        fit: FitSummary,
        data_sha256: String,
        labels: &[Label],
        weights: &[f64],
        config: &TrainConfig,
    ) -> SentimentModel {
        let positive = labels.iter().filter(|&&l| l == Label::Positive).count();
        let created_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let metadata = ModelMetadata {
            created_unix_ms,
            training: TrainingSummary {
                data_sha256,
                examples: labels.len() as u64,
                positive: positive as u64,
                negative: (labels.len() - positive) as u64,
                total_weight: weights.iter().sum(),
                features: self.vectorizer.n_features() as u64,
                tokens: self.vectorizer.state().tokens.len() as u64,
            },
            config: config.clone(),
            fit,
            evaluations: BTreeMap::new(),
            notes: BTreeMap::new(),
        };
        SentimentModel {
            vectorizer: self.vectorizer.clone(),
            linear,
            metadata,
        }
    }
}

/// A linear model's weights mapped onto [`PreparedTexts`]' merged columns.
pub struct RowScorer<'p> {
    design: &'p Design,
    merged_weights: Vec<f32>,
    bias: f32,
}

impl RowScorer<'_> {
    /// p(positive) of prepared row `i`.
    pub fn p_positive(&self, i: usize) -> f64 {
        let dot = self.design.row_dot_merged(i, &self.merged_weights);
        crate::logreg::sigmoid(dot as f64 + self.bias as f64)
    }
}

/// The fold (0..folds) of each of `n` examples: a seeded shuffle dealt round-robin, so
/// folds differ in size by at most one.
pub fn fold_assignment(n: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        // splitmix64: small, fast and good enough to shuffle.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut fold = vec![0; n];
    for (position, &example) in order.iter().enumerate() {
        fold[example] = position % folds;
    }
    fold
}

/// Groups each text with the longest text it is a contiguous run of tokens of.
///
/// SST-2's training split holds every phrase of each review sentence as well as the
/// sentence, so a plain k-fold split tests on phrases whose sub-phrases and parent were
/// trained on. That leak rewards memorising (it picks ever weaker regularisation) while
/// the validation sentences come from other reviews. Folds over these groups keep a
/// sentence and its phrases together.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseGroups {
    /// The group of each text.
    pub group: Vec<usize>,
    /// Whether each text is its group's root: the longest text, usually a sentence.
    pub is_root: Vec<bool>,
}

impl PhraseGroups {
    pub fn count(&self) -> usize {
        self.group.iter().max().map_or(0, |&g| g + 1)
    }
}

/// Computes the [`PhraseGroups`] of `texts`.
pub fn containment_groups<S: AsRef<str>>(texts: &[S]) -> PhraseGroups {
    let mut interned: FxHashMap<String, u32> = FxHashMap::default();
    let sequences: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| {
            tokens(t.as_ref())
                .into_iter()
                .map(|tok| {
                    let next = interned.len() as u32;
                    *interned.entry(tok).or_insert(next)
                })
                .collect()
        })
        .collect();
    let mut by_sequence: FxHashMap<&[u32], Vec<usize>> = FxHashMap::default();
    for (i, seq) in sequences.iter().enumerate() {
        by_sequence.entry(seq.as_slice()).or_default().push(i);
    }
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sequences[i].len()));
    let mut group = vec![usize::MAX; texts.len()];
    let mut is_root = vec![false; texts.len()];
    let mut groups = 0;
    for &root in &order {
        if group[root] != usize::MAX {
            continue;
        }
        is_root[root] = true;
        let seq = &sequences[root];
        for start in 0..seq.len().max(1) {
            for end in start..=seq.len() {
                if let Some(members) = by_sequence.get(&seq[start..end]) {
                    for &m in members {
                        if group[m] == usize::MAX {
                            group[m] = groups;
                        }
                    }
                }
            }
        }
        group[root] = groups;
        groups += 1;
    }
    PhraseGroups { group, is_root }
}

/// k-fold cross-validation: for each fold, trains on the others (vocabulary included,
/// so nothing leaks) and evaluates on it. With `groups`, whole groups go to one fold
/// and only their roots are evaluated: whole held-out sentences, like the validation
/// set (see [`containment_groups`]); without, examples are dealt individually.
pub fn cross_validate<S: AsRef<str> + Sync>(
    texts: &[S],
    labels: &[Label],
    groups: Option<&PhraseGroups>,
    config: &TrainConfig,
    folds: usize,
    seed: u64,
) -> Result<Vec<EvaluationReport>, TrainError> {
    if folds < 2 || texts.len() < folds {
        return Err(TrainError::Folds {
            folds,
            examples: texts.len(),
        });
    }
    if texts.len() != labels.len() {
        return Err(TrainError::LengthMismatch {
            texts: texts.len(),
            labels: labels.len(),
        });
    }
    let assignment = match groups {
        Some(groups) => {
            let n_groups = groups.count();
            if n_groups < folds {
                return Err(TrainError::Folds {
                    folds,
                    examples: n_groups,
                });
            }
            let group_fold = fold_assignment(n_groups, folds, seed);
            groups.group.iter().map(|&g| group_fold[g]).collect()
        }
        None => fold_assignment(texts.len(), folds, seed),
    };
    (0..folds)
        .map(|k| {
            let (mut train_texts, mut train_labels) = (Vec::new(), Vec::new());
            let (mut test_texts, mut test_labels) = (Vec::new(), Vec::new());
            for (i, &fold) in assignment.iter().enumerate() {
                if fold == k {
                    if groups.is_some_and(|g| !g.is_root[i]) {
                        continue;
                    }
                    test_texts.push(texts[i].as_ref());
                    test_labels.push(labels[i]);
                } else {
                    train_texts.push(texts[i].as_ref());
                    train_labels.push(labels[i]);
                }
            }
            let model = train(&train_texts, &train_labels, None, config, &|_| {})?;
            Ok(model.evaluate(&test_texts, &test_labels)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::{Negative as N, Positive as P};

    fn toy() -> (Vec<&'static str>, Vec<Label>) {
        let texts = vec![
            "a great film",
            "truly great acting",
            "i loved it",
            "wonderful and moving",
            "a terrible film",
            "truly awful acting",
            "i hated it",
            "boring and dull",
            "great fun",
            "awful mess",
        ];
        let labels = vec![P, P, P, P, N, N, N, N, P, N];
        (texts, labels)
    }

    #[test]
    fn trains_a_model_that_separates_the_toy_data() {
        let (texts, labels) = toy();
        let model = train(&texts, &labels, None, &TrainConfig::default(), &|_| {}).unwrap();
        assert_eq!(model.predict("a great great film").label, P);
        assert_eq!(model.predict("awful, boring").label, N);
        let report = model.evaluate(&texts, &labels).unwrap();
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(model.metadata.training.examples, 10);
        assert_eq!(model.metadata.training.positive, 5);
        assert_eq!(model.metadata.training.data_sha256.len(), 64);
    }

    #[test]
    fn prepared_texts_fit_as_train_does_and_zero_weights_leave_rows_out() {
        let (texts, labels) = toy();
        let config = TrainConfig::default();
        let trained = train(&texts, &labels, None, &config, &|_| {}).unwrap();
        let prepared = PreparedTexts::new(&texts, &config.vectorizer).unwrap();
        let again = prepared
            .train(&texts, &labels, None, &config, None, &|_| {})
            .unwrap();
        assert_eq!(trained.linear, again.linear);
        let scorer = prepared.scorer(&again.linear);
        for (i, text) in texts.iter().enumerate() {
            let p = scorer.p_positive(i);
            // The scorer sums merged columns, in f32: the same margin to rounding.
            assert!(
                (p - trained.predict(text).p_positive).abs() < 1e-6,
                "{text}: {p} vs {}",
                trained.predict(text).p_positive
            );
        }
        // A row of weight 0 is out of the fit: flipping its label changes nothing.
        let mut weights = vec![1.0; texts.len()];
        weights[0] = 0.0;
        let fitted = prepared.fit(&labels, &weights, &config, &|_| {}).unwrap();
        let mut flipped = labels.clone();
        flipped[0] = flipped[0].flipped();
        let refitted = prepared.fit(&flipped, &weights, &config, &|_| {}).unwrap();
        assert_eq!(fitted.linear, refitted.linear);
        assert_ne!(fitted.linear, again.linear);
        // Every weighted row of one class: refused as one-class data.
        let only_positive: Vec<f64> = labels.iter().map(|&l| f64::from(l == P)).collect();
        assert!(matches!(
            prepared.fit(&labels, &only_positive, &config, &|_| {}),
            Err(TrainError::OneClass(_))
        ));
    }

    #[test]
    fn the_data_hash_changes_with_any_label_weight_or_text() {
        let (texts, labels) = toy();
        let ones = vec![1.0; texts.len()];
        let base = data_hash(&texts, &labels, &ones);
        assert_eq!(base, data_hash(&texts, &labels, &ones));
        let mut flipped = labels.clone();
        flipped[0] = N;
        assert_ne!(base, data_hash(&texts, &flipped, &ones));
        let mut heavier = ones.clone();
        heavier[3] = 2.0;
        assert_ne!(base, data_hash(&texts, &labels, &heavier));
        let mut edited = texts.clone();
        edited[9] = "awful messy";
        assert_ne!(base, data_hash(&edited, &labels, &ones));
    }

    #[test]
    fn explanation_names_the_ngrams_that_drove_it() {
        let (texts, labels) = toy();
        let model = train(&texts, &labels, None, &TrainConfig::default(), &|_| {}).unwrap();
        let explanation = model.explain("great acting but awful", 3);
        assert!(explanation
            .towards_positive
            .iter()
            .any(|c| c.ngram == "great"));
        assert!(explanation
            .towards_negative
            .iter()
            .any(|c| c.ngram == "awful"));
        for c in &explanation.towards_positive {
            assert!(c.contribution > 0.0);
            assert!((c.contribution - c.tfidf * c.weight).abs() < 1e-9);
        }
        let total: f64 = explanation
            .towards_positive
            .iter()
            .chain(&explanation.towards_negative)
            .map(|c| c.contribution)
            .sum::<f64>()
            + explanation.bias;
        let p = 1.0 / (1.0 + (-total).exp());
        assert!((p - explanation.prediction.p_positive).abs() < 1e-4);
        assert_eq!(model.explain("zzz qqq", 3).known_ngrams, 0);
    }

    #[test]
    fn refuses_bad_training_sets() {
        let cfg = TrainConfig::default();
        assert!(matches!(
            train(&["a"], &[P, N], None, &cfg, &|_| {}),
            Err(TrainError::LengthMismatch { .. })
        ));
        assert!(matches!(
            train(&["a", "b"], &[P, P], None, &cfg, &|_| {}),
            Err(TrainError::OneClass(_))
        ));
        assert!(matches!(
            train(&["a", "b"], &[P, N], Some(&[1.0]), &cfg, &|_| {}),
            Err(TrainError::WeightsMismatch { .. })
        ));
        assert!(matches!(
            train(&["", " "], &[P, N], None, &cfg, &|_| {}),
            Err(TrainError::NoFeatures)
        ));
    }

    #[test]
    fn folds_are_balanced_deterministic_and_seeded() {
        let a = fold_assignment(103, 5, 1);
        assert_eq!(a, fold_assignment(103, 5, 1));
        assert_ne!(a, fold_assignment(103, 5, 2));
        for k in 0..5 {
            let size = a.iter().filter(|&&f| f == k).count();
            assert!(size == 20 || size == 21, "fold {k} has {size}");
        }
    }

    #[test]
    fn phrases_join_the_group_of_the_sentence_that_contains_them() {
        let texts = [
            "a charming and moving film",
            "charming and moving",
            "moving",
            "a dull film",
            "dull",
            "film",
        ];
        let groups = containment_groups(&texts);
        let g = &groups.group;
        assert_eq!(g[0], g[1]);
        assert_eq!(g[0], g[2]);
        assert_eq!(g[3], g[4]);
        assert_ne!(g[0], g[3]);
        // "film" is in both sentences: it joins the first (longest) one processed.
        assert!(g[5] == g[0] || g[5] == g[3]);
        assert_eq!(groups.is_root, [true, false, false, true, false, false]);
        assert_eq!(groups.count(), 2);
    }

    #[test]
    fn grouped_cross_validation_evaluates_only_whole_sentences() {
        let (mut texts, mut labels) = toy();
        texts.push("great film"); // a phrase of "a great film": trained on, never tested
        labels.push(P);
        let groups = containment_groups(&texts);
        assert_eq!(groups.is_root.iter().filter(|r| !**r).count(), 1);
        let reports = cross_validate(
            &texts,
            &labels,
            Some(&groups),
            &TrainConfig::default(),
            2,
            3,
        )
        .unwrap();
        assert_eq!(reports.iter().map(|r| r.examples).sum::<u64>(), 10);
    }

    #[test]
    fn cross_validation_returns_one_report_per_fold() {
        let (texts, labels) = toy();
        let reports = cross_validate(&texts, &labels, None, &TrainConfig::default(), 2, 7).unwrap();
        assert_eq!(reports.len(), 2);
        assert_eq!(reports.iter().map(|r| r.examples).sum::<u64>(), 10);
        assert!(matches!(
            cross_validate(&texts, &labels, None, &TrainConfig::default(), 1, 7),
            Err(TrainError::Folds { .. })
        ));
    }
}
