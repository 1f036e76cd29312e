//! Merging columns that are multiples of one another: an exact reduction of the
//! problem (see [`MergedColumns`]).

use super::objective::CHUNK;
use crate::sparse::CsrMatrix;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

/// Columns of `X` that are multiples of one another, merged into one column each.
///
/// If columns `x_k` (k in a group G) are all `+-` multiples of one unit profile `p`, the
/// objective depends on their weights only through `t = sum_k x_k w_k` and the penalty
/// `sum_k w_k^2`, and for a given `t` the penalty is smallest with `w_k` proportional to
/// `+-|x_k|`. So the minimiser has that form, and the group can be replaced by the one
/// column `N p` (`N^2 = sum_k |x_k|^2`) with weight `u`, `w_k = +-u |x_k| / N`: the map
/// is an isometry onto the subspace holding the minimiser, so the merged problem has
/// the same minimum, at the image of the same minimiser. On SST-2 (every
/// phrase of each training sentence is a training text) n-grams of one rare phrase
/// occur in exactly the same texts: this removes about a third of the columns, and
/// the vectors L-BFGS works on shrink with them.
pub(super) struct MergedColumns {
    /// `X` with each group's columns replaced by one.
    pub(super) x: CsrMatrix,
    pub(super) x_t: CsrMatrix,
    /// For each original column, its merged column and `w_k / u`.
    pub(super) expansion: Vec<(u32, f64)>,
}

/// How far apart two unit column profiles may be, element by element, and still count
/// as the same. The values are `f32` results of a few roundings (about 1e-7 relative),
/// while columns that genuinely differ (another term frequency in one text) differ by
/// far more than this.
const SAME_PROFILE: f64 = 1e-6;

/// Finds the groups of proportional columns of `x`, given its transpose; when there
/// are none, the transpose back. The transpose is dropped as soon as the merged one is
/// built, before the merged rows are: one matrix less at the peak.
pub(super) fn merge_proportional_columns(
    x: &CsrMatrix,
    x_t: CsrMatrix,
) -> Result<MergedColumns, CsrMatrix> {
    let n_cols = x.n_cols;
    let norms: Vec<f64> = (0..n_cols)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|j| {
            let (_, values) = x_t.row(j);
            values
                .iter()
                .map(|&v| v as f64 * v as f64)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    // Candidates share their set of rows: bucket columns by a hash of it.
    let row_hashes: Vec<u64> = (0..n_cols)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|j| {
            let mut hasher = rustc_hash::FxHasher::default();
            x_t.row(j).0.hash(&mut hasher);
            hasher.finish()
        })
        .collect();
    // `sign * x_j / |x_j| == x_r / |x_r|` up to rounding, for representative `r`.
    let same_profile = |j: usize, r: usize| -> Option<f64> {
        let ((rows_j, values_j), (rows_r, values_r)) = (x_t.row(j), x_t.row(r));
        if rows_j != rows_r || norms[j] == 0.0 || norms[r] == 0.0 {
            return None;
        }
        let sign = if (values_j[0] >= 0.0) == (values_r[0] >= 0.0) {
            1.0
        } else {
            -1.0
        };
        let close = values_j.iter().zip(values_r).all(|(&a, &b)| {
            (sign * a as f64 / norms[j] - b as f64 / norms[r]).abs() <= SAME_PROFILE
        });
        close.then_some(sign)
    };
    // Each column joins the first earlier group whose representative it matches. Only
    // the first few groups of a set of rows are tried, so that many columns sharing
    // their rows but not their profile cannot make this quadratic; all-zero columns
    // stay alone.
    const CANDIDATES: usize = 8;
    let mut representatives: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    let mut group_of = vec![0u32; n_cols];
    let mut signs = vec![1.0f64; n_cols];
    let mut group_reps: Vec<u32> = Vec::new();
    for j in 0..n_cols {
        if norms[j] == 0.0 {
            group_of[j] = group_reps.len() as u32;
            group_reps.push(j as u32);
            continue;
        }
        let bucket = representatives.entry(row_hashes[j]).or_default();
        let found = bucket.iter().take(CANDIDATES).find_map(|&g| {
            let r = group_reps[g as usize] as usize;
            same_profile(j, r).map(|sign| (g, sign))
        });
        match found {
            Some((g, sign)) => {
                group_of[j] = g;
                signs[j] = sign;
            }
            None => {
                let g = group_reps.len() as u32;
                group_reps.push(j as u32);
                bucket.push(g);
                group_of[j] = g;
            }
        }
    }
    let n_groups = group_reps.len();
    if n_groups == n_cols {
        return Err(x_t);
    }
    let mut group_norms = vec![0.0f64; n_groups];
    for j in 0..n_cols {
        group_norms[group_of[j] as usize] += norms[j] * norms[j];
    }
    group_norms.iter_mut().for_each(|n| *n = n.sqrt());
    let mut members = vec![0u32; n_groups];
    group_of.iter().for_each(|&g| members[g as usize] += 1);
    // A group's column is its representative's, rescaled to norm N; lone columns keep
    // their values exactly.
    let merged_value = |g: usize, v: f32| -> f32 {
        if members[g] == 1 {
            v
        } else {
            (v as f64 * group_norms[g] / norms[group_reps[g] as usize]) as f32
        }
    };
    // Both built in parallel: they are a pass over every non-zero each.
    let merged_t = CsrMatrix::from_rows_par(n_groups, x.n_rows(), |g, entries, &mut ()| {
        let (rows, values) = x_t.row(group_reps[g] as usize);
        entries.extend(
            rows.iter()
                .zip(values)
                .map(|(&i, &v)| (i, merged_value(g, v))),
        );
    });
    drop(x_t);
    // The rows keep each group's representative only. Groups are numbered in the order
    // of their representatives' columns, so the rows stay sorted: no transposing back.
    let merged = CsrMatrix::from_rows_par(x.n_rows(), n_groups, |i, entries, &mut ()| {
        let (cols, values) = x.row(i);
        entries.extend(cols.iter().zip(values).filter_map(|(&c, &v)| {
            let g = group_of[c as usize];
            (group_reps[g as usize] == c).then(|| (g, merged_value(g as usize, v)))
        }));
    });
    let expansion = (0..n_cols)
        .map(|j| {
            let g = group_of[j];
            let factor = if members[g as usize] == 1 {
                1.0
            } else {
                signs[j] * norms[j] / group_norms[g as usize]
            };
            (g, factor)
        })
        .collect();
    Ok(MergedColumns {
        x: merged,
        x_t: merged_t,
        expansion,
    })
}
