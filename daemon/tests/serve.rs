//! End-to-end tests of `sentimentd serve` through the real binary, on TCP and on the
//! operator socket.

mod common;

use common::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};

#[test]
fn every_public_endpoint_answers_on_tcp_and_the_socket() {
    let daemon = Daemon::start(&[]);
    for target in [daemon.tcp(), daemon.socket()] {
        let health = get(&target, "/health");
        assert_eq!(health.status, 200);
        let health = health.json();
        assert_eq!(health["ready"], true);
        assert_eq!(health["model_version"], "v1");

        let p = post_json(
            &target,
            "/predict",
            &json!({"text": "a gorgeous, witty, moving film"}),
        );
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

        let e = post_json(
            &target,
            "/predict?explain=true",
            &json!({"text": "dull and lifeless"}),
        )
        .json();
        assert_eq!(e["label"], "negative");
        let towards_negative = e["explanation"]["towards_negative"].as_array().unwrap();
        assert!(!towards_negative.is_empty());
        assert!(towards_negative
            .iter()
            .all(|c| c["contribution"].as_f64().unwrap() < 0.0));

        let b = post_json(
            &target,
            "/predict/batch",
            &json!({"texts": ["great fun", "a boring mess", "great fun"]}),
        );
        assert_eq!(b.status, 200);
        let b = b.json();
        let predictions = b["predictions"].as_array().unwrap();
        assert_eq!(predictions.len(), 3);
        assert_eq!(predictions[0]["label"], "positive");
        assert_eq!(predictions[1]["label"], "negative");
        assert_eq!(predictions[0]["confidence"], predictions[2]["confidence"]);

        // Both feedback forms.
        let f = post_json(
            &target,
            "/feedback",
            &json!({"text": "not bad at all", "predicted_label": "negative", "correct_label": "positive", "confidence": 0.61}),
        );
        assert_eq!(f.status, 200, "{}", f.text());
        assert_eq!(f.json()["status"], "accepted");
        let by_id = post_json(
            &target,
            "/feedback",
            &json!({"prediction_id": p["prediction_id"], "correct_label": 0}),
        );
        assert_eq!(by_id.status, 200, "{}", by_id.text());
        assert!(by_id.json()["id"].as_i64().unwrap() > f.json()["id"].as_i64().unwrap());

        let info = get(&target, "/model_info").json();
        assert_eq!(info["version"], "v1");
        assert_eq!(info["trained_on"]["examples"], 8_000);
        let accuracy = info["metrics"]["base_test"]["accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.70, "base test accuracy {accuracy}");

        let m = get(&target, "/metrics").json();
        assert!(m["total_predictions"].as_u64().unwrap() >= 5);
        assert!(m["total_feedback"].as_u64().unwrap() >= 2);
        assert_eq!(m["model_version"], "v1");
        assert_eq!(m["test_accuracy"].as_f64().unwrap(), accuracy);
        assert!(m["average_confidence"].as_f64().unwrap() > 0.5);

        let prom = request(&target, "GET", "/metrics", &[("Accept", "text/plain")], b"");
        assert!(prom
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
        let text = prom.text();
        assert!(text.contains("sentiment_predictions_total"));
        assert!(text
            .contains("sentiment_request_duration_seconds_bucket{route=\"/predict\",le=\"+Inf\"}"));
        assert_eq!(
            get(&target, "/metrics/prometheus").text().lines().next(),
            text.lines().next()
        );
    }
}

#[test]
fn bad_input_gets_a_precise_4xx_and_never_a_5xx() {
    let daemon = Daemon::start(&["--max-batch", "5"]);
    let t = daemon.tcp();
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
        let r = request(&t, method, path, &headers, &body);
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
    let r = post_json(&t, "/predict", &big);
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "text_too_long"),
        "{}",
        r.text()
    );
    let huge = json!({"text": "a".repeat(5 << 20)});
    let r = post_json(&t, "/predict", &huge);
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "body_too_large"),
        "{}",
        r.text()
    );
    // Deeply nested JSON.
    let nested = "[".repeat(100_000) + &"]".repeat(100_000);
    let r = request(&t, "POST", "/predict", &json_header, nested.as_bytes());
    assert_eq!(r.status, 400, "{}", r.text());
    // Still serving, no 5xx counted.
    assert_eq!(get(&t, "/health").status, 200);
    let m = get(&t, "/metrics").json();
    let prom = get(&t, "/metrics/prometheus").text();
    assert!(prom.contains("sentiment_http_5xx_total 0"), "{prom}");
    assert!(m["total_predictions"].as_u64().unwrap() == 0);
}

#[test]
fn api_keys_roles_and_the_free_tier_rate_limit() {
    let dir = short_tempdir();
    let keys = dir.join("keys.toml");
    let add = |name: &str, tier: &str, role: &str| add_key(&keys, name, tier, role);
    let free = add("free-user", "free", "user");
    let admin = add("ops", "unlimited", "admin");
    let listed = String::from_utf8(
        sentimentd(&["keys", "list", "--keys-file", keys.to_str().unwrap()]).stdout,
    )
    .unwrap();
    assert!(listed.contains("free-user") && !listed.contains(&free));

    let daemon = Daemon::start(&["--auth", "on", "--keys-file", keys.to_str().unwrap()]);
    let t = daemon.tcp();
    let body = json!({"text": "fine"});
    // No key, a wrong key, a malformed header.
    assert_eq!(post_json(&t, "/predict", &body).code(), "missing_api_key");
    assert_eq!(
        post_json_with_key(&t, "/predict", "sk-wrong", &body).status,
        401
    );
    let r = request(
        &t,
        "POST",
        "/predict",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Basic abc"),
        ],
        b"{\"text\":\"x\"}",
    );
    assert_eq!(r.status, 401);
    // Health and the document stay public.
    assert_eq!(get(&t, "/health").status, 200);
    assert_eq!(get(&t, "/openapi.json").status, 200);

    // The free tier: 10 requests, then 429 with Retry-After, from 40 parallel requests.
    let handles: Vec<_> = (0..40)
        .map(|_| {
            let (t, free) = (t.clone(), free.clone());
            std::thread::spawn(move || {
                post_json_with_key(&t, "/predict", &free, &json!({"text": "fine"}))
            })
        })
        .collect();
    let responses: Vec<Response> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = responses.iter().filter(|r| r.status == 200).count();
    let limited: Vec<&Response> = responses.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok, 10, "exactly the free quota gets through");
    assert_eq!(limited.len(), 30);
    let retry: u64 = limited[0].header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(limited[0].code(), "rate_limited");

    // Roles: a user key may not use operator routes; an admin key may; the socket needs no key.
    let r = request(
        &t,
        "GET",
        "/admin/queue",
        &[("Authorization", &format!("Bearer {free}"))],
        b"",
    );
    assert!(r.status == 403 || r.status == 429, "{}", r.status);
    let r = request(
        &t,
        "GET",
        "/admin/queue",
        &[("Authorization", &format!("Bearer {admin}"))],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get(&t, "/admin/queue").status, 401);
    assert_eq!(get(&daemon.socket(), "/admin/queue").status, 200);
    assert_eq!(post_json(&daemon.socket(), "/predict", &body).status, 200);
    // Admin feedback is attributed to the key's name, never the key.
    let f = post_json_with_key(
        &t,
        "/feedback",
        &admin,
        &json!({"text": "meh", "correct_label": "negative"}),
    );
    assert_eq!(f.status, 200);
    let listed = get(&daemon.socket(), "/admin/feedback").json();
    assert_eq!(listed[0]["api_key"], "ops");
}

#[test]
fn operator_routes_are_refused_on_tcp_without_an_admin_key() {
    let daemon = Daemon::start(&[]);
    for path in [
        "/admin/queue",
        "/admin/feedback",
        "/admin/predictions",
        "/admin/models",
        "/events",
    ] {
        let r = get(&daemon.tcp(), path);
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "operator_only"),
            "{path}"
        );
    }
    let models = get(&daemon.socket(), "/admin/models").json();
    assert_eq!(models[0]["version"], "v1");
    // Explaining on the socket records nothing.
    let before = get(&daemon.socket(), "/metrics").json()["total_predictions"].clone();
    let e = post_json(
        &daemon.socket(),
        "/admin/explain",
        &json!({"text": "dull and lifeless"}),
    );
    assert_eq!(e.status, 200, "{}", e.text());
    assert_eq!(e.json()["label"], "negative");
    assert!(!e.json()["explanation"]["towards_negative"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        get(&daemon.socket(), "/metrics").json()["total_predictions"],
        before
    );
    assert_eq!(models[0]["current"], true);
}

#[test]
fn low_confidence_predictions_are_queued_and_labelled_into_feedback() {
    // With a threshold of 0.999 nearly every prediction is "unsure".
    let daemon = Daemon::start(&["--low-confidence-threshold", "0.999"]);
    let s = daemon.socket();
    let p = post_json(&s, "/predict", &json!({"text": "it is a film"})).json();
    assert_eq!(p["low_confidence"], true);
    post_json(
        &s,
        "/predict/batch",
        &json!({"texts": ["some movie", "another movie"]}),
    );
    let queue = wait_for(|| {
        let q = get(&s, "/admin/queue").json();
        (q["items"].as_array().unwrap().len() >= 3).then_some(q)
    });
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "low_confidence");
    assert_eq!(items[0]["prediction_id"], p["prediction_id"]);
    assert_eq!(items[0]["state"], "pending");
    let id = items[0]["id"].as_i64().unwrap();

    let labelled = post_json(
        &s,
        &format!("/admin/queue/{id}"),
        &json!({"action": "label", "label": "negative"}),
    );
    assert_eq!(labelled.status, 200, "{}", labelled.text());
    assert_eq!(labelled.json()["state"], "labelled");
    let again = post_json(
        &s,
        &format!("/admin/queue/{id}"),
        &json!({"action": "reject"}),
    );
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(
        post_json(&s, "/admin/queue/999999", &json!({"action": "skip"})).status,
        404
    );
    assert_eq!(
        post_json(
            &s,
            &format!("/admin/queue/{id}"),
            &json!({"action": "label"})
        )
        .status,
        400
    );

    let feedback = get(&s, "/admin/feedback").json();
    let row = &feedback.as_array().unwrap()[0];
    assert_eq!(row["text"], "it is a film");
    assert_eq!(row["correct_label"], "negative");
    assert_eq!(row["status"], "accepted");
    let m = get(&s, "/metrics").json();
    assert_eq!(m["low_confidence_count"].as_u64().unwrap(), 3);
    assert_eq!(m["queue_pending"].as_u64().unwrap(), 2);
}

#[test]
fn a_restart_keeps_feedback_queue_recent_predictions_and_counters() {
    let daemon = Daemon::start(&["--low-confidence-threshold", "0.999"]);
    let s = daemon.socket();
    let p = post_json(&s, "/predict", &json!({"text": "an ordinary film"})).json();
    assert_eq!(
        post_json(
            &s,
            "/predict/batch",
            &json!({"texts": ["superb", "dreadful"]})
        )
        .status,
        200
    );
    for i in 0..5 {
        assert_eq!(
            post_json(
                &s,
                "/feedback",
                &json!({"text": format!("text {i}"), "correct_label": "positive"})
            )
            .status,
            200
        );
    }
    let before = wait_for(|| {
        let m = get(&s, "/metrics").json();
        (m["queue_pending"].as_u64() == Some(3)).then_some(m)
    });
    let mut daemon = daemon;
    daemon.terminate();
    let daemon = daemon.restart();
    let s = daemon.socket();
    let after = get(&s, "/metrics").json();
    for key in [
        "total_predictions",
        "total_feedback",
        "low_confidence_count",
        "queue_pending",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    let recent = get(&s, "/admin/predictions").json();
    assert_eq!(recent[0]["id"], p["prediction_id"]);
    // The prediction id still resolves for feedback after the restart.
    let f = post_json(
        &s,
        "/feedback",
        &json!({"prediction_id": p["prediction_id"], "correct_label": "negative"}),
    );
    assert_eq!(f.status, 200, "{}", f.text());
    assert_eq!(
        get(&s, "/admin/feedback?limit=1000")
            .json()
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

#[test]
fn kill_9_loses_no_acknowledged_feedback() {
    let mut daemon = Daemon::start(&[]);
    let t = daemon.tcp();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(i64, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (t, acknowledged, stop) = (t.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let text = format!("worker {w} feedback {n}");
                    n += 1;
                    let body = json!({"text": text, "correct_label": "positive"});
                    match try_request(
                        &t,
                        "POST",
                        "/feedback",
                        &[("Content-Type", "application/json")],
                        body.to_string().as_bytes(),
                    ) {
                        Ok(r) if r.status == 200 => acknowledged
                            .lock()
                            .unwrap()
                            .push((r.json()["id"].as_i64().unwrap(), text)),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    wait_for(|| (acknowledged.lock().unwrap().len() > 500).then_some(()));
    daemon.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let daemon = daemon.restart();
    let out = daemon.data_dir.join("export.csv");
    let export = sentimentd(&[
        "feedback",
        "export",
        "--data-dir",
        daemon.data_dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let mut reader = csv_rows(&out);
    let stored: std::collections::HashMap<i64, String> = reader.drain(..).collect();
    for (id, text) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(text),
            "acknowledged feedback {id} is missing after kill -9"
        );
    }
}

fn csv_rows(path: &std::path::Path) -> Vec<(i64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "id");
    assert_eq!(header[2], "text");
    // Texts here have no commas or quotes, so a plain split is exact.
    lines
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[0].parse().unwrap(), cols[2].to_string())
        })
        .collect()
}

#[test]
fn events_stream_predictions_and_feedback_on_the_socket() {
    let daemon = Daemon::start(&[]);
    let mut stream =
        std::os::unix::net::UnixStream::connect(daemon.data_dir.join("run/sentimentd.sock"))
            .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    // Wait for the hello event, so the subscription exists before we predict.
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.starts_with("event: hello") {
            break;
        }
    }
    post_json(&daemon.tcp(), "/predict", &json!({"text": "a delight"}));
    post_json(
        &daemon.tcp(),
        "/feedback",
        &json!({"text": "a delight", "correct_label": "positive"}),
    );
    let mut seen = Vec::new();
    while seen.len() < 2 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if let Some(data) = line.trim().strip_prefix("data: ") {
            match serde_json::from_str::<serde_json::Value>(data) {
                // `hello` (the stream's first event) has a type too now.
                Ok(event) if event.get("type").is_some_and(|t| t != "hello") => seen.push(event),
                _ => {}
            }
        }
    }
    assert_eq!(seen[0]["type"], "prediction");
    assert_eq!(seen[0]["text"], "a delight");
    assert_eq!(seen[1]["type"], "feedback");
}

#[test]
fn first_start_without_base_data_names_the_flag() {
    let dir = short_tempdir();
    let out = std::process::Command::new(bin())
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("SENTIMENT_BASE_DATA")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--base-data"), "{stderr}");
}

#[test]
fn a_second_daemon_on_the_same_data_directory_is_refused() {
    let daemon = Daemon::start(&[]);
    let out = std::process::Command::new(bin())
        .args([
            "serve",
            "--data-dir",
            daemon.data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already serving"));
    // The socket is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(daemon.data_dir.join("run/sentimentd.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(daemon.data_dir.join("run"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}

fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
