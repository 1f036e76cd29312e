//! Resource limits and hostile request bodies, end to end through the real daemon:
//! configured body, batch and text limits, the connection cap, the request timeout,
//! slow-loris clients, and property-based request bodies that must never get a 5xx.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn daemon_with(toml: &str) -> Daemon {
    let config = config_file(toml);
    Daemon::start(&["--config", config.to_str().unwrap()])
}

fn connect(daemon: &Daemon) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", daemon.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

#[test]
fn configured_body_batch_and_text_limits_are_enforced_with_precise_messages() {
    let daemon =
        daemon_with("[limits]\nmax_batch = 3\nmax_text_bytes = 64\nmax_body_bytes = 2048\n");
    let t = daemon.tcp();
    let r = post_json(
        &t,
        "/predict/batch",
        &json!({"texts": ["a", "b", "c", "d"]}),
    );
    assert_eq!((r.status, r.code().as_str()), (413, "batch_too_large"));
    assert!(
        r.text().contains('3'),
        "the message names the limit: {}",
        r.text()
    );
    assert_eq!(
        post_json(&t, "/predict/batch", &json!({"texts": ["a", "b", "c"]})).status,
        200
    );
    let r = post_json(&t, "/predict", &json!({"text": "x".repeat(65)}));
    assert_eq!((r.status, r.code().as_str()), (413, "text_too_long"));
    assert!(r.text().contains("64"), "{}", r.text());
    assert_eq!(
        post_json(&t, "/predict", &json!({"text": "x".repeat(64)})).status,
        200
    );
    let r = post_json(
        &t,
        "/feedback",
        &json!({"text": "y".repeat(65), "correct_label": 1}),
    );
    assert_eq!((r.status, r.code().as_str()), (413, "text_too_long"));
    let texts: Vec<String> = (0..3).map(|_| "z".repeat(1_000)).collect();
    let r = post_json(&t, "/predict/batch", &json!({ "texts": texts }));
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    assert_eq!(get(&t, "/health").status, 200);
}

#[test]
fn connections_past_the_cap_get_503_and_the_daemon_keeps_serving() {
    let daemon = daemon_with("[limits]\nmax_connections = 8\nheader_read_timeout_ms = 20000\n");
    // Eight idle connections fill the cap (each proven accepted by a served request
    // on it, kept alive).
    let mut idle: Vec<TcpStream> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while idle.len() < 8 {
        // Connections the harness closed may hold their slot a moment longer.
        let mut s = connect(&daemon);
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        if buf[..n].starts_with(b"HTTP/1.1 200") {
            idle.push(s);
        } else {
            let head = String::from_utf8_lossy(&buf[..n]);
            assert!(head.starts_with("HTTP/1.1 503"), "{head}");
            assert!(Instant::now() < deadline, "slots never freed");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let r = get(&daemon.tcp(), "/health");
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "too_many_connections"),
        "{}",
        r.text()
    );
    assert_eq!(r.header("retry-after"), Some("1"));
    // The operator socket has its own budget.
    assert_eq!(get(&daemon.socket(), "/health").status, 200);
    // The open connections are still served.
    idle[0]
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let n = idle[0].read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // Closing them frees their slots.
    idle.clear();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = get(&daemon.tcp(), "/health");
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "slots never freed: {}", r.status);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_request_whose_body_never_arrives_times_out_with_408() {
    let daemon = daemon_with("[limits]\nrequest_timeout_ms = 1000\n");
    let mut s = connect(&daemon);
    s.write_all(
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\": \"sl",
    )
    .unwrap();
    // Read until the error body has arrived (hyper may keep the socket open after it).
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&bytes).contains("}}") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let response = String::from_utf8_lossy(&bytes);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("\"timeout\""), "{response}");
    assert_eq!(
        post_json(&daemon.tcp(), "/predict", &json!({"text": "ok"})).status,
        200
    );
}

/// A client that sends a request's headers one byte at a time; returns when the
/// server closes the connection, with how long that took and whether the server
/// answered anything.
fn slow_loris(port: u16, pause: Duration) -> std::thread::JoinHandle<(Duration, usize)> {
    std::thread::spawn(move || {
        let started = Instant::now();
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let feeder = std::thread::spawn(move || {
            for byte in head.iter().cycle().take(100_000) {
                if writer.write_all(&[*byte]).is_err() {
                    return;
                }
                std::thread::sleep(pause);
            }
        });
        let mut reader = stream;
        let mut answered = 0;
        let mut buf = [0u8; 1024];
        // The server closes the connection (EOF or reset) at its header deadline.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            answered += n;
        }
        let lasted = started.elapsed();
        let _ = reader.shutdown(std::net::Shutdown::Both);
        let _ = feeder.join();
        (lasted, answered)
    })
}

#[test]
fn slow_loris_clients_do_not_starve_others_and_are_dropped_at_the_header_deadline() {
    let daemon = daemon_with("[limits]\nheader_read_timeout_ms = 3000\nmax_connections = 64\n");
    let slow: Vec<_> = (0..40)
        .map(|_| slow_loris(daemon.port, Duration::from_millis(200)))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // While they dribble, a normal client is served, request after request.
    let started = Instant::now();
    for i in 0..50 {
        let r = post_json(
            &daemon.tcp(),
            "/predict",
            &json!({"text": format!("fine {i}")}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let normal_done = started.elapsed();
    let results: Vec<(Duration, usize)> = slow.into_iter().map(|h| h.join().unwrap()).collect();
    for (lasted, _) in &results {
        // Dropped at the deadline: not before it, and long before the 100,000 bytes
        // (200 ms each) they would otherwise send.
        assert!(
            *lasted >= Duration::from_millis(2_900),
            "dropped too early: {lasted:?}"
        );
        assert!(
            *lasted < Duration::from_secs(30),
            "never dropped: {lasted:?}"
        );
    }
    let earliest_drop = results.iter().map(|(l, _)| *l).min().unwrap();
    // The normal client finished while every slow client was still connected.
    assert!(
        normal_done + Duration::from_millis(500) < earliest_drop,
        "{normal_done:?} vs {earliest_drop:?}"
    );
    assert_eq!(get(&daemon.tcp(), "/health").status, 200);
    println!("50 normal requests in {normal_done:?} beside 40 slow-loris clients, dropped after {earliest_drop:?}");
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
    let daemon = Daemon::start(&[]);
    let routes = [
        ("tcp", "/predict"),
        ("tcp", "/predict?explain=true"),
        ("tcp", "/predict/batch"),
        ("tcp", "/feedback"),
        ("socket", "/admin/explain"),
        ("socket", "/admin/queue/1"),
        ("socket", "/admin/promote"),
    ];
    let cases = std::cell::Cell::new(0);
    let config = ProptestConfig::default(); // 256 cases; PROPTEST_CASES raises it
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&(0..routes.len(), any_body()), |(route, body)| {
            cases.set(cases.get() + 1);
            let (listener, path) = routes[route];
            let target = if listener == "tcp" {
                daemon.tcp()
            } else {
                daemon.socket()
            };
            let r = request(
                &target,
                "POST",
                path,
                &[("Content-Type", "application/json")],
                &body,
            );
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
    let prom = get(&daemon.tcp(), "/metrics/prometheus").text();
    assert!(prom.contains("sentiment_http_5xx_total 0"), "{prom}");
    println!("request-body cases: {}", cases.get());
}
