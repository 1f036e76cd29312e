//! Times `sentiment_core::train` on SST-2 without the daemon's readers, and prints the
//! validation metrics: `cargo run --release -p sentiment-core --example train_sst2 --
//! ../shared/data/sst2 [runs]`. The directory holds `train.tsv` and `validation.tsv`
//! (`sentence<TAB>label` lines after a header).

mod common;

use common::read_tsv as read;
use sentiment_core::{train, TrainConfig, TrainProgress};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "../shared/data/sst2".into());
    let runs: usize = args.next().map_or(1, |r| r.parse().expect("runs"));
    let (texts, labels) = read(&format!("{dir}/train.tsv"));
    let (v_texts, v_labels) = read(&format!("{dir}/validation.tsv"));
    let mut config = TrainConfig::default();
    // Optimiser overrides, for checking how far from converged a fit stops.
    if let Ok(v) = std::env::var("GTOL") {
        config.logistic.gradient_tolerance = v.parse().expect("GTOL");
    }
    if let Ok(v) = std::env::var("FTOL") {
        config.logistic.relative_tolerance = v.parse().expect("FTOL");
    }
    if let Ok(v) = std::env::var("MAX_ITER") {
        config.logistic.max_iter = v.parse().expect("MAX_ITER");
    }
    // TRACE=1 prints the objective after every pass over the data.
    let trace = std::env::var_os("TRACE").is_some();
    let ignore = |p: TrainProgress| {
        if let (
            true,
            TrainProgress::Optimising {
                evaluations,
                objective,
            },
        ) = (trace, p)
        {
            println!("evaluation {evaluations}: objective {objective:.8}");
        }
    };
    for _ in 0..runs {
        let started = Instant::now();
        let model = train(&texts, &labels, None, &config, &ignore).expect("training");
        let seconds = started.elapsed().as_secs_f64();
        let report = model.evaluate(&v_texts, &v_labels).expect("evaluation");
        let fit = &model.metadata.fit;
        println!(
            "train {seconds:.3} s (vectorise {:.3} s, optimise {:.3} s), {} iterations, \
             {} evaluations, objective {:.8}, validation accuracy {:.2}%",
            fit.vectorise_seconds,
            fit.optimise_seconds,
            fit.iterations,
            fit.evaluations,
            fit.objective,
            report.accuracy * 100.0
        );
    }
}
