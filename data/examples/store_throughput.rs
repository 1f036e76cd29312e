//! How many feedback writes per second the store acknowledges (durably committed) with
//! 32 concurrent submitters.
//!
//! ```text
//! cargo run --release -p sentiment-data --example store_throughput -- [--secs 5] \
//!     [--sync full|normal] [--dir PATH]
//! ```
//!
//! Two workloads, each for `--secs` seconds on a fresh database:
//! - closed loop: each submitter waits for its acknowledgement before sending the next
//!   (like 32 HTTP clients doing one request at a time); the batch size can be at most
//!   32, so this is the pessimistic figure;
//! - pipelined: each submitter keeps up to 64 writes in flight (like many more clients).
//!
//! `--dir` puts the database on a given disk (default: a temporary directory).

use sentiment_data::store::{FeedbackStatus, NewFeedback, Store, StoreOptions, Synchronous};
use sentiment_data::Label;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const SUBMITTERS: usize = 32;
const IN_FLIGHT: usize = 64;

fn feedback(submitter: usize, n: u64) -> NewFeedback {
    NewFeedback {
        text: format!("submitter {submitter} says text number {n} was rather good"),
        predicted_label: Some(Label::Negative),
        correct_label: Label::Positive,
        confidence: Some(0.61),
        prediction_id: Some(format!("{submitter}-{n}")),
        source: "api".into(),
        api_key: Some("bench".into()),
        model_version: Some("bench".into()),
        status: FeedbackStatus::Accepted,
        client: None,
    }
}

fn run(name: &str, dir: &std::path::Path, options: &StoreOptions, secs: u64, pipelined: bool) {
    let path = dir.join(format!("throughput-{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Store::open(&path, options.clone()).expect("open store");
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for submitter in 0..SUBMITTERS {
            let (store, acked, stop) = (store.clone(), Arc::clone(&acked), Arc::clone(&stop));
            scope.spawn(move || {
                let window = if pipelined { IN_FLIGHT } else { 1 };
                // Credits bound the writes in flight: one is returned per ack.
                let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(window);
                for _ in 0..window {
                    credit_tx.send(()).unwrap();
                }
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    credit_rx.recv().unwrap();
                    let (credit_tx, acked) = (credit_tx.clone(), Arc::clone(&acked));
                    store.submit_feedback(feedback(submitter, n), move |result| {
                        result.expect("feedback acknowledged");
                        acked.fetch_add(1, Ordering::Relaxed);
                        let _ = credit_tx.send(());
                    });
                    n += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
    });
    store.flush().expect("flush");
    let elapsed = start.elapsed().as_secs_f64();
    let total = acked.load(Ordering::Relaxed);
    let stats = store.writer_stats();
    println!(
        "{name:>12}: {:>9.0} acknowledged feedback/s ({total} in {elapsed:.1}s, {} commits, \
         {:.1} writes per commit)",
        total as f64 / elapsed,
        stats.commits,
        stats.requests as f64 / stats.commits.max(1) as f64,
    );
    let stored = store.counters().expect("counters").total_feedback;
    assert_eq!(stored, total, "every acknowledged write is stored");
}

fn main() {
    let mut secs = 5;
    let mut sync = Synchronous::Full;
    let mut dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--secs" => secs = value.parse().expect("--secs takes a number of seconds"),
            "--sync" => {
                sync = match value.as_str() {
                    "full" => Synchronous::Full,
                    "normal" => Synchronous::Normal,
                    _ => panic!("--sync takes full or normal"),
                }
            }
            "--dir" => dir = Some(PathBuf::from(value)),
            _ => panic!("unknown argument {arg}; see the example's documentation"),
        }
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    let options = StoreOptions {
        synchronous: sync,
        ..StoreOptions::default()
    };
    println!(
        "store throughput, {SUBMITTERS} submitters, synchronous={sync:?}, in {}",
        dir.display()
    );
    run("closed-loop", &dir, &options, secs, false);
    run("pipelined", &dir, &options, secs, true);
}
