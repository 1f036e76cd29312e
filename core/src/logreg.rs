//! Binary L2-regularised logistic regression on sparse rows, with per-example weights.
//!
//! smartcore's `LogisticRegression` needs a dense matrix (67k texts x 100k+ n-grams would
//! not fit), so we drive smartcore's L-BFGS optimiser with our own sparse loss and
//! gradient. The objective is scikit-learn's, scaled by the total example weight `S`:
//!
//! `f(w, b) = (1/S) * sum_i s_i * logloss(y_i, sigmoid(x_i.w + b)) + ||w||^2 / (2 C S)`
//!
//! The intercept `b` is not regularised. Both cores are used: `X w` row-parallel, and
//! `X^T r` column-parallel over a transposed copy of `X`, so no two threads write one
//! gradient entry.

use crate::dense::ParamVector;
use crate::sparse::CsrMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::optimization::first_order::lbfgs::LBFGS;
use smartcore::optimization::first_order::FirstOrderOptimizer;
use smartcore::optimization::line_search::Backtracking;
use smartcore::optimization::FunctionOrder;
use std::sync::Mutex;

/// Optimiser settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticConfig {
    /// Inverse regularisation strength, as in scikit-learn (larger: weaker penalty).
    pub c: f64,
    /// Upper bound on L-BFGS iterations.
    pub max_iter: usize,
    /// Stop when the largest gradient component falls below this.
    pub gradient_tolerance: f64,
    /// Stop when the objective's relative change falls below this (twice).
    pub relative_tolerance: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig {
            c: 8.0,
            max_iter: 500,
            gradient_tolerance: 1e-4,
            relative_tolerance: 1e-6,
        }
    }
}

/// A fitted linear model: `p(positive) = sigmoid(x.w + b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub weights: Vec<f32>,
    pub bias: f32,
}

/// What one fit did.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    pub iterations: usize,
    pub evaluations: usize,
    pub objective: f64,
}

/// Why a fit cannot start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("no training examples")]
    Empty,
    #[error("{rows} rows but {targets} targets and {weights} weights")]
    LengthMismatch {
        rows: usize,
        targets: usize,
        weights: usize,
    },
    #[error("example weights must be finite and non-negative with a positive sum")]
    BadWeights,
    #[error("C must be a positive finite number, got {0}")]
    BadC(f64),
}

/// `ln(1 + e^z)` without overflow.
#[inline]
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

#[inline]
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The objective and its gradient over one data set. Parameters are `[w..., b]`.
pub struct Objective<'a> {
    x: &'a CsrMatrix,
    x_t: CsrMatrix,
    targets: &'a [f64],
    /// Example weights divided by their sum.
    scaled_weights: Vec<f64>,
    lambda: f64,
}

impl<'a> Objective<'a> {
    pub fn new(
        x: &'a CsrMatrix,
        targets: &'a [f64],
        weights: &[f64],
        c: f64,
    ) -> Result<Self, FitError> {
        if x.n_rows() == 0 {
            return Err(FitError::Empty);
        }
        if targets.len() != x.n_rows() || weights.len() != x.n_rows() {
            return Err(FitError::LengthMismatch {
                rows: x.n_rows(),
                targets: targets.len(),
                weights: weights.len(),
            });
        }
        if !(c.is_finite() && c > 0.0) {
            return Err(FitError::BadC(c));
        }
        let total: f64 = weights.iter().sum();
        if !(total.is_finite() && total > 0.0) || weights.iter().any(|&w| w.is_nan() || w < 0.0) {
            return Err(FitError::BadWeights);
        }
        Ok(Objective {
            x,
            x_t: x.transpose(),
            targets,
            scaled_weights: weights.iter().map(|w| w / total).collect(),
            lambda: 1.0 / (c * total),
        })
    }

    pub fn n_params(&self) -> usize {
        self.x.n_cols + 1
    }

    /// Objective value at `params`, writing its gradient into `gradient`.
    pub fn value_and_gradient(&self, params: &[f64], gradient: &mut [f64]) -> f64 {
        let n_features = self.x.n_cols;
        let (w, b) = (&params[..n_features], params[n_features]);
        // Residuals r_i = s_i (sigmoid(z_i) - y_i) and per-row losses, row-parallel.
        let (residuals, losses): (Vec<f64>, Vec<f64>) = (0..self.x.n_rows())
            .into_par_iter()
            .with_min_len(2048)
            .map(|i| {
                let z = self.x.row_dot(i, w) + b;
                let s = self.scaled_weights[i];
                let y = self.targets[i];
                (s * (sigmoid(z) - y), s * (softplus(z) - y * z))
            })
            .unzip();
        let penalty: f64 = w.par_iter().with_min_len(8192).map(|v| v * v).sum::<f64>();
        let value = losses.iter().sum::<f64>() + 0.5 * self.lambda * penalty;
        // Gradient w.r.t. w: X^T r + lambda w, column-parallel over the transpose.
        gradient[..n_features]
            .par_iter_mut()
            .with_min_len(2048)
            .enumerate()
            .for_each(|(j, g)| *g = self.x_t.row_dot(j, &residuals) + self.lambda * w[j]);
        gradient[n_features] = residuals.iter().sum();
        value
    }
}

/// Parameters, objective value and gradient of one evaluation.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// Memoises the last evaluation: smartcore's L-BFGS asks for f and df at the same point
/// separately (and again at the start of each iteration), and one evaluation computes
/// both, so this halves the passes over the data.
struct CachedObjective<'a, 'o> {
    objective: &'o Objective<'a>,
    last: Mutex<Option<Evaluation>>,
    evaluations: Mutex<usize>,
    on_evaluation: &'o (dyn Fn(usize, f64) + Sync),
}

impl CachedObjective<'_, '_> {
    fn with_result<R>(&self, params: &[f64], read: impl FnOnce(f64, &[f64]) -> R) -> R {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, value, gradient)) = last.as_ref() {
            if at.as_slice() == params {
                return read(*value, gradient);
            }
        }
        let mut gradient = vec![0.0; params.len()];
        let value = self.objective.value_and_gradient(params, &mut gradient);
        let mut count = self.evaluations.lock().unwrap_or_else(|e| e.into_inner());
        *count += 1;
        (self.on_evaluation)(*count, value);
        let out = read(value, &gradient);
        *last = Some((params.to_vec(), value, gradient));
        out
    }
}

/// Fits the model. `on_evaluation(count, objective)` is called after each pass over the
/// data, for progress reporting.
pub fn fit(
    x: &CsrMatrix,
    targets: &[f64],
    weights: &[f64],
    config: &LogisticConfig,
    on_evaluation: &(dyn Fn(usize, f64) + Sync),
) -> Result<(LinearModel, FitReport), FitError> {
    let objective = Objective::new(x, targets, weights, config.c)?;
    let cached = CachedObjective {
        objective: &objective,
        last: Mutex::new(None),
        evaluations: Mutex::new(0),
        on_evaluation,
    };
    let f = |p: &ParamVector| cached.with_result(&p.0, |value, _| value);
    let df = |g: &mut ParamVector, p: &ParamVector| {
        cached.with_result(&p.0, |_, gradient| g.0.copy_from_slice(gradient))
    };
    let optimiser = LBFGS {
        max_iter: config.max_iter,
        g_atol: config.gradient_tolerance,
        f_reltol: config.relative_tolerance,
        m: 10,
        ..LBFGS::default()
    };
    let line_search = Backtracking::<f64> {
        order: FunctionOrder::THIRD,
        ..Backtracking::default()
    };
    let start = ParamVector(vec![0.0; objective.n_params()]);
    let result = optimiser.optimize(&f, &df, &start, &line_search);
    let n_features = x.n_cols;
    let model = LinearModel {
        weights: result.x.0[..n_features].iter().map(|&v| v as f32).collect(),
        bias: result.x.0[n_features] as f32,
    };
    let evaluations = *cached.evaluations.lock().unwrap_or_else(|e| e.into_inner());
    Ok((
        model,
        FitReport {
            iterations: result.iterations,
            evaluations,
            objective: result.f_x,
        },
    ))
}

impl LinearModel {
    /// The decision value `x.w + b` of a sparse row.
    #[inline]
    pub fn margin(&self, row: &[(u32, f32)]) -> f64 {
        let dot: f32 = row.iter().map(|&(f, v)| v * self.weights[f as usize]).sum();
        dot as f64 + self.bias as f64
    }

    /// Probability of the positive class for a sparse row.
    pub fn probability(&self, row: &[(u32, f32)]) -> f64 {
        sigmoid(self.margin(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small random sparse problem, deterministic.
    fn problem(rows: usize, cols: usize, seed: u64) -> (CsrMatrix, Vec<f64>, Vec<f64>) {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut x = CsrMatrix::with_cols(cols);
        let mut targets = Vec::new();
        let mut weights = Vec::new();
        for _ in 0..rows {
            let mut row: Vec<(u32, f32)> = Vec::new();
            for c in 0..cols as u32 {
                if next() < 0.3 {
                    row.push((c, (next() * 2.0 - 1.0) as f32));
                }
            }
            x.push_row(&row);
            targets.push(if next() < 0.5 { 0.0 } else { 1.0 });
            weights.push(0.5 + next());
        }
        (x, targets, weights)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (x, y, s) = problem(40, 12, 7);
        let objective = Objective::new(&x, &y, &s, 0.7).unwrap();
        let params: Vec<f64> = (0..objective.n_params())
            .map(|i| (i as f64 * 0.37).sin())
            .collect();
        let mut gradient = vec![0.0; params.len()];
        objective.value_and_gradient(&params, &mut gradient);
        let h = 1e-6;
        let mut scratch = vec![0.0; params.len()];
        for k in 0..params.len() {
            let mut plus = params.clone();
            plus[k] += h;
            let mut minus = params.clone();
            minus[k] -= h;
            let numeric = (objective.value_and_gradient(&plus, &mut scratch)
                - objective.value_and_gradient(&minus, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - gradient[k]).abs() < 1e-6,
                "component {k}: analytic {} numeric {numeric}",
                gradient[k]
            );
        }
    }

    #[test]
    fn fit_reaches_a_stationary_point() {
        let (x, y, s) = problem(200, 20, 3);
        let config = LogisticConfig {
            gradient_tolerance: 1e-8,
            ..LogisticConfig::default()
        };
        let (model, report) = fit(&x, &y, &s, &config, &|_, _| {}).unwrap();
        let objective = Objective::new(&x, &y, &s, config.c).unwrap();
        let mut params: Vec<f64> = model.weights.iter().map(|&w| w as f64).collect();
        params.push(model.bias as f64);
        let mut gradient = vec![0.0; params.len()];
        let value = objective.value_and_gradient(&params, &mut gradient);
        let largest = gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        assert!(largest < 1e-4, "gradient {largest} after {report:?}");
        assert!((value - report.objective).abs() < 1e-5);
    }

    #[test]
    fn separable_data_is_learned_and_weights_matter() {
        // Feature 0 means positive, feature 1 negative.
        let mut x = CsrMatrix::with_cols(2);
        let mut y = Vec::new();
        for i in 0..50 {
            x.push_row(&[((i % 2) as u32, 1.0)]);
            y.push(if i % 2 == 0 { 1.0 } else { 0.0 });
        }
        let weights = vec![1.0; 50];
        let (model, _) = fit(&x, &y, &weights, &LogisticConfig::default(), &|_, _| {}).unwrap();
        assert!(model.probability(&[(0, 1.0)]) > 0.9);
        assert!(model.probability(&[(1, 1.0)]) < 0.1);

        // Contradicting rows: the heavier side wins.
        let mut x = CsrMatrix::with_cols(1);
        x.push_row(&[(0, 1.0)]);
        x.push_row(&[(0, 1.0)]);
        let (model, _) = fit(
            &x,
            &[1.0, 0.0],
            &[3.0, 1.0],
            &LogisticConfig::default(),
            &|_, _| {},
        )
        .unwrap();
        assert!(model.probability(&[(0, 1.0)]) > 0.6);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let (x, y, s) = problem(5, 3, 1);
        let cfg = LogisticConfig::default();
        let none = |_: usize, _: f64| {};
        assert_eq!(
            fit(&CsrMatrix::with_cols(3), &[], &[], &cfg, &none).unwrap_err(),
            FitError::Empty
        );
        assert!(matches!(
            fit(&x, &y[..4], &s, &cfg, &none),
            Err(FitError::LengthMismatch { .. })
        ));
        assert_eq!(
            fit(&x, &y, &[0.0; 5], &cfg, &none).unwrap_err(),
            FitError::BadWeights
        );
        assert_eq!(
            fit(&x, &y, &[f64::NAN; 5], &cfg, &none).unwrap_err(),
            FitError::BadWeights
        );
        let bad_c = LogisticConfig { c: 0.0, ..cfg };
        assert_eq!(
            fit(&x, &y, &s, &bad_c, &none).unwrap_err(),
            FitError::BadC(0.0)
        );
    }
}
