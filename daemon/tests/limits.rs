//! Resource limits that need real sockets, end to end through the real daemon: the
//! connection cap, the request timeout of a body that never arrives, and slow-loris
//! clients. (Body, batch and text limits and arbitrary bodies: in-process, tests/api.)

mod common;

use common::*;
use serde_json::json;
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
