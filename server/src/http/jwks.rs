//! `GET /.well-known/jwks.json`: the public keys of JWT sessions, for anyone verifying the
//! tokens without the store.

use crate::Torii;
use crate::session::jwt::JwkSet;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub(super) fn routes() -> Router<Torii> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// The public keys of JWT sessions (an empty set when no environment uses them).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "health",
    responses(
        (status = 200, description = "The public keys of JWT sessions (Ed25519)", body = JwkSet)
    )
)]
async fn jwks(State(torii): State<Torii>) -> impl axum::response::IntoResponse {
    let max_life = torii
        .environments()
        .iter()
        .map(|env| env.session.jwt_lifetime)
        .max()
        .unwrap_or_default();
    let body = torii
        .jwt_keys()
        .map(|keys| keys.jwks(torii.now(), max_life))
        .unwrap_or_default();
    (
        [(
            axum::http::header::CACHE_CONTROL,
            "public, max-age=300, must-revalidate",
        )],
        Json(body),
    )
}
