//! `sentimentd predict`: classify texts from the command line or stdin.

use crate::cli::PredictArgs;
use anyhow::{Context, Result};
use sentiment_core::text::{clean, decode_lossy};
use sentiment_core::{load_model, Explanation, Prediction, SentimentModel};
use serde_json::{json, Value};
use std::io::{self, BufRead, BufWriter, Write};

pub fn run(args: PredictArgs) -> Result<()> {
    let model = load_model(&args.model)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.texts.is_empty() {
        // One output line per input line, whatever the line holds: a blank line gets an
        // error line, bytes that are not UTF-8 are read lossily (and counted), so the
        // output can be pasted beside the input.
        let mut input = io::stdin().lock();
        let mut buf = Vec::new();
        let mut number = 0u64;
        let mut lossy = 0u64;
        loop {
            buf.clear();
            let n = input
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("cannot read line {} of stdin", number + 1))?;
            if n == 0 {
                break;
            }
            number += 1;
            let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            let (text, replaced) = decode_lossy(bytes);
            if replaced > 0 {
                lossy += 1;
            }
            write_one(&mut out, &model, &text, Some(number), &args)?;
        }
        out.flush()?;
        if lossy > 0 {
            eprintln!(
                "warning: {lossy} line(s) of stdin were not valid UTF-8 and were read with \
                 U+FFFD in place of the invalid bytes (send UTF-8 to keep those characters)"
            );
        }
    } else {
        for text in &args.texts {
            write_one(&mut out, &model, &clean(text), None, &args)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The API's error for an empty text, for one line of output.
fn empty_line(line: Option<u64>) -> (Value, String) {
    let message = match line {
        Some(n) => format!("line {n} is empty or only whitespace; nothing to classify"),
        None => "the text is empty or only whitespace; nothing to classify".to_string(),
    };
    let mut value = json!({"error": {"code": "empty_text", "message": message}});
    if let Some(n) = line {
        value["line"] = json!(n);
    }
    (value, message)
}

/// One prediction in the API's shape (`/predict`'s body without the id): `label`,
/// `confidence`, `probabilities`, and `explanation` with `--explain`.
fn api_shape(text: &str, p: &Prediction) -> Value {
    json!({
        "text": text,
        "label": p.label.as_str(),
        "confidence": p.confidence,
        "probabilities": {"negative": p.p_negative, "positive": p.p_positive},
    })
}

fn write_one(
    out: &mut impl Write,
    model: &SentimentModel,
    text: &str,
    line: Option<u64>,
    args: &PredictArgs,
) -> Result<()> {
    if text.trim().is_empty() {
        let (value, message) = empty_line(line);
        if args.output.json {
            writeln!(out, "{}", serde_json::to_string(&value)?)?;
        } else {
            writeln!(out, "error\t-\t{message}")?;
        }
        return Ok(());
    }
    if args.explain {
        let explanation = model.explain(text, args.top);
        if args.output.json {
            let mut value = api_shape(text, &explanation.prediction);
            value["explanation"] = json!({
                "towards_positive": explanation.towards_positive,
                "towards_negative": explanation.towards_negative,
                "bias": explanation.bias,
                "known_ngrams": explanation.known_ngrams,
            });
            writeln!(out, "{}", serde_json::to_string(&value)?)?;
        } else {
            write_explanation(out, text, &explanation)?;
        }
        return Ok(());
    }
    let prediction = model.predict(text);
    if args.output.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&api_shape(text, &prediction))?
        )?;
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
