//! Tests of the readers: every format, every kind of bad row, both policies.

use super::*;
use crate::write_examples;
use sentiment_core::Label::{Negative, Positive};
use std::fs;
use tempfile::TempDir;

fn file(dir: &TempDir, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, contents).unwrap();
    path
}

fn read(path: &Path) -> Result<Dataset, DataError> {
    read_examples(path, &ReadOptions::default())
}

fn read_strict(path: &Path) -> Result<Dataset, DataError> {
    let options = ReadOptions {
        malformed: MalformedPolicy::Fail,
        ..ReadOptions::default()
    };
    read_examples(path, &options)
}

fn ex(text: &str, label: Label) -> Example {
    Example::new(text, label)
}

/// The (line, message) of each skipped row.
fn skipped(dataset: &Dataset) -> Vec<(u64, &str)> {
    dataset
        .skipped
        .iter()
        .map(|row| (row.line, row.message.as_str()))
        .collect()
}

fn skipped_lines(dataset: &Dataset) -> Vec<u64> {
    dataset.skipped.iter().map(|row| row.line).collect()
}

// ---------------------------------------------------------------- TSV and CSV

/// Every reader applies the same clean-up as the API and the CLI: a C1 control reads
/// as its Windows-1252 meaning, another control as a space.
#[test]
fn every_format_cleans_control_characters_the_same_way() {
    let dir = TempDir::new().unwrap();
    let raw = "fun \u{0096} isn\u{0092}t it\u{0007}";
    let cleaned = "fun \u{2013} isn\u{2019}t it ";
    let tsv = file(&dir, "c.tsv", format!("sentence\tlabel\n{raw}\t1\n"));
    let csv = file(&dir, "c.csv", format!("text,label\n\"{raw}\",1\n"));
    let jsonl = file(
        &dir,
        "c.jsonl",
        format!("{}\n", serde_json::json!({"text": raw, "label": 1})),
    );
    for path in [tsv, csv, jsonl] {
        let data = read(&path).unwrap();
        assert_eq!(data.examples, [ex(cleaned, Positive)], "{}", path.display());
    }
}

#[test]
fn tsv_with_sst2_header_keeps_quotes_and_text_as_is() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "train.tsv",
        "sentence\tlabel\nit 's a \"charming\" journey . \t1\n  odd spacing\t0\n",
    );
    let data = read(&path).unwrap();
    assert_eq!(
        data.examples,
        [
            ex("it 's a \"charming\" journey . ", Positive),
            ex("  odd spacing", Negative)
        ]
    );
    assert!(data.skipped.is_empty());
}

#[test]
fn header_columns_are_found_by_name_in_any_case_and_order() {
    let dir = TempDir::new().unwrap();
    let tsv = file(
        &dir,
        "a.tsv",
        "ID\tPolarity\tReview\n1\tpos\tgood\n2\tneg\tbad\n",
    );
    let csv = file(
        &dir,
        "b.csv",
        "Sentiment,id,Comment\n1,7,\"nice, really\"\n",
    );
    assert_eq!(
        read(&tsv).unwrap().examples,
        [ex("good", Positive), ex("bad", Negative)]
    );
    assert_eq!(read(&csv).unwrap().examples, [ex("nice, really", Positive)]);
    for (header, text) in [
        ("text,label", "t"),
        ("content,target", "c"),
        ("review,class", "r"),
    ] {
        let path = file(&dir, "c.csv", format!("{header}\n{text},0\n"));
        assert_eq!(
            read(&path).unwrap().examples,
            [ex(text, Negative)],
            "{header}"
        );
    }
}

#[test]
fn headerless_two_column_files_in_either_order() {
    let dir = TempDir::new().unwrap();
    let text_label = file(&dir, "a.tsv", "great fun\t1\ndull\t0\n");
    let label_text = file(&dir, "b.tsv", "1\tgreat fun\n0\tdull\n");
    let csv_label_text = file(&dir, "c.csv", "positive,\"great, fun\"\nnegative,dull\n");
    let want = [ex("great fun", Positive), ex("dull", Negative)];
    assert_eq!(read(&text_label).unwrap().examples, want);
    assert_eq!(read(&label_text).unwrap().examples, want);
    assert_eq!(
        read(&csv_label_text).unwrap().examples,
        [ex("great, fun", Positive), ex("dull", Negative)]
    );
}

#[test]
fn every_label_spelling_is_accepted() {
    let dir = TempDir::new().unwrap();
    let rows = [
        "a\t0",
        "b\t1",
        "c\tneg",
        "d\tpos",
        "e\tnegative",
        "f\tPOSITIVE",
        "g\t Neg ",
        "h\tPos",
    ];
    let path = file(
        &dir,
        "labels.tsv",
        format!("text\tlabel\n{}\n", rows.join("\n")),
    );
    let labels: Vec<Label> = read(&path)
        .unwrap()
        .examples
        .iter()
        .map(|e| e.label)
        .collect();
    assert_eq!(
        labels,
        [Negative, Positive, Negative, Positive, Negative, Positive, Negative, Positive]
    );
}

#[test]
fn tsv_malformed_rows_are_skipped_with_their_line_numbers() {
    let dir = TempDir::new().unwrap();
    let mut contents = b"sentence\tlabel\n".to_vec(); // line 1
    contents.extend_from_slice(b"good\t1\n"); // 2
    contents.extend_from_slice(b"a tab\tinside\t1\n"); // 3: three fields
    contents.extend_from_slice(b"no label\n"); // 4: one field
    contents.extend_from_slice(b"\t1\n"); // 5: empty text
    contents.extend_from_slice(b"   \t0\n"); // 6: whitespace text
    contents.extend_from_slice(b"meh\t2\n"); // 7: invalid label
    contents.extend_from_slice(b"caf\xE9 latin-1\t1\n"); // 8: invalid UTF-8 text, kept
    contents.extend_from_slice(b"bytes\t\xFF\n"); // 9: invalid UTF-8 label
    contents.extend_from_slice(b"\n"); // 10: blank, ignored
    contents.extend_from_slice(b"bad\t0\n"); // 11
    let path = file(&dir, "messy.tsv", &contents);
    let data = read(&path).unwrap();
    assert_eq!(
        data.examples,
        [
            ex("good", Positive),
            ex("caf\u{FFFD} latin-1", Positive),
            ex("bad", Negative)
        ]
    );
    // Invalid UTF-8 in a text is decoded lossily and counted, not dropped.
    assert_eq!(data.lossy_utf8.len(), 1);
    assert_eq!(data.lossy_utf8[0].line, 8);
    assert!(data.lossy_utf8[0].message.contains("offset 3"));
    let rows = skipped(&data);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [3, 4, 5, 6, 7, 9]
    );
    assert!(
        rows[0]
            .1
            .contains("expected 2 tab-separated fields, found 3"),
        "{}",
        rows[0].1
    );
    assert!(rows[0].1.contains("tab inside the text"));
    assert!(rows[1].1.contains("found 1"));
    assert!(rows[2].1.contains("empty"));
    assert!(rows[3].1.contains("empty"));
    assert!(rows[4].1.contains("invalid label \"2\""), "{}", rows[4].1);
    assert!(rows[5].1.contains("label is not valid UTF-8"));
    let shown = data.skipped[4].to_string();
    assert_eq!(
        shown,
        format!("{}:7: {}", path.display(), rows[4].1),
        "Display is path:line: message"
    );

    match read_strict(&path).unwrap_err() {
        DataError::Malformed {
            path: p,
            line,
            message,
        } => {
            assert_eq!((p, line), (path.clone(), 3));
            assert!(message.contains("found 3"));
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    let message = read_strict(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:3: ", path.display())),
        "{message}"
    );
    assert!(message.contains("skip policy"), "{message}");
}

#[test]
fn csv_malformed_rows_and_multiline_quoted_fields() {
    let dir = TempDir::new().unwrap();
    let contents = concat!(
        "text,label\n",                          // 1
        "\"a \"\"quoted\"\", multi\nline\",1\n", // 2-3
        "plain,0\n",                             // 4
        "too,many,fields\n",                     // 5
        "\"\",1\n",                              // 6: empty text
        "fine,maybe\n",                          // 7: invalid label
        "ok,1\n",                                // 8
    );
    let path = file(&dir, "x.csv", contents);
    let data = read(&path).unwrap();
    assert_eq!(
        data.examples,
        [
            ex("a \"quoted\", multi\nline", Positive),
            ex("plain", Negative),
            ex("ok", Positive)
        ]
    );
    assert_eq!(skipped_lines(&data), [5, 6, 7]);
    assert!(data.skipped[0].message.contains("comma-separated"));
    assert!(data.skipped[2].message.contains("\"maybe\""));
    assert!(matches!(
        read_strict(&path),
        Err(DataError::Malformed { line: 5, .. })
    ));
}

#[test]
fn crlf_line_endings_read_like_lf() {
    let dir = TempDir::new().unwrap();
    let tsv = file(
        &dir,
        "a.tsv",
        "sentence\tlabel\r\ngood\t1\r\n\r\nbad\t0\r\n",
    );
    let csv = file(&dir, "b.csv", "1,\"good, yes\"\r\n0,bad\r\n");
    let jsonl = file(
        &dir,
        "c.jsonl",
        "{\"text\":\"good\",\"label\":1}\r\n\r\n{\"text\":\"bad\",\"label\":0}\r\n",
    );
    let tsv_headerless = file(&dir, "d.tsv", "1\tgood\r\n0\tbad\r\n");
    for path in [&tsv, &jsonl, &tsv_headerless] {
        let data = read(path).unwrap();
        assert_eq!(
            data.examples,
            [ex("good", Positive), ex("bad", Negative)],
            "{path:?}"
        );
        assert!(data.skipped.is_empty(), "{:?}", data.skipped);
    }
    assert_eq!(
        read(&csv).unwrap().examples,
        [ex("good, yes", Positive), ex("bad", Negative)]
    );
    // Line numbers stay physical with CRLF.
    let messy = file(&dir, "e.tsv", "sentence\tlabel\r\ngood\t1\r\nbad\t7\r\n");
    assert_eq!(skipped_lines(&read(&messy).unwrap()), [3]);
}

#[test]
fn a_utf8_bom_is_ignored() {
    let dir = TempDir::new().unwrap();
    let bom = "\u{FEFF}";
    let tsv = file(&dir, "a.tsv", format!("{bom}sentence\tlabel\ngood\t1\n"));
    let csv = file(&dir, "b.csv", format!("{bom}\"good, quoted\",1\n"));
    let jsonl = file(
        &dir,
        "c.jsonl",
        format!("{bom}{{\"text\":\"good\",\"label\":1}}\n"),
    );
    let headerless = file(&dir, "d.tsv", format!("{bom}1\tgood\n"));
    assert_eq!(read(&tsv).unwrap().examples, [ex("good", Positive)]);
    assert_eq!(read(&csv).unwrap().examples, [ex("good, quoted", Positive)]);
    assert_eq!(read(&jsonl).unwrap().examples, [ex("good", Positive)]);
    assert_eq!(read(&headerless).unwrap().examples, [ex("good", Positive)]);
}

#[test]
fn empty_files_and_files_without_usable_rows_are_clear_errors() {
    let dir = TempDir::new().unwrap();
    let cases = [
        ("empty.tsv", "", 0),
        ("blank.csv", "\n\n  \n", 0),
        ("header.tsv", "sentence\tlabel\n", 0),
        ("empty.jsonl", "\n\n", 0),
        ("bad.tsv", "sentence\tlabel\nx\t5\n\t1\n", 2),
    ];
    for (name, contents, n_skipped) in cases {
        let path = file(&dir, name, contents);
        let err = read(&path).unwrap_err();
        match &err {
            DataError::Empty { path: p, skipped } => {
                assert_eq!((p, *skipped), (&path, n_skipped), "{name}");
            }
            other => panic!("{name}: expected Empty, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(name) && message.contains("no usable examples"),
            "{message}"
        );
    }
}

#[test]
fn a_header_without_the_needed_columns_lists_what_it_found() {
    let dir = TempDir::new().unwrap();
    let no_label = file(&dir, "a.tsv", "text\tstars\ngood\t5\n");
    let err = read(&no_label).unwrap_err();
    match &err {
        DataError::MissingColumn { wanted, found, .. } => {
            assert!(wanted.starts_with("label"), "{wanted}");
            assert_eq!(found, &["text", "stars"]);
        }
        other => panic!("expected MissingColumn, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("sentiment") && message.contains("\"stars\""),
        "{message}"
    );

    let no_text = file(&dir, "b.csv", "body,label\ngood,1\n");
    assert!(matches!(
        read(&no_text),
        Err(DataError::MissingColumn { ref wanted, .. }) if wanted.starts_with("text")
    ));
    let neither = file(&dir, "c.csv", "id,body,stars\n1,good,5\n");
    let message = read(&neither).unwrap_err().to_string();
    assert!(
        message.contains("sentence") && message.contains("polarity"),
        "{message}"
    );
    // Two columns, but neither looks like a label: taken as a header.
    let two = file(&dir, "d.tsv", "review_body\tstars\ngood\t5\n");
    assert!(matches!(read(&two), Err(DataError::MissingColumn { .. })));
}

#[test]
fn format_comes_from_the_extension_or_the_options() {
    let dir = TempDir::new().unwrap();
    let txt = file(&dir, "data.txt", "good\t1\n");
    let err = read(&txt).unwrap_err();
    assert!(matches!(err, DataError::UnknownFormat { .. }));
    let message = err.to_string();
    assert!(
        message.contains(".tsv") && message.contains(".parquet"),
        "{message}"
    );
    let options = ReadOptions {
        format: Some(Format::Tsv),
        ..ReadOptions::default()
    };
    assert_eq!(
        read_examples(&txt, &options).unwrap().examples,
        [ex("good", Positive)]
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = read(Path::new("/nonexistent/train.tsv")).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/train.tsv"));
}

// ---------------------------------------------------------------- JSON Lines

#[test]
fn jsonl_reads_text_or_sentence_and_integer_or_string_labels() {
    let dir = TempDir::new().unwrap();
    let contents = concat!(
        "{\"text\": \"good\", \"label\": 1}\n",
        "\n",
        "{\"sentence\": \"bad\", \"label\": 0, \"idx\": 3}\n",
        "{\"label\": \"positive\", \"text\": \"fine\"}\n",
        "  {\"text\": \"meh\", \"label\": \"NEG\"}  \n",
        "{\"text\": \"both\", \"sentence\": \"ignored\", \"label\": \"1\"}\n",
    );
    let path = file(&dir, "x.jsonl", contents);
    let data = read(&path).unwrap();
    assert_eq!(
        data.examples,
        [
            ex("good", Positive),
            ex("bad", Negative),
            ex("fine", Positive),
            ex("meh", Negative),
            ex("both", Positive)
        ]
    );
}

#[test]
fn jsonl_malformed_rows_of_every_kind() {
    let dir = TempDir::new().unwrap();
    let mut contents = Vec::new();
    let lines: [&[u8]; 14] = [
        b"{\"text\": \"ok\", \"label\": 1}",           // 1
        b"{\"text\": \"unterminated",                  // 2: bad JSON
        b"[\"a list\", 1]",                            // 3: not an object
        b"{\"label\": 1}",                             // 4: no text
        b"{\"text\": 42, \"label\": 1}",               // 5: text not a string
        b"{\"text\": \"no label\"}",                   // 6: no label
        b"{\"text\": \"bool\", \"label\": true}",      // 7: boolean label
        b"{\"text\": \"two\", \"label\": 2}",          // 8: out of range
        b"{\"text\": \"float\", \"label\": 1.0}",      // 9: not an integer
        b"{\"text\": \"word\", \"label\": \"maybe\"}", // 10: bad string label
        b"{\"text\": \"null\", \"label\": null}",      // 11: null label
        b"{\"text\": \" \", \"label\": 0}",            // 12: empty text
        b"{\"text\": \"caf\xE9\", \"label\": 0}",      // 13: invalid UTF-8, kept
        b"{\"text\": \"also ok\", \"label\": \"0\"}",  // 14
    ];
    for line in lines {
        contents.extend_from_slice(line);
        contents.push(b'\n');
    }
    let path = file(&dir, "x.jsonl", &contents);
    let data = read(&path).unwrap();
    assert_eq!(
        data.examples,
        [
            ex("ok", Positive),
            ex("caf\u{FFFD}", Negative),
            ex("also ok", Negative)
        ]
    );
    assert_eq!(data.lossy_utf8.len(), 1);
    assert_eq!(data.lossy_utf8[0].line, 13);
    let rows = skipped(&data);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        (2..=12).collect::<Vec<u64>>()
    );
    let expect = [
        "not valid JSON",
        "expected a JSON object",
        "missing field \"text\"",
        "field \"text\" must be a string, found a number",
        "missing field \"label\"",
        "found a boolean",
        "invalid label 2",
        "invalid label 1.0",
        "invalid label \"maybe\"",
        "found null",
        "empty",
    ];
    for ((line, message), want) in rows.iter().zip(expect) {
        assert!(
            message.contains(want),
            "line {line}: {message:?} lacks {want:?}"
        );
    }
    assert!(matches!(
        read_strict(&path),
        Err(DataError::Malformed { line: 2, .. })
    ));
}

// ---------------------------------------------------------------- Parquet

mod parquet_files {
    use super::*;
    use ::parquet::arrow::ArrowWriter;
    use arrow_array::{
        ArrayRef, Float64Array, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
        UInt8Array,
    };
    use std::sync::Arc;

    fn write_parquet(dir: &TempDir, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
        let path = dir.path().join(name);
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let mut writer =
            ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    /// Found by fuzzing: a footer on which the parquet crate panics ("capacity
    /// overflow") instead of returning an error. It must be an error naming the file.
    #[test]
    fn a_footer_the_decoder_panics_on_is_an_error() {
        let bytes: &[u8] = &[
            0, 0, 0, 0, 1, 0, 0, 61, 49, 86, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185,
            185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185,
            49, 82, 50, 0, 0, 0, 65, 185, 80, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185,
            185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185, 185,
            185, 25, 25, 25, 25, 25, 252, 252, 252, 252, 252, 252, 252, 252, 252, 252, 252, 252,
            252, 252, 252, 25, 0, 0, 0, 25, 1, 0, 0, 0, 0, 0, 0, 8, 25, 25, 25, 25, 25, 25, 25, 49,
            82, 185, 185, 188, 185, 185, 185, 185, 185, 50, 82, 50, 0, 0, 0, 80, 65, 82, 49,
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corrupt.parquet");
        std::fs::write(&path, bytes).unwrap();
        let error = read_examples(&path, &ReadOptions::default()).unwrap_err();
        assert!(matches!(error, DataError::Parquet { .. }), "{error:?}");
        assert!(error.to_string().contains("corrupt.parquet"), "{error}");
    }

    #[test]
    fn reads_the_hub_sst2_schema() {
        let dir = TempDir::new().unwrap();
        let path = write_parquet(
            &dir,
            "train-00000-of-00001.parquet",
            vec![
                ("idx", Arc::new(Int32Array::from(vec![0, 1])) as ArrayRef),
                ("sentence", strings(&[Some("it 's \"fine\" "), Some("bad")])),
                ("label", Arc::new(Int64Array::from(vec![1, 0]))),
            ],
        );
        let data = read(&path).unwrap();
        assert_eq!(
            data.examples,
            [ex("it 's \"fine\" ", Positive), ex("bad", Negative)]
        );
    }

    #[test]
    fn accepts_text_large_strings_small_and_string_labels() {
        let dir = TempDir::new().unwrap();
        let large: ArrayRef = Arc::new(LargeStringArray::from(vec!["good", "bad"]));
        let unsigned = write_parquet(
            &dir,
            "a.parquet",
            vec![
                ("label", Arc::new(UInt8Array::from(vec![1, 0])) as ArrayRef),
                ("text", large),
            ],
        );
        let want = [ex("good", Positive), ex("bad", Negative)];
        assert_eq!(read(&unsigned).unwrap().examples, want);
        let string_labels = write_parquet(
            &dir,
            "b.parquet",
            vec![
                ("sentence", strings(&[Some("good"), Some("bad")])),
                ("label", strings(&[Some("positive"), Some("neg")])),
            ],
        );
        assert_eq!(read(&string_labels).unwrap().examples, want);
    }

    #[test]
    fn bad_rows_are_reported_with_their_row_numbers_across_batches() {
        let dir = TempDir::new().unwrap();
        let n = 20_000;
        let mut texts: Vec<Option<String>> = (0..n).map(|i| Some(format!("t{i}"))).collect();
        let mut labels: Vec<Option<i64>> = (0..n).map(|i| Some(i % 2)).collect();
        texts[2] = None; // row 3: null text
        texts[9] = Some("  ".into()); // row 10: empty text
        labels[4] = None; // row 5: null label
        labels[15_000] = Some(-1); // row 15,001: out of range, in a later batch
        let path = write_parquet(
            &dir,
            "x.parquet",
            vec![
                ("sentence", Arc::new(StringArray::from(texts)) as ArrayRef),
                ("label", Arc::new(Int64Array::from(labels))),
            ],
        );
        let data = read(&path).unwrap();
        assert_eq!(data.examples.len(), n as usize - 4);
        let rows = skipped(&data);
        assert_eq!(
            rows,
            [
                (3, "sentence is null"),
                (5, "the label is null"),
                (10, "the text is empty"),
                (15_001, "invalid label -1: expected 0 or 1")
            ]
        );
        assert_eq!(
            data.examples[n as usize - 5],
            ex(&format!("t{}", n - 1), Positive)
        );
        assert!(matches!(
            read_strict(&path),
            Err(DataError::Malformed { line: 3, .. })
        ));
    }

    #[test]
    fn string_labels_that_do_not_parse_are_malformed_rows() {
        let dir = TempDir::new().unwrap();
        let path = write_parquet(
            &dir,
            "x.parquet",
            vec![
                ("text", strings(&[Some("a"), Some("b")])),
                ("label", strings(&[Some("neutral"), Some("1")])),
            ],
        );
        let data = read(&path).unwrap();
        assert_eq!(data.examples, [ex("b", Positive)]);
        assert_eq!(skipped_lines(&data), [1]);
        assert!(data.skipped[0].message.contains("\"neutral\""));
    }

    #[test]
    fn missing_columns_and_wrong_types_are_file_errors() {
        let dir = TempDir::new().unwrap();
        let no_label = write_parquet(
            &dir,
            "a.parquet",
            vec![
                ("sentence", strings(&[Some("a")])),
                ("stars", Arc::new(Int64Array::from(vec![5])) as ArrayRef),
            ],
        );
        match read(&no_label).unwrap_err() {
            DataError::MissingColumn { wanted, found, .. } => {
                assert!(wanted.starts_with("label"));
                assert_eq!(found, ["sentence", "stars"]);
            }
            other => panic!("expected MissingColumn, got {other:?}"),
        }
        let float_label = write_parquet(
            &dir,
            "b.parquet",
            vec![
                ("sentence", strings(&[Some("a")])),
                ("label", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
            ],
        );
        let err = read(&float_label).unwrap_err();
        assert!(matches!(err, DataError::WrongColumnType { .. }), "{err:?}");
        assert!(err.to_string().contains("Float64"), "{err}");
        let numeric_text = write_parquet(
            &dir,
            "c.parquet",
            vec![
                ("text", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
                ("label", Arc::new(Int64Array::from(vec![1]))),
            ],
        );
        assert!(matches!(
            read(&numeric_text),
            Err(DataError::WrongColumnType { ref column, .. }) if column == "text"
        ));
    }

    #[test]
    fn a_file_that_is_not_parquet_is_a_parquet_error() {
        let dir = TempDir::new().unwrap();
        let path = file(&dir, "x.parquet", "sentence\tlabel\ngood\t1\n");
        let err = read(&path).unwrap_err();
        assert!(matches!(err, DataError::Parquet { .. }), "{err:?}");
        assert!(err.to_string().contains("x.parquet"));
        let empty = file(&dir, "empty.parquet", "");
        assert!(matches!(read(&empty), Err(DataError::Parquet { .. })));
    }

    #[test]
    fn a_parquet_file_without_rows_is_empty() {
        let dir = TempDir::new().unwrap();
        let path = write_parquet(
            &dir,
            "x.parquet",
            vec![
                ("sentence", strings(&[])),
                (
                    "label",
                    Arc::new(Int64Array::from(Vec::<i64>::new())) as ArrayRef,
                ),
            ],
        );
        assert!(matches!(
            read(&path),
            Err(DataError::Empty { skipped: 0, .. })
        ));
    }
}

// ---------------------------------------------------------------- several files, writing

#[test]
fn read_many_concatenates_in_order_and_collects_skipped_rows() {
    let dir = TempDir::new().unwrap();
    let a = file(&dir, "a.tsv", "sentence\tlabel\none\t1\nbad\t9\n");
    let b = file(
        &dir,
        "b.jsonl",
        "{\"text\":\"two\",\"label\":0}\nnot json\n",
    );
    let data = read_many(&[a.clone(), b.clone()], &ReadOptions::default()).unwrap();
    assert_eq!(data.examples, [ex("one", Positive), ex("two", Negative)]);
    let where_: Vec<(PathBuf, u64)> = data
        .skipped
        .iter()
        .map(|r| (r.path.clone(), r.line))
        .collect();
    assert_eq!(where_, [(a, 3), (b, 2)]);
    assert!(matches!(
        read_many(&[], &ReadOptions::default()),
        Err(DataError::InvalidArgument(_))
    ));
}

fn tricky_examples() -> Vec<Example> {
    vec![
        ex("it 's \"quoted\" , with commas", Positive),
        ex("  leading and trailing spaces  ", Negative),
        ex("unicode: café 東京 \u{1F600}", Positive),
        ex("backslash \\ and 'single' quotes", Negative),
        ex("0", Positive),
        ex("sentence", Negative),
    ]
}

#[test]
fn csv_and_jsonl_round_trip_exactly_including_line_breaks_and_tabs() {
    let dir = TempDir::new().unwrap();
    let mut examples = tricky_examples();
    examples.push(ex("multi\nline\r\nand\ttab", Positive));
    for format in [Format::Csv, Format::JsonLines] {
        let path = dir.path().join(format!("out.{}", format.extension()));
        write_examples(&path, format, &examples).unwrap();
        let data = read_strict(&path).unwrap();
        assert_eq!(data.examples, examples, "{format}");
    }
}

#[test]
fn tsv_round_trips_and_replaces_tabs_and_line_breaks_by_spaces() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("out.tsv");
    let mut examples = tricky_examples();
    write_examples(&path, Format::Tsv, &examples).unwrap();
    assert!(fs::read_to_string(&path)
        .unwrap()
        .starts_with("sentence\tlabel\n"));
    assert_eq!(read_strict(&path).unwrap().examples, examples);

    examples.push(ex("multi\nline\r\nand\ttab", Positive));
    write_examples(&path, Format::Tsv, &examples).unwrap();
    let back = read_strict(&path).unwrap().examples;
    assert_eq!(back.last(), Some(&ex("multi line  and tab", Positive)));
    assert_eq!(back.len(), examples.len());
}

#[test]
fn writing_replaces_the_file_and_leaves_no_temporary_behind() {
    let dir = TempDir::new().unwrap();
    let path = file(&dir, "out.jsonl", "old contents\n");
    write_examples(&path, Format::JsonLines, &[ex("new", Positive)]).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "{\"text\":\"new\",\"label\":1}\n"
    );
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn writing_parquet_or_into_a_missing_directory_is_an_error() {
    let dir = TempDir::new().unwrap();
    let parquet = dir.path().join("x.parquet");
    let err = write_examples(&parquet, Format::Parquet, &[ex("a", Positive)]).unwrap_err();
    assert!(matches!(err, DataError::UnsupportedWrite { .. }));
    assert!(err.to_string().contains(".jsonl"));
    assert!(!parquet.exists());
    let missing = dir.path().join("no/such/dir/x.tsv");
    let err = write_examples(&missing, Format::Tsv, &[ex("a", Positive)]).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert!(err.to_string().contains("no/such/dir/x.tsv"));
}

/// A feedback export escapes formula-like cells against spreadsheet injection, and the
/// CSV reader takes the escape off again: every text comes back exactly, and the
/// export's `correct_label` column is the label.
#[test]
fn formula_escaped_csv_reads_back_exactly() {
    let dir = TempDir::new().unwrap();
    let texts = [
        "=1+2",
        "+cmd",
        "-lrb- a film -rrb-",
        "@SUM(A1)",
        "'=quoted",
        "''=",
        "'a",
        "'",
        "''",
        "plain",
        "a = b",
    ];
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["id", "text", "predicted_label", "correct_label"])
        .unwrap();
    for (i, text) in texts.iter().enumerate() {
        let id = i.to_string();
        let cells = [id.as_str(), text, "negative", "positive"];
        let escaped: Vec<_> = cells.iter().map(|c| crate::escape_formula(c)).collect();
        csv.write_record(escaped.iter().map(|c| c.as_bytes()))
            .unwrap();
    }
    let bytes = csv.into_inner().unwrap();
    let written = String::from_utf8(bytes.clone()).unwrap();
    assert!(written.contains("'=1+2") && written.contains("'-lrb-") && written.contains("'@SUM"));
    let path = file(&dir, "export.csv", bytes);
    let data = read_strict(&path).unwrap();
    let read: Vec<&str> = data.examples.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(read, texts);
    assert!(data.examples.iter().all(|e| e.label == Positive));
}
