//! A dense parameter vector for smartcore's L-BFGS that does its arithmetic on slices.
//!
//! smartcore's array traits implement `dot`, `add_mut`, `copy_from`, ... through boxed
//! iterators: one virtual call per element. On SST-2 (86k parameters, ~90 vector
//! operations per L-BFGS iteration) that cost 3.3 s of a 4.0 s fit, against 0.65 s for
//! all the loss and gradient passes over the data. This type keeps smartcore's
//! optimiser and overrides those operations with plain slice loops.
//!
//! smartcore's default `mul_scalar`, `sub` and `abs` clone the vector and then modify
//! the clone: two passes over 690 KB where one will do, so those are overridden too.
//!
//! The loops stay on one thread: each L-BFGS iteration makes ~90 of these passes, each
//! a few tens of microseconds, and waking a second thread for every one of them cost
//! more than it saved whenever the machine had other work (SST-2's optimisation step
//! measured 0.59-0.91 s with these loops on one thread against 1.00-1.15 s with them
//! chunked over two threads, while other builds were running).

use smartcore::linalg::basic::arrays::{Array, Array1, ArrayView1, MutArray, MutArrayView1};
use std::ops::Range;

/// Parameters as smartcore's L-BFGS sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamVector(pub Vec<f64>);

/// The elements of `other` as a slice, when they are laid out contiguously.
///
/// The optimiser only ever hands a `ParamVector` back to us, so this is the fast path
/// in practice; any other array type whose first and last elements are not exactly
/// `len - 1` places apart takes the element-by-element fallback.
fn contiguous(other: &dyn Array<f64, usize>) -> Option<&[f64]> {
    let len = other.shape();
    if len == 0 {
        return Some(&[]);
    }
    let first: *const f64 = other.get(0);
    let last: *const f64 = other.get(len - 1);
    // SAFETY: `first` and `last` are valid references into `other`, borrowed for the
    // lifetime of `other`. When last == first + (len - 1), the array's `len` elements
    // lie in one allocation between them (every smartcore 1-d array and ours index one
    // slice), so reading `len` elements from `first` stays inside it.
    if first.wrapping_add(len - 1) == last {
        Some(unsafe { std::slice::from_raw_parts(first, len) })
    } else {
        None
    }
}

/// Sum of `a_i * b_i` with eight independent accumulators, so that it vectorises.
fn dot_slices(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Sum with eight independent accumulators, so that it vectorises.
fn sum_slice(a: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let a8 = a.chunks_exact(8);
    let tail: f64 = a8.remainder().iter().sum();
    for x in a8 {
        for k in 0..8 {
            lanes[k] += x[k];
        }
    }
    lanes.iter().sum::<f64>() + tail
}

fn zip_apply(target: &mut [f64], other: &dyn Array<f64, usize>, op: impl Fn(&mut f64, f64)) {
    assert_eq!(target.len(), other.shape(), "vectors of different lengths");
    match contiguous(other) {
        Some(values) => target.iter_mut().zip(values).for_each(|(a, &b)| op(a, b)),
        None => target
            .iter_mut()
            .enumerate()
            .for_each(|(i, a)| op(a, *other.get(i))),
    }
}

impl Array<f64, usize> for ParamVector {
    fn get(&self, pos: usize) -> &f64 {
        &self.0[pos]
    }
    fn shape(&self) -> usize {
        self.0.len()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn iterator<'b>(&'b self, axis: u8) -> Box<dyn Iterator<Item = &'b f64> + 'b> {
        assert_eq!(axis, 0, "a vector has one axis");
        Box::new(self.0.iter())
    }
}

impl MutArray<f64, usize> for ParamVector {
    fn set(&mut self, pos: usize, x: f64) {
        self.0[pos] = x;
    }
    fn iterator_mut<'b>(&'b mut self, axis: u8) -> Box<dyn Iterator<Item = &'b mut f64> + 'b> {
        assert_eq!(axis, 0, "a vector has one axis");
        Box::new(self.0.iter_mut())
    }
    fn mul_scalar_mut(&mut self, x: f64) {
        self.0.iter_mut().for_each(|v| *v *= x);
    }
    fn add_mut(&mut self, other: &dyn Array<f64, usize>) {
        zip_apply(&mut self.0, other, |a, b| *a += b);
    }
    fn sub_mut(&mut self, other: &dyn Array<f64, usize>) {
        zip_apply(&mut self.0, other, |a, b| *a -= b);
    }
}

impl ArrayView1<f64> for ParamVector {
    fn dot(&self, other: &dyn ArrayView1<f64>) -> f64 {
        assert_eq!(self.0.len(), other.shape(), "vectors of different lengths");
        match contiguous(other) {
            Some(values) => dot_slices(&self.0, values),
            None => self
                .0
                .iter()
                .enumerate()
                .map(|(i, a)| a * other.get(i))
                .sum(),
        }
    }
    fn sum(&self) -> f64 {
        sum_slice(&self.0)
    }
    fn norm(&self, p: f64) -> f64 {
        if p == f64::INFINITY {
            self.0.iter().fold(0.0, |m, v| m.max(v.abs()))
        } else if p == 2.0 {
            dot_slices(&self.0, &self.0).sqrt()
        } else {
            self.0
                .iter()
                .map(|v| v.abs().powf(p))
                .sum::<f64>()
                .powf(1.0 / p)
        }
    }
    fn max_diff(&self, other: &dyn ArrayView1<f64>) -> f64 {
        assert_eq!(self.0.len(), other.shape(), "vectors of different lengths");
        match contiguous(other) {
            Some(values) => self
                .0
                .iter()
                .zip(values)
                .fold(f64::MIN, |m, (a, b)| m.max((a - b).abs())),
            None => {
                (0..self.0.len()).fold(f64::MIN, |m, i| m.max((self.0[i] - other.get(i)).abs()))
            }
        }
    }
}

impl MutArrayView1<f64> for ParamVector {
    fn copy_from(&mut self, other: &dyn Array<f64, usize>) {
        zip_apply(&mut self.0, other, |a, b| *a = b);
    }
    fn abs_mut(&mut self) {
        self.0.iter_mut().for_each(|v| *v = v.abs());
    }
    fn pow_mut(&mut self, p: f64) {
        if p == 2.0 {
            self.0.iter_mut().for_each(|v| *v *= *v);
        } else {
            self.0.iter_mut().for_each(|v| *v = v.powf(p));
        }
    }
}

impl Array1<f64> for ParamVector {
    fn slice<'a>(&'a self, range: Range<usize>) -> Box<dyn ArrayView1<f64> + 'a> {
        self.0.slice(range)
    }
    fn slice_mut<'a>(&'a mut self, range: Range<usize>) -> Box<dyn MutArrayView1<f64> + 'a> {
        self.0.slice_mut(range)
    }
    fn fill(len: usize, value: f64) -> Self {
        ParamVector(vec![value; len])
    }
    fn from_iterator<I: Iterator<Item = f64>>(iter: I, len: usize) -> Self {
        ParamVector(iter.take(len).collect())
    }
    fn from_vec_slice(slice: &[f64]) -> Self {
        ParamVector(slice.to_vec())
    }
    fn from_slice(slice: &dyn ArrayView1<f64>) -> Self {
        ParamVector((0..slice.shape()).map(|i| *slice.get(i)).collect())
    }
    fn mul_scalar(&self, x: f64) -> Self {
        ParamVector(self.0.iter().map(|v| v * x).collect())
    }
    fn sub(&self, other: &impl Array1<f64>) -> Self {
        match contiguous(other) {
            Some(values) => {
                assert_eq!(self.0.len(), values.len(), "vectors of different lengths");
                ParamVector(self.0.iter().zip(values).map(|(a, b)| a - b).collect())
            }
            None => {
                let mut result = self.clone();
                result.sub_mut(other);
                result
            }
        }
    }
    fn abs(&self) -> Self {
        ParamVector(self.0.iter().map(|v| v.abs()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_operations_agree_with_smartcores_vec() {
        let a = vec![1.0, -2.0, 3.5, 0.25];
        let b = vec![0.5, 4.0, -1.0, 2.0];
        let (pa, pb) = (ParamVector(a.clone()), ParamVector(b.clone()));
        assert_eq!(pa.dot(&pb), a.dot(&b));
        assert_eq!(pa.dot(&b), a.dot(&b));
        assert_eq!(pa.max_diff(&pb), a.max_diff(&b));
        assert_eq!(pa.norm(f64::INFINITY), a.norm(f64::INFINITY));
        assert!((pa.norm(2.0) - a.norm(2.0)).abs() < 1e-12);
        assert!((pa.norm(3.0) - a.norm(3.0)).abs() < 1e-12);
        let mut x = pa.clone();
        x.add_mut(&pb);
        let mut y = a.clone();
        y.add_mut(&b);
        assert_eq!(x.0, y);
        x.sub_mut(&b);
        assert_eq!(x.0, a);
        x.copy_from(&pb);
        assert_eq!(x.0, b);
        let mut s = pa.abs();
        s.pow_mut(2.0);
        assert_eq!(s.sum(), a.iter().map(|v| v * v).sum::<f64>());
        assert_eq!(
            pa.mul_scalar(2.0).0,
            a.iter().map(|v| v * 2.0).collect::<Vec<_>>()
        );
        assert_eq!(pa.sub(&pb).0, vec![0.5, -6.0, 4.5, -1.75]);
    }

    #[test]
    fn non_contiguous_arrays_take_the_fallback() {
        // A strided view: every other element of a longer vector.
        #[derive(Debug)]
        struct Strided(Vec<f64>);
        impl Array<f64, usize> for Strided {
            fn get(&self, pos: usize) -> &f64 {
                &self.0[pos * 2]
            }
            fn shape(&self) -> usize {
                self.0.len() / 2
            }
            fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
            fn iterator<'b>(&'b self, _: u8) -> Box<dyn Iterator<Item = &'b f64> + 'b> {
                Box::new(self.0.iter().step_by(2))
            }
        }
        impl ArrayView1<f64> for Strided {}
        let strided = Strided(vec![1.0, 9.0, 2.0, 9.0, 3.0, 9.0]);
        assert!(contiguous(&strided).is_none());
        let p = ParamVector(vec![1.0, 1.0, 1.0]);
        assert_eq!(p.dot(&strided), 6.0);
        let mut q = p.clone();
        q.add_mut(&strided);
        assert_eq!(q.0, vec![2.0, 3.0, 4.0]);
    }
}
