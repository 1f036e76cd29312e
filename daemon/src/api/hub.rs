//! `POST /admin/hub/poll`: an operator asks a replica to check the Hub now rather
//! than at the next poll interval.

use super::error::{ApiError, ErrorBody};
use crate::hub::follow::PollReport;
use crate::state::SharedState;
use crate::tasks::hub_follow;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Poll the Hub's model repository now and serve its current version if it is new.
/// A Hub error is reported (outcome "failed") and the served model stays.
#[utoipa::path(
    post, path = "/admin/hub/poll", tag = "operator",
    responses(
        (status = 200, description = "How the poll ended", body = PollReport),
        (status = 403, description = "Needs the socket or an admin key", body = ErrorBody),
        (status = 409, description = "No model repository configured", body = ErrorBody),
    )
)]
pub async fn poll(State(state): State<SharedState>) -> Result<Json<PollReport>, ApiError> {
    hub_follow::poll_once(&state)
        .await
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "hub_not_configured",
                "this daemon follows no Hub model repository: set model_repo in the [hub] section \
             of the config file",
            )
        })
}
