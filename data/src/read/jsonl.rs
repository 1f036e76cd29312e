//! JSON Lines: one JSON object per line, `{"text": "...", "label": 1}`.
//!
//! The text is in `text` or, as in the Hub's SST-2, `sentence` (`text` wins when both
//! are present). The label is the integer 0 or 1 or a string [`Label`] accepts
//! (`"positive"`, `"neg"`, `"1"`...). Booleans are rejected rather than guessed at:
//! `true` could as well mean "is negative" in someone's export. Blank lines are
//! ignored; every other line that does not give an example is a malformed row.

use super::{parse_label, Sink};
use crate::DataError;
use sentiment_core::Label;
use serde_json::Value;
use std::io::BufRead;

pub(super) fn read(mut input: impl BufRead, sink: &mut Sink<'_>) -> Result<(), DataError> {
    let mut buf = Vec::new();
    let mut line: u64 = 0;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| DataError::io(sink.path(), e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // A line that is not valid UTF-8 (a legacy encoding) is read lossily and
        // counted, as in TSV and CSV; the bytes JSON itself needs are ASCII.
        let lossy = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
        let decoded = String::from_utf8_lossy(bytes);
        match parse_line(&decoded) {
            Ok((text, label)) => {
                if let Some(offset) = lossy {
                    sink.note_lossy(line, offset);
                }
                sink.push(line, text, label)?
            }
            Err(message) => sink.malformed(line, message)?,
        }
    }
    Ok(())
}

fn parse_line(text: &str) -> Result<(String, Label), String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err(format!(
            "expected a JSON object like {{\"text\": \"...\", \"label\": 1}}, found {}",
            kind(&value)
        ));
    };
    let (name, text) = match object.remove("text") {
        Some(text) => ("text", text),
        None => match object.remove("sentence") {
            Some(text) => ("sentence", text),
            None => return Err("missing field \"text\" (or \"sentence\")".into()),
        },
    };
    let Value::String(text) = text else {
        return Err(format!(
            "field \"{name}\" must be a string, found {}",
            kind(&text)
        ));
    };
    let label = match object.get("label") {
        None => return Err("missing field \"label\"".into()),
        Some(Value::String(raw)) => parse_label(raw)?,
        Some(Value::Number(number)) => number
            .as_i64()
            .and_then(Label::from_index)
            .ok_or_else(|| format!("invalid label {number}: expected 0 or 1"))?,
        Some(other) => {
            return Err(format!(
                "field \"label\" must be 0, 1 or a string such as \"positive\", found {}",
                kind(other)
            ))
        }
    };
    Ok((text, label))
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
