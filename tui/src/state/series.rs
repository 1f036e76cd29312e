//! Counts in fixed-width time buckets, for sparklines and volume charts.

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Series {
    width_ms: i64,
    keep: usize,
    buckets: BTreeMap<i64, u64>,
}

impl Series {
    /// `keep` buckets of `width_ms` each are remembered; older ones are dropped.
    pub fn new(width_ms: i64, keep: usize) -> Self {
        Series {
            width_ms,
            keep,
            buckets: BTreeMap::new(),
        }
    }

    pub fn width_ms(&self) -> i64 {
        self.width_ms
    }

    pub fn add(&mut self, at_unix_ms: i64, n: u64) {
        let b = at_unix_ms.div_euclid(self.width_ms);
        *self.buckets.entry(b).or_default() += n;
        while self.buckets.len() > self.keep {
            self.buckets.pop_first();
        }
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
    }

    /// The last `n` buckets ending with the one holding `now_ms`, oldest first; empty
    /// buckets are zeros so the x axis is real time.
    pub fn last(&self, n: usize, now_ms: i64) -> Vec<u64> {
        let end = now_ms.div_euclid(self.width_ms);
        (0..n as i64)
            .rev()
            .map(|back| self.buckets.get(&(end - back)).copied().unwrap_or(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_time_and_fills_gaps() {
        let mut s = Series::new(1000, 10);
        s.add(10_100, 1);
        s.add(10_900, 1);
        s.add(12_000, 3);
        assert_eq!(s.last(4, 12_500), vec![0, 2, 0, 3]);
    }

    #[test]
    fn forgets_old_buckets() {
        let mut s = Series::new(1000, 2);
        for t in 0..5 {
            s.add(t * 1000, 1);
        }
        assert_eq!(s.last(5, 4000), vec![0, 0, 0, 1, 1]);
    }
}
