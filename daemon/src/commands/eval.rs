//! `sentimentd eval`: a model file's metrics on labelled data.

use crate::cli::EvalArgs;
use crate::datasets::{self, columns};
use crate::report::metrics_table;
use anyhow::Result;
use sentiment_core::load_model;
use std::time::Instant;

pub fn run(args: EvalArgs) -> Result<()> {
    let started = Instant::now();
    let model = load_model(&args.model)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let files = datasets::evaluation_files(&args.data)?;
    let examples = datasets::read(&files, args.data_args.strict)?;
    let (texts, labels) = columns(&examples);
    let started = Instant::now();
    let report = model.evaluate(&texts, &labels)?;
    let predict_seconds = started.elapsed().as_secs_f64();
    if args.output.json {
        let out = serde_json::json!({
            "model": args.model,
            "data": files,
            "metrics": report,
            "model_load_seconds": load_seconds,
            "predict_seconds": predict_seconds,
            "predictions_per_second": texts.len() as f64 / predict_seconds,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{}",
            metrics_table(&datasets::display_paths(&files), &report)
        );
    }
    Ok(())
}
