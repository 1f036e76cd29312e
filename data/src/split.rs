//! Train/test splitting that keeps the class balance.
//!
//! A plain random split of a small or skewed dataset can leave the test set with a
//! noticeably different share of positives than the training set, which makes accuracy
//! numbers jump between seeds for no reason. Splitting each class separately keeps the
//! shares equal to within one example.

use crate::{DataError, Example};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sentiment_core::Label;

/// Splits `examples` into `(train, test)` with `test_fraction` of each class in `test`.
///
/// Per class, the examples are shuffled with a ChaCha8 generator seeded with `seed`
/// (one generator, classes in [`Label::ALL`] order) and the first
/// `round(class size * test_fraction)` go to the test set. The result is the same for
/// the same input and seed on every platform; both halves keep the input order, so
/// callers that want shuffled training data shuffle it themselves.
///
/// `test_fraction` must be strictly between 0 and 1 ([`DataError::InvalidArgument`]
/// otherwise, including NaN).
pub fn stratified_split(
    examples: &[Example],
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<Example>, Vec<Example>), DataError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(DataError::InvalidArgument(format!(
            "test fraction {test_fraction} is not strictly between 0 and 1; use e.g. 0.1 \
             for a 10% test set"
        )));
    }
    let mut in_test = vec![false; examples.len()];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for label in Label::ALL {
        let mut indices: Vec<usize> = examples
            .iter()
            .enumerate()
            .filter(|(_, e)| e.label == label)
            .map(|(i, _)| i)
            .collect();
        indices.shuffle(&mut rng);
        // The product is at most the class size, so the cast cannot overflow.
        let test_len = ((indices.len() as f64) * test_fraction).round() as usize;
        for &i in &indices[..test_len.min(indices.len())] {
            in_test[i] = true;
        }
    }
    let test_count = in_test.iter().filter(|&&t| t).count();
    let mut train = Vec::with_capacity(examples.len() - test_count);
    let mut test = Vec::with_capacity(test_count);
    for (example, is_test) in examples.iter().zip(in_test) {
        if is_test {
            test.push(example.clone());
        } else {
            train.push(example.clone());
        }
    }
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// 700 negatives and 300 positives, interleaved, each text unique.
    fn skewed() -> Vec<Example> {
        (0..1000)
            .map(|i| {
                let label = if i % 10 < 7 {
                    Label::Negative
                } else {
                    Label::Positive
                };
                Example::new(format!("text {i}"), label)
            })
            .collect()
    }

    fn count(examples: &[Example], label: Label) -> usize {
        examples.iter().filter(|e| e.label == label).count()
    }

    #[test]
    fn keeps_class_proportions_within_one_example() {
        let data = skewed();
        for fraction in [0.1, 0.2, 0.25, 0.333, 0.5, 0.9] {
            let (train, test) = stratified_split(&data, fraction, 7).unwrap();
            for label in Label::ALL {
                let total = count(&data, label) as f64;
                let in_test = count(&test, label) as f64;
                assert!(
                    (in_test - total * fraction).abs() <= 1.0,
                    "{label} at {fraction}: {in_test} of {total}"
                );
                assert_eq!(count(&train, label) + count(&test, label), total as usize);
            }
        }
    }

    #[test]
    fn is_deterministic_and_seed_dependent() {
        let data = skewed();
        let a = stratified_split(&data, 0.2, 42).unwrap();
        let b = stratified_split(&data, 0.2, 42).unwrap();
        assert_eq!(a, b);
        let c = stratified_split(&data, 0.2, 43).unwrap();
        assert_ne!(a.1, c.1);
        assert_eq!(a.1.len(), c.1.len());
    }

    #[test]
    fn loses_and_duplicates_nothing() {
        let data = skewed();
        let (train, test) = stratified_split(&data, 0.3, 1).unwrap();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for e in train.iter().chain(&test) {
            *seen.entry(e.text.as_str()).or_default() += 1;
        }
        assert_eq!(seen.len(), data.len());
        assert!(seen.values().all(|&n| n == 1));
        assert!(data.iter().all(|e| seen.contains_key(e.text.as_str())));
    }

    #[test]
    fn keeps_input_order_within_each_half() {
        let data = skewed();
        let (train, test) = stratified_split(&data, 0.5, 3).unwrap();
        let position = |e: &Example| data.iter().position(|d| d == e).unwrap();
        for half in [&train, &test] {
            let positions: Vec<usize> = half.iter().map(position).collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn rejects_fractions_outside_the_open_unit_interval() {
        let data = skewed();
        for fraction in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            let err = stratified_split(&data, fraction, 0).unwrap_err();
            assert!(matches!(err, DataError::InvalidArgument(_)), "{fraction}");
            assert!(err.to_string().contains("between 0 and 1"));
        }
    }

    #[test]
    fn handles_empty_and_single_class_input() {
        let (train, test) = stratified_split(&[], 0.5, 0).unwrap();
        assert!(train.is_empty() && test.is_empty());
        let only_positive: Vec<Example> = (0..10)
            .map(|i| Example::new(format!("p{i}"), Label::Positive))
            .collect();
        let (train, test) = stratified_split(&only_positive, 0.3, 0).unwrap();
        assert_eq!((train.len(), test.len()), (7, 3));
    }
}
