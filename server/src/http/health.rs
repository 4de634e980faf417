//! Liveness and readiness: `/healthz` answers while the process runs; `/readyz` only while the
//! store answers, within a bound.

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
        .route("/.well-known/jwks.json", get(jwks))
}

/// The public keys of JWT sessions (an empty set when no environment uses them).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "health",
    responses(
        (status = 200, description = "The public keys of JWT sessions (Ed25519)", body = crate::http::openapi::JwkSet)
    )
)]
async fn jwks(State(torii): State<Torii>) -> impl axum::response::IntoResponse {
    let max_life = torii
        .environments()
        .iter()
        .map(|env| env.session.absolute_timeout)
        .max()
        .unwrap_or_default();
    let body = torii.jwt_keys().map_or_else(
        || serde_json::json!({ "keys": [] }),
        |keys| keys.jwks(torii.now(), max_life),
    );
    (
        [(
            axum::http::header::CACHE_CONTROL,
            "public, max-age=300, must-revalidate",
        )],
        Json(body),
    )
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

/// Readiness: answers 200 only while the store answers, within 3 seconds.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "The store answers", body = torii_shared::Health),
        (status = 503, description = "`store_unavailable`")
    )
)]
async fn readyz(State(torii): State<Torii>) -> Result<Json<Health>, ApiError> {
    let unavailable = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StoreUnavailable,
            "The store is not reachable.",
        )
    };
    match tokio::time::timeout(Duration::from_secs(3), torii.store().ping()).await {
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
