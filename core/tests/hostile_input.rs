//! Property-based tests of the engine's parsing surfaces: the text normaliser and
//! tokeniser on any Unicode, predictions on any text, and the model loader on any
//! bytes, corrupted files and forged (re-checksummed) payloads. 256 cases each by
//! default; `PROPTEST_CASES` raises it. The long versions are the fuzz targets in
//! `fuzz/` (scripts/fuzz.sh).

use proptest::prelude::*;
use sentiment_core::artifact::{from_bytes, to_bytes};
use sentiment_core::text::{normalise, tokens};
use sentiment_core::{train, Label, SentimentModel, TrainConfig};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::OnceLock;

fn model() -> &'static (SentimentModel, Vec<u8>) {
    static MODEL: OnceLock<(SentimentModel, Vec<u8>)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let texts = [
            "a great film",
            "an awful film",
            "great fun , not dull",
            "awful mess and not funny",
        ];
        use Label::{Negative as N, Positive as P};
        let model = train(
            &texts,
            &[P, N, P, N],
            None,
            &TrainConfig::default(),
            &|_| {},
        )
        .unwrap();
        let bytes = to_bytes(&model);
        (model, bytes)
    })
}

/// Text that mixes ASCII, quotes, contractions, control characters and any Unicode.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z' ,.!?\t\n\r\u{0}-\u{1f}\u{2018}\u{2019}\u{201c}\u{201d}]{0,80}",
        prop::collection::vec(
            prop_oneof![
                Just("don't".to_string()),
                Just("can't".to_string()),
                Just("n't".to_string()),
                Just("'s".to_string()),
                Just("not".to_string()),
                Just("-lrb-".to_string()),
                Just("\u{fb01}".to_string()),
                Just("\u{130}".to_string()),
                Just("\u{1e9e}".to_string()),
                any::<char>().prop_map(String::from),
            ],
            0..20
        )
        .prop_map(|parts| parts.join(" ")),
    ]
}

proptest! {
    #[test]
    fn normalised_text_is_canonical_and_stable(text in hostile_text()) {
        let once = normalise(&text);
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' '), "{once:?}");
        prop_assert!(!once.contains("  "), "{once:?}");
        prop_assert!(!once.chars().any(|c| c.is_control() || (c.is_whitespace() && c != ' ')), "{once:?}");
        // Normalising twice changes nothing: de-duplication keys on this.
        prop_assert_eq!(normalise(&once), once.clone(), "not idempotent on {:?}", text);
    }

    #[test]
    fn tokens_are_never_empty_and_never_hold_whitespace(text in hostile_text()) {
        for token in tokens(&text) {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.chars().any(char::is_whitespace), "{token:?}");
        }
    }

    #[test]
    fn any_text_gets_a_finite_prediction(text in hostile_text()) {
        let p = model().0.predict(&text);
        prop_assert!(p.p_positive.is_finite() && (0.0..=1.0).contains(&p.p_positive));
        prop_assert!((p.p_positive + p.p_negative - 1.0).abs() < 1e-9);
        prop_assert!((0.5..=1.0).contains(&p.confidence));
    }

    #[test]
    fn any_bytes_are_refused_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        prop_assert!(from_bytes(&bytes, Path::new("fuzz.bin")).is_err());
    }

    #[test]
    fn a_corrupted_or_truncated_model_file_is_always_refused(
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        cut in any::<prop::sample::Index>(),
    ) {
        let good = &model().1;
        let mut corrupted = good.clone();
        corrupted[at.index(good.len())] ^= flip;
        prop_assert!(from_bytes(&corrupted, Path::new("m.bin")).is_err());
        let truncated = &good[..cut.index(good.len())];
        prop_assert!(from_bytes(truncated, Path::new("m.bin")).is_err());
    }

    #[test]
    fn a_forged_payload_with_a_valid_checksum_never_yields_an_unusable_model(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        text in hostile_text(),
    ) {
        // Change payload bytes and fix up the checksum, so only decoding and the
        // consistency checks stand between the bytes and a served model.
        let good = &model().1;
        let mut forged = good.clone();
        let payload_len = good.len() - 52;
        for (at, value) in edits {
            forged[52 + at.index(payload_len)] = value;
        }
        let digest = Sha256::digest(&forged[52..]);
        forged[20..52].copy_from_slice(&digest);
        if let Ok(loaded) = from_bytes(&forged, Path::new("forged.bin")) {
            let p = loaded.predict(&text);
            prop_assert!(p.p_positive.is_finite());
            let _ = loaded.explain(&text, 3);
        }
    }
}

#[test]
fn an_intact_model_file_loads_to_the_same_model() {
    let (original, bytes) = model();
    let loaded = from_bytes(bytes, Path::new("m.bin")).unwrap();
    for text in ["great", "awful film", "not dull at all"] {
        assert_eq!(loaded.predict(text), original.predict(text));
    }
}
