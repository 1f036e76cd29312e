//! The text pipeline's first stages on any UTF-8: normalise must be idempotent and
//! produce no control characters or doubled spaces; tokens are never empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentiment_core::text::{normalise, tokens};

fuzz_target!(|text: &str| {
    let once = normalise(text);
    assert_eq!(normalise(&once), once, "normalise is not idempotent");
    assert!(!once.contains("  ") && !once.starts_with(' ') && !once.ends_with(' '));
    assert!(!once.chars().any(char::is_control));
    for token in tokens(text) {
        assert!(!token.is_empty() && !token.chars().any(char::is_whitespace));
    }
});
