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
        // Join the blocks: offsets serially (one per block), the copying in parallel
        // into each block's own slice of the output.
        let mut starts = Vec::with_capacity(blocks.len());
        let mut nnz = 0;
        for block in &blocks {
            starts.push(nnz);
            nnz += block.nnz();
        }
        let mut indptr = Vec::with_capacity(n_rows + 1);
        indptr.push(0);
        for (block, &start) in blocks.iter().zip(&starts) {
            indptr.extend(block.indptr[1..].iter().map(|p| start + p));
        }
        let mut indices = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        let mut parts = Vec::with_capacity(blocks.len());
        let (mut rest_i, mut rest_v) = (indices.as_mut_slice(), values.as_mut_slice());
        for block in &blocks {
            let (part_i, tail_i) = std::mem::take(&mut rest_i).split_at_mut(block.nnz());
            let (part_v, tail_v) = std::mem::take(&mut rest_v).split_at_mut(block.nnz());
            (rest_i, rest_v) = (tail_i, tail_v);
            parts.push((block, part_i, part_v));
        }
        parts.into_par_iter().for_each(|(block, part_i, part_v)| {
            part_i.copy_from_slice(&block.indices);
            part_v.copy_from_slice(&block.values);
        });
        CsrMatrix {
            n_cols,
            indptr,
            indices,
            values,
        }
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
    ///
    /// Each thread fills the output for one range of columns (ranges of about equal
    /// non-zero counts), scanning every row for the entries in its range: rows are
    /// visited in order, so each output row lists its columns ascending, exactly as a
    /// serial transpose would, however many threads there are.
    pub fn transpose(&self) -> CsrMatrix {
        let n_cols = self.n_cols;
        let nnz = self.nnz();
        let mut indptr = vec![0usize; n_cols + 1];
        for &c in &self.indices {
            indptr[c as usize + 1] += 1;
        }
        for j in 0..n_cols {
            indptr[j + 1] += indptr[j];
        }
        let tasks = rayon::current_num_threads().clamp(1, 8);
        let mut bounds: Vec<usize> = (0..tasks)
            .map(|t| indptr[..n_cols].partition_point(|&p| p < nnz * t / tasks))
            .collect();
        bounds.push(n_cols);
        let mut indices = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        // Cut the outputs into the ranges' disjoint slices.
        let mut parts = Vec::with_capacity(tasks);
        let (mut rest_i, mut rest_v) = (indices.as_mut_slice(), values.as_mut_slice());
        for t in 0..tasks {
            let (c0, c1) = (bounds[t], bounds[t + 1]);
            let len = indptr[c1] - indptr[c0];
            let (part_i, tail_i) = std::mem::take(&mut rest_i).split_at_mut(len);
            let (part_v, tail_v) = std::mem::take(&mut rest_v).split_at_mut(len);
            (rest_i, rest_v) = (tail_i, tail_v);
            parts.push((c0, c1, part_i, part_v));
        }
        parts.into_par_iter().for_each(|(c0, c1, out_i, out_v)| {
            let base = indptr[c0];
            let mut next: Vec<usize> = indptr[c0..c1].iter().map(|p| p - base).collect();
            let (lo, hi) = (c0 as u32, c1 as u32);
            for row in 0..self.n_rows() {
                let (cols, vals) = self.row(row);
                for (&c, &v) in cols.iter().zip(vals) {
                    if (lo..hi).contains(&c) {
                        let slot = &mut next[(c - lo) as usize];
                        out_i[*slot] = row as u32;
                        out_v[*slot] = v;
                        *slot += 1;
                    }
                }
            }
        });
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

    /// The textbook serial transpose, to check the parallel one against.
    fn serial_transpose(m: &CsrMatrix) -> CsrMatrix {
        let mut columns = vec![Vec::new(); m.n_cols];
        for row in 0..m.n_rows() {
            let (cols, vals) = m.row(row);
            for (&c, &v) in cols.iter().zip(vals) {
                columns[c as usize].push((row as u32, v));
            }
        }
        let mut t = CsrMatrix::with_cols(m.n_rows());
        columns.iter().for_each(|column| t.push_row(column));
        t
    }

    #[test]
    fn parallel_transpose_matches_the_serial_one_for_any_thread_count() {
        // Skewed like TF-IDF data: low column ids are far more frequent.
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let n_cols = 500;
        let mut m = CsrMatrix::with_cols(n_cols);
        for _ in 0..2000 {
            let mut row: Vec<u32> = (0..next() % 12)
                .map(|_| (next() % n_cols as u32) * (next() % n_cols as u32) / n_cols as u32)
                .collect();
            row.sort_unstable();
            row.dedup();
            let entries: Vec<(u32, f32)> = row.iter().map(|&c| (c, next() as f32)).collect();
            m.push_row(&entries);
        }
        m.push_row(&[]);
        let expected = serial_transpose(&m);
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(
                pool.install(|| m.transpose()),
                expected,
                "{threads} threads"
            );
        }
        assert_eq!(CsrMatrix::with_cols(3).transpose().n_rows(), 3);
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
