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
    use ::parquet::data_type::{
        ByteArray, ByteArrayType, DataType, DoubleType, Int32Type, Int64Type,
    };
    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use ::parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
    use ::parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    /// A column's values for the low-level writer (`None` is a null).
    enum Col {
        Bytes(Vec<Option<Vec<u8>>>),
        I32(Vec<Option<i32>>),
        I64(Vec<Option<i64>>),
        F64(Vec<Option<f64>>),
    }

    fn strings(values: &[Option<&str>]) -> Col {
        Col::Bytes(
            values
                .iter()
                .map(|v| v.map(|s| s.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn ints(values: &[i64]) -> Col {
        Col::I64(values.iter().copied().map(Some).collect())
    }

    /// Writes a file with the parquet crate's low-level writer: `schema` in Parquet's
    /// message syntax, then each row group's columns in schema order. For the files
    /// `write_examples` cannot write: nulls, other column types and names, several row
    /// groups.
    fn write_row_groups(dir: &TempDir, name: &str, schema: &str, groups: Vec<Vec<Col>>) -> PathBuf {
        let path = dir.path().join(name);
        let schema = Arc::new(parse_message_type(schema).unwrap());
        let file = File::create(&path).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, Default::default()).unwrap();
        for columns in groups {
            let mut group = writer.next_row_group().unwrap();
            for column in columns {
                let mut out = group.next_column().unwrap().unwrap();
                match column {
                    Col::Bytes(v) => write::<ByteArrayType>(
                        &mut out,
                        v.into_iter().map(|b| b.map(ByteArray::from)),
                    ),
                    Col::I32(v) => write::<Int32Type>(&mut out, v),
                    Col::I64(v) => write::<Int64Type>(&mut out, v),
                    Col::F64(v) => write::<DoubleType>(&mut out, v),
                }
                out.close().unwrap();
            }
            group.close().unwrap();
        }
        writer.close().unwrap();
        path
    }

    /// Writes one column: a null at definition level 0, a value at the column's
    /// maximum level, one value per record.
    fn write<T: DataType>(
        out: &mut SerializedColumnWriter<'_>,
        values: impl IntoIterator<Item = Option<T::T>>,
    ) {
        let values: Vec<Option<T::T>> = values.into_iter().collect();
        let writer = out.typed::<T>();
        let descr = writer.get_descriptor().clone();
        let max = descr.max_def_level();
        let levels: Vec<i16> = values
            .iter()
            .map(|v| if v.is_some() { max } else { 0 })
            .collect();
        let starts = vec![0_i16; values.len()];
        let present: Vec<T::T> = values.into_iter().flatten().collect();
        writer
            .write_batch(
                &present,
                (max > 0).then_some(&levels[..]),
                (descr.max_rep_level() > 0).then_some(&starts[..]),
            )
            .unwrap();
    }

    fn write_parquet(dir: &TempDir, name: &str, schema: &str, columns: Vec<Col>) -> PathBuf {
        write_row_groups(dir, name, schema, vec![columns])
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

    /// `write_examples` writes the Hub's SST-2 layout (as pyarrow writes it) and the
    /// reader reads it back exactly.
    #[test]
    fn writes_and_reads_the_hub_sst2_schema() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("train-00000-of-00001.parquet");
        let examples = [ex("it 's \"fine\" ", Positive), ex("bad", Negative)];
        write_examples(&path, Format::Parquet, &examples).unwrap();
        assert_eq!(read_strict(&path).unwrap().examples, examples);

        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr();
        let columns: Vec<String> = schema
            .columns()
            .iter()
            .map(|c| {
                format!(
                    "{} {} {:?}",
                    c.name(),
                    c.physical_type(),
                    c.logical_type_ref()
                )
            })
            .collect();
        assert_eq!(
            columns,
            [
                "idx INT32 None",
                "sentence BYTE_ARRAY Some(String)",
                "label INT64 None"
            ]
        );
        let group = reader.metadata().row_group(0);
        assert_eq!(group.num_rows(), 2);
        assert!(group
            .columns()
            .iter()
            .all(|c| c.compression() == ::parquet::basic::Compression::SNAPPY));
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn accepts_unsigned_and_string_labels_in_any_column_order() {
        let dir = TempDir::new().unwrap();
        let unsigned = write_parquet(
            &dir,
            "a.parquet",
            // The older converted types only, as some writers still write them.
            "message m { required int32 label (UINT_8); optional binary text (UTF8); }",
            vec![
                Col::I32(vec![Some(1), Some(0)]),
                strings(&[Some("good"), Some("bad")]),
            ],
        );
        let want = [ex("good", Positive), ex("bad", Negative)];
        assert_eq!(read(&unsigned).unwrap().examples, want);
        let string_labels = write_parquet(
            &dir,
            "b.parquet",
            "message m { optional binary sentence (STRING); optional binary label (STRING); }",
            vec![
                strings(&[Some("good"), Some("bad")]),
                strings(&[Some("positive"), Some("neg")]),
            ],
        );
        assert_eq!(read(&string_labels).unwrap().examples, want);
    }

    #[test]
    fn bad_rows_are_reported_with_their_row_numbers_across_batches_and_row_groups() {
        let dir = TempDir::new().unwrap();
        let n = 20_000;
        let mut texts: Vec<Option<String>> = (0..n).map(|i| Some(format!("t{i}"))).collect();
        let mut labels: Vec<Option<i64>> = (0..n).map(|i| Some(i % 2)).collect();
        texts[2] = None; // row 3: null text
        texts[9] = Some("  ".into()); // row 10: empty text
        labels[4] = None; // row 5: null label
        labels[15_000] = Some(-1); // row 15,001: out of range, in a later batch and group
                                   // Two row groups, 12,000 and 8,000 rows: batches of 8,192 rows straddle both.
        let split = 12_000;
        let group = |range: std::ops::Range<usize>| {
            vec![
                Col::Bytes(
                    texts[range.clone()]
                        .iter()
                        .map(|t| t.as_ref().map(|t| t.as_bytes().to_vec()))
                        .collect(),
                ),
                Col::I64(labels[range].to_vec()),
            ]
        };
        let path = write_row_groups(
            &dir,
            "x.parquet",
            "message m { optional binary sentence (STRING); optional int64 label; }",
            vec![group(0..split), group(split..n as usize)],
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
            "message m { optional binary text (STRING); optional binary label (STRING); }",
            vec![
                strings(&[Some("a"), Some("b")]),
                strings(&[Some("neutral"), Some("1")]),
            ],
        );
        let data = read(&path).unwrap();
        assert_eq!(data.examples, [ex("b", Positive)]);
        assert_eq!(skipped_lines(&data), [1]);
        assert!(data.skipped[0].message.contains("\"neutral\""));
    }

    /// An unsigned label is read as unsigned: the bits of -1 are 2^64 - 1, not -1.
    #[test]
    fn unsigned_labels_out_of_range_are_malformed_rows() {
        let dir = TempDir::new().unwrap();
        let path = write_parquet(
            &dir,
            "x.parquet",
            "message m { required binary text (STRING); required int64 label (INTEGER(64,false)); }",
            vec![strings(&[Some("a"), Some("b")]), ints(&[-1, 1])],
        );
        let data = read(&path).unwrap();
        assert_eq!(data.examples, [ex("b", Positive)]);
        assert_eq!(
            skipped(&data),
            [(1, "invalid label 18446744073709551615: expected 0 or 1")]
        );
    }

    #[test]
    fn invalid_utf8_in_a_string_column_is_an_error_naming_the_row() {
        let dir = TempDir::new().unwrap();
        let bytes =
            |values: &[&[u8]]| Col::Bytes(values.iter().map(|v| Some(v.to_vec())).collect());
        // (texts, labels, the row and column named)
        let cases = [
            // Latin-1 in the text of row 2.
            (
                bytes(&[b"fine", b"caf\xe9"]),
                strings(&[Some("1"), Some("0")]),
                "row 2",
                "text",
            ),
            // "é" split across rows 1 and 2: valid UTF-8 when the batch's texts are
            // put together, invalid in each row.
            (
                bytes(&[b"caf\xc3", b"\xa9 ok"]),
                strings(&[Some("1"), Some("0")]),
                "row 1",
                "text",
            ),
            // In a string label.
            (
                bytes(&[b"fine", b"ok"]),
                bytes(&[b"1", b"\xff"]),
                "row 2",
                "label",
            ),
        ];
        for (i, (texts, labels, row, column)) in cases.into_iter().enumerate() {
            let path = write_parquet(
                &dir,
                &format!("{i}.parquet"),
                "message m { optional binary text (STRING); optional binary label (STRING); }",
                vec![texts, labels],
            );
            let err = read(&path).unwrap_err();
            assert!(matches!(err, DataError::Parquet { .. }), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains(row) && message.contains(&format!("{column:?}")),
                "{i}: {message}"
            );
        }
    }

    #[test]
    fn missing_columns_and_wrong_types_are_file_errors() {
        let dir = TempDir::new().unwrap();
        let no_label = write_parquet(
            &dir,
            "a.parquet",
            "message m { optional binary sentence (STRING); optional int64 stars; }",
            vec![strings(&[Some("a")]), ints(&[5])],
        );
        match read(&no_label).unwrap_err() {
            DataError::MissingColumn { wanted, found, .. } => {
                assert!(wanted.starts_with("label"));
                assert_eq!(found, ["sentence", "stars"]);
            }
            other => panic!("expected MissingColumn, got {other:?}"),
        }
        // (file, schema, columns, the column, the type found)
        let cases = [
            (
                "b.parquet",
                "message m { optional binary sentence (STRING); optional double label; }",
                vec![strings(&[Some("a")]), Col::F64(vec![Some(1.0)])],
                "label",
                "DOUBLE",
            ),
            (
                "c.parquet",
                "message m { optional int32 text; optional int64 label; }",
                vec![Col::I32(vec![Some(1)]), ints(&[1])],
                "text",
                "INT32",
            ),
            (
                "d.parquet",
                "message m { optional binary text; optional int64 label; }",
                vec![Col::Bytes(vec![Some(b"a".to_vec())]), ints(&[1])],
                "text",
                "BYTE_ARRAY (no annotation)",
            ),
            (
                "e.parquet",
                "message m { optional binary text (STRING); optional int64 label (TIMESTAMP(MILLIS,true)); }",
                vec![strings(&[Some("a")]), ints(&[1])],
                "label",
                "INT64 (TIMESTAMP(MILLIS))",
            ),
            (
                "f.parquet",
                "message m { repeated binary text (STRING); optional int64 label; }",
                vec![strings(&[Some("a")]), ints(&[1])],
                "text",
                "repeated BYTE_ARRAY (STRING)",
            ),
        ];
        for (name, schema, columns, column, found) in cases {
            let path = write_parquet(&dir, name, schema, columns);
            match read(&path).unwrap_err() {
                DataError::WrongColumnType {
                    column: c,
                    found: f,
                    ..
                } => {
                    assert_eq!((c.as_str(), f.as_str()), (column, found), "{name}");
                }
                other => panic!("{name}: expected WrongColumnType, got {other:?}"),
            }
        }
        let err = read(&dir.path().join("b.parquet")).unwrap_err().to_string();
        assert!(err.contains("\"label\" has type DOUBLE"), "{err}");
    }

    /// A nested schema: a struct named like the label, and a list of texts; both are
    /// wrong types, not panics, and a nested column elsewhere does not matter.
    #[test]
    fn nested_columns_are_wrong_types_and_others_are_ignored() {
        let dir = TempDir::new().unwrap();
        let path = write_parquet(
            &dir,
            "a.parquet",
            "message m {
                required group meta { required int32 stars; required binary by (STRING); }
                optional binary text (STRING);
                required group label { required int64 value; }
            }",
            vec![
                Col::I32(vec![Some(5)]),
                strings(&[Some("me")]),
                strings(&[Some("good")]),
                ints(&[1]),
            ],
        );
        assert!(matches!(
            read(&path),
            Err(DataError::WrongColumnType { ref column, ref found, .. })
                if column == "label" && found == "group"
        ));
        let path = write_parquet(
            &dir,
            "b.parquet",
            "message m {
                required group meta { required int32 stars; required binary by (STRING); }
                optional binary text (STRING);
                optional int64 label;
            }",
            vec![
                Col::I32(vec![Some(5)]),
                strings(&[Some("me")]),
                strings(&[Some("good")]),
                ints(&[1]),
            ],
        );
        assert_eq!(read(&path).unwrap().examples, [ex("good", Positive)]);
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
        let path = dir.path().join("x.parquet");
        write_examples(&path, Format::Parquet, &[]).unwrap();
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
fn csv_jsonl_and_parquet_round_trip_exactly_including_line_breaks_and_tabs() {
    let dir = TempDir::new().unwrap();
    let mut examples = tricky_examples();
    examples.push(ex("multi\nline\r\nand\ttab", Positive));
    for format in [Format::Csv, Format::JsonLines, Format::Parquet] {
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
fn writing_into_a_missing_directory_is_an_error() {
    let dir = TempDir::new().unwrap();
    for format in Format::ALL {
        let missing = dir
            .path()
            .join(format!("no/such/dir/x.{}", format.extension()));
        let err = write_examples(&missing, format, &[ex("a", Positive)]).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{format}: {err:?}");
        assert!(err.to_string().contains("no/such/dir/x."), "{err}");
    }
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
