//! The daemon's request bodies (the same types it deserialises, from
//! daemon/src/api/types.rs) on any bytes: serde either gives a value or an error.
#![no_main]

#[allow(dead_code)]
#[path = "../../daemon/src/api/types.rs"]
mod types;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = serde_json::from_slice::<types::PredictRequest>(bytes);
    let _ = serde_json::from_slice::<types::BatchRequest>(bytes);
    if let Ok(feedback) = serde_json::from_slice::<types::FeedbackRequest>(bytes) {
        // A label that parsed is one of the two.
        let _: sentiment_core::Label = feedback.correct_label.into();
    }
    let _ = serde_json::from_slice::<types::ApiLabel>(bytes);
});
