//! The model loader on any bytes: an error, or a model that predicts without
//! panicking. Seed the corpus with a real model.bin to get past the checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(model) = sentiment_core::artifact::from_bytes(bytes, Path::new("fuzz.bin")) {
        let p = model.predict("not a bad film at all");
        assert!(p.p_positive.is_finite());
        let _ = model.explain("dull", 3);
    }
});
