//! Operator routes that change what is served: retrain, promote, roll back; and the
//! alerts list.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::types::{
    Alert, CurrentVersion, PromoteRequest, RetrainReport, RetrainStarted, RetrainStatus,
    VersionRequest,
};
use crate::state::SharedState;
use crate::tasks::retrain as runner;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sentiment_data::registry::{parse_version, version_name};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetrainQuery {
    /// Answer when the retrain has finished, with its report (default: answer 202 at once).
    #[serde(default)]
    pub wait: bool,
}

/// Start a retrain now (progress on /events as retrain_progress, the result as
/// retrain_finished). Only one runs at a time.
#[utoipa::path(
    post, path = "/admin/retrain", tag = "operator",
    params(RetrainQuery),
    responses(
        (status = 200, description = "Finished (with ?wait=true)", body = RetrainReport),
        (status = 202, description = "Started", body = RetrainStarted),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 409, description = "A retrain is already running", body = ErrorBody),
    )
)]
pub async fn start_retrain(
    State(state): State<SharedState>,
    ApiQuery(query): ApiQuery<RetrainQuery>,
) -> Result<Response, ApiError> {
    let receiver = runner::start(&state, "operator").map_err(|_| {
        ApiError::new(
            StatusCode::CONFLICT,
            "already_running",
            "a retrain is already running; watch /events or GET /admin/retrain for its result",
        )
    })?;
    if !query.wait {
        return Ok((
            StatusCode::ACCEPTED,
            Json(RetrainStarted {
                status: "started".into(),
            }),
        )
            .into_response());
    }
    let report = receiver
        .await
        .map_err(|_| ApiError::internal("the retrain stopped without a report"))?;
    Ok(Json(report).into_response())
}

/// Whether a retrain is running, and how the last one ended.
#[utoipa::path(
    get, path = "/admin/retrain", tag = "operator",
    responses(
        (status = 200, description = "Retrain status", body = RetrainStatus),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn retrain_status(State(state): State<SharedState>) -> Json<RetrainStatus> {
    let registry = state.registry.clone();
    let newest = tokio::task::spawn_blocking(move || newest_retrained(&registry))
        .await
        .ok()
        .flatten();
    Json(RetrainStatus {
        running: state.retrain.is_running(),
        last: latest_report(state.retrain.last(), newest),
        schedule: state.config.retrain_schedule.clone(),
    })
}

/// The newest version the registry holds that a retrain made (one with a parent: not
/// the bootstrap), whoever ran it: this daemon, `sentimentd retrain`, or another
/// process on the same data directory.
fn newest_retrained(
    registry: &sentiment_data::registry::Registry,
) -> Option<sentiment_data::registry::VersionRecord> {
    registry
        .versions()
        .ok()?
        .into_iter()
        .filter(|r| r.parent.is_some())
        .max_by_key(|r| r.created_unix_ms)
}

/// This daemon's last report, unless the registry holds a retrained version made after
/// it (by the CLI, say): then a report of that version, read from its record.
fn latest_report(
    own: Option<RetrainReport>,
    newest: Option<sentiment_data::registry::VersionRecord>,
) -> Option<RetrainReport> {
    let Some(record) = newest else {
        return own;
    };
    let made = record.created_unix_ms as i64;
    if let Some(own) = &own {
        if own.finished_unix_ms >= made || own.version.as_deref() == Some(&record.name()) {
            return Some(own.clone());
        }
    }
    let outcome = match record.status {
        sentiment_data::registry::VersionStatus::Rejected => "rejected",
        _ => "promoted",
    };
    Some(RetrainReport {
        outcome: outcome.into(),
        version: Some(record.name()),
        message: record.decision.clone(),
        // Not run by this daemon: `sentimentd retrain` or another process.
        trigger: "external".into(),
        started_unix_ms: made,
        finished_unix_ms: made,
        comparison: None,
    })
}

fn parse(version: &str) -> Result<u32, ApiError> {
    // Exactly what the schema's pattern says (`v3` or `3`, no sign, no leading zero).
    let digits = version.strip_prefix('v').unwrap_or(version);
    let well_formed = (1..=9).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    well_formed
        .then(|| parse_version(version))
        .flatten()
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_version",
                format!("{version:?} is not a version such as \"v3\""),
            )
        })
}

/// Makes `version` current (blocking), recording why in its record.
fn make_current(state: &SharedState, version: u32, why: &str) -> Result<CurrentVersion, ApiError> {
    let previous = state.model.load().version.clone();
    state
        .registry
        .make_current(version, why)
        .map_err(|e| match e {
            sentiment_data::registry::RegistryError::UnknownVersion(_) => {
                ApiError::not_found("unknown_version", e.to_string())
            }
            other => registry_write_error(other),
        })?;
    crate::swap::swap_to(state, version).map_err(|e| ApiError::unavailable(format!("{e:#}")))?;
    tracing::info!(version = %version_name(version), previous = %previous, "{why}");
    Ok(CurrentVersion {
        version: version_name(version),
        previous,
    })
}

/// A registry write that failed: a full disk or a read-only data directory get their
/// own codes (as the store's errors do), so the operator sees what to fix; the registry
/// is unchanged (every write is a rename of a complete file) and serving goes on.
fn registry_write_error(error: sentiment_data::registry::RegistryError) -> ApiError {
    use sentiment_data::registry::RegistryError;
    use std::io::ErrorKind;
    let kind = match &error {
        RegistryError::Io { source, .. } => Some(source.kind()),
        _ => None,
    };
    let message = format!("the model registry could not be changed: {error}");
    match kind {
        Some(ErrorKind::StorageFull) => {
            ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "disk_full", message)
        }
        Some(ErrorKind::ReadOnlyFilesystem) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "read_only", message)
        }
        _ => ApiError::unavailable(message),
    }
}

/// Promote a version (e.g. a rejected candidate) by hand and serve it.
#[utoipa::path(
    post, path = "/admin/promote", tag = "operator",
    request_body = PromoteRequest,
    responses(
        (status = 200, description = "Now serving it", body = CurrentVersion),
        (status = 400, description = "No or bad version", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
        (status = 503, description = "The registry cannot be written (read-only data directory)", body = ErrorBody),
        (status = 507, description = "The disk holding the registry is full", body = ErrorBody),
    )
)]
pub async fn promote(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<PromoteRequest>,
) -> Result<Json<CurrentVersion>, ApiError> {
    let version = parse(&request.version)?;
    tokio::task::spawn_blocking(move || make_current(&state, version, "promoted by an operator"))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map(Json)
}

/// Roll back to an earlier version (default: the current version's parent).
#[utoipa::path(
    post, path = "/admin/rollback", tag = "operator",
    request_body = VersionRequest,
    responses(
        (status = 200, description = "Now serving it", body = CurrentVersion),
        (status = 400, description = "Bad version", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
        (status = 409, description = "No version named and the current one has no parent", body = ErrorBody),
        (status = 503, description = "The registry cannot be written (read-only data directory)", body = ErrorBody),
        (status = 507, description = "The disk holding the registry is full", body = ErrorBody),
    )
)]
pub async fn rollback(
    State(state): State<SharedState>,
    ApiJson(request): ApiJson<VersionRequest>,
) -> Result<Json<CurrentVersion>, ApiError> {
    let target = match request.version.as_deref() {
        Some(v) => parse(v)?,
        None => state.model.load().record.parent.ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "nothing_to_roll_back_to",
                "the current version has no parent to roll back to; name a version, e.g. {\"version\": \"v1\"} (GET /admin/models lists them)",
            )
        })?,
    };
    tokio::task::spawn_blocking(move || make_current(&state, target, "rolled back by an operator"))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map(Json)
}

/// Degradation alerts, oldest first.
#[utoipa::path(
    get, path = "/admin/alerts", tag = "operator",
    responses(
        (status = 200, description = "Alerts", body = Vec<Alert>),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
    )
)]
pub async fn alerts(State(state): State<SharedState>) -> Json<Vec<Alert>> {
    Json(state.alerts.list())
}

/// Acknowledge an alert.
#[utoipa::path(
    post, path = "/admin/alerts/{id}/ack", tag = "operator",
    params(("id" = u64, Path, description = "Alert id", maximum = 9007199254740991.0)),
    responses(
        (status = 200, description = "Acknowledged", body = Alert),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
    )
)]
pub async fn acknowledge_alert(
    State(state): State<SharedState>,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Alert>, ApiError> {
    let alert = state
        .alerts
        .acknowledge(id)
        .ok_or_else(|| ApiError::not_found("unknown_alert", format!("no alert {id}")))?;
    Ok(Json(alert))
}
