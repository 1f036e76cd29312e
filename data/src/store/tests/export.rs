use super::*;
use std::path::Path;

fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

#[test]
fn export_writes_every_column_and_round_trips_awkward_text() {
    let (dir, store) = temp_store();
    let awkward = "comma, \"quote\"\nnew line";
    store
        .submit_feedback_wait(new_feedback(awkward, Label::Positive))
        .unwrap();
    let mut bare = new_feedback("bare", Label::Negative);
    bare.predicted_label = None;
    bare.confidence = None;
    bare.prediction_id = None;
    bare.api_key = None;
    bare.model_version = None;
    bare.status = FeedbackStatus::Rejected;
    store.submit_feedback_wait(bare).unwrap();

    let out = dir.path().join("export.csv");
    std::fs::write(&out, "old contents").unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    let n = export_feedback_csv(&db, &out, FeedbackFilter::default()).unwrap();
    assert_eq!(n, 2);
    let (header, rows) = read_csv(&out);
    assert_eq!(header, EXPORT_COLUMNS);
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!(&first[0], "1");
    assert!(
        time::OffsetDateTime::parse(&first[1], &time::format_description::well_known::Rfc3339)
            .is_ok()
    );
    assert_eq!(&first[2], awkward);
    assert_eq!(&first[3], "negative");
    assert_eq!(&first[4], "positive");
    assert_eq!(&first[5], "0.75");
    assert_eq!(&first[6], &format!("pred-{awkward}"));
    assert_eq!(&first[7], "api");
    assert_eq!(&first[8], "ci");
    assert_eq!(&first[9], "accepted");
    assert_eq!(&first[10], "v1");
    let second = &rows[1];
    assert_eq!(
        second.iter().collect::<Vec<_>>(),
        vec!["2", &second[1], "bare", "", "negative", "", "", "api", "", "rejected", ""]
    );

    let n = export_feedback_csv(
        &db,
        &out,
        FeedbackFilter {
            status: Some(FeedbackStatus::Rejected),
            ..FeedbackFilter::default()
        },
    )
    .unwrap();
    assert_eq!(n, 1);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn export_works_while_another_connection_writes() {
    let (dir, store) = temp_store();
    for n in 0..1_000 {
        store.submit_feedback(new_feedback(&format!("seed {n}"), Label::Positive), |r| {
            r.unwrap();
        });
    }
    store.flush().unwrap();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for n in 0..5_000 {
                store.submit_feedback(new_feedback(&format!("live {n}"), Label::Negative), |r| {
                    r.unwrap();
                });
            }
            store.flush().unwrap();
        })
    };
    let db = dir.path().join(DB_FILE_NAME);
    let out = dir.path().join("live.csv");
    let mut exports = 0;
    loop {
        let finished = writer.is_finished();
        let n = export_feedback_csv(&db, &out, FeedbackFilter::default()).unwrap();
        assert!(n >= 1_000);
        let (_, rows) = read_csv(&out);
        assert_eq!(rows.len(), n);
        // A snapshot: ids 1..=n with no gap.
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row[0].parse::<usize>().unwrap(), i + 1);
        }
        exports += 1;
        if finished {
            assert_eq!(n, 6_000);
            break;
        }
    }
    writer.join().unwrap();
    assert!(exports >= 1);
}

#[test]
fn export_works_after_the_daemon_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    {
        let store = Store::open(&db, StoreOptions::default()).unwrap();
        store
            .submit_feedback_wait(new_feedback("kept", Label::Positive))
            .unwrap();
    }
    let out = dir.path().join("out.csv");
    assert_eq!(
        export_feedback_csv(&db, &out, FeedbackFilter::default()).unwrap(),
        1
    );
}

#[test]
fn export_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let err = export_feedback_csv(
        &missing,
        &dir.path().join("o.csv"),
        FeedbackFilter::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no such database"), "{err}");

    let (dir, _store) = temp_store();
    let db = dir.path().join(DB_FILE_NAME);
    let bad_out = dir.path().join("missing-dir").join("o.csv");
    let err = export_feedback_csv(&db, &bad_out, FeedbackFilter::default()).unwrap_err();
    assert!(err.to_string().contains("missing-dir"), "{err}");
}

#[test]
fn export_leaves_the_client_out() {
    let (dir, store) = temp_store();
    let mut fb = new_feedback("anonymous", Label::Positive);
    fb.api_key = None;
    fb.client = Some("addr:203.0.113.9".into());
    store.submit_feedback_wait(fb).unwrap();
    let out = dir.path().join("export.csv");
    let db = dir.path().join(DB_FILE_NAME);
    assert_eq!(
        export_feedback_csv(&db, &out, FeedbackFilter::default()).unwrap(),
        1
    );
    let (header, rows) = read_csv(&out);
    assert_eq!(header, EXPORT_COLUMNS);
    assert_eq!(rows[0].len(), EXPORT_COLUMNS.len());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("203.0.113.9"), "{text}");
}
