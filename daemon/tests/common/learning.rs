//! Feedback that teaches a retrain something, feedback that harms it, and a retrain
//! run to its end: what the tests of learning, the contract and the browser share.

use super::fixtures::shared_data;
use super::http::{post_json, Target};
use serde_json::json;

/// Feedback in a made-up vocabulary no base text contains: the current model can only
/// guess, a candidate trained on it learns it, and base accuracy has no reason to move.
pub fn send_learnable_feedback(target: &Target, n: usize) {
    send_learnable_feedback_from(target, 0, n);
}

/// [`send_learnable_feedback`] numbered from `first`: texts that differ from those of
/// an earlier call (or another daemon's) that ended before `first`.
pub fn send_learnable_feedback_from(target: &Target, first: usize, n: usize) {
    for i in first..first + n {
        let (text, label) = if i % 2 == 0 {
            (
                format!("the flurbish thing number {i} was flurbish"),
                "positive",
            )
        } else {
            (
                format!("the gronkle thing number {i} was gronkle"),
                "negative",
            )
        };
        let r = post_json(
            target,
            "/feedback",
            &json!({"text": text, "correct_label": label}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

/// SST-2 training sentences with their labels flipped.
pub fn send_poison(target: &Target, n: usize) {
    let train = std::fs::read_to_string(shared_data().join("sst2/train.tsv")).unwrap();
    let mut sent = 0;
    for line in train.lines().skip(1) {
        let (text, label) = line.rsplit_once('\t').unwrap();
        if text.split_whitespace().count() < 6 {
            continue;
        }
        let flipped = if label == "1" { "negative" } else { "positive" };
        let r = post_json(
            target,
            "/feedback",
            &json!({"text": text, "correct_label": flipped}),
        );
        assert_eq!(r.status, 200);
        sent += 1;
        if sent == n {
            break;
        }
    }
}

pub fn retrain_and_wait(target: &Target) -> serde_json::Value {
    let r = post_json(target, "/admin/retrain?wait=true", &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}
