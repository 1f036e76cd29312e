//! The model decoder behind a valid header: any bytes become the payload of a model
//! file with the right signature, length and checksum, so every input reaches the
//! postcard and JSON decoding and the vocabulary checks (mutations in the `artifact`
//! target almost all stop at the checksum). An error, or a model that predicts
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentiment_core::artifact::{from_bytes, FORMAT_VERSION, SIGNATURE};
use sha2::{Digest, Sha256};
use std::path::Path;

fuzz_target!(|payload: &[u8]| {
    let mut bytes = Vec::with_capacity(52 + payload.len());
    bytes.extend_from_slice(SIGNATURE);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(payload));
    bytes.extend_from_slice(payload);
    if let Ok(model) = from_bytes(&bytes, Path::new("fuzz.bin")) {
        let p = model.predict("not a bad film at all");
        assert!(p.p_positive.is_finite());
        let _ = model.explain("dull", 3);
    }
});
