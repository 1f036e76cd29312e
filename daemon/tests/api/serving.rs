//! What the service answers on both listeners: predictions, explanations, batches,
//! feedback, model info and metrics; the review queue; unknown text.

use crate::common::app::{App, Via};
use crate::common::INLINE_TRAIN_ROWS;
use sentiment_protocol::{
    BatchResponse, FeedbackResponse, FeedbackView, HealthResponse, Label, MetricsResponse,
    ModelInfoResponse, PredictResponse, QueueItemView, QueueResponse,
};
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
        let health: HealthResponse = health.read();
        assert!(health.ready);
        assert_eq!(health.model_version.as_deref(), Some("v1"));
        assert_eq!(
            health.protocol_version,
            sentiment_protocol::PROTOCOL_VERSION
        );

        let p = post(
            "/predict",
            json!({"text": "a gorgeous, witty, moving film"}),
        )
        .await;
        assert_eq!(p.status, 200, "{}", p.text());
        assert!(p.json().get("explanation").is_none());
        let p: PredictResponse = p.read();
        assert_eq!(p.label, Label::Positive);
        assert_eq!(p.model_version, "v1");
        let (neg, pos) = (p.probabilities.negative, p.probabilities.positive);
        assert!((neg + pos - 1.0).abs() < 1e-9);
        assert_eq!(p.confidence, pos);
        assert!(p.prediction_id.len() >= 32);

        let e = post(
            "/predict?explain=true",
            json!({"text": "dull and lifeless"}),
        )
        .await
        .read::<PredictResponse>();
        assert_eq!(e.label, Label::Negative);
        let towards_negative = e.explanation.expect("asked for").towards_negative;
        assert!(!towards_negative.is_empty());
        assert!(towards_negative.iter().all(|c| c.contribution < 0.0));

        let b = post(
            "/predict/batch",
            json!({"texts": ["great fun", "a boring mess", "great fun"]}),
        )
        .await;
        assert_eq!(b.status, 200);
        let predictions = b.read::<BatchResponse>().predictions;
        assert_eq!(predictions.len(), 3);
        assert_eq!(predictions[0].label, Label::Positive);
        assert_eq!(predictions[1].label, Label::Negative);
        assert_eq!(predictions[0].confidence, predictions[2].confidence);

        // Both feedback forms.
        let f = post(
            "/feedback",
            json!({"text": "not bad at all", "predicted_label": "negative", "correct_label": "positive", "confidence": 0.61}),
        )
        .await;
        assert_eq!(f.status, 200, "{}", f.text());
        let f: FeedbackResponse = f.read();
        assert_eq!(f.status, "accepted");
        let by_id = post(
            "/feedback",
            json!({"prediction_id": p.prediction_id, "correct_label": 0}),
        )
        .await;
        assert_eq!(by_id.status, 200, "{}", by_id.text());
        assert!(by_id.read::<FeedbackResponse>().id > f.id);

        let info: ModelInfoResponse = get("/model_info").await.read();
        assert_eq!(info.version, "v1");
        assert_eq!(info.trained_on.examples, INLINE_TRAIN_ROWS as u64);
        let accuracy = info.metrics["base_test"]["accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.70, "base test accuracy {accuracy}");

        let m: MetricsResponse = get("/metrics").await.read();
        assert!(m.total_predictions >= 5);
        assert!(m.total_feedback >= 2);
        assert_eq!(m.model_version, "v1");
        assert_eq!(m.test_accuracy, Some(accuracy));
        assert!(m.average_confidence.unwrap() > 0.5);

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
        .read::<PredictResponse>();
    assert!(p.low_confidence);
    app.socket_post_json(
        "/predict/batch",
        &json!({"texts": ["a boring film", "a witty film"]}),
    )
    .await;
    let items = wait_for(|| async {
        let q: QueueResponse = app.socket_get("/admin/queue").await.read();
        (q.items.len() >= 3).then_some(q.items)
    })
    .await;
    assert_eq!(items[0].kind, "low_confidence");
    assert_eq!(items[0].prediction_id.as_ref(), Some(&p.prediction_id));
    assert_eq!(items[0].state, "pending");
    let id = items[0].id;

    let path = format!("/admin/queue/{id}");
    let labelled = app
        .socket_post_json(&path, &json!({"action": "label", "label": "negative"}))
        .await;
    assert_eq!(labelled.status, 200, "{}", labelled.text());
    assert_eq!(labelled.read::<QueueItemView>().state, "labelled");
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

    let feedback: Vec<FeedbackView> = app.socket_get("/admin/feedback").await.read();
    let row = &feedback[0];
    assert_eq!(row.text, "a moving film");
    assert_eq!(row.correct_label, Label::Negative);
    assert_eq!(row.status, "accepted");
    let m: MetricsResponse = app.socket_get("/metrics").await.read();
    assert_eq!(m.low_confidence_count, 3);
    assert_eq!(m.queue_pending, 2);
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
