//! Property-based tests of the dataset readers: any bytes in a `.tsv`, `.csv`,
//! `.jsonl` or `.parquet` file give examples or a typed error, never a panic; every
//! example read has a non-empty text; and what the writers write reads back exactly.
//! 256 cases each by default; `PROPTEST_CASES` raises it. The long versions are the
//! fuzz targets in `fuzz/` (scripts/fuzz.sh).

use proptest::prelude::*;
use sentiment_data::{
    read_examples, write_examples, Example, Format, Label, MalformedPolicy, ReadOptions,
};
use std::path::Path;

fn read_bytes(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    policy: MalformedPolicy,
) -> Result<Vec<Example>, String> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let options = ReadOptions {
        format: None,
        malformed: policy,
    };
    read_examples(&path, &options)
        .map(|d| d.examples)
        .map_err(|e| e.to_string())
}

/// Bytes that look like a dataset often enough to reach the row parser.
fn dataset_bytes() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        "[a-z ,\"'\t]{0,30}\t[01]".prop_map(String::into_bytes),
        "\"[a-z ,\"\t]{0,30}\",(0|1|positive|neg|2|)".prop_map(String::into_bytes),
        r#"\{"(text|sentence|label)": ("[a-z \\"]{0,20}"|[0-9]|true|null|\[\])(, "label": [0-3])?\}"#
            .prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
    ];
    let header = prop_oneof![
        Just(b"sentence\tlabel".to_vec()),
        Just(b"text,label".to_vec()),
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..20),
    ];
    (header, prop::collection::vec(line, 0..12)).prop_map(|(header, lines)| {
        let mut out = header;
        for line in lines {
            out.push(b'\n');
            out.extend(line);
        }
        out
    })
}

proptest! {
    #[test]
    fn any_bytes_in_any_format_give_examples_or_an_error(
        bytes in dataset_bytes(),
        extension in prop_oneof![Just("tsv"), Just("csv"), Just("jsonl"), Just("parquet")],
        strict in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let policy = if strict { MalformedPolicy::Fail } else { MalformedPolicy::Skip };
        if let Ok(examples) = read_bytes(dir.path(), &format!("d.{extension}"), &bytes, policy) {
            prop_assert!(!examples.is_empty(), "an Ok read holds at least one example");
            for example in examples {
                prop_assert!(!example.text.trim().is_empty(), "{example:?}");
            }
        }
    }

    #[test]
    fn a_parquet_file_with_any_byte_changed_never_panics(
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let Some(original) = small_parquet() else { return Ok(()) };
        let mut bytes = original.clone();
        let i = at.index(bytes.len());
        bytes[i] = value;
        let dir = tempfile::tempdir().unwrap();
        let _ = read_bytes(dir.path(), "d.parquet", &bytes, MalformedPolicy::Skip);
    }

    #[test]
    fn written_examples_read_back_exactly(
        rows in prop::collection::vec(
            ("[a-zA-Z0-9 ,.'\"!?\u{e9}\u{4e2d}-]{1,40}", any::<bool>()),
            1..20,
        ),
        format in prop_oneof![
            Just(Format::Tsv),
            Just(Format::Csv),
            Just(Format::JsonLines),
            Just(Format::Parquet),
        ],
    ) {
        let examples: Vec<Example> = rows
            .into_iter()
            .filter(|(text, _)| !text.trim().is_empty())
            .map(|(text, positive)| Example {
                text,
                label: if positive { Label::Positive } else { Label::Negative },
            })
            .collect();
        prop_assume!(!examples.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("round.{}", format.extension()));
        write_examples(&path, format, &examples).unwrap();
        let read = read_examples(&path, &ReadOptions { format: Some(format), malformed: MalformedPolicy::Fail })
            .unwrap();
        prop_assert_eq!(read.examples, examples);
    }
}

/// The shared SST-2 validation Parquet file (70 KB), a real file to corrupt;
/// `None` when the shared data is not there.
fn small_parquet() -> Option<&'static Vec<u8>> {
    static BYTES: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    BYTES
        .get_or_init(|| {
            let root = std::env::var_os("SENTIMENT_SHARED_DATA")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
            let dir = root.join("hub/datasets/stanfordnlp/sst2/data");
            let file = std::fs::read_dir(dir)
                .ok()?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains("validation"))
                .min()?;
            std::fs::read(file).ok()
        })
        .as_ref()
}

/// A case the proptest above found in CI: one changed byte in a data page made
/// arrow-buffer panic ("offset + len out of bounds") while the batches were read,
/// after the footer had decoded fine (when the reader still went through Arrow). It
/// must be an error naming the file.
#[test]
fn a_corrupt_data_page_is_an_error_not_a_panic() {
    let Some(original) = small_parquet() else {
        eprintln!("skipped: no SST-2 Parquet in the shared data");
        return;
    };
    let mut bytes = original.clone();
    // proptest's Index(18163524938904292874) over this file's length.
    let i = ((bytes.len() as u128 * 18_163_524_938_904_292_874u128) >> 64) as usize;
    bytes[i] = 151;
    let dir = tempfile::tempdir().unwrap();
    let error = read_bytes(dir.path(), "d.parquet", &bytes, MalformedPolicy::Skip)
        .expect_err("a corrupt page cannot read as examples");
    assert!(error.contains("d.parquet"), "{error}");
}
