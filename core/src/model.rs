//! The serving model: a fitted vectoriser and linear model, with predictions,
//! explanations and evaluation.

use crate::features::{Scratch, TfidfVectorizer};
use crate::label::Label;
use crate::logreg::{sigmoid, LinearModel};
use crate::metrics::{evaluate, EvaluationReport, MetricsError};
use crate::train::TrainConfig;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub label: Label,
    /// Probability of the predicted label, in [0.5, 1].
    pub confidence: f64,
    pub p_negative: f64,
    pub p_positive: f64,
}

impl Prediction {
    pub fn from_p_positive(p_positive: f64) -> Prediction {
        let label = if p_positive >= 0.5 {
            Label::Positive
        } else {
            Label::Negative
        };
        Prediction {
            label,
            confidence: p_positive.max(1.0 - p_positive),
            p_negative: 1.0 - p_positive,
            p_positive,
        }
    }
}

/// How much one n-gram of the text moved the decision value (positive: towards
/// positive). `contribution = tfidf * weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub ngram: String,
    pub tfidf: f64,
    pub weight: f64,
    pub contribution: f64,
}

/// Why the model predicted what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub prediction: Prediction,
    /// The decision value's constant part.
    pub bias: f64,
    /// The strongest pushes towards positive, strongest first.
    pub towards_positive: Vec<Contribution>,
    /// The strongest pushes towards negative, strongest first.
    pub towards_negative: Vec<Contribution>,
    /// N-grams of the text the model knows; zero means the prediction is the prior.
    pub known_ngrams: usize,
}

/// What went into a model and how it did: stored in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Milliseconds since the Unix epoch when training finished.
    pub created_unix_ms: u64,
    pub training: TrainingSummary,
    pub config: TrainConfig,
    pub fit: FitSummary,
    /// Evaluations by set name (`validation`, `test`, `feedback`, ...).
    #[serde(default)]
    pub evaluations: BTreeMap<String, EvaluationReport>,
    /// Free-form provenance (data source paths, parent version, ...).
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
}

/// The training data, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// SHA-256 over every (label, weight, text) in order: equal hashes, equal data.
    pub data_sha256: String,
    pub examples: u64,
    pub positive: u64,
    pub negative: u64,
    pub total_weight: f64,
    pub features: u64,
    pub tokens: u64,
}

/// The optimiser's account of the fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    pub iterations: u64,
    pub evaluations: u64,
    pub objective: f64,
    pub vectorise_seconds: f64,
    pub optimise_seconds: f64,
}

/// A trained sentiment model.
#[derive(Debug, Clone)]
pub struct SentimentModel {
    pub(crate) vectorizer: TfidfVectorizer,
    pub(crate) linear: LinearModel,
    pub metadata: ModelMetadata,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl SentimentModel {
    pub fn vectorizer(&self) -> &TfidfVectorizer {
        &self.vectorizer
    }

    pub fn linear(&self) -> &LinearModel {
        &self.linear
    }

    /// Predicts one text.
    pub fn predict(&self, text: &str) -> Prediction {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let row = self.vectorizer.transform_into(text, &mut scratch);
            Prediction::from_p_positive(self.linear.probability(row))
        })
    }

    /// Predicts one text, with how many of its n-grams the model knows (0: nothing in
    /// it was seen in training, and the prediction is the bias alone).
    pub fn predict_known(&self, text: &str) -> (Prediction, usize) {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let row = self.vectorizer.transform_into(text, &mut scratch);
            (
                Prediction::from_p_positive(self.linear.probability(row)),
                row.len(),
            )
        })
    }

    /// [`SentimentModel::predict_known`] for many texts, in parallel.
    pub fn predict_batch_known<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
    ) -> Vec<(Prediction, usize)> {
        texts
            .par_iter()
            .with_min_len(256)
            .map_init(Scratch::default, |scratch, text| {
                let row = self.vectorizer.transform_into(text.as_ref(), scratch);
                (
                    Prediction::from_p_positive(self.linear.probability(row)),
                    row.len(),
                )
            })
            .collect()
    }

    /// Probability of the positive class for each text, in parallel.
    pub fn p_positive_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<f64> {
        texts
            .par_iter()
            .with_min_len(256)
            .map_init(Scratch::default, |scratch, text| {
                let row = self.vectorizer.transform_into(text.as_ref(), scratch);
                self.linear.probability(row)
            })
            .collect()
    }

    /// Predicts many texts, in parallel.
    pub fn predict_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Prediction> {
        self.p_positive_batch(texts)
            .into_iter()
            .map(Prediction::from_p_positive)
            .collect()
    }

    /// The prediction with the `top` n-grams that pushed it most towards each class.
    pub fn explain(&self, text: &str, top: usize) -> Explanation {
        let mut scratch = Scratch::default();
        let row = self.vectorizer.transform_into(text, &mut scratch);
        let prediction = Prediction::from_p_positive(sigmoid(self.linear.margin(row)));
        let mut contributions: Vec<Contribution> = row
            .iter()
            .map(|&(feature, tfidf)| {
                let weight = self.linear.weights[feature as usize] as f64;
                Contribution {
                    ngram: self.vectorizer.feature_name(feature),
                    tfidf: tfidf as f64,
                    weight,
                    contribution: tfidf as f64 * weight,
                }
            })
            .collect();
        contributions.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
        let towards_positive = contributions
            .iter()
            .filter(|c| c.contribution > 0.0)
            .take(top)
            .cloned()
            .collect();
        let towards_negative = contributions
            .iter()
            .rev()
            .filter(|c| c.contribution < 0.0)
            .take(top)
            .cloned()
            .collect();
        Explanation {
            prediction,
            bias: self.linear.bias as f64,
            towards_positive,
            towards_negative,
            known_ngrams: row.len(),
        }
    }

    /// Evaluates the model on labelled texts.
    pub fn evaluate<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        labels: &[Label],
    ) -> Result<EvaluationReport, MetricsError> {
        evaluate(labels, &self.p_positive_batch(texts))
    }
}
