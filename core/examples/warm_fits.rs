//! Times the fits of a retrain's cross-fitting on SST-2 plus 1,000 review sentences:
//! cold fits against fits warm-started from a neighbouring fold.
//! `cargo run --release --example warm_fits -- ../shared/data`
mod common;

use common::read_tsv as read;
use sentiment_core::{PreparedTexts, TrainConfig};
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "../shared/data".into());
    let (mut texts, mut labels) = read(&format!("{dir}/sst2/train.tsv"));
    let n_base = texts.len();
    let (extra, extra_labels) = read(&format!("{dir}/domains/yelp.tsv"));
    texts.extend(extra.into_iter().take(1000));
    labels.extend(extra_labels.into_iter().take(1000));
    let config = TrainConfig::default();
    let t = Instant::now();
    let prepared = PreparedTexts::new(&texts, &config.vectorizer).unwrap();
    println!("vectorise {:.3}s", t.elapsed().as_secs_f64());
    let fold_weights = |fold: usize, w: f64| -> Vec<f64> {
        (0..texts.len())
            .map(|i| match i.checked_sub(n_base) {
                None => 1.0,
                Some(j) if j % 3 == fold => 0.0,
                Some(_) => w,
            })
            .collect()
    };
    let t = Instant::now();
    let base = prepared
        .fit(&labels, &fold_weights(0, 0.0), &config, &|_| {})
        .unwrap();
    println!(
        "base-only cold {:.3}s {} iterations",
        t.elapsed().as_secs_f64(),
        base.summary.iterations
    );
    for fold in 0..3 {
        let weights = fold_weights(fold, 2.0);
        let t = Instant::now();
        let cold = prepared.fit(&labels, &weights, &config, &|_| {}).unwrap();
        let cold_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let warm = prepared
            .fit_from(&labels, &weights, &config, &base.linear, &|_| {})
            .unwrap();
        println!(
            "fold {fold}: cold {cold_s:.3}s {} it (objective {:.9}), warm {:.3}s {} it (objective {:.9})",
            cold.summary.iterations,
            cold.summary.objective,
            t.elapsed().as_secs_f64(),
            warm.summary.iterations,
            warm.summary.objective
        );
    }
}
