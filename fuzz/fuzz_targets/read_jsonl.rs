//! The .jsonl reader on any bytes: examples with non-empty texts, or a typed error.
#![no_main]

#[path = "shared/reader.rs"]
mod reader;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| reader::read_any_bytes(bytes, "jsonl"));
