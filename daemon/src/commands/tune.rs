//! `sentimentd tune`: grouped k-fold cross-validation over a small grid, on training
//! data only, to choose the defaults honestly.

use crate::cli::{ModelArgs, TuneArgs};
use crate::datasets::{self, columns};
use anyhow::{bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use sentiment_core::{containment_groups, cross_validate};
use std::time::Instant;

pub fn run(args: TuneArgs) -> Result<()> {
    if let Some(bad) = args
        .nb_smoothing
        .iter()
        .find(|a| !(a.is_finite() && **a >= 0.0))
    {
        bail!("every --nb-smoothing must be a non-negative number, got {bad}");
    }
    if args.folds < 2 {
        bail!("--folds must be at least 2");
    }
    if let Some(bad) = args.c.iter().find(|c| !(c.is_finite() && **c > 0.0)) {
        bail!("every --c must be a positive number, got {bad}");
    }
    let splits = datasets::splits(&args.data)?;
    let examples = datasets::read(&splits.train, args.data_args.strict)?;
    let (texts, labels) = columns(&examples);
    let groups = containment_groups(&texts);
    let n_groups = groups.count();
    eprintln!(
        "{} examples in {} sentence groups; {}-fold cross-validation",
        texts.len(),
        n_groups,
        args.folds
    );
    let negations: &[bool] = if args.both_negation {
        &[true, false]
    } else {
        &[true]
    };
    let mut results = Vec::new();
    for &negation in negations {
        for (&c, &nb) in args
            .c
            .iter()
            .flat_map(|c| args.nb_smoothing.iter().map(move |nb| (c, nb)))
        {
            let model_args = ModelArgs {
                c,
                min_df: sentiment_core::VectorizerConfig::default().min_df,
                max_features: sentiment_core::VectorizerConfig::default().max_features,
                no_negation: !negation,
                punctuation_features: false,
                nb_smoothing: nb,
                max_iter: sentiment_core::LogisticConfig::default().max_iter,
            };
            let config = super::train_config(&model_args);
            let started = Instant::now();
            let reports = cross_validate(
                &texts,
                &labels,
                Some(&groups),
                &config,
                args.folds,
                args.seed,
            )?;
            let accuracies: Vec<f64> = reports.iter().map(|r| r.accuracy).collect();
            let mean = accuracies.iter().sum::<f64>() / accuracies.len() as f64;
            let sd = (accuracies.iter().map(|a| (a - mean).powi(2)).sum::<f64>()
                / accuracies.len() as f64)
                .sqrt();
            eprintln!(
                "C={c} nb={nb} negation={negation}: mean accuracy {:.2}% ({:.1} s)",
                mean * 100.0,
                started.elapsed().as_secs_f64()
            );
            results.push(serde_json::json!({
                "c": c, "nb_smoothing": nb, "negation": negation, "mean_accuracy": mean, "sd": sd,
                "fold_accuracies": accuracies,
            }));
        }
    }
    let best = results
        .iter()
        .max_by(|a, b| {
            a["mean_accuracy"]
                .as_f64()
                .partial_cmp(&b["mean_accuracy"].as_f64())
                .expect("finite")
        })
        .cloned();
    if args.output.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "results": results, "best": best }))?
        );
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["C", "NB smoothing", "negation", "mean accuracy", "sd"]);
    for r in &results {
        table.add_row(vec![
            r["c"].to_string(),
            r["nb_smoothing"].to_string(),
            r["negation"].to_string(),
            format!("{:.2}%", r["mean_accuracy"].as_f64().unwrap_or(0.0) * 100.0),
            format!("{:.2}", r["sd"].as_f64().unwrap_or(0.0) * 100.0),
        ]);
    }
    println!("{table}");
    if let Some(best) = best {
        println!(
            "best: C={} NB smoothing={} negation={}",
            best["c"], best["nb_smoothing"], best["negation"]
        );
    }
    Ok(())
}
