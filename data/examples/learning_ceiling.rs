//! Offline ceiling of learning from a replayed stream: SST-2 + stream sentences at
//! several weights, measured on the held-out half of the stream.
//!
//! `SEED` (42) splits the stream; `WEIGHTS` (1,2,3,5,8,12,20), `C` and `NB` (a
//! smoothing or `off`) set what is trained.
use sentiment_core::{train, Label, TrainConfig};
use sentiment_data::{read_many, stratified_split, Example, ReadOptions};
use std::path::PathBuf;

fn main() {
    let shared =
        PathBuf::from(std::env::var("SENTIMENT_SHARED_DATA").unwrap_or("../shared/data".into()));
    let read = |p: Vec<PathBuf>| read_many(&p, &ReadOptions::default()).unwrap().examples;
    let base = read(vec![shared.join("sst2/train.tsv")]);
    let val = read(vec![shared.join("sst2/validation.tsv")]);
    let domains = read(vec![
        shared.join("domains/yelp.tsv"),
        shared.join("domains/amazon.tsv"),
    ]);
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let (stream, held) = stratified_split(&domains, 0.5, seed).unwrap();
    // `C` and `NB` (a smoothing, or "off") change the engine's settings, to see
    // whether other settings would move the ceiling.
    let mut cfg = TrainConfig::default();
    if let Some(c) = std::env::var("C").ok().and_then(|s| s.parse().ok()) {
        cfg.logistic.c = c;
    }
    if let Ok(nb) = std::env::var("NB") {
        cfg.naive_bayes_smoothing = nb.parse().ok();
    }
    let weights: Vec<f64> = std::env::var("WEIGHTS")
        .ok()
        .map(|s| s.split(',').filter_map(|w| w.parse().ok()).collect())
        .unwrap_or_else(|| vec![1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0]);
    println!(
        "C {} naive-Bayes smoothing {:?}",
        cfg.logistic.c, cfg.naive_bayes_smoothing
    );
    let acc = |m: &sentiment_core::SentimentModel, ex: &[Example]| {
        let t: Vec<&str> = ex.iter().map(|e| e.text.as_str()).collect();
        let l: Vec<Label> = ex.iter().map(|e| e.label).collect();
        m.evaluate(&t, &l).unwrap().accuracy
    };
    let run = |extra: &[Example], w: f64| {
        let mut texts: Vec<&str> = base.iter().map(|e| e.text.as_str()).collect();
        let mut labels: Vec<Label> = base.iter().map(|e| e.label).collect();
        let mut weights = vec![1.0; texts.len()];
        for e in extra {
            texts.push(&e.text);
            labels.push(e.label);
            weights.push(w);
        }
        let t = std::time::Instant::now();
        let m = train(&texts, &labels, Some(&weights), &cfg, &|_| {}).unwrap();
        (m, t.elapsed().as_secs_f64())
    };
    let (v1, s) = run(&[], 1.0);
    println!(
        "v1: held {:.2}% sst2 {:.2}% ({s:.2}s)",
        acc(&v1, &held) * 100.0,
        acc(&v1, &val) * 100.0
    );
    let wrong: Vec<Example> = stream
        .iter()
        .filter(|e| v1.predict(&e.text).label != e.label)
        .cloned()
        .collect();
    println!(
        "stream {} held {} v1-wrong on stream {}",
        stream.len(),
        held.len(),
        wrong.len()
    );
    for &w in &weights {
        let (m, _) = run(&stream, w);
        let (c, _) = run(&wrong, w);
        println!("w={w:>4}: all-labelled held {:.2}% sst2 {:.2}% | corrections-only held {:.2}% sst2 {:.2}%",
            acc(&m, &held) * 100.0, acc(&m, &val) * 100.0, acc(&c, &held) * 100.0, acc(&c, &val) * 100.0);
    }
}
