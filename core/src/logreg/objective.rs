//! The objective and its gradient over sparse rows, and the memo L-BFGS reads them
//! through.

use super::{sigmoid, FitError};
use crate::sparse::CsrMatrix;
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::Mutex;

/// `(ln(1 + e^z), sigmoid(z))` from one `exp`, without overflow.
///
/// `ln(1 + e)` rather than `ln_1p(e)`: with `e` in (0, 1] the two differ by at most
/// about 1e-16 in absolute terms, far below what the optimiser can see in a sum of
/// losses, and `ln` costs half as much (`ln_1p` was a third of the row pass).
#[inline]
fn softplus_and_sigmoid(z: f64) -> (f64, f64) {
    let e = (-z.abs()).exp();
    let softplus = z.max(0.0) + (1.0 + e).ln();
    let sigmoid = if z >= 0.0 { 1.0 } else { e } / (1.0 + e);
    (softplus, sigmoid)
}

/// Rows (or columns) handled by one parallel task. Fixed-size chunks with their partial
/// sums added in order keep every evaluation bit-for-bit reproducible, whatever the
/// thread scheduling: rayon's own `sum` reduces in a schedule-dependent order, and a
/// last-bit difference in the objective can change L-BFGS's path.
pub(super) const CHUNK: usize = 4096;

/// The objective and its gradient over one data set. Parameters are `[w..., b]`.
pub struct Objective<'a> {
    pub(super) x: Cow<'a, CsrMatrix>,
    pub(super) x_t: Cow<'a, CsrMatrix>,
    pub(super) targets: &'a [f64],
    /// Example weights divided by their sum.
    pub(super) scaled_weights: Vec<f64>,
    pub(super) lambda: f64,
    /// `s_j` of every column: the objective is that of `X diag(s)`, without a scaled
    /// copy of `X` (or of its transpose) per fit. `z = X (s * w) + b`, and the gradient
    /// is `s * (X^T r) + lambda w`. None: every `s_j` is 1.
    pub(super) column_scale: Option<&'a [f64]>,
}

/// Buffers one evaluation needs, kept between evaluations.
#[derive(Default)]
pub(super) struct Workspace {
    /// The unscaled parameters `[w..., b]` (preconditioned evaluations only).
    pub(super) params: Vec<f64>,
    /// `s * w`, the weights of the unscaled columns (column-scaled objectives only).
    pub(super) effective: Vec<f64>,
    /// `s_i (sigmoid(z_i) - y_i)` per row.
    pub(super) residuals: Vec<f64>,
    /// One partial sum per chunk.
    pub(super) partials: Vec<f64>,
}

impl<'a> Objective<'a> {
    pub fn new(
        x: &'a CsrMatrix,
        targets: &'a [f64],
        weights: &[f64],
        c: f64,
    ) -> Result<Self, FitError> {
        Self::with_transpose(Cow::Borrowed(x), None, targets, weights, c)
    }

    /// As [`Objective::new`], with `x`'s transpose when the caller already has it.
    pub(super) fn with_transpose(
        x: Cow<'a, CsrMatrix>,
        x_t: Option<Cow<'a, CsrMatrix>>,
        targets: &'a [f64],
        weights: &[f64],
        c: f64,
    ) -> Result<Self, FitError> {
        let total = Self::check(&x, targets, weights, c)?;
        Ok(Objective {
            x_t: x_t.unwrap_or_else(|| Cow::Owned(x.transpose())),
            x,
            targets,
            scaled_weights: weights.iter().map(|w| w / total).collect(),
            lambda: 1.0 / (c * total),
            column_scale: None,
        })
    }

    /// The objective of `X diag(scale)`: column `j` multiplied by `scale[j]`.
    pub(super) fn with_column_scale(self, scale: &'a [f64]) -> Self {
        assert_eq!(scale.len(), self.x.n_cols, "one scale per column");
        Objective {
            column_scale: Some(scale),
            ..self
        }
    }

    /// The weights `s * w` that multiply the unscaled columns, in `buffer` when there
    /// is a column scale.
    fn effective<'w>(&self, w: &'w [f64], buffer: &'w mut Vec<f64>) -> &'w [f64] {
        match self.column_scale {
            Some(scale) => {
                buffer.clear();
                buffer.extend(w.iter().zip(scale).map(|(w, s)| w * s));
                buffer
            }
            None => w,
        }
    }

    /// Refuses inputs no objective can be made of; returns the total example weight.
    pub(super) fn check(
        x: &CsrMatrix,
        targets: &[f64],
        weights: &[f64],
        c: f64,
    ) -> Result<f64, FitError> {
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
        Ok(total)
    }

    pub fn n_params(&self) -> usize {
        self.x.n_cols + 1
    }

    /// Objective value at `params`, writing its gradient into `gradient`.
    pub fn value_and_gradient(&self, params: &[f64], gradient: &mut [f64]) -> f64 {
        self.evaluate(params, gradient, &mut Workspace::default())
    }

    /// The diagonal of the objective's Hessian at `params` (`[w..., b]`, unscaled):
    /// `lambda + sum_i c_i x_ij^2` for weight `j` and `sum_i c_i` for the intercept,
    /// where `c_i = s_i p_i (1 - p_i)` is row `i`'s curvature. At zero every `p_i` is
    /// 1/2, so there it is `lambda + (1/4) sum_i s_i x_ij^2`. A column scale `d_j`
    /// multiplies column `j`'s sum by `d_j^2`.
    pub(super) fn hessian_diagonal_at(&self, params: &[f64]) -> Vec<f64> {
        let n_features = self.x.n_cols;
        let (w, b) = (&params[..n_features], params[n_features]);
        let mut buffer = Vec::new();
        let w = self.effective(w, &mut buffer);
        let curvature: Vec<f64> = (0..self.x.n_rows())
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|i| {
                let p = sigmoid(self.x.row_dot(i, w) + b);
                self.scaled_weights[i] * p * (1.0 - p)
            })
            .collect();
        let mut diagonal: Vec<f64> = (0..n_features)
            .into_par_iter()
            .with_min_len(CHUNK)
            .map(|j| {
                let (rows, values) = self.x_t.row(j);
                let sum: f64 = rows
                    .iter()
                    .zip(values)
                    .map(|(&i, &v)| curvature[i as usize] * (v as f64) * (v as f64))
                    .sum();
                let d = self.column_scale.map_or(1.0, |scale| scale[j]);
                self.lambda + d * d * sum
            })
            .collect();
        diagonal.push(curvature.iter().sum());
        diagonal
    }

    /// Value and gradient in preconditioned coordinates: the parameters are `v` with
    /// `[w..., b] = scale * v` (element-wise), and the gradient is with respect to `v`.
    pub(super) fn evaluate_scaled(
        &self,
        params: &[f64],
        scale: &[f64],
        gradient: &mut [f64],
        workspace: &mut Workspace,
    ) -> f64 {
        let mut unscaled = std::mem::take(&mut workspace.params);
        unscaled.clear();
        unscaled.extend(params.iter().zip(scale).map(|(v, d)| v * d));
        let value = self.evaluate(&unscaled, gradient, workspace);
        workspace.params = unscaled;
        // d f / d v_j = d_j * d f / d w_j.
        gradient
            .par_chunks_mut(CHUNK)
            .zip(scale.par_chunks(CHUNK))
            .for_each(|(g, d)| g.iter_mut().zip(d).for_each(|(g, d)| *g *= d));
        value
    }

    pub(super) fn evaluate(
        &self,
        params: &[f64],
        gradient: &mut [f64],
        workspace: &mut Workspace,
    ) -> f64 {
        let n_rows = self.x.n_rows();
        let n_features = self.x.n_cols;
        let (w, b) = (&params[..n_features], params[n_features]);
        let Workspace {
            residuals,
            partials,
            effective,
            ..
        } = workspace;
        let w_effective = self.effective(w, effective);
        residuals.resize(n_rows, 0.0);
        partials.resize(n_rows.div_ceil(CHUNK).max(n_features.div_ceil(CHUNK)), 0.0);

        // Row pass: residuals r_i = s_i (sigmoid(z_i) - y_i) and the loss, row-parallel.
        residuals
            .par_chunks_mut(CHUNK)
            .zip(partials.par_iter_mut())
            .enumerate()
            .for_each(|(chunk, (residuals, partial))| {
                let first = chunk * CHUNK;
                let mut loss = 0.0;
                for (k, r) in residuals.iter_mut().enumerate() {
                    let i = first + k;
                    let z = self.x.row_dot(i, w_effective) + b;
                    let (s, y) = (self.scaled_weights[i], self.targets[i]);
                    let (softplus, sigmoid) = softplus_and_sigmoid(z);
                    *r = s * (sigmoid - y);
                    loss += s * (softplus - y * z);
                }
                *partial = loss;
            });
        let loss: f64 = partials[..n_rows.div_ceil(CHUNK)].iter().sum();

        // Column pass: gradient X^T r + lambda w over the transpose, and the penalty.
        let residuals = &*residuals;
        gradient[..n_features]
            .par_chunks_mut(CHUNK)
            .zip(partials.par_iter_mut())
            .enumerate()
            .for_each(|(chunk, (gradient, partial))| {
                let first = chunk * CHUNK;
                let mut penalty = 0.0;
                for (k, g) in gradient.iter_mut().enumerate() {
                    let j = first + k;
                    let d = self.column_scale.map_or(1.0, |scale| scale[j]);
                    *g = d * self.x_t.row_dot(j, residuals) + self.lambda * w[j];
                    penalty += w[j] * w[j];
                }
                *partial = penalty;
            });
        let penalty: f64 = partials[..n_features.div_ceil(CHUNK)].iter().sum();
        gradient[n_features] = residuals.iter().sum();
        loss + 0.5 * self.lambda * penalty
    }
}

/// Parameters, objective value and gradient of one evaluation.
pub(super) type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// Memoises the last evaluation: smartcore's L-BFGS asks for f and df at the same point
/// separately (and again at the start of each iteration), and one evaluation computes
/// both, so this halves the passes over the data.
pub(super) struct CachedObjective<'a, 'o> {
    pub(super) objective: &'o Objective<'a>,
    /// Preconditioning: the parameters L-BFGS sees are `[w..., b] / scale`.
    pub(super) scale: Vec<f64>,
    pub(super) state: Mutex<CacheState>,
    pub(super) on_evaluation: &'o (dyn Fn(usize, f64) + Sync),
}

#[derive(Default)]
pub(super) struct CacheState {
    pub(super) last: Option<Evaluation>,
    pub(super) evaluations: usize,
    pub(super) workspace: Workspace,
}

impl CachedObjective<'_, '_> {
    pub(super) fn with_result<R>(&self, params: &[f64], read: impl FnOnce(f64, &[f64]) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *state;
        if let Some((at, value, gradient)) = state.last.as_ref() {
            if at.as_slice() == params {
                return read(*value, gradient);
            }
        }
        // Reuse the previous evaluation's buffers.
        let (mut at, mut gradient) = match state.last.take() {
            Some((at, _, gradient)) => (at, gradient),
            None => (Vec::new(), vec![0.0; params.len()]),
        };
        let value = self.objective.evaluate_scaled(
            params,
            &self.scale,
            &mut gradient,
            &mut state.workspace,
        );
        state.evaluations += 1;
        (self.on_evaluation)(state.evaluations, value);
        let out = read(value, &gradient);
        at.clear();
        at.extend_from_slice(params);
        state.last = Some((at, value, gradient));
        out
    }
}
