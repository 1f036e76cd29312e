//! Load with change: mixed traffic (predict, batch, feedback) from a fixed number of
//! keep-alive TCP clients while the served model is swapped at least 10 times (promote
//! between two versions on the operator socket) and a retrain runs. Asserts zero failed
//! requests and bounded memory; prints total requests, p50/p99 latency per kind and the
//! daemon's RSS.
//!
//! `SENTIMENT_LOAD_SECS` sets the duration (default 12 s, the CI version; the long
//! version is 60 s, see README "Reliability"). Latency figures depend on the machine and
//! on whatever else runs on it: they are reported, never asserted.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEFAULT_SECS: u64 = 12;
/// Client connections sending requests back to back.
const CONCURRENCY: usize = 8;
/// Texts per batch request.
const BATCH: usize = 16;
const MIN_SWAPS: usize = 10;
/// Allowed RSS growth from the steady state (both models loaded once, the retrain
/// done) to the end of the run: max(24 MiB, 25% of the steady state). One model here is
/// a few MiB, so a leak of one model per swap (10+ swaps) exceeds it, while the
/// allocator's normal drift (freed pages it keeps, thread caches) stays below it.
const RSS_SLACK_KIB: u64 = 24 * 1024;
const RSS_SLACK_SHARE: f64 = 0.25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Predict,
    Batch,
    Feedback,
}

const KINDS: [Kind; 3] = [Kind::Predict, Kind::Batch, Kind::Feedback];

/// One request's outcome: kind, latency in microseconds, and an error if it failed.
type Sample = (Kind, u32, Option<String>);

const SENTENCES: &[&str] = &[
    "a gripping, beautifully acted film",
    "dull and far too long",
    "not bad at all",
    "the plot is a mess but the cast is charming",
    "one of the worst films of the year",
    "an absolute joy from start to finish",
    "i wanted to like it more than i did",
    "flat, lifeless and predictable",
];

fn client(target: Target, worker: usize, stop: Arc<AtomicBool>) -> Vec<Sample> {
    let mut connection = KeepAlive::new(target);
    let mut samples = Vec::new();
    let json = [("Content-Type", "application/json")];
    let mut n = worker; // so workers do not all send the same kind at once
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        // 70% predict, 15% batch, 15% feedback.
        let kind = match n % 20 {
            0..=13 => Kind::Predict,
            14..=16 => Kind::Batch,
            _ => Kind::Feedback,
        };
        let sentence = SENTENCES[n % SENTENCES.len()];
        let (path, body) = match kind {
            Kind::Predict => ("/predict", json!({ "text": sentence })),
            Kind::Batch => (
                "/predict/batch",
                json!({ "texts": (0..BATCH).map(|i| SENTENCES[(n + i) % SENTENCES.len()]).collect::<Vec<_>>() }),
            ),
            Kind::Feedback => {
                let (word, label) = if n.is_multiple_of(2) {
                    ("flurbish", "positive")
                } else {
                    ("gronkle", "negative")
                };
                (
                    "/feedback",
                    json!({"text": format!("load {worker} {n} was {word}"), "correct_label": label}),
                )
            }
        };
        let body = body.to_string();
        let started = Instant::now();
        let result = connection.request("POST", path, &json, body.as_bytes());
        let micros = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let error = match result {
            Ok(r) if r.status == 200 => None,
            Ok(r) => Some(format!("{path}: {} {}", r.status, r.text())),
            Err(e) => Some(format!("{path}: {e}")),
        };
        samples.push((kind, micros, error));
    }
    samples
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank] as f64 / 1000.0
}

fn retrain(socket: &Target) -> serde_json::Value {
    let r = request(socket, "POST", "/admin/retrain?wait=true", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[test]
fn mixed_load_while_swapping_models_and_retraining_has_no_failures_and_stable_memory() {
    let secs = std::env::var("SENTIMENT_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SECS);
    let unbounded = config_file(ANONYMOUS_FEEDBACK_UNBOUNDED);
    let daemon = Daemon::start(&[
        "--retrain-schedule",
        "off",
        "--config",
        unbounded.to_str().unwrap(),
    ]);
    let (tcp, socket) = (daemon.tcp(), daemon.socket());

    // A second version to swap to.
    send_learnable_feedback(&tcp, 40);
    let first = retrain(&socket);
    assert!(
        first["version"].as_str() == Some("v2"),
        "the preparing retrain made no version: {first}"
    );
    let rss_start = daemon.rss_kib();

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CONCURRENCY)
        .map(|w| {
            let (t, stop) = (tcp.clone(), stop.clone());
            std::thread::spawn(move || client(t, w, stop))
        })
        .collect();
    let began = Instant::now();
    let run_for = Duration::from_secs(secs);

    // The retrain runs early in the run, so that the memory it uses while training is
    // part of the steady state the swaps are measured against.
    let retrain_report: Arc<Mutex<Option<serde_json::Value>>> = Arc::default();
    let retrainer = {
        let (socket, report) = (socket.clone(), retrain_report.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            *report.lock().unwrap() = Some(retrain(&socket));
        })
    };

    // Swaps: promote v1 and v2 in turn, once a second (more often in short runs), so
    // at least MIN_SWAPS whatever the duration.
    let interval = (run_for / (MIN_SWAPS as u32 + 2)).min(Duration::from_secs(1));
    let mut swaps = 0;
    let mut rss_samples = Vec::new();
    let mut steady_rss = None;
    let mut next = 1;
    while began.elapsed() < run_for || swaps < MIN_SWAPS {
        std::thread::sleep(interval);
        let version = format!("v{next}");
        next = 3 - next;
        let r = post_json(&socket, "/admin/promote", &json!({ "version": version }));
        assert_eq!(r.status, 200, "promote {version}: {}", r.text());
        if r.json()["previous"] != r.json()["version"] {
            swaps += 1;
        }
        let rss = daemon.rss_kib();
        rss_samples.push(rss);
        if steady_rss.is_none() && swaps >= 2 && retrainer.is_finished() {
            steady_rss = Some(rss);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let samples: Vec<Sample> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let elapsed = began.elapsed().as_secs_f64();
    retrainer.join().unwrap();
    let rss_end = daemon.rss_kib();

    let retrain_report = retrain_report.lock().unwrap().clone().unwrap();
    let failures: Vec<&String> = samples.iter().filter_map(|s| s.2.as_ref()).collect();
    let mut all: Vec<u32> = samples.iter().map(|s| s.1).collect();
    all.sort_unstable();
    eprintln!(
        "load: {secs} s requested, {elapsed:.1} s run, {CONCURRENCY} keep-alive clients, {} requests ({:.0}/s), {} failed, {swaps} model swaps, retrain: {} {}",
        samples.len(),
        samples.len() as f64 / elapsed,
        failures.len(),
        retrain_report["outcome"],
        retrain_report["version"],
    );
    eprintln!(
        "latency ms (all): p50 {:.2}, p99 {:.2}, max {:.2}",
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        percentile(&all, 100.0)
    );
    for kind in KINDS {
        let mut of_kind: Vec<u32> = samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| s.1)
            .collect();
        of_kind.sort_unstable();
        eprintln!(
            "latency ms ({kind:?}): {} requests, p50 {:.2}, p99 {:.2}, max {:.2}",
            of_kind.len(),
            percentile(&of_kind, 50.0),
            percentile(&of_kind, 99.0),
            percentile(&of_kind, 100.0)
        );
    }
    let steady = steady_rss.unwrap_or(rss_start);
    let allowed = RSS_SLACK_KIB.max((steady as f64 * RSS_SLACK_SHARE) as u64);
    eprintln!(
        "RSS KiB: {rss_start} before the load, {steady} steady (after the retrain and 2 swaps), {rss_end} at the end (growth {} KiB, allowed {allowed}); after each swap: {rss_samples:?}",
        rss_end as i64 - steady as i64
    );

    assert!(
        failures.is_empty(),
        "{} of {} requests failed, e.g. {:?}",
        failures.len(),
        samples.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(swaps >= MIN_SWAPS, "only {swaps} swaps");
    assert!(
        retrain_report["outcome"] != "failed",
        "the retrain under load failed: {retrain_report}"
    );
    for kind in KINDS {
        assert!(
            samples.iter().any(|s| s.0 == kind),
            "no {kind:?} request was sent"
        );
    }
    assert!(
        rss_end <= steady + allowed,
        "memory grew across swaps: {steady} KiB -> {rss_end} KiB (allowed +{allowed} KiB)"
    );
}
