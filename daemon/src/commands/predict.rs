//! `sentimentd predict`: classify texts from the command line or stdin.

use crate::cli::PredictArgs;
use anyhow::{Context, Result};
use sentiment_core::{load_model, Explanation, SentimentModel};
use std::io::{self, BufRead, BufWriter, Write};

pub fn run(args: PredictArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.texts.is_empty() {
        for (number, line) in io::stdin().lock().lines().enumerate() {
            let line = line.with_context(|| format!("cannot read line {} of stdin", number + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            write_one(&mut out, &model, &line, &args)?;
        }
    } else {
        for text in &args.texts {
            write_one(&mut out, &model, text, &args)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn write_one(
    out: &mut impl Write,
    model: &SentimentModel,
    text: &str,
    args: &PredictArgs,
) -> Result<()> {
    if args.explain {
        let explanation = model.explain(text, args.top);
        if args.json {
            let value = serde_json::json!({ "text": text, "explanation": explanation });
            writeln!(out, "{}", serde_json::to_string(&value)?)?;
        } else {
            write_explanation(out, text, &explanation)?;
        }
        return Ok(());
    }
    let prediction = model.predict(text);
    if args.json {
        let value = serde_json::json!({ "text": text, "prediction": prediction });
        writeln!(out, "{}", serde_json::to_string(&value)?)?;
    } else {
        writeln!(
            out,
            "{}\t{:.3}\t{}",
            prediction.label, prediction.confidence, text
        )?;
    }
    Ok(())
}

fn write_explanation(out: &mut impl Write, text: &str, e: &Explanation) -> Result<()> {
    writeln!(
        out,
        "{text}\n  {} (confidence {:.3}; p(positive) {:.3}); {} known n-gram(s), bias {:+.3}",
        e.prediction.label,
        e.prediction.confidence,
        e.prediction.p_positive,
        e.known_ngrams,
        e.bias
    )?;
    for (title, list) in [
        ("towards positive", &e.towards_positive),
        ("towards negative", &e.towards_negative),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "  {title}:")?;
        for c in list.iter() {
            writeln!(out, "    {:+.3}  {}", c.contribution, c.ngram)?;
        }
    }
    Ok(())
}
