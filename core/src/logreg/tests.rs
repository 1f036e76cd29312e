//! The fit against finite differences, scikit-learn's minimum, warm starts, column
//! scales and merged columns.

use super::design::*;
use super::merge::*;
use super::objective::*;
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
fn a_warm_start_reaches_the_cold_minimum_in_fewer_evaluations() {
    let (plain, y, s) = problem(600, 40, 11);
    // A copy of column 0, doubled: the fit merges proportional columns, and the
    // start must map onto the merged parameters.
    let mut x = CsrMatrix::with_cols(41);
    for i in 0..plain.n_rows() {
        let (cols, vals) = plain.row(i);
        let mut row: Vec<(u32, f32)> = cols.iter().copied().zip(vals.iter().copied()).collect();
        if let Some(&(0, v)) = row.first() {
            row.push((40, 2.0 * v));
        }
        x.push_row(&row);
    }
    let config = LogisticConfig {
        c: 1.0,
        ..LogisticConfig::default()
    };
    let none = |_: usize, _: f64| {};
    // The neighbour: a tenth of the rows left out (as a cross-fitting fold is).
    let mut fold_out = s.clone();
    for w in fold_out.iter_mut().step_by(10) {
        *w = 0.0;
    }
    let design = Design::new(&x);
    assert!(design.x.n_cols < 41, "column 40 merged with column 0");
    let (neighbour, _) = design
        .fit(None, &y, &fold_out, &config, None, &none)
        .unwrap();
    let (cold, cold_report) = design.fit(None, &y, &s, &config, None, &none).unwrap();
    let (warm, warm_report) = design
        .fit(None, &y, &s, &config, Some(&neighbour), &none)
        .unwrap();
    assert!(
        (warm_report.objective - cold_report.objective).abs() <= 1e-6 * cold_report.objective,
        "{} vs {}",
        warm_report.objective,
        cold_report.objective
    );
    assert!(
        warm_report.evaluations < cold_report.evaluations,
        "{} evaluations warm, {} cold",
        warm_report.evaluations,
        cold_report.evaluations
    );
    for i in 0..x.n_rows() {
        let row = row_of(&x, i);
        assert!((warm.probability(&row) - cold.probability(&row)).abs() < 1e-3);
    }
    let short = LinearModel {
        weights: vec![0.0; 3],
        bias: 0.0,
    };
    assert_eq!(
        design
            .fit(None, &y, &s, &config, Some(&short), &none)
            .unwrap_err(),
        FitError::ColumnsMismatch {
            what: "start",
            columns: 41,
            len: 3
        }
    );
}

fn row_of(x: &CsrMatrix, i: usize) -> Vec<(u32, f32)> {
    let (cols, vals) = x.row(i);
    cols.iter().copied().zip(vals.iter().copied()).collect()
}

#[test]
fn a_column_scale_fits_as_the_scaled_matrix_does() {
    let (plain, y, s) = problem(500, 30, 5);
    // Columns 30 and 31 are multiples of column 0: one group of three.
    let mut x = CsrMatrix::with_cols(32);
    for i in 0..plain.n_rows() {
        let mut row = row_of(&plain, i);
        if let Some(&(0, v)) = row.first() {
            row.push((30, -3.0 * v));
            row.push((31, 0.5 * v));
        }
        x.push_row(&row);
    }
    // Scales of both signs, one of them zero (a feature that says nothing).
    let r: Vec<f64> = (0..32)
        .map(|k| match k {
            7 => 0.0,
            k if k % 3 == 0 => -0.2 - k as f64 / 40.0,
            k => 0.3 + k as f64 / 20.0,
        })
        .collect();
    let config = LogisticConfig {
        c: 2.0,
        ..LogisticConfig::default()
    };
    let none = |_: usize, _: f64| {};
    let (by_scale, report) = Design::new(&x)
        .fit(Some(&r), &y, &s, &config, None, &none)
        .unwrap();
    // The old way: scale the matrix, fit, fold the scale into the weights.
    let mut scaled = x.clone();
    for (c, v) in scaled.indices.iter().zip(scaled.values.iter_mut()) {
        *v = (*v as f64 * r[*c as usize]) as f32;
    }
    let (mut direct, direct_report) = fit(&scaled, &y, &s, &config, &none).unwrap();
    for (w, r) in direct.weights.iter_mut().zip(&r) {
        *w = (*w as f64 * r) as f32;
    }
    assert!(
        (report.objective - direct_report.objective).abs() <= 1e-6 * direct_report.objective,
        "{} vs {}",
        report.objective,
        direct_report.objective
    );
    assert_eq!(by_scale.weights[7], 0.0);
    for i in 0..x.n_rows() {
        let row = row_of(&x, i);
        assert!(
            (by_scale.probability(&row) - direct.probability(&row)).abs() < 1e-3,
            "row {i}"
        );
    }
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
fn hessian_diagonal_matches_finite_differences_of_the_gradient() {
    let (x, y, s) = problem(40, 12, 11);
    let objective = Objective::new(&x, &y, &s, 0.7).unwrap();
    let n = objective.n_params();
    for params in [
        vec![0.0; n],
        (0..n).map(|i| (i as f64 * 0.61).cos() * 2.0).collect(),
    ] {
        let diagonal = objective.hessian_diagonal_at(&params);
        let h = 1e-5;
        let (mut plus_g, mut minus_g) = (vec![0.0; n], vec![0.0; n]);
        for k in 0..n {
            let mut plus = params.clone();
            plus[k] += h;
            let mut minus = params.clone();
            minus[k] -= h;
            objective.value_and_gradient(&plus, &mut plus_g);
            objective.value_and_gradient(&minus, &mut minus_g);
            let numeric = (plus_g[k] - minus_g[k]) / (2.0 * h);
            assert!(
                (numeric - diagonal[k]).abs() < 1e-6 * (1.0 + numeric.abs()),
                "component {k}: analytic {} numeric {numeric}",
                diagonal[k]
            );
        }
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

/// `problem`'s matrix with every column `c < copies` repeated, times `factor`, as
/// column `cols + c`; and a column occurring only in row 0 beside row 0's others.
fn with_proportional_columns(x: &CsrMatrix, copies: u32, factor: f32) -> CsrMatrix {
    let cols = x.n_cols as u32;
    let mut out = CsrMatrix::with_cols(x.n_cols + copies as usize + 1);
    for i in 0..x.n_rows() {
        let (c, v) = x.row(i);
        let mut row: Vec<(u32, f32)> = c.iter().copied().zip(v.iter().copied()).collect();
        let copied: Vec<(u32, f32)> = row
            .iter()
            .filter(|&&(c, _)| c < copies)
            .map(|&(c, v)| (cols + c, v * factor))
            .collect();
        row.extend(copied);
        if i == 0 {
            row.push((cols + copies, 0.5));
        }
        out.push_row(&row);
    }
    out
}

#[test]
fn scaled_gradient_matches_finite_differences() {
    let (x, y, s) = problem(30, 8, 11);
    let objective = Objective::new(&x, &y, &s, 2.0).unwrap();
    let n = objective.n_params();
    let scale: Vec<f64> = (0..n)
        .map(|i| 0.5 + (i as f64 * 0.71).cos().abs())
        .collect();
    let params: Vec<f64> = (0..n).map(|i| (i as f64 * 0.53).sin()).collect();
    let mut workspace = Workspace::default();
    let mut gradient = vec![0.0; n];
    let value = objective.evaluate_scaled(&params, &scale, &mut gradient, &mut workspace);
    let unscaled: Vec<f64> = params.iter().zip(&scale).map(|(v, d)| v * d).collect();
    let mut scratch = vec![0.0; n];
    assert_eq!(value, objective.value_and_gradient(&unscaled, &mut scratch));
    let h = 1e-6;
    for k in 0..n {
        let mut plus = params.clone();
        plus[k] += h;
        let mut minus = params.clone();
        minus[k] -= h;
        let numeric = (objective.evaluate_scaled(&plus, &scale, &mut scratch, &mut workspace)
            - objective.evaluate_scaled(&minus, &scale, &mut scratch, &mut workspace))
            / (2.0 * h);
        assert!(
            (numeric - gradient[k]).abs() < 1e-6,
            "component {k}: analytic {} numeric {numeric}",
            gradient[k]
        );
    }
}

#[test]
fn merging_proportional_columns_is_an_isometry() {
    let (x, y, s) = problem(60, 10, 5);
    assert!(merge_proportional_columns(&x, x.transpose()).is_err());
    let x = with_proportional_columns(&x, 4, -2.5);
    let Ok(merged) = merge_proportional_columns(&x, x.transpose()) else {
        panic!("columns to merge")
    };
    // 4 copies merge with their originals, the row-0 column with nothing (row 0's
    // other columns also occur elsewhere).
    assert_eq!(merged.x.n_cols, x.n_cols - 4);
    assert_eq!(merged.x_t, merged.x.transpose());
    let full = Objective::new(&x, &y, &s, 1.5).unwrap();
    let small = Objective::new(&merged.x, &y, &s, 1.5).unwrap();
    let u: Vec<f64> = (0..small.n_params())
        .map(|i| (i as f64 * 0.9).sin())
        .collect();
    let mut w: Vec<f64> = merged
        .expansion
        .iter()
        .map(|&(g, factor)| factor * u[g as usize])
        .collect();
    w.push(u[merged.x.n_cols]);
    let (mut g_small, mut g_full) = (vec![0.0; u.len()], vec![0.0; w.len()]);
    let value_small = small.value_and_gradient(&u, &mut g_small);
    let value_full = full.value_and_gradient(&w, &mut g_full);
    assert!((value_small - value_full).abs() < 1e-6 * value_full.abs());
    // The full gradient is the merged one mapped back: g_k = factor_k * g_u.
    for (k, &(g, factor)) in merged.expansion.iter().enumerate() {
        assert!((g_full[k] - factor * g_small[g as usize]).abs() < 1e-6);
    }
}

#[test]
fn fit_with_merged_columns_reaches_a_stationary_point_of_the_full_objective() {
    let (x, y, s) = problem(200, 20, 9);
    let x = with_proportional_columns(&x, 6, 0.75);
    let config = LogisticConfig {
        gradient_tolerance: 1e-8,
        ..LogisticConfig::default()
    };
    let (model, _) = fit(&x, &y, &s, &config, &|_, _| {}).unwrap();
    assert_eq!(model.weights.len(), x.n_cols);
    let objective = Objective::new(&x, &y, &s, config.c).unwrap();
    let mut params: Vec<f64> = model.weights.iter().map(|&w| w as f64).collect();
    params.push(model.bias as f64);
    let mut gradient = vec![0.0; params.len()];
    objective.value_and_gradient(&params, &mut gradient);
    let largest = gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    assert!(largest < 1e-4, "gradient {largest}");
    // A copy's weight is its original's times the factor, as at the minimum.
    for c in 0..6 {
        let (original, copy) = (model.weights[c], model.weights[20 + c]);
        assert!(
            (copy - 0.75 * original).abs() < 1e-5,
            "{c}: {original} {copy}"
        );
    }
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

#[test]
fn column_sums_and_row_margins_from_merged_columns_match_the_original_matrix() {
    let (x, _, s) = problem(80, 12, 21);
    let x = with_proportional_columns(&x, 3, -1.5);
    let design = Design::new(&x);
    assert!(design.x.n_cols < x.n_cols, "some columns merge");
    let sums = design.column_sums(&s, 0.25);
    let lone = |k: usize| design.members[design.expansion[k].0 as usize] == 1;
    for (k, &sum) in sums.iter().enumerate() {
        let expected = (0..x.n_rows()).fold(0.25, |sum, i| {
            let (cols, values) = x.row(i);
            let at = cols.iter().position(|&c| c as usize == k);
            sum + at.map_or(0.0, |at| values[at] as f64 * s[i])
        });
        if lone(k) {
            assert_eq!(sum, expected, "lone column {k}: the same bits");
        } else {
            assert!((sum - expected).abs() < 1e-5, "column {k}");
        }
    }
    let weights: Vec<f32> = (0..x.n_cols).map(|k| (k as f32 * 0.37).cos()).collect();
    let merged = design.merged_weights(&weights);
    for i in 0..x.n_rows() {
        let (cols, values) = x.row(i);
        let expected: f32 = cols
            .iter()
            .zip(values)
            .map(|(&c, &v)| v * weights[c as usize])
            .sum();
        assert!(
            (design.row_dot_merged(i, &merged) - expected).abs() < 1e-5,
            "row {i}"
        );
    }
}
