//! `sentimentd train`: data in, model file out, metrics printed.

use crate::cli::TrainArgs;
use crate::datasets::{self, columns, display_paths};
use crate::progress::TrainingProgress;
use crate::report::metrics_table;
use anyhow::{bail, Context, Result};
use sentiment_core::{save_model, train};
use std::time::Instant;

pub fn run(args: TrainArgs) -> Result<()> {
    if !(args.model.c.is_finite() && args.model.c > 0.0) {
        bail!("--c must be a positive number, got {}", args.model.c);
    }
    let splits = datasets::splits(&args.data)?;
    let validation_files = match &args.validation {
        Some(path) => datasets::evaluation_files(path)?,
        None => splits.validation.clone(),
    };
    let progress = TrainingProgress::start("training");
    let started = Instant::now();
    let train_examples = datasets::read(&splits.train, args.data_args.strict)?;
    let read_seconds = started.elapsed().as_secs_f64();
    let (texts, labels) = columns(&train_examples);

    let config = super::train_config(&args.model);
    let train_started = Instant::now();
    let mut model = train(&texts, &labels, None, &config, &|p| progress.update(p))
        .with_context(|| format!("training on {} failed", display_paths(&splits.train)))?;
    let train_seconds = train_started.elapsed().as_secs_f64();
    model
        .metadata
        .notes
        .insert("train_data".into(), display_paths(&splits.train));

    if !validation_files.is_empty() {
        progress.set_message("evaluating on the validation split".into());
        let validation = datasets::read(&validation_files, args.data_args.strict)?;
        let (v_texts, v_labels) = columns(&validation);
        let report = model.evaluate(&v_texts, &v_labels)?;
        model
            .metadata
            .evaluations
            .insert("validation".into(), report);
        model
            .metadata
            .notes
            .insert("validation_data".into(), display_paths(&validation_files));
    }
    progress.finish();

    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    save_model(&model, &args.out)?;
    let size = std::fs::metadata(&args.out)?.len();

    if args.output.json {
        let out = serde_json::json!({
            "model": args.out,
            "model_bytes": size,
            "read_seconds": read_seconds,
            "train_seconds": train_seconds,
            "metadata": model.metadata,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let t = &model.metadata.training;
    let fit = &model.metadata.fit;
    println!(
        "trained on {} examples ({} positive, {} negative) in {:.2} s: {} features, {} L-BFGS iterations",
        t.examples, t.positive, t.negative, train_seconds, t.features, fit.iterations
    );
    println!(
        "wrote {} ({:.1} MiB)",
        args.out.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    match model.metadata.evaluations.get("validation") {
        Some(report) => println!("{}", metrics_table("validation", report)),
        None => println!("no validation split given or found: no metrics (use --validation)"),
    }
    Ok(())
}
