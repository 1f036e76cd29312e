//! Routes cannot drift: what the router serves (read back from the router itself by
//! `GET /admin/routes`), what `/openapi.json` documents and what `docs/API.md`
//! describes must agree. The demo page's files are the only routes outside the OpenAPI
//! document, and `docs/API.md` lists them explicitly under "Pages".

use crate::common::app::App;
use std::collections::BTreeSet;
use std::path::Path;

type Routes = BTreeSet<(String, String)>;

/// `docs/API.md`'s routes: every `### METHOD /path` heading, split into the JSON API
/// and the pages (headings under a `## Pages` section).
fn documented_routes(markdown: &str) -> (Routes, Routes) {
    let (mut api, mut pages) = (Routes::new(), Routes::new());
    let mut in_pages = false;
    for line in markdown.lines() {
        if let Some(section) = line.strip_prefix("## ") {
            in_pages = section.starts_with("Pages");
        } else if let Some(heading) = line.strip_prefix("### ") {
            let mut words = heading.split_whitespace();
            let (Some(method), Some(path)) = (words.next(), words.next()) else {
                continue;
            };
            let path = path.trim_matches('`');
            if !method.chars().all(|c| c.is_ascii_uppercase()) || !path.starts_with('/') {
                continue;
            }
            let entry = (method.to_string(), path.to_string());
            if in_pages {
                pages.insert(entry);
            } else {
                api.insert(entry);
            }
        }
    }
    (api, pages)
}

/// Every disagreement between the three lists, in words.
fn disagreements(
    served: &Routes,
    openapi: &Routes,
    api_doc: &Routes,
    pages: &Routes,
) -> Vec<String> {
    let show = |(m, p): &(String, String)| format!("{m} {p}");
    let mut problems = Vec::new();
    for route in served {
        if !openapi.contains(route) && !pages.contains(route) {
            problems.push(format!(
                "{} is served but neither in /openapi.json nor listed under Pages in docs/API.md",
                show(route)
            ));
        }
    }
    for route in openapi {
        if !served.contains(route) {
            problems.push(format!(
                "{} is in /openapi.json but not served",
                show(route)
            ));
        }
        if !api_doc.contains(route) {
            problems.push(format!(
                "{} is in /openapi.json but not in docs/API.md",
                show(route)
            ));
        }
        if pages.contains(route) {
            problems.push(format!(
                "{} is in /openapi.json but docs/API.md lists it as a page",
                show(route)
            ));
        }
    }
    for route in api_doc {
        if !openapi.contains(route) {
            problems.push(format!(
                "{} is in docs/API.md but not in /openapi.json",
                show(route)
            ));
        }
    }
    for route in pages {
        if !served.contains(route) {
            problems.push(format!(
                "{} is a page in docs/API.md but not served",
                show(route)
            ));
        }
    }
    problems
}

fn openapi_routes(doc: &serde_json::Value) -> Routes {
    let mut routes = Routes::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in [
            "get", "post", "put", "patch", "delete", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_router_openapi_json_and_docs_api_md_list_the_same_routes() {
    let app = App::new();
    let served: Routes = app.socket_get("/admin/routes").await.json()["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let doc = app.get("/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let openapi = openapi_routes(&doc);
    let api_md = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md");
    let markdown = std::fs::read_to_string(&api_md).expect("docs/API.md");
    let (api_doc, pages) = documented_routes(&markdown);

    // Not vacuous: each list holds what we know is there.
    assert!(served.contains(&("POST".into(), "/predict".into())));
    assert!(served.contains(&("GET".into(), "/".into())));
    assert!(openapi.len() >= 20 && api_doc.len() >= 20 && !pages.is_empty());

    let problems = disagreements(&served, &openapi, &api_doc, &pages);
    assert!(
        problems.is_empty(),
        "the routes drifted:\n  {}",
        problems.join("\n  ")
    );

    // Parameters are where the document says: `in: path` only for `{name}` in the
    // path, and every `{name}` documented.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let (name, place) = (p["name"].as_str().unwrap(), p["in"].as_str().unwrap());
                let templated = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    place == "path",
                    templated,
                    "{method} {path}: parameter {name} is documented `in: {place}`"
                );
            }
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    params.iter().any(|p| p["name"] == name),
                    "{method} {path}: {{{name}}} is not documented"
                );
            }
        }
    }

    // Every documented route is really answered: never the router's own 404.
    for (method, path) in &served {
        if path == "/events" || method != "GET" {
            continue;
        }
        let r = app.socket_get(&path.replace("{id}", "1")).await;
        assert!(
            r.status != 404 || r.code() != "not_found",
            "{path} is listed but not routed"
        );
    }
}

#[test]
fn the_drift_check_catches_each_kind_of_drift() {
    fn route(method: &str, path: &str) -> (String, String) {
        (method.to_string(), path.to_string())
    }
    fn set(items: &[(String, String)]) -> Routes {
        items.iter().cloned().collect()
    }
    let api = [route("POST", "/predict"), route("GET", "/health")];
    let page = [route("GET", "/")];
    let served = set(&[api[0].clone(), api[1].clone(), page[0].clone()]);
    let openapi = set(&api);
    assert!(disagreements(&served, &openapi, &set(&api), &set(&page)).is_empty());

    // A route added to the router only (say, a quick `.route("/debug", ...)`).
    let mut more = served.clone();
    more.insert(route("GET", "/debug"));
    let found = disagreements(&more, &openapi, &set(&api), &set(&page));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("GET /debug is served but neither in /openapi.json"));

    // A documented route the router lost.
    let mut fewer = served.clone();
    fewer.remove(&api[1]);
    let found = disagreements(&fewer, &openapi, &set(&api), &set(&page));
    assert!(found[0].contains("GET /health is in /openapi.json but not served"));

    // docs/API.md missing a route, or describing one that is gone.
    let found = disagreements(&served, &openapi, &set(&api[..1]), &set(&page));
    assert!(found[0].contains("GET /health is in /openapi.json but not in docs/API.md"));
    let mut stale = set(&api);
    stale.insert(route("DELETE", "/predict"));
    let found = disagreements(&served, &openapi, &stale, &set(&page));
    assert!(found[0].contains("DELETE /predict is in docs/API.md but not in /openapi.json"));

    // A page docs/API.md lists that is not served.
    let mut pages = set(&page);
    pages.insert(route("GET", "/assets/old.js"));
    let found = disagreements(&served, &openapi, &set(&api), &pages);
    assert!(found[0].contains("GET /assets/old.js is a page in docs/API.md but not served"));
}

#[test]
fn api_md_headings_are_parsed_into_api_routes_and_pages() {
    let markdown = "# API\n## Predictions\n### POST /predict\ntext\n### GET `/admin/queue/{id}`\n\
                    ### Not a route\n## Pages (not JSON API)\n### GET /\n### GET /assets/app.js\n";
    let (api, pages) = documented_routes(markdown);
    let names = |s: &Routes| {
        s.iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&api), ["GET /admin/queue/{id}", "POST /predict"]);
    assert_eq!(names(&pages), ["GET /", "GET /assets/app.js"]);
}
