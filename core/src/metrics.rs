//! Evaluation metrics for a binary classifier: accuracy, per-class precision, recall
//! and F1, the confusion matrix, log loss and expected calibration error.
//!
//! Everything derives from the confusion matrix, computed here rather than with
//! smartcore's `precision`/`recall`/`f1`: those switch to macro-averaging when the true
//! labels hold a single class (a held-out feedback set often does), and panic on a
//! length mismatch. A test checks that both agree on ordinary two-class data.

use crate::label::Label;
use serde::{Deserialize, Serialize};

/// Precision, recall and F1 of one class, with how many true examples it has.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// Every figure of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    pub examples: u64,
    pub accuracy: f64,
    pub negative: ClassMetrics,
    pub positive: ClassMetrics,
    pub macro_f1: f64,
    /// `confusion[true][predicted]`, index 0 negative, 1 positive.
    pub confusion: [[u64; 2]; 2],
    /// Mean negative log-likelihood of the true labels.
    pub log_loss: f64,
    /// Expected calibration error over ten equal-width confidence bins: how far the
    /// stated confidence is from the observed accuracy, weighted by bin size.
    pub expected_calibration_error: f64,
    pub mean_confidence: f64,
}

/// Number of confidence bins for the calibration error.
pub const CALIBRATION_BINS: usize = 10;

/// Why a report cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("cannot evaluate on an empty set")]
    Empty,
    #[error("{truth} true labels but {predicted} predictions")]
    LengthMismatch { truth: usize, predicted: usize },
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn harmonic_mean(a: f64, b: f64) -> f64 {
    if a + b == 0.0 {
        0.0
    } else {
        2.0 * a * b / (a + b)
    }
}

/// Evaluates predicted probabilities of the positive class against true labels. The
/// predicted label is positive when `p_positive >= 0.5`, as in prediction.
pub fn evaluate(truth: &[Label], p_positive: &[f64]) -> Result<EvaluationReport, MetricsError> {
    if truth.len() != p_positive.len() {
        return Err(MetricsError::LengthMismatch {
            truth: truth.len(),
            predicted: p_positive.len(),
        });
    }
    if truth.is_empty() {
        return Err(MetricsError::Empty);
    }
    let mut confusion = [[0u64; 2]; 2];
    let mut log_loss = 0.0;
    let mut confidence_sum = 0.0;
    let mut bins = [(0u64, 0.0f64, 0u64); CALIBRATION_BINS]; // (count, confidence, correct)
    for (&label, &p) in truth.iter().zip(p_positive) {
        let predicted = if p >= 0.5 {
            Label::Positive
        } else {
            Label::Negative
        };
        confusion[label.index()][predicted.index()] += 1;
        let p_true = if label == Label::Positive { p } else { 1.0 - p };
        log_loss -= p_true.clamp(1e-15, 1.0).ln();
        let confidence = p.max(1.0 - p);
        confidence_sum += confidence;
        let bin = ((confidence * CALIBRATION_BINS as f64) as usize).min(CALIBRATION_BINS - 1);
        bins[bin].0 += 1;
        bins[bin].1 += confidence;
        bins[bin].2 += (predicted == label) as u64;
    }
    let n = truth.len() as u64;
    let class = |c: usize| {
        let true_positives = confusion[c][c];
        let predicted = confusion[0][c] + confusion[1][c];
        let support = confusion[c][0] + confusion[c][1];
        let precision = ratio(true_positives, predicted);
        let recall = ratio(true_positives, support);
        ClassMetrics {
            precision,
            recall,
            f1: harmonic_mean(precision, recall),
            support,
        }
    };
    let (negative, positive) = (class(0), class(1));
    let calibration_error = bins
        .iter()
        .filter(|b| b.0 > 0)
        .map(|&(count, confidence, correct)| {
            let gap = (confidence / count as f64 - correct as f64 / count as f64).abs();
            gap * count as f64 / n as f64
        })
        .sum();
    Ok(EvaluationReport {
        examples: n,
        accuracy: ratio(confusion[0][0] + confusion[1][1], n),
        negative,
        positive,
        macro_f1: (negative.f1 + positive.f1) / 2.0,
        confusion,
        log_loss: log_loss / n as f64,
        expected_calibration_error: calibration_error,
        mean_confidence: confidence_sum / n as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::{Negative as N, Positive as P};

    #[test]
    fn hand_computed_case() {
        // truth:     P    P    N    N    P
        // predicted: P    N    N    P    P
        let truth = [P, P, N, N, P];
        let probs = [0.9, 0.2, 0.1, 0.7, 0.6];
        let r = evaluate(&truth, &probs).unwrap();
        assert_eq!(r.examples, 5);
        assert_eq!(r.confusion, [[1, 1], [1, 2]]);
        assert!((r.accuracy - 0.6).abs() < 1e-12);
        assert!((r.positive.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.positive.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.negative.precision - 0.5).abs() < 1e-12);
        assert!((r.negative.recall - 0.5).abs() < 1e-12);
        assert_eq!(r.positive.support, 3);
        let expected_loss =
            -(0.9f64.ln() + 0.2f64.ln() + 0.9f64.ln() + 0.3f64.ln() + 0.6f64.ln()) / 5.0;
        assert!((r.log_loss - expected_loss).abs() < 1e-12);
        assert!((r.mean_confidence - (0.9 + 0.8 + 0.9 + 0.7 + 0.6) / 5.0).abs() < 1e-12);
    }

    #[test]
    fn calibration_error_of_a_perfectly_calibrated_and_an_overconfident_model() {
        // Confidence 0.75 in every case, right 3 times out of 4: calibrated.
        let truth = [P, P, P, N];
        let r = evaluate(&truth, &[0.75; 4]).unwrap();
        assert!(r.expected_calibration_error.abs() < 1e-12);
        // Confidence 0.95, right half the time: off by 0.45.
        let r = evaluate(&[P, N], &[0.95, 0.95]).unwrap();
        assert!((r.expected_calibration_error - 0.45).abs() < 1e-12);
    }

    #[test]
    fn single_class_sets_do_not_divide_by_zero() {
        let r = evaluate(&[P, P], &[0.8, 0.3]).unwrap();
        assert_eq!(r.negative.precision, 0.0);
        assert_eq!(r.negative.recall, 0.0);
        assert_eq!(r.negative.support, 0);
        assert!((r.positive.recall - 0.5).abs() < 1e-12);
    }

    #[test]
    fn errors() {
        assert_eq!(evaluate(&[], &[]).unwrap_err(), MetricsError::Empty);
        assert_eq!(
            evaluate(&[P], &[0.1, 0.2]).unwrap_err(),
            MetricsError::LengthMismatch {
                truth: 1,
                predicted: 2
            }
        );
    }

    #[test]
    fn agrees_with_smartcore_on_two_class_data() {
        let truth = [P, N, P, P, N, N, P, N, P, P];
        let probs = [0.9, 0.4, 0.3, 0.8, 0.6, 0.2, 0.55, 0.45, 0.51, 0.1];
        let r = evaluate(&truth, &probs).unwrap();
        let y_true: Vec<f64> = truth.iter().map(|l| l.target()).collect();
        let y_pred: Vec<f64> = probs
            .iter()
            .map(|&p| if p >= 0.5 { 1.0 } else { 0.0 })
            .collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(
            r.positive.precision,
            smartcore::metrics::precision(&y_true, &y_pred)
        ));
        assert!(close(
            r.positive.recall,
            smartcore::metrics::recall(&y_true, &y_pred)
        ));
        assert!(close(
            r.positive.f1,
            smartcore::metrics::f1(&y_true, &y_pred, 1.0)
        ));
        let t: Vec<i32> = y_true.iter().map(|&v| v as i32).collect();
        let p: Vec<i32> = y_pred.iter().map(|&v| v as i32).collect();
        assert!(close(r.accuracy, smartcore::metrics::accuracy(&t, &p)));
    }
}
