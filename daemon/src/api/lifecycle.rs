//! Operator routes that change what is served: retrain, promote, roll back; and the
//! alerts list.

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use crate::alerts::Alert;
use crate::retrain::runner::{self, RetrainReport};
use crate::state::SharedState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sentiment_data::registry::{parse_version, version_name};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetrainQuery {
    /// Answer when the retrain has finished, with its report (default: answer 202 at once).
    #[serde(default)]
    pub wait: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetrainStarted {
    pub status: String,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct RetrainStatus {
    pub running: bool,
    pub last: Option<RetrainReport>,
    /// The cron schedule (UTC), or null when off.
    pub schedule: Option<String>,
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
    Json(RetrainStatus {
        running: state.retrain.is_running(),
        last: state.retrain.last(),
        schedule: state.config.retrain_schedule.clone(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionRequest {
    /// e.g. "v3". For rollback, optional: default the current version's parent.
    pub version: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentVersion {
    pub version: String,
    pub previous: String,
}

fn parse(version: &str) -> Result<u32, ApiError> {
    parse_version(version).ok_or_else(|| {
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
    request_body = VersionRequest,
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
    ApiJson(request): ApiJson<VersionRequest>,
) -> Result<Json<CurrentVersion>, ApiError> {
    let Some(version) = request.version.as_deref() else {
        return Err(ApiError::bad_request(
            "missing_version",
            "send the version to promote, e.g. {\"version\": \"v3\"}",
        ));
    };
    let version = parse(version)?;
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
        (status = 400, description = "Bad version, or nothing to roll back to", body = ErrorBody),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
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
            ApiError::bad_request(
                "nothing_to_roll_back_to",
                "the current version has no parent; name a version",
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
    params(("id" = u64, Path, description = "Alert id")),
    responses(
        (status = 200, description = "Acknowledged", body = Alert),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
    )
)]
pub async fn acknowledge_alert(
    State(state): State<SharedState>,
    Path(id): Path<u64>,
) -> Result<Json<Alert>, ApiError> {
    let alert = state
        .alerts
        .acknowledge(id)
        .ok_or_else(|| ApiError::not_found("unknown_alert", format!("no alert {id}")))?;
    Ok(Json(alert))
}
