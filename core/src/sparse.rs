//! Compressed sparse row matrices: the design matrix of TF-IDF vectors.

/// A CSR matrix of `f32` values. Row `i`'s entries are
/// `indices[indptr[i]..indptr[i + 1]]` (column ids, ascending) and the matching `values`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsrMatrix {
    pub n_cols: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

use rayon::prelude::*;

/// Rows built by one parallel task in [`CsrMatrix::from_rows_par`].
const ROW_BLOCK: usize = 4096;

impl CsrMatrix {
    /// Builds an `n_rows` x `n_cols` matrix with rows made in parallel: `fill(i, row,
    /// scratch)` writes row `i`'s (column, value) pairs, ascending and distinct, into
    /// the empty `row` (`scratch` is a buffer of the caller's kept across a block of
    /// rows). Blocks of rows are built on rayon's threads and joined in order, so the
    /// result is the same whatever the number of threads.
    pub fn from_rows_par<S: Default>(
        n_rows: usize,
        n_cols: usize,
        fill: impl Fn(usize, &mut Vec<(u32, f32)>, &mut S) + Sync,
    ) -> CsrMatrix {
        let blocks: Vec<CsrMatrix> = (0..n_rows.div_ceil(ROW_BLOCK))
            .into_par_iter()
            .map(|block| {
                let mut part = CsrMatrix::with_cols(n_cols);
                let mut row = Vec::new();
                let mut scratch = S::default();
                for i in block * ROW_BLOCK..((block + 1) * ROW_BLOCK).min(n_rows) {
                    row.clear();
                    fill(i, &mut row, &mut scratch);
                    part.push_row(&row);
                }
                part
            })
            .collect();
        let mut matrix = CsrMatrix::with_cols(n_cols);
        let nnz = blocks.iter().map(CsrMatrix::nnz).sum();
        matrix.indices.reserve(nnz);
        matrix.values.reserve(nnz);
        matrix.indptr.reserve(n_rows);
        for block in &blocks {
            let base = matrix.indices.len();
            matrix
                .indptr
                .extend(block.indptr[1..].iter().map(|p| base + p));
            matrix.indices.extend_from_slice(&block.indices);
            matrix.values.extend_from_slice(&block.values);
        }
        matrix
    }

    /// An empty matrix with `n_cols` columns and no rows.
    pub fn with_cols(n_cols: usize) -> Self {
        CsrMatrix {
            n_cols,
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Appends a row given as (column, value) pairs with ascending, distinct columns.
    pub fn push_row(&mut self, entries: &[(u32, f32)]) {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        debug_assert!(entries.iter().all(|&(c, _)| (c as usize) < self.n_cols));
        self.indices.extend(entries.iter().map(|&(c, _)| c));
        self.values.extend(entries.iter().map(|&(_, v)| v));
        self.indptr.push(self.indices.len());
    }

    /// Row `i` as parallel slices of columns and values.
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// Dot product of row `i` with a dense vector.
    #[inline]
    pub fn row_dot(&self, i: usize, dense: &[f64]) -> f64 {
        let (cols, vals) = self.row(i);
        cols.iter()
            .zip(vals)
            .map(|(&c, &v)| v as f64 * dense[c as usize])
            .sum()
    }

    /// The transpose, also in CSR form (equivalently, this matrix in CSC form). Used so
    /// that `X^T r` can be computed column by column in parallel without write conflicts.
    pub fn transpose(&self) -> CsrMatrix {
        let mut counts = vec![0usize; self.n_cols + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for i in 0..self.n_cols {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f32; self.nnz()];
        for row in 0..self.n_rows() {
            let (cols, vals) = self.row(row);
            for (&c, &v) in cols.iter().zip(vals) {
                let slot = next[c as usize];
                indices[slot] = row as u32;
                values[slot] = v;
                next[c as usize] += 1;
            }
        }
        CsrMatrix {
            n_cols: self.n_rows(),
            indptr,
            indices,
            values,
        }
    }

    /// The rows at `rows`, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> CsrMatrix {
        let mut out = CsrMatrix::with_cols(self.n_cols);
        for &r in rows {
            let range = self.indptr[r]..self.indptr[r + 1];
            out.indices.extend_from_slice(&self.indices[range.clone()]);
            out.values.extend_from_slice(&self.values[range]);
            out.indptr.push(out.indices.len());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CsrMatrix {
        // [[1, 0, 2],
        //  [0, 0, 0],
        //  [0, 3, 4]]
        let mut m = CsrMatrix::with_cols(3);
        m.push_row(&[(0, 1.0), (2, 2.0)]);
        m.push_row(&[]);
        m.push_row(&[(1, 3.0), (2, 4.0)]);
        m
    }

    #[test]
    fn rows_and_dot_products() {
        let m = sample();
        assert_eq!(m.n_rows(), 3);
        assert_eq!(m.nnz(), 4);
        assert_eq!(m.row_dot(0, &[1.0, 1.0, 1.0]), 3.0);
        assert_eq!(m.row_dot(1, &[1.0, 1.0, 1.0]), 0.0);
        assert_eq!(m.row_dot(2, &[0.0, 2.0, 0.5]), 8.0);
    }

    #[test]
    fn transpose_twice_is_identity() {
        let m = sample();
        let t = m.transpose();
        assert_eq!(t.n_rows(), 3);
        assert_eq!(t.row(2), (&[0u32, 2][..], &[2.0f32, 4.0][..]));
        assert_eq!(t.row(1), (&[2u32][..], &[3.0f32][..]));
        assert_eq!(t.transpose(), m);
    }

    #[test]
    fn select_rows_keeps_order() {
        let m = sample();
        let s = m.select_rows(&[2, 0]);
        assert_eq!(s.n_rows(), 2);
        assert_eq!(s.row(0), m.row(2));
        assert_eq!(s.row(1), m.row(0));
    }
}
