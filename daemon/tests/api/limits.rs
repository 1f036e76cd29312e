//! Configured body, batch and text limits, and property-based request bodies that
//! must never get a 5xx. (The connection cap, the request timeout and slow-loris
//! clients need real sockets: tests/limits.rs.)

use crate::common::app::{App, Via};
use proptest::prelude::*;
use serde_json::{json, Value};

#[tokio::test]
async fn configured_body_batch_and_text_limits_are_enforced_with_precise_messages() {
    let app = App::with(|c| {
        c.limits.max_batch = 3;
        c.limits.max_text_bytes = 64;
        c.limits.max_body_bytes = 2048;
    });
    let r = app
        .post_json("/predict/batch", &json!({"texts": ["a", "b", "c", "d"]}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "batch_too_large"));
    assert!(
        r.text().contains('3'),
        "the message names the limit: {}",
        r.text()
    );
    assert_eq!(
        app.post_json("/predict/batch", &json!({"texts": ["a", "b", "c"]}))
            .await
            .status,
        200
    );
    let r = app
        .post_json("/predict", &json!({"text": "x".repeat(65)}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "text_too_long"));
    assert!(r.text().contains("64"), "{}", r.text());
    assert_eq!(
        app.post_json("/predict", &json!({"text": "x".repeat(64)}))
            .await
            .status,
        200
    );
    let r = app
        .post_json(
            "/feedback",
            &json!({"text": "y".repeat(65), "correct_label": 1}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "text_too_long"));
    let texts: Vec<String> = (0..3).map(|_| "z".repeat(1_000)).collect();
    let r = app
        .post_json("/predict/batch", &json!({ "texts": texts }))
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    assert!(r.text().contains("2048 bytes"), "{}", r.text());
    assert_eq!(app.get("/health").await.status, 200);
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![Just("positive"), Just("negative"), Just("0"), Just("1")].prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("text".to_string()),
                    Just("texts".to_string()),
                    Just("correct_label".to_string()),
                    Just("predicted_label".to_string()),
                    Just("confidence".to_string()),
                    Just("prediction_id".to_string()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body: valid-looking JSON objects for the routes, or arbitrary bytes.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => any_json().prop_map(|v| {
            // Truncated JSON.
            let mut bytes = v.to_string().into_bytes();
            bytes.truncate(bytes.len() / 2);
            bytes
        }),
    ]
}

#[test]
fn arbitrary_request_bodies_get_a_json_4xx_or_a_2xx_and_never_a_5xx() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _entered = runtime.enter();
    let app = App::new();
    let routes = [
        (Via::Tcp, "/predict"),
        (Via::Tcp, "/predict?explain=true"),
        (Via::Tcp, "/predict/batch"),
        (Via::Tcp, "/feedback"),
        (Via::Socket, "/admin/explain"),
        (Via::Socket, "/admin/queue/1"),
        (Via::Socket, "/admin/promote"),
    ];
    let cases = std::cell::Cell::new(0);
    let config = ProptestConfig::default(); // 256 cases; PROPTEST_CASES raises it
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&(0..routes.len(), any_body()), |(route, body)| {
            cases.set(cases.get() + 1);
            let (via, path) = routes[route];
            let r = runtime.block_on(app.request(
                via,
                "POST",
                path,
                &[("Content-Type", "application/json")],
                &body,
            ));
            prop_assert!(
                r.status < 500,
                "{path} {:?}: {} {}",
                String::from_utf8_lossy(&body),
                r.status,
                r.text()
            );
            if r.status >= 400 {
                let v: Value = serde_json::from_slice(&r.body)
                    .map_err(|e| TestCaseError::fail(format!("{path}: not JSON: {e}")))?;
                prop_assert!(
                    !v["error"]["code"].as_str().unwrap_or("").is_empty(),
                    "{path}: {v}"
                );
            }
            Ok(())
        })
        .unwrap();
    let prom = runtime.block_on(app.get("/metrics/prometheus")).text();
    assert!(prom.contains("sentiment_http_5xx_total 0"), "{prom}");
    println!("request-body cases: {}", cases.get());
}
