//! Who may call what: every route against every kind of caller, API keys and their
//! roles, the bearer scheme, methods before keys, and the free tier's rate limit.

use crate::common::app::{App, Via};
use crate::common::keys_file;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;

const USER_KEY: &str = "sk-test-user-0123456789abcdef";
const ADMIN_KEY: &str = "sk-test-admin-0123456789abcdef";
const FREE_KEY: &str = "sk-test-free-0123456789abcdef";

/// The service with auth on and three keys: a user, an admin (both unlimited) and a
/// free-tier user.
fn app_with_keys() -> App {
    App::with(|c| {
        c.auth_required = true;
        c.keys_file = keys_file(
            &c.data_dir,
            &[
                (USER_KEY, "alice", "unlimited", "user"),
                (ADMIN_KEY, "ops", "unlimited", "admin"),
                (FREE_KEY, "free-user", "free", "user"),
            ],
        );
    })
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Anonymous,
    User,
    Admin,
    Socket,
}

/// Which callers a route admits.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    Public,
    User,
    Operator,
}

fn access_of(path: &str, operation: &Value) -> Access {
    let tags: Vec<&str> = operation["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if tags.contains(&"operator") {
        Access::Operator
    } else if matches!(path, "/health" | "/openapi.json") {
        Access::Public
    } else {
        Access::User
    }
}

/// A body each route accepts, so that an allowed call gets past validation.
fn body_for(method: &str, path: &str) -> Vec<u8> {
    let body = match (method, path) {
        ("POST", "/predict") | ("POST", "/admin/explain") => json!({"text": "fine"}),
        ("POST", "/predict/batch") => json!({"texts": ["fine", "awful"]}),
        ("POST", "/feedback") => json!({"text": "fine", "correct_label": "positive"}),
        ("POST", "/admin/queue/{id}") => json!({"action": "skip"}),
        ("POST", "/admin/promote") => json!({"version": "v1"}),
        ("POST", _) => json!({}),
        _ => return Vec::new(),
    };
    body.to_string().into_bytes()
}

#[tokio::test]
async fn every_route_admits_exactly_the_roles_it_should() {
    let app = app_with_keys();
    // The data directory and the socket's directory are private (0700).
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&app.data_dir), 0o700);
    assert_eq!(mode(&app.data_dir.join("run")), 0o700);

    let doc = app.get("/openapi.json").await.json();
    let user_auth = format!("Bearer {USER_KEY}");
    let admin_auth = format!("Bearer {ADMIN_KEY}");
    let mut checked = 0;
    let mut table = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let method = method.to_uppercase();
            let access = access_of(path, operation);
            let concrete = path.replace("{id}", "999999");
            let body = body_for(&method, path);
            for caller in [
                Caller::Anonymous,
                Caller::User,
                Caller::Admin,
                Caller::Socket,
            ] {
                let (via, auth) = match caller {
                    Caller::Anonymous => (Via::Tcp, None),
                    Caller::User => (Via::Tcp, Some(user_auth.as_str())),
                    Caller::Admin => (Via::Tcp, Some(admin_auth.as_str())),
                    Caller::Socket => (Via::Socket, None),
                };
                let mut headers = vec![("Content-Type", "application/json")];
                if let Some(auth) = auth {
                    headers.push(("Authorization", auth));
                }
                let status = app
                    .request(via, &method, &concrete, &headers, &body)
                    .await
                    .status;
                let expected_denial = match (access, caller) {
                    (Access::Public, _) => None,
                    (_, Caller::Anonymous) => Some(401),
                    (Access::Operator, Caller::User) => Some(403),
                    _ => None,
                };
                match expected_denial {
                    Some(denied) => assert_eq!(
                        status, denied,
                        "{method} {path} as {caller:?} must be refused"
                    ),
                    None => assert!(
                        !matches!(status, 401 | 403) && status < 500,
                        "{method} {path} as {caller:?} must be allowed, got {status}"
                    ),
                }
                table.push(format!("{method} {path} {caller:?} -> {status}"));
                checked += 1;
            }
        }
    }
    // 20 paths, 21 operations (GET and POST /admin/retrain), 4 callers.
    assert!(
        checked >= 21 * 4,
        "only {checked} cases:\n{}",
        table.join("\n")
    );
    // A retrain the matrix started ends before the service is dropped.
    for _ in 0..500 {
        if app.socket_get("/admin/retrain").await.json()["running"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn api_keys_roles_and_the_free_tier_rate_limit() {
    let app = &app_with_keys();
    let body = json!({"text": "fine"});
    // No key, a wrong key, a malformed header.
    assert_eq!(
        app.post_json("/predict", &body).await.code(),
        "missing_api_key"
    );
    assert_eq!(
        app.post_json_with_key("/predict", "sk-wrong", &body)
            .await
            .status,
        401
    );
    let r = app
        .request(
            Via::Tcp,
            "POST",
            "/predict",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", "Basic abc"),
            ],
            b"{\"text\":\"x\"}",
        )
        .await;
    assert_eq!(r.status, 401);
    // Health and the document stay public.
    assert_eq!(app.get("/health").await.status, 200);
    assert_eq!(app.get("/openapi.json").await.status, 200);

    // The free tier: 10 requests, then 429 with Retry-After, from 40 concurrent requests.
    let responses = futures::future::join_all(
        (0..40).map(|_| app.post_json_with_key("/predict", FREE_KEY, &body)),
    )
    .await;
    let ok = responses.iter().filter(|r| r.status == 200).count();
    let limited: Vec<_> = responses.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok, 10, "exactly the free quota gets through");
    assert_eq!(limited.len(), 30);
    let retry: u64 = limited[0].header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(limited[0].code(), "rate_limited");

    // Roles: a user key may not use operator routes; an admin key may; the socket needs no key.
    let bearer = |key: &str| format!("Bearer {key}");
    let r = app
        .request(
            Via::Tcp,
            "GET",
            "/admin/queue",
            &[("Authorization", &bearer(USER_KEY))],
            b"",
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "operator_only"));
    let r = app
        .request(
            Via::Tcp,
            "GET",
            "/admin/queue",
            &[("Authorization", &bearer(ADMIN_KEY))],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(app.get("/admin/queue").await.status, 401);
    assert_eq!(app.socket_get("/admin/queue").await.status, 200);
    assert_eq!(app.socket_post_json("/predict", &body).await.status, 200);
    // Admin feedback is attributed to the key's name, never the key.
    let f = app
        .post_json_with_key(
            "/feedback",
            ADMIN_KEY,
            &json!({"text": "meh", "correct_label": "negative"}),
        )
        .await;
    assert_eq!(f.status, 200);
    let listed = app.socket_get("/admin/feedback").await.json();
    assert_eq!(listed[0]["api_key"], "ops");
}

#[tokio::test]
async fn operator_routes_are_refused_on_tcp_without_an_admin_key() {
    let app = App::new();
    for path in [
        "/admin/queue",
        "/admin/feedback",
        "/admin/predictions",
        "/admin/models",
        "/events",
    ] {
        let r = app.get(path).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "operator_only"),
            "{path}"
        );
    }
    let models = app.socket_get("/admin/models").await.json();
    assert_eq!(models[0]["version"], "v1");
    // Explaining on the socket records nothing.
    let before = app.socket_get("/metrics").await.json()["total_predictions"].clone();
    let e = app
        .socket_post_json("/admin/explain", &json!({"text": "dull and lifeless"}))
        .await;
    assert_eq!(e.status, 200, "{}", e.text());
    assert_eq!(e.json()["label"], "negative");
    assert!(!e.json()["explanation"]["towards_negative"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        app.socket_get("/metrics").await.json()["total_predictions"],
        before
    );
    assert_eq!(models[0]["current"], true);
}

#[tokio::test]
async fn methods_are_checked_before_keys_and_the_bearer_scheme_is_case_insensitive() {
    let app = app_with_keys();
    let user_auth = format!("Bearer {USER_KEY}");
    // TRACE on an operator route, with a user key and with none: 405, not 403/401.
    for headers in [vec![], vec![("Authorization", user_auth.as_str())]] {
        for (method, path) in [
            ("TRACE", "/admin/queue"),
            ("DELETE", "/admin/retrain"),
            ("PUT", "/predict"),
        ] {
            let r = app.request(Via::Tcp, method, path, &headers, b"").await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (405, "method_not_allowed"),
                "{method} {path}: {}",
                r.text()
            );
        }
    }
    // A served method still needs the right key.
    assert_eq!(app.get("/admin/queue").await.status, 401);
    let body = json!({"text": "fine"}).to_string();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} {USER_KEY}");
        let r = app
            .request(
                Via::Tcp,
                "POST",
                "/predict",
                &[
                    ("Content-Type", "application/json"),
                    ("Authorization", &auth),
                ],
                body.as_bytes(),
            )
            .await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.text());
    }
    // What Prometheus sends with a bearer credentials file (docs/OPERATIONS.md).
    let r = app
        .request(
            Via::Tcp,
            "GET",
            "/metrics/prometheus",
            &[("Authorization", &user_auth)],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("sentiment_predictions_total"));
    assert_eq!(
        app.get("/metrics/prometheus").await.code(),
        "missing_api_key"
    );
    let operations = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/OPERATIONS.md"),
    )
    .unwrap();
    assert!(operations.contains("metrics_path: /metrics/prometheus"));
    assert!(operations.contains("credentials_file:"));
}
