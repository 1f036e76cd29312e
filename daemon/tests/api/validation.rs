//! Bad input gets a precise 4xx with a specific error code and never a 5xx; real-world
//! text (Windows-1252 mojibake, stray controls) is cleaned the same way on every route.

use crate::common::app::{App, Via};
use crate::common::{inline_sentences, Response};
use serde_json::{json, Value};

#[tokio::test]
async fn bad_input_gets_a_precise_4xx_and_never_a_5xx() {
    let app = App::with(|c| c.limits.max_batch = 5);
    let json_header = [("Content-Type", "application/json")];
    // (method, path, body, headers, expected status, expected error code)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<u8>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/predict",
            b"{\"text\": ".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/predict",
            b"{\"text\": \"\"}".to_vec(),
            json_header.to_vec(),
            400,
            "empty_text",
        ),
        (
            "POST",
            "/predict",
            b"{\"text\": \" \\n\\t \"}".to_vec(),
            json_header.to_vec(),
            400,
            "empty_text",
        ),
        (
            "POST",
            "/predict",
            b"{\"txt\": \"hi\"}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/predict",
            b"{\"text\": 5}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/predict",
            b"{\"text\": \"\\u0000\\u0081 \"}".to_vec(),
            json_header.to_vec(),
            400,
            "empty_text",
        ),
        (
            "POST",
            "/predict",
            b"{\"text\": \"caf\xc3\x28\"}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/predict",
            b"text=hi".to_vec(),
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/predict",
            b"{\"text\": \"hi\"}".to_vec(),
            vec![],
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/predict?explain=maybe",
            b"{\"text\": \"hi\"}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_query",
        ),
        (
            "POST",
            "/predict/batch",
            b"{\"texts\": []}".to_vec(),
            json_header.to_vec(),
            400,
            "empty_batch",
        ),
        (
            "POST",
            "/predict/batch",
            b"{\"texts\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}".to_vec(),
            json_header.to_vec(),
            413,
            "batch_too_large",
        ),
        (
            "POST",
            "/predict/batch",
            b"{\"texts\": [\"fine\", \"\"]}".to_vec(),
            json_header.to_vec(),
            400,
            "empty_text",
        ),
        (
            "POST",
            "/feedback",
            b"{\"text\": \"x\", \"correct_label\": \"meh\"}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/feedback",
            b"{\"text\": \"x\", \"correct_label\": 2}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/feedback",
            b"{\"correct_label\": \"positive\"}".to_vec(),
            json_header.to_vec(),
            400,
            "missing_text",
        ),
        (
            "POST",
            "/feedback",
            b"{\"text\": \"x\", \"correct_label\": 1, \"confidence\": 1.5}".to_vec(),
            json_header.to_vec(),
            400,
            "invalid_confidence",
        ),
        (
            "POST",
            "/feedback",
            b"{\"prediction_id\": \"0190-nope\", \"correct_label\": 1}".to_vec(),
            json_header.to_vec(),
            404,
            "unknown_prediction",
        ),
        ("GET", "/nowhere", vec![], vec![], 404, "not_found"),
        ("GET", "/predict", vec![], vec![], 405, "method_not_allowed"),
        (
            "DELETE",
            "/health",
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, headers, status, code) in cases {
        let r = app.request(Via::Tcp, method, path, &headers, &body).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{method} {path} {:?}: {}",
            String::from_utf8_lossy(&body),
            r.text()
        );
        assert!(!r.json()["error"]["message"].as_str().unwrap().is_empty());
    }
    // A text of 1 MB, and a body past the body limit.
    let big = json!({"text": "a".repeat(1 << 20)});
    let r = app.post_json("/predict", &big).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "text_too_long"),
        "{}",
        r.text()
    );
    let huge = json!({"text": "a".repeat(5 << 20)});
    let r = app.post_json("/predict", &huge).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "body_too_large"),
        "{}",
        r.text()
    );
    // Deeply nested JSON.
    let nested = "[".repeat(100_000) + &"]".repeat(100_000);
    let r = app
        .request(
            Via::Tcp,
            "POST",
            "/predict",
            &json_header,
            nested.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    // Still serving, no 5xx counted.
    assert_eq!(app.get("/health").await.status, 200);
    let m = app.get("/metrics").await.json();
    let prom = app.get("/metrics/prometheus").await.text();
    assert!(prom.contains("sentiment_http_5xx_total 0"), "{prom}");
    assert!(m["total_predictions"].as_u64().unwrap() == 0);
}

/// The clean-up the daemon promises, spelled out independently of its code: the C1
/// controls the tests use, as Windows-1252 reads them, and other controls as spaces.
fn cleaned(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{0096}' => '\u{2013}',
            '\u{0097}' => '\u{2014}',
            '\u{0092}' => '\u{2019}',
            '\u{0093}' => '\u{201C}',
            '\u{0094}' => '\u{201D}',
            '\u{0085}' => '\u{2026}',
            '\u{0080}' => '\u{20AC}',
            '\t' | '\n' | '\r' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Review sentences (two inline sentences joined, numbered: all different, all longer
/// than 60 bytes), each with mojibake and a stray control spliced in.
fn dirty_reviews(n: usize) -> Vec<String> {
    let sentences: Vec<&str> = inline_sentences().collect();
    let inserts = [
        "\u{0096}", "\u{0097}", "\u{0092}", "\u{0093}", "\u{0094}", "\u{0085}", "\u{0080}",
        "\u{0007}", "\u{001B}", "\u{0081}",
    ];
    (0..n)
        .map(|i| {
            let s = format!(
                "{} , and {} ({i})",
                sentences[i % sentences.len()],
                sentences[(i * 7 + 3) % sentences.len()]
            );
            let mid = s[..s.len() / 2].rfind(' ').unwrap_or(0);
            format!(
                "{}{}{}s{}",
                &s[..mid],
                inserts[i % inserts.len()],
                &s[mid..],
                inserts[(i + 3) % inserts.len()]
            )
        })
        .collect()
}

#[tokio::test]
async fn a_batch_of_1000_reviews_with_c1_controls_predicts_as_the_cleaned_texts() {
    let app = App::new();
    let dirty = dirty_reviews(1000);
    assert_eq!(dirty.len(), 1000);
    assert!(dirty.iter().all(|s| s.chars().any(|c| c.is_control())));
    let clean: Vec<String> = dirty.iter().map(|s| cleaned(s)).collect();
    let a = app
        .post_json("/predict/batch", &json!({ "texts": dirty }))
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let b = app
        .post_json("/predict/batch", &json!({ "texts": clean }))
        .await;
    assert_eq!(b.status, 200, "{}", b.text());
    let (a, b) = (a.json(), b.json());
    let (a, b) = (
        a["predictions"].as_array().unwrap(),
        b["predictions"].as_array().unwrap(),
    );
    assert_eq!(a.len(), 1000);
    let same = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x["label"] == y["label"] && x["confidence"] == y["confidence"])
        .count();
    assert_eq!(same, 1000);

    // One truly invalid item still fails the batch, naming its index.
    let mut bad = dirty_reviews(10);
    bad[7] = " \u{0007}\u{0081} ".into();
    let r = app
        .post_json("/predict/batch", &json!({ "texts": bad }))
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "empty_text"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("texts[7]"), "{}", r.text());
}

#[tokio::test]
async fn predict_feedback_and_explain_clean_text_the_same_way() {
    let app = App::new();
    let dirty = "a gorgeous\u{0096}witty film \u{0093}that\u{0094} isn\u{0092}t dull\u{0007}";
    let clean = cleaned(dirty);
    assert_eq!(
        clean,
        "a gorgeous\u{2013}witty film \u{201C}that\u{201D} isn\u{2019}t dull "
    );
    let p = app
        .post_json("/predict?explain=true", &json!({ "text": dirty }))
        .await;
    assert_eq!(p.status, 200, "{}", p.text());
    let q = app
        .post_json("/predict?explain=true", &json!({ "text": clean }))
        .await;
    let (p, q) = (p.json(), q.json());
    assert_eq!(p["probabilities"], q["probabilities"]);
    assert_eq!(p["explanation"], q["explanation"]);

    let e = app
        .socket_post_json("/admin/explain", &json!({ "text": dirty }))
        .await;
    assert_eq!(e.status, 200, "{}", e.text());
    assert_eq!(e.json()["probabilities"], q["probabilities"]);

    let f = app
        .post_json(
            "/feedback",
            &json!({"text": dirty, "predicted_label": "negative", "correct_label": "positive"}),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text());
    // What is stored (and trains the next model) is the cleaned text.
    let stored = app.socket_get("/admin/feedback").await.json();
    assert_eq!(stored[0]["text"], Value::String(clean.clone()));
    let recent = app.socket_get("/admin/predictions?limit=5").await.json();
    assert!(recent
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["text"] == Value::String(clean.clone())));
}

/// The error code and message of a response, with the status.
fn error_of(r: &Response) -> (u16, String, String) {
    let body = r.json();
    (
        r.status,
        body["error"]["code"].as_str().unwrap_or("").to_string(),
        body["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test]
async fn every_error_has_a_specific_code_and_says_what_to_do() {
    // Every prediction is unsure, so the queue has an item to decide twice below.
    let app = App::with(|c| c.low_confidence_threshold = 0.999);
    let json_header = [("Content-Type", "application/json")];

    // A path parameter that is not a number.
    let r = app
        .request(
            Via::Socket,
            "POST",
            "/admin/queue/abc",
            &json_header,
            b"{\"action\": \"skip\"}",
        )
        .await;
    let (status, code, message) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "invalid_path"), "{message}");
    assert!(
        message.contains("abc") && message.contains("whole number"),
        "{message}"
    );
    let r = app
        .request(Via::Socket, "POST", "/admin/alerts/x/ack", &[], b"")
        .await;
    assert_eq!(error_of(&r).1, "invalid_path");
    // Unknown fields beside a decision are refused as in every other body.
    let r = app
        .socket_post_json("/admin/queue/1", &json!({"action": "skip", "x": 42}))
        .await;
    assert_eq!(error_of(&r).0, 400, "{}", r.text());
    // Labels are spelled as the schema says.
    let r = app
        .post_json(
            "/feedback",
            &json!({"text": "fine", "correct_label": "Pos"}),
        )
        .await;
    assert_eq!(error_of(&r).0, 400, "{}", r.text());
    // Rolling back from a version without a parent is a conflict, not a bad request.
    let r = app.socket_post_json("/admin/rollback", &json!({})).await;
    assert_eq!(error_of(&r).1, "nothing_to_roll_back_to", "{}", r.text());
    assert_eq!(r.status, 409);

    // A missing correct_label is named as missing, not as an invalid label.
    let r = app.post_json("/feedback", &json!({"text": "fine"})).await;
    let (status, code, message) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "invalid_request"));
    assert!(
        message.contains("missing field `correct_label`"),
        "{message}"
    );

    // The body limit is stated.
    let huge = json!({"text": "a".repeat(5 << 20)});
    let (status, code, message) = error_of(&app.post_json("/predict", &huge).await);
    assert_eq!((status, code.as_str()), (413, "body_too_large"));
    assert!(message.contains("4194304 bytes"), "{message}");

    // A bare JSON array is not the object the route takes.
    let r = app
        .request(
            Via::Tcp,
            "POST",
            "/predict",
            &json_header,
            b"[\"great fun\"]",
        )
        .await;
    let (status, code, message) = error_of(&r);
    assert_eq!(
        (status, code.as_str()),
        (400, "invalid_request"),
        "{message}"
    );
    assert!(message.contains("JSON object"), "{message}");
    let r = app
        .request(
            Via::Tcp,
            "POST",
            "/predict/batch",
            &json_header,
            b"[[\"a\"]]",
        )
        .await;
    assert_eq!(error_of(&r).0, 400);

    // Unknown query parameters are refused, naming the ones the route takes.
    let r = app
        .post_json("/predict?explian=true", &json!({"text": "fine"}))
        .await;
    let (status, code, message) = error_of(&r);
    assert_eq!((status, code.as_str()), (400, "unknown_query_parameter"));
    assert!(
        message.contains("explian") && message.contains("explain"),
        "{message}"
    );
    let r = app
        .post_json("/predict/batch?x=1", &json!({"texts": ["fine"]}))
        .await;
    assert!(
        error_of(&r).2.contains("no query parameters"),
        "{}",
        r.text()
    );
    assert_eq!(
        app.socket_get("/admin/queue?state=all&limit=5")
            .await
            .status,
        200
    );
    assert_eq!(app.socket_get("/admin/queue?sate=all").await.status, 400);

    // A queue item decided twice: the state is spelled as the API spells it.
    let p = app
        .post_json("/predict", &json!({ "text": "so so" }))
        .await
        .json();
    assert_eq!(p["low_confidence"], true, "{p}");
    // The queue is written by the store's writer thread: wait for the item.
    let mut id = None;
    for _ in 0..100 {
        id = app.socket_get("/admin/queue").await.json()["items"][0]["id"].as_i64();
        if id.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let id = id.expect("the low-confidence prediction is queued");
    let path = format!("/admin/queue/{id}");
    let body = json!({"action": "label", "label": "negative"});
    assert_eq!(app.socket_post_json(&path, &body).await.status, 200);
    let (status, code, message) = error_of(&app.socket_post_json(&path, &body).await);
    assert_eq!((status, code.as_str()), (409, "already_resolved"));
    assert!(
        message.contains("is labelled") && !message.contains("Labelled"),
        "{message}"
    );
}
