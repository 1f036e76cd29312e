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
//!
//! Two exact transformations make the optimiser's job smaller without changing the
//! minimiser: columns that are multiples of one another are merged into one (see
//! `merge.rs`), and the parameters are rescaled by the Hessian's diagonal (Jacobi
//! preconditioning). The weights are mapped back at the end.
//!
//! - `objective.rs`: the loss, its gradient and Hessian diagonal, and the memo that
//!   L-BFGS reads them through;
//! - `merge.rs`: merging proportional columns;
//! - `design.rs`: [`Design`], a matrix transposed and merged once for many fits (per
//!   fit: example weights, a column scale, a warm start), and the L-BFGS runs;
//! - here: the settings, the fitted [`LinearModel`] and [`fit`].

mod design;
mod merge;
mod objective;

pub use design::Design;
pub use objective::Objective;

use crate::sparse::CsrMatrix;
use serde::{Deserialize, Serialize};

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
    #[error("the {what} has {len} entries for {columns} columns")]
    ColumnsMismatch {
        what: &'static str,
        columns: usize,
        len: usize,
    },
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

/// Fits the model. `on_evaluation(count, objective)` is called after each pass over the
/// data, for progress reporting.
pub fn fit(
    x: &CsrMatrix,
    targets: &[f64],
    weights: &[f64],
    config: &LogisticConfig,
    on_evaluation: &(dyn Fn(usize, f64) + Sync),
) -> Result<(LinearModel, FitReport), FitError> {
    // Refuse bad input before the work of merging columns.
    Objective::check(x, targets, weights, config.c)?;
    Design::new(x).fit(None, targets, weights, config, None, on_evaluation)
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
mod tests;
