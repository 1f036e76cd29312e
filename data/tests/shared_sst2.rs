//! The real SST-2 data, as TSV (GLUE) and as Parquet (Hugging Face Hub layout): both
//! must read completely, without a skipped row, and give the same examples.

mod common;

use common::{shared_data, shared_file};
use sentiment_data::{
    dedupe, locate_splits, read_examples, read_many, stratified_split, Dataset, Example, Label,
    MalformedPolicy, ReadOptions,
};
use std::path::Path;

const TRAIN_ROWS: usize = 67_349;
const VALIDATION_ROWS: usize = 872;

fn read_strict(path: &Path) -> Dataset {
    let options = ReadOptions {
        malformed: MalformedPolicy::Fail,
        ..ReadOptions::default()
    };
    read_examples(path, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn label_counts(examples: &[Example]) -> [usize; 2] {
    let mut counts = [0; 2];
    for e in examples {
        counts[e.label.index()] += 1;
    }
    counts
}

fn sorted(examples: &[Example]) -> Vec<(&str, Label)> {
    let mut pairs: Vec<(&str, Label)> = examples
        .iter()
        .map(|e| (e.text.as_str(), e.label))
        .collect();
    pairs.sort_unstable();
    pairs
}

fn hub_file(split: &str) -> std::path::PathBuf {
    shared_data().join(format!(
        "hub/datasets/stanfordnlp/sst2/data/{split}-00000-of-00001.parquet"
    ))
}

#[test]
fn tsv_and_parquet_give_the_same_examples() {
    for (split, rows) in [("train", TRAIN_ROWS), ("validation", VALIDATION_ROWS)] {
        let tsv = read_strict(&shared_data().join(format!("sst2/{split}.tsv")));
        let parquet = read_strict(&hub_file(split));
        assert_eq!(tsv.examples.len(), rows, "{split}.tsv");
        assert_eq!(parquet.examples.len(), rows, "{split} parquet");
        assert!(tsv.skipped.is_empty() && parquet.skipped.is_empty());
        assert_eq!(tsv.examples[..100], parquet.examples[..100], "{split}");
        assert_eq!(label_counts(&tsv.examples), label_counts(&parquet.examples));
        assert_eq!(sorted(&tsv.examples), sorted(&parquet.examples), "{split}");
    }
}

#[test]
fn known_rows_and_label_balance() {
    let validation = read_strict(&shared_data().join("sst2/validation.tsv"));
    assert_eq!(
        validation.examples[0],
        Example::new(
            "it 's a charming and often affecting journey .",
            Label::Positive
        )
    );
    assert_eq!(label_counts(&validation.examples), [428, 444]);
    let train = read_strict(&shared_data().join("sst2/train.tsv"));
    assert_eq!(label_counts(&train.examples), [29_780, 37_569]);
    // Texts are kept as in the file, leading clitics and trailing spaces included.
    assert!(train.examples.iter().any(|e| e.text.starts_with("'s ")));
}

#[test]
fn the_hub_repository_reads_through_locate_splits() {
    let root = shared_data().join("hub/datasets/stanfordnlp/sst2");
    let splits = locate_splits(&root).unwrap();
    let options = ReadOptions::default();
    let train = read_many(&splits.train, &options).unwrap();
    let validation = read_many(&splits.validation, &options).unwrap();
    assert_eq!(train.examples.len(), TRAIN_ROWS);
    assert_eq!(validation.examples.len(), VALIDATION_ROWS);
    assert!(splits.test.is_empty());
}

#[test]
fn dedupe_and_split_on_the_real_training_data() {
    let train = read_strict(&shared_data().join("sst2/train.tsv")).examples;
    let (unique, report) = dedupe(train.clone());
    assert_eq!(unique.len() + report.duplicates, train.len());
    assert!(report.conflicts <= report.duplicates);
    let (fit, test) = stratified_split(&unique, 0.1, 17).unwrap();
    assert_eq!(fit.len() + test.len(), unique.len());
    let share = |examples: &[Example]| label_counts(examples)[1] as f64 / examples.len() as f64;
    assert!((share(&fit) - share(&test)).abs() < 0.001);
}

#[test]
fn domain_files_with_double_quotes_read_completely() {
    let (Some(yelp), Some(amazon)) = (
        shared_file("domains/yelp.tsv"),
        shared_file("domains/amazon.tsv"),
    ) else {
        return;
    };
    for (name, path, rows) in [("yelp", &yelp, 954), ("amazon", &amazon, 932)] {
        let data = read_strict(path);
        assert_eq!(data.examples.len(), rows, "{name}");
        // `"` is an ordinary character in TSV: it must neither merge lines nor vanish.
        assert!(
            data.examples.iter().any(|e| e.text.contains("\"")),
            "{name}"
        );
    }
    let yelp = read_strict(&yelp);
    assert!(yelp
        .examples
        .iter()
        .any(|e| e.text == "As for the \"mains,\" also uninspired." && e.label == Label::Negative));
}
