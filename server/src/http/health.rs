//! Liveness and readiness: `/healthz` answers while the process runs; `/readyz` only while the
//! store answers, within a bound, and the server is not shutting down (so that a balancer
//! drains a node before it closes its listener).

use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use std::time::Duration;
use torii_shared::{ErrorCode, Health};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Liveness: answers while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    responses(
        (status = 200, description = "The process is alive", body = torii_shared::Health)
    )
)]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// Readiness: answers 200 only while the store answers, within 3 seconds, and the server is not
/// shutting down.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "The store answers", body = torii_shared::Health),
        (status = 503, description = "`store_unavailable`; `shutting_down`: the server has begun \
            a graceful shutdown and still serves requests until its drain delay is over")
    )
)]
async fn readyz(State(torii): State<Torii>) -> Result<Json<Health>, ApiError> {
    if torii.is_draining() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ShuttingDown,
            "The server is shutting down.",
        ));
    }
    let unavailable = || ApiError::store_unavailable("The store is not reachable.");
    match tokio::time::timeout(Duration::from_secs(3), torii.ping_store()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ok".to_owned(),
        })),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            Err(unavailable())
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            Err(unavailable())
        }
    }
}
