//! The .csv reader on any bytes: examples with non-empty texts, or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentiment_data::{read_examples, MalformedPolicy, ReadOptions};

fuzz_target!(|bytes: &[u8]| {
    // The readers take a path; one file per fuzzing process, rewritten each run.
    let path = std::env::temp_dir().join(format!("sentiment-fuzz-{}.csv", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    for malformed in [MalformedPolicy::Skip, MalformedPolicy::Fail] {
        let options = ReadOptions { format: None, malformed };
        if let Ok(dataset) = read_examples(&path, &options) {
            assert!(!dataset.examples.is_empty());
            assert!(dataset.examples.iter().all(|e| !e.text.trim().is_empty()));
        }
    }
});
