//! `GET /metrics/dashboard`: the dashboard's one read. Its figures are the daemon's
//! own (the same as `/metrics` and `/admin/models`), feedback is counted by kind, the
//! histogram counts the recent predictions, and only operators see texts.
//! (The page drawing them in a real browser: tests/browser.rs.)

use crate::common::app::{App, Via};
use crate::common::keys_file;
use sentiment_protocol::{
    DashboardResponse, Label, MetricsResponse, ModelVersionView, PredictResponse, QueueResponse,
};
use serde_json::json;
use std::time::Duration;

const USER_KEY: &str = "sk-test-user-0123456789abcdef";
const ADMIN_KEY: &str = "sk-test-admin-0123456789abcdef";

async fn dashboard(app: &App, via: Via, key: Option<&str>) -> DashboardResponse {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let r = app
        .request(via, "GET", "/metrics/dashboard", &headers, b"")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.read()
}

/// The metrics without what changes by merely being asked (uptime, and the latency
/// of the requests that read them).
fn settled(mut m: MetricsResponse) -> MetricsResponse {
    m.uptime_seconds = 0.0;
    m.latency.clear();
    m
}

#[tokio::test]
async fn the_dashboard_shows_the_daemons_own_numbers_and_texts_only_to_operators() {
    let app = &App::new();
    let mut predicted = Vec::new();
    for text in [
        "a gorgeous, witty, moving film",
        "dull and lifeless",
        "zzzq qqxv",
        "xkcdw plmq",
    ] {
        let r = app.post_json("/predict", &json!({ "text": text })).await;
        assert_eq!(r.status, 200);
        predicted.push((text, r.read::<PredictResponse>()));
    }
    let unknown: Vec<&str> = predicted
        .iter()
        .filter(|(_, p)| p.low_confidence)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(unknown, ["zzzq qqxv", "xkcdw plmq"], "gibberish is flagged");

    // A correction, a confirmation, a bare label, and an operator's label from the queue.
    let (first, p) = &predicted[0];
    for (text, predicted_label, correct) in [
        (*first, Some(p.label), p.label.flipped()),
        ("dull and lifeless", Some(Label::Negative), Label::Negative),
        ("a plain label", None, Label::Positive),
    ] {
        let r = app
            .post_json(
                "/feedback",
                &json!({"text": text, "predicted_label": predicted_label, "correct_label": correct}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let queue: QueueResponse = loop {
        let q: QueueResponse = app.socket_get("/admin/queue").await.read();
        if q.items.len() >= 3 {
            break q;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // The correction contradicted a confident prediction from an anonymous caller:
    // it is held for review. Accepting it changes its status and adds no row.
    let held = queue.items.iter().find(|i| i.kind == "correction").unwrap();
    let low = queue
        .items
        .iter()
        .find(|i| i.kind == "low_confidence")
        .unwrap();
    for (item, decision) in [
        (low, json!({"action": "label", "label": "negative"})),
        (held, json!({"action": "accept"})),
    ] {
        let r = app
            .socket_post_json(&format!("/admin/queue/{}", item.id), &decision)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    app.state.store.flush().unwrap();

    let user = dashboard(app, Via::Tcp, None).await;
    let operator = dashboard(app, Via::Socket, None).await;
    let metrics: MetricsResponse = app.get("/metrics").await.read();
    let models: Vec<ModelVersionView> = app.socket_get("/admin/models").await.read();

    for d in [&user, &operator] {
        // The metrics are /metrics'.
        assert_eq!(settled(d.metrics.clone()), settled(metrics.clone()));
        assert_eq!(d.versions, models);
        assert_eq!(d.model.version, "v1");
        assert_eq!(d.model.created_unix_ms, models[0].created_unix_ms);

        // Feedback by kind, adding up to /metrics' total_feedback.
        let volume = &d.feedback_volume;
        assert_eq!(
            volume.bucket_ms, 60_000,
            "everything is from the last minute"
        );
        let sum = |f: fn(&sentiment_protocol::FeedbackBucket) -> u64| {
            volume.buckets.iter().map(f).sum::<u64>()
        };
        assert_eq!(
            (
                sum(|b| b.corrections),
                sum(|b| b.confirmations),
                sum(|b| b.labels),
                sum(|b| b.operator_labels)
            ),
            (1, 1, 1, 1),
            "{volume:?}"
        );
        assert_eq!(
            sum(|b| b.corrections + b.confirmations + b.labels + b.operator_labels),
            metrics.total_feedback
        );

        // The histogram counts the predictions; its mean is /metrics' average.
        let c = &d.confidence;
        assert_eq!(c.threshold, app.state.config.low_confidence_threshold);
        assert_eq!(c.bins.len(), 10);
        assert_eq!(c.bins[0].lower, 0.5);
        assert_eq!(c.bins[9].upper, 1.0);
        assert_eq!(c.predictions, 4);
        assert_eq!(c.bins.iter().map(|b| b.count).sum::<u64>(), 4);
        assert_eq!(c.mean, metrics.average_confidence);
        for (_, p) in &predicted {
            let bin = c
                .bins
                .iter()
                .position(|b| p.confidence >= b.lower && p.confidence < b.upper)
                .unwrap_or(9);
            assert!(c.bins[bin].count > 0, "{} is not counted", p.confidence);
        }
    }

    // Texts only for operators, newest first.
    assert_eq!(user.view, "user");
    assert_eq!(user.low_confidence, None);
    assert_eq!(operator.view, "operator");
    let texts: Vec<String> = operator
        .low_confidence
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert_eq!(texts, ["xkcdw plmq", "zzzq qqxv"]);
}

#[tokio::test]
async fn with_auth_on_a_key_is_needed_and_its_role_decides_the_view() {
    let app = &App::with(|c| {
        c.auth_required = true;
        c.keys_file = keys_file(
            &c.data_dir,
            &[
                (USER_KEY, "alice", "unlimited", "user"),
                (ADMIN_KEY, "ops", "unlimited", "admin"),
            ],
        );
    });
    let anonymous = app.get("/metrics/dashboard").await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"]["code"], "missing_api_key");
    let user = dashboard(app, Via::Tcp, Some(USER_KEY)).await;
    assert_eq!((user.view.as_str(), user.low_confidence), ("user", None));
    let admin = dashboard(app, Via::Tcp, Some(ADMIN_KEY)).await;
    assert_eq!(admin.view, "operator");
    assert_eq!(admin.low_confidence, Some(vec![]));
}
