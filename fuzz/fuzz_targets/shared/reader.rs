//! The body of the reader targets: any bytes as a file with the given extension, read
//! with both malformed-row policies: examples with non-empty texts, or a typed error.

use sentiment_data::{read_examples, MalformedPolicy, ReadOptions};

pub fn read_any_bytes(bytes: &[u8], extension: &str) {
    // The readers take a path; one file per fuzzing process, rewritten each run.
    let path = std::env::temp_dir().join(format!(
        "sentiment-fuzz-{}.{extension}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    for malformed in [MalformedPolicy::Skip, MalformedPolicy::Fail] {
        let options = ReadOptions {
            format: None,
            malformed,
        };
        if let Ok(dataset) = read_examples(&path, &options) {
            assert!(!dataset.examples.is_empty());
            assert!(dataset.examples.iter().all(|e| !e.text.trim().is_empty()));
        }
    }
}
