//! Crash consistency: the real daemon is killed with SIGKILL at random moments while
//! feedback writers, retrains, promotions and rollbacks run against it, and restarted.
//! After every restart:
//!
//! - every feedback the daemon acknowledged (2xx with an id) is stored exactly once,
//!   with its text, and SQLite's `integrity_check` is ok;
//! - the registry, read straight from disk, is consistent: `CURRENT` names a `vN`
//!   directory whose `version.json` parses and whose model loads, every `vN` loads,
//!   and no temporary directory of a killed write is left behind;
//! - the daemon is ready and serves the version `CURRENT` names.
//!
//! The delays come from a seeded RNG; the seed is printed so a failure replays with
//! `SENTIMENT_CRASH_SEED=<seed>`. `SENTIMENT_CRASH_KILLS` sets the number of kills
//! (default 10, the CI version; the long version is 60, see README "Reliability").
//!
//! Adding a phase (e.g. the Hub feedback-shard upload): add a variant to [`Phase`],
//! put it in [`PHASES`], drive it in [`run_phase`], and check what it must guarantee
//! after a restart in [`check_after_restart`] (look for "HOOK").

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sentiment_data::registry::{parse_version, Registry};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Kills in the CI version.
const DEFAULT_KILLS: usize = 10;
/// Registry versions kept: small, so that pruning (another registry write a kill can
/// interrupt) runs in almost every retrain.
const KEEP_VERSIONS: usize = 4;
/// Concurrent feedback writers.
const WRITERS: usize = 4;

/// An operator action the chaos thread performs while the daemon may be killed.
/// Feedback writes run all the time beside these, from their own threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Phase {
    /// `POST /admin/retrain?wait=true`: train, add a version to the registry, maybe move
    /// `CURRENT`, prune old versions.
    Retrain,
    /// `POST /admin/promote` of a random existing version: rewrite its record, move
    /// `CURRENT`, hot swap.
    Promote,
    /// `POST /admin/rollback {}`: move `CURRENT` to the parent, hot swap.
    Rollback,
    // HOOK: `ShardUpload` (the Hub feedback-shard bookkeeping) goes here.
}

const PHASES: &[Phase] = &[
    Phase::Retrain,
    Phase::Retrain,
    Phase::Promote,
    Phase::Rollback,
];

/// Runs one phase to completion (or until the daemon dies under it). Any status is
/// fine here (a 409 for a retrain already running, a 404 for a version pruned a moment
/// ago): what matters is the state after the kill.
fn run_phase(phase: Phase, daemon: &Target, data_dir: &Path, rng: &mut ChaCha8Rng) {
    let _ = match phase {
        Phase::Retrain => try_request(daemon, "POST", "/admin/retrain?wait=true", &[], b""),
        Phase::Promote => {
            let versions = Registry::open(data_dir.join("models"))
                .and_then(|r| r.version_numbers())
                .unwrap_or_default();
            if versions.is_empty() {
                return;
            }
            let version = versions[rng.random_range(0..versions.len())];
            let body = json!({ "version": format!("v{version}") }).to_string();
            try_request(
                daemon,
                "POST",
                "/admin/promote",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
        }
        Phase::Rollback => try_request(
            daemon,
            "POST",
            "/admin/rollback",
            &[("Content-Type", "application/json")],
            b"{}",
        ),
    };
}

fn kills() -> usize {
    std::env::var("SENTIMENT_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_KILLS)
}

fn seed() -> u64 {
    std::env::var("SENTIMENT_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// Acknowledged feedback: id -> text.
type Acked = Arc<Mutex<HashMap<i64, String>>>;

/// Sends feedback until `stop`, recording every 2xx answer's id. Texts use a made-up
/// vocabulary, so retrains have something to learn and promote (moving `CURRENT`).
fn feedback_writer(
    target: Target,
    round: usize,
    writer: usize,
    acked: Acked,
    stop: Arc<AtomicBool>,
) {
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let (word, label) = if n.is_multiple_of(2) {
            ("flurbish", "positive")
        } else {
            ("gronkle", "negative")
        };
        let text = format!("crash round {round} writer {writer} number {n} was {word}");
        n += 1;
        let body = json!({"text": text, "correct_label": label}).to_string();
        let answer = try_request(
            &target,
            "POST",
            "/feedback",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        match answer {
            Ok(r) if (200..300).contains(&r.status) => {
                let id = r.json()["id"].as_i64().expect("an acknowledged id");
                let previous = acked.lock().unwrap().insert(id, text);
                assert!(previous.is_none(), "the daemon acknowledged id {id} twice");
            }
            // Refused or cut off by the kill: not acknowledged, so it may or may not be
            // stored; either is correct.
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// What one round saw.
struct Round {
    delay_ms: u64,
    in_flight: Vec<Phase>,
    acked: usize,
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_feedback_and_keeps_the_registry_whole() {
    let kills = kills();
    let seed = seed();
    eprintln!("crash harness: {kills} kills, seed {seed} (replay with SENTIMENT_CRASH_SEED={seed} SENTIMENT_CRASH_KILLS={kills})");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let config = short_tempdir().join("config.toml");
    std::fs::write(
        &config,
        format!("[retrain]\nkeep_versions = {KEEP_VERSIONS}\n"),
    )
    .unwrap();
    let base = small_base_data().to_str().unwrap().to_string();
    let config_arg = config.to_str().unwrap().to_string();
    let args = [
        "--base-data",
        base.as_str(),
        "--config",
        config_arg.as_str(),
        "--retrain-schedule",
        "off",
    ];
    let mut daemon = Daemon::start(&args);
    let dir = daemon.data_dir.clone();
    let all_acked: Acked = Arc::default();
    let mut rounds = Vec::new();
    let started = Instant::now();

    for round in 0..kills {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for writer in 0..WRITERS {
            let (t, acked, stop) = (daemon.tcp(), all_acked.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                feedback_writer(t, round, writer, acked, stop)
            }));
        }
        // The chaos thread: one operator action after another, recording which ones
        // are in flight (so the summary says in which phases the kills landed).
        let in_flight: Arc<Mutex<Vec<Phase>>> = Arc::default();
        let started_phases = Arc::new(AtomicUsize::new(0));
        let chaos = {
            let (socket, data_dir) = (daemon.socket(), daemon.data_dir.clone());
            let (stop, in_flight, started_phases) =
                (stop.clone(), in_flight.clone(), started_phases.clone());
            let mut rng = ChaCha8Rng::seed_from_u64(rng.random());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let phase = PHASES[rng.random_range(0..PHASES.len())];
                    in_flight.lock().unwrap().push(phase);
                    started_phases.fetch_add(1, Ordering::Relaxed);
                    run_phase(phase, &socket, &data_dir, &mut rng);
                    in_flight.lock().unwrap().retain(|p| *p != phase);
                    std::thread::sleep(Duration::from_millis(rng.random_range(0..200)));
                }
            })
        };
        // Retrains take a second or two here; delays up to 3 s spread the kills over
        // every step of one (reading feedback, training, writing the version, moving
        // CURRENT, pruning) and over the promotions and rollbacks around it.
        let delay_ms = rng.random_range(50..3_000);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let phases_now = in_flight.lock().unwrap().clone();
        daemon.kill9();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        chaos.join().unwrap();
        let acked_total = all_acked.lock().unwrap().len();
        eprintln!(
            "kill {}/{kills}: after {delay_ms} ms, in flight: feedback writes{}, {} operator actions started, {acked_total} feedback acknowledged so far",
            round + 1,
            phases_now
                .iter()
                .map(|p| format!(" + {p:?}"))
                .collect::<String>(),
            started_phases.load(Ordering::Relaxed),
        );
        rounds.push(Round {
            delay_ms,
            in_flight: phases_now,
            acked: acked_total,
        });

        daemon = daemon.restart();
        let acked = all_acked.lock().unwrap().clone();
        check_after_restart(&daemon, &acked, round);
    }

    let mut by_phase: HashMap<String, usize> = HashMap::new();
    for r in &rounds {
        let key = if r.in_flight.is_empty() {
            "feedback writes only".to_string()
        } else {
            format!("feedback writes + {:?}", r.in_flight)
        };
        *by_phase.entry(key).or_default() += 1;
    }
    let mut by_phase: Vec<_> = by_phase.into_iter().collect();
    by_phase.sort();
    let delays: Vec<u64> = rounds.iter().map(|r| r.delay_ms).collect();
    let versions = Registry::open(dir.join("models"))
        .unwrap()
        .version_numbers()
        .unwrap();
    eprintln!(
        "crash harness passed: {kills} kills in {:.1} s, seed {seed}; {} feedback acknowledged, all present exactly once; delays {}..{} ms; registry now {versions:?}; kills by phase in flight: {by_phase:?}",
        started.elapsed().as_secs_f64(),
        rounds.last().map_or(0, |r| r.acked),
        delays.iter().min().unwrap_or(&0),
        delays.iter().max().unwrap_or(&0),
    );
    daemon.terminate();
    let _ = std::fs::remove_dir_all(config.parent().unwrap());
}

/// Every invariant that must hold after a restart following a SIGKILL.
fn check_after_restart(daemon: &Daemon, acked: &HashMap<i64, String>, round: usize) {
    let context = format!("after kill {}", round + 1);
    // The daemon is ready (restart() waited for /health 200) and serves CURRENT.
    let current = check_registry_on_disk(&daemon.data_dir.join("models"), &context);
    let info = get(&daemon.tcp(), "/model_info").json();
    assert_eq!(
        info["version"].as_str(),
        Some(format!("v{current}").as_str()),
        "{context}: the daemon does not serve the version CURRENT names"
    );
    check_feedback_in_database(&daemon.data_dir, acked, &context);
    // HOOK: after a `ShardUpload` phase, check here that every acknowledged feedback
    // is in exactly one shard (or still pending upload) and that no shard is partial.
}

/// Reads the registry straight from disk, as a fresh process would. Returns `CURRENT`.
fn check_registry_on_disk(models: &Path, context: &str) -> u32 {
    let pointer = std::fs::read_to_string(models.join("CURRENT"))
        .unwrap_or_else(|e| panic!("{context}: CURRENT is unreadable: {e}"));
    let current = parse_version(&pointer)
        .unwrap_or_else(|| panic!("{context}: CURRENT holds {pointer:?}, not a version"));
    let registry = Registry::open(models).unwrap();
    assert_eq!(registry.current().unwrap(), Some(current), "{context}");
    for version in registry.version_numbers().unwrap() {
        let record = registry
            .record(version)
            .unwrap_or_else(|e| panic!("{context}: v{version}/version.json: {e}"));
        assert_eq!(
            record.version, version,
            "{context}: v{version}/version.json"
        );
        registry
            .load(version)
            .unwrap_or_else(|e| panic!("{context}: v{version}/model.bin does not load: {e}"));
    }
    // What a killed write left behind must be gone once the daemon has started (it
    // removes stale temporaries), or every crash would leak a model's worth of disk.
    let leftovers: Vec<String> = std::fs::read_dir(models)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".tmp-v") || name.starts_with(".trash-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "{context}: stray temporaries in the registry: {leftovers:?}"
    );
    current
}

/// Every acknowledged id is stored with its text, and its text is stored exactly once.
fn check_feedback_in_database(data_dir: &Path, acked: &HashMap<i64, String>, context: &str) {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("sentiment.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "{context}: integrity_check");
    let mut statement = conn.prepare("SELECT id, text FROM feedback").unwrap();
    let rows: Vec<(i64, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let by_id: HashMap<i64, &str> = rows.iter().map(|(id, t)| (*id, t.as_str())).collect();
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for (_, text) in &rows {
        *copies.entry(text.as_str()).or_default() += 1;
    }
    let mut missing = Vec::new();
    for (id, text) in acked {
        match by_id.get(id) {
            Some(stored) if stored == text => {}
            Some(stored) => {
                panic!("{context}: feedback {id} is {stored:?}, acknowledged as {text:?}")
            }
            None => missing.push(*id),
        }
        assert_eq!(
            copies.get(text.as_str()),
            Some(&1),
            "{context}: acknowledged feedback {id} ({text:?}) is not stored exactly once"
        );
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "{context}: {} acknowledged feedback lost, e.g. ids {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}
