//! The test Hub's request handling: one fallback handler that parses the path itself,
//! because the Hub's URL shapes overlap (`/{owner}/{name}/resolve/...` for models
//! beside `/datasets/{owner}/{name}/resolve/...` and `/api/...`).

use super::store::{etag, RepoKind, Store};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

pub struct Hub {
    pub store: Store,
    pub access: super::Access,
}

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new().fallback(handle).with_state(hub)
}

async fn handle(
    State(hub): State<Arc<Hub>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    if segments.iter().any(|s| s == ".." || s == ".") {
        return error(StatusCode::BAD_REQUEST, None, "path traversal");
    }
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let recursive = uri.query().is_some_and(|q| q.contains("recursive=true"));
    let write = method == Method::POST;
    if let Some(denied) = hub.authorize(&headers, write) {
        return denied;
    }
    match (&method, seg.as_slice()) {
        (&Method::POST, ["api", "repos", "create"]) => hub.create(&body),
        (&Method::GET, ["api", kinds, owner, name]) => {
            with_repo(&hub, kinds, owner, name, None, |kind, repo| {
                hub.info(kind, repo)
            })
        }
        (&Method::GET, ["api", kinds, owner, name, "revision", rev]) => {
            with_repo(&hub, kinds, owner, name, Some(rev), |kind, repo| {
                hub.info(kind, repo)
            })
        }
        (&Method::GET, ["api", kinds, owner, name, "tree", rev, path @ ..]) => {
            with_repo(&hub, kinds, owner, name, Some(rev), |kind, repo| {
                hub.tree(kind, repo, &path.join("/"), recursive)
            })
        }
        (&Method::POST, ["api", kinds, owner, name, "preupload", rev]) => {
            with_repo(&hub, kinds, owner, name, Some(rev), |_, _| preupload(&body))
        }
        (&Method::POST, ["api", kinds, owner, name, "commit", rev]) => {
            with_repo(&hub, kinds, owner, name, Some(rev), |kind, repo| {
                hub.commit(kind, repo, &body)
            })
        }
        (&Method::GET | &Method::HEAD, [kinds, owner, name, "resolve", rev, path @ ..])
            if *kinds != "api" && RepoKind::from_plural(kinds).is_some() =>
        {
            with_repo(&hub, kinds, owner, name, Some(rev), |kind, repo| {
                hub.resolve(kind, repo, &path.join("/"), &method, &headers)
            })
        }
        (&Method::GET | &Method::HEAD, [owner, name, "resolve", rev, path @ ..]) => {
            with_repo(&hub, "models", owner, name, Some(rev), |kind, repo| {
                hub.resolve(kind, repo, &path.join("/"), &method, &headers)
            })
        }
        _ => error(StatusCode::NOT_FOUND, None, "no such route on the test Hub"),
    }
}

/// Runs `f` on an existing repository at a known revision, or answers 404 the Hub's way.
fn with_repo(
    hub: &Hub,
    kinds: &str,
    owner: &str,
    name: &str,
    revision: Option<&str>,
    f: impl FnOnce(RepoKind, &str) -> Response,
) -> Response {
    let Some(kind) = RepoKind::from_plural(kinds) else {
        return error(StatusCode::NOT_FOUND, None, "unknown repository type");
    };
    let repo = format!("{owner}/{name}");
    if !hub.store.exists(kind, &repo) {
        return error(
            StatusCode::NOT_FOUND,
            Some("RepoNotFound"),
            &format!("Repository not found: {repo}"),
        );
    }
    if let Some(revision) = revision {
        if !hub.store.knows_revision(kind, &repo, revision) {
            return error(
                StatusCode::NOT_FOUND,
                Some("RevisionNotFound"),
                &format!("Invalid rev id: {revision}"),
            );
        }
    }
    f(kind, &repo)
}

impl Hub {
    /// The refusal for a request these credentials may not make, if any.
    fn authorize(&self, headers: &HeaderMap, write: bool) -> Option<Response> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let unauthorized = |m: &str| Some(error(StatusCode::UNAUTHORIZED, None, m));
        match (&self.access.token, bearer) {
            (_, Some(b)) if self.access.read_only_token.as_deref() == Some(b) => write.then(|| {
                error(
                    StatusCode::FORBIDDEN,
                    None,
                    "You don't have the rights to write to this repository",
                )
            }),
            (Some(_), None) => unauthorized("Authentication required"),
            (Some(token), Some(b)) if b != token => {
                unauthorized("Invalid credentials in Authorization header")
            }
            (None, None) if write => unauthorized("Authentication required to write"),
            _ => None,
        }
    }

    fn info(&self, kind: RepoKind, repo: &str) -> Response {
        let files = match self.store.files(kind, repo) {
            Ok(files) => files,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string()),
        };
        let siblings: Vec<Value> = files.iter().map(|f| json!({"rfilename": f.path})).collect();
        json_response(json!({
            "id": repo,
            "author": repo.split('/').next(),
            "sha": self.store.head(kind, repo),
            "private": false,
            "disabled": false,
            "siblings": siblings,
        }))
    }

    fn tree(&self, kind: RepoKind, repo: &str, prefix: &str, recursive: bool) -> Response {
        let files = match self.store.files(kind, repo) {
            Ok(files) => files,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string()),
        };
        let base = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        let mut entries = Vec::new();
        let mut dirs = std::collections::BTreeSet::new();
        for file in files.iter().filter(|f| f.path.starts_with(&base)) {
            let rest = &file.path[base.len()..];
            match rest.split_once('/') {
                Some((dir, _)) if !recursive => {
                    dirs.insert(format!("{base}{dir}"));
                }
                _ => {
                    if recursive {
                        // A recursive listing names the folders too, as the Hub's does.
                        let mut parent = rest;
                        while let Some((head, _)) = parent.rsplit_once('/') {
                            dirs.insert(format!("{base}{head}"));
                            parent = head;
                        }
                    }
                    let bytes = std::fs::read(self.store.repo_dir(kind, repo).join(&file.path))
                        .unwrap_or_default();
                    entries.push(json!({
                        "type": "file", "oid": etag(&bytes), "size": file.size, "path": file.path,
                    }));
                }
            }
        }
        if !prefix.is_empty() && entries.is_empty() && dirs.is_empty() {
            return error(
                StatusCode::NOT_FOUND,
                Some("EntryNotFound"),
                &format!("{prefix} does not exist"),
            );
        }
        let mut all: Vec<Value> = dirs
            .into_iter()
            .map(|d| json!({"type": "directory", "oid": super::store::sha40(d.as_bytes()), "path": d}))
            .collect();
        all.extend(entries);
        json_response(Value::Array(all))
    }

    fn resolve(
        &self,
        kind: RepoKind,
        repo: &str,
        path: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Response {
        let file = self.store.repo_dir(kind, repo).join(path);
        let commit = self.store.head(kind, repo);
        let Ok(bytes) = std::fs::read(&file) else {
            let mut response = error(
                StatusCode::NOT_FOUND,
                Some("EntryNotFound"),
                &format!("Entry not found: {path}"),
            );
            // hf-hub records "known missing at this commit" from this header.
            set(&mut response, "x-repo-commit", &commit);
            return response;
        };
        let tag = etag(&bytes);
        let total = bytes.len() as u64;
        let range = headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_range(v, total));
        let (status, body) = match range {
            Some((start, end)) => (
                StatusCode::PARTIAL_CONTENT,
                bytes[start as usize..=end as usize].to_vec(),
            ),
            None => (StatusCode::OK, bytes),
        };
        let length = body.len() as u64;
        let mut response = if method == Method::HEAD {
            (status, Body::empty()).into_response()
        } else {
            (status, body).into_response()
        };
        set(&mut response, "etag", &format!("\"{tag}\""));
        set(&mut response, "x-repo-commit", &commit);
        // hf-hub prefers X-Linked-Size; a HEAD reply's Content-Length is not always kept.
        set(&mut response, "x-linked-size", &total.to_string());
        set(&mut response, "content-length", &length.to_string());
        set(&mut response, "accept-ranges", "bytes");
        set(&mut response, "content-type", "application/octet-stream");
        if let Some((start, end)) = range {
            set(
                &mut response,
                "content-range",
                &format!("bytes {start}-{end}/{total}"),
            );
        }
        response
    }

    fn create(&self, body: &[u8]) -> Response {
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return error(StatusCode::BAD_REQUEST, None, "expected a JSON body");
        };
        let name = request["name"].as_str().unwrap_or_default();
        let Some(owner) = request["organization"].as_str() else {
            return error(
                StatusCode::BAD_REQUEST,
                None,
                "the test Hub needs an organization",
            );
        };
        let kind = request["type"]
            .as_str()
            .and_then(RepoKind::from_singular)
            .unwrap_or(RepoKind::Model);
        let repo = format!("{owner}/{name}");
        if self.store.exists(kind, &repo) {
            return error(StatusCode::CONFLICT, None, "You already created this repo");
        }
        if let Err(e) = std::fs::create_dir_all(self.store.repo_dir(kind, &repo)) {
            return error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string());
        }
        json_response(json!({"url": format!("/{}/{repo}", kind.plural())}))
    }

    /// Applies an NDJSON commit: all files are decoded before anything is written, so a
    /// bad line changes nothing.
    fn commit(&self, kind: RepoKind, repo: &str, body: &[u8]) -> Response {
        let _guard = self.store.write_lock.lock().unwrap();
        let mut summary = String::new();
        let mut writes: Vec<(String, Vec<u8>)> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let Ok(line) = serde_json::from_slice::<Value>(line) else {
                return error(StatusCode::BAD_REQUEST, None, "malformed NDJSON line");
            };
            let value = &line["value"];
            match line["key"].as_str() {
                Some("header") => {
                    summary = value["summary"].as_str().unwrap_or_default().to_string();
                    if let Some(parent) = value["parentCommit"].as_str() {
                        if parent != self.store.head(kind, repo) {
                            return error(
                                StatusCode::PRECONDITION_FAILED,
                                None,
                                "A commit has happened since. Please refresh and try again.",
                            );
                        }
                    }
                }
                Some("file") => {
                    let path = value["path"].as_str().unwrap_or_default();
                    let content = value["content"].as_str().unwrap_or_default();
                    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(content)
                    else {
                        return error(StatusCode::BAD_REQUEST, None, "file content is not base64");
                    };
                    if !safe_path(path) {
                        return error(StatusCode::BAD_REQUEST, None, "invalid path");
                    }
                    writes.push((path.to_string(), bytes));
                }
                Some("deletedFile") => {
                    let path = value["path"].as_str().unwrap_or_default();
                    if !safe_path(path) {
                        return error(StatusCode::BAD_REQUEST, None, "invalid path");
                    }
                    deletes.push(path.to_string());
                }
                Some(other) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        None,
                        &format!("the test Hub does not support {other:?} commit entries"),
                    )
                }
                None => return error(StatusCode::BAD_REQUEST, None, "NDJSON line without key"),
            }
        }
        let dir = self.store.repo_dir(kind, repo);
        for (path, bytes) in &writes {
            let target = dir.join(path);
            let written = target
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&target, bytes));
            if let Err(e) = written {
                return error(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string());
            }
        }
        for path in &deletes {
            let _ = std::fs::remove_file(dir.join(path));
        }
        let sha = self.store.advance(kind, repo, body);
        json_response(json!({
            "commitUrl": format!("/{}/{repo}/commit/{sha}", kind.plural()),
            "commitOid": sha,
            "commitMessage": summary,
        }))
    }
}

/// Every file goes inline: the test Hub has no LFS storage.
fn preupload(body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return error(StatusCode::BAD_REQUEST, None, "expected a JSON body");
    };
    let files: Vec<Value> = request["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .map(|f| json!({"path": f["path"], "uploadMode": "regular", "shouldIgnore": false}))
                .collect()
        })
        .unwrap_or_default();
    json_response(json!({"files": files}))
}

fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// `bytes=a-b` or `bytes=a-` as an inclusive range within `total`.
fn parse_range(value: &str, total: u64) -> Option<(u64, u64)> {
    let (start, end) = value.strip_prefix("bytes=")?.split_once('-')?;
    let start: u64 = start.parse().ok()?;
    let end: u64 = if end.is_empty() {
        total.checked_sub(1)?
    } else {
        end.parse::<u64>().ok()?.min(total.checked_sub(1)?)
    };
    (start <= end).then_some((start, end))
}

fn json_response(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

fn error(status: StatusCode, code: Option<&str>, message: &str) -> Response {
    let mut response = (status, axum::Json(json!({"error": message}))).into_response();
    if let Some(code) = code {
        set(&mut response, "x-error-code", code);
    }
    set(&mut response, "x-error-message", message);
    response
}

fn set(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}
