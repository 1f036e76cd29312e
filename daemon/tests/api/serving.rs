//! What the service answers on both listeners: predictions, explanations, batches,
//! feedback, model info and metrics; the review queue; unknown text.

use crate::common::app::{App, Via};
use crate::common::INLINE_TRAIN_ROWS;
use serde_json::{json, Value};
use std::time::Duration;

/// Polls `f` (the store writes queue items on its writer thread) for up to 30 s.
async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(mut f: impl FnMut() -> F) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn every_public_endpoint_answers_on_tcp_and_the_socket() {
    let app = &App::new();
    for via in [Via::Tcp, Via::Socket] {
        let get = |path: &'static str| app.request(via, "GET", path, &[], b"");
        let post = |path: &'static str, body: Value| async move {
            app.send_json(via, path, &[], &body).await
        };
        let health = get("/health").await;
        assert_eq!(health.status, 200);
        let health = health.json();
        assert_eq!(health["ready"], true);
        assert_eq!(health["model_version"], "v1");

        let p = post(
            "/predict",
            json!({"text": "a gorgeous, witty, moving film"}),
        )
        .await;
        assert_eq!(p.status, 200, "{}", p.text());
        let p = p.json();
        assert_eq!(p["label"], "positive");
        assert_eq!(p["model_version"], "v1");
        let (neg, pos) = (
            p["probabilities"]["negative"].as_f64().unwrap(),
            p["probabilities"]["positive"].as_f64().unwrap(),
        );
        assert!((neg + pos - 1.0).abs() < 1e-9);
        assert_eq!(p["confidence"].as_f64().unwrap(), pos);
        assert!(p["prediction_id"].as_str().unwrap().len() >= 32);
        assert!(p.get("explanation").is_none());

        let e = post(
            "/predict?explain=true",
            json!({"text": "dull and lifeless"}),
        )
        .await
        .json();
        assert_eq!(e["label"], "negative");
        let towards_negative = e["explanation"]["towards_negative"].as_array().unwrap();
        assert!(!towards_negative.is_empty());
        assert!(towards_negative
            .iter()
            .all(|c| c["contribution"].as_f64().unwrap() < 0.0));

        let b = post(
            "/predict/batch",
            json!({"texts": ["great fun", "a boring mess", "great fun"]}),
        )
        .await;
        assert_eq!(b.status, 200);
        let b = b.json();
        let predictions = b["predictions"].as_array().unwrap();
        assert_eq!(predictions.len(), 3);
        assert_eq!(predictions[0]["label"], "positive");
        assert_eq!(predictions[1]["label"], "negative");
        assert_eq!(predictions[0]["confidence"], predictions[2]["confidence"]);

        // Both feedback forms.
        let f = post(
            "/feedback",
            json!({"text": "not bad at all", "predicted_label": "negative", "correct_label": "positive", "confidence": 0.61}),
        )
        .await;
        assert_eq!(f.status, 200, "{}", f.text());
        assert_eq!(f.json()["status"], "accepted");
        let by_id = post(
            "/feedback",
            json!({"prediction_id": p["prediction_id"], "correct_label": 0}),
        )
        .await;
        assert_eq!(by_id.status, 200, "{}", by_id.text());
        assert!(by_id.json()["id"].as_i64().unwrap() > f.json()["id"].as_i64().unwrap());

        let info = get("/model_info").await.json();
        assert_eq!(info["version"], "v1");
        assert_eq!(info["trained_on"]["examples"], INLINE_TRAIN_ROWS);
        let accuracy = info["metrics"]["base_test"]["accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.70, "base test accuracy {accuracy}");

        let m = get("/metrics").await.json();
        assert!(m["total_predictions"].as_u64().unwrap() >= 5);
        assert!(m["total_feedback"].as_u64().unwrap() >= 2);
        assert_eq!(m["model_version"], "v1");
        assert_eq!(m["test_accuracy"].as_f64().unwrap(), accuracy);
        assert!(m["average_confidence"].as_f64().unwrap() > 0.5);

        let prom = app
            .request(via, "GET", "/metrics", &[("Accept", "text/plain")], b"")
            .await;
        assert!(prom
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
        let text = prom.text();
        assert!(text.contains("sentiment_predictions_total"));
        assert!(text
            .contains("sentiment_request_duration_seconds_bucket{route=\"/predict\",le=\"+Inf\"}"));
        assert_eq!(
            get("/metrics/prometheus").await.text().lines().next(),
            text.lines().next()
        );
    }
}

#[tokio::test]
async fn low_confidence_predictions_are_queued_and_labelled_into_feedback() {
    // With a threshold of 0.999 nearly every prediction is "unsure".
    let app = App::with(|c| c.low_confidence_threshold = 0.999);
    let p = app
        .socket_post_json("/predict", &json!({"text": "a moving film"}))
        .await
        .json();
    assert_eq!(p["low_confidence"], true);
    app.socket_post_json(
        "/predict/batch",
        &json!({"texts": ["a boring film", "a witty film"]}),
    )
    .await;
    let queue = wait_for(|| async {
        let q = app.socket_get("/admin/queue").await.json();
        (q["items"].as_array().unwrap().len() >= 3).then_some(q)
    })
    .await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "low_confidence");
    assert_eq!(items[0]["prediction_id"], p["prediction_id"]);
    assert_eq!(items[0]["state"], "pending");
    let id = items[0]["id"].as_i64().unwrap();

    let path = format!("/admin/queue/{id}");
    let labelled = app
        .socket_post_json(&path, &json!({"action": "label", "label": "negative"}))
        .await;
    assert_eq!(labelled.status, 200, "{}", labelled.text());
    assert_eq!(labelled.json()["state"], "labelled");
    let again = app
        .socket_post_json(&path, &json!({"action": "reject"}))
        .await;
    assert_eq!(again.status, 409, "{}", again.text());
    let missing = app
        .socket_post_json("/admin/queue/999999", &json!({"action": "skip"}))
        .await;
    assert_eq!(missing.status, 404);
    let no_label = app
        .socket_post_json(&path, &json!({"action": "label"}))
        .await;
    assert_eq!(no_label.status, 400);

    let feedback = app.socket_get("/admin/feedback").await.json();
    let row = &feedback.as_array().unwrap()[0];
    assert_eq!(row["text"], "a moving film");
    assert_eq!(row["correct_label"], "negative");
    assert_eq!(row["status"], "accepted");
    let m = app.socket_get("/metrics").await.json();
    assert_eq!(m["low_confidence_count"].as_u64().unwrap(), 3);
    assert_eq!(m["queue_pending"].as_u64().unwrap(), 2);
}

#[tokio::test]
async fn unknown_text_is_flagged_queued_and_not_confident() {
    let app = &App::new();
    let predict = |text: &'static str| async move {
        let r = app.post_json("/predict", &json!({ "text": text })).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    for text in ["🙂🙂🙂", "xqzv brrrkt wubba", "这部电影"] {
        let p = predict(text).await;
        assert_eq!(p["low_confidence"], true, "{text}: {p}");
        assert_eq!(p["low_confidence_reason"], "unknown_text", "{text}: {p}");
        assert_eq!(p["confidence"], 0.5, "{text}: {p}");
    }
    let known = predict("a masterpiece , brilliant and moving").await;
    assert!(known.get("low_confidence_reason").is_none(), "{known}");
    let batch = app
        .post_json(
            "/predict/batch",
            &json!({ "texts": ["🙂", "a masterpiece , brilliant and moving"] }),
        )
        .await
        .json();
    assert_eq!(
        batch["predictions"][0]["low_confidence_reason"],
        "unknown_text"
    );
    assert_eq!(batch["predictions"][1]["low_confidence"], false);
    let queue = wait_for(|| async {
        let queue = app.socket_get("/admin/queue?limit=100").await.json();
        let unknown = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["reason"] == "unknown_text")
            .count();
        (unknown >= 4).then_some(queue)
    })
    .await;
    let unknown = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["reason"] == "unknown_text")
        .count();
    assert_eq!(unknown, 4, "{queue}");
}
