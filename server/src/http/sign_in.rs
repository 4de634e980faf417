//! `POST /v1/sign-in/password`.

use super::{ApiJson, Client, Env, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use torii_shared::PasswordSignInRequest;

pub(super) fn routes() -> Router<Torii> {
    Router::new().route("/v1/sign-in/password", post(password))
}

/// Signs in with an email and a password.
#[utoipa::path(
    post,
    path = "/v1/sign-in/password",
    operation_id = "signInWithPassword",
    tag = "sign-in",
    request_body = torii_shared::PasswordSignInRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "Signed in", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`invalid_credentials` (the same for an unknown email)"),
        (status = 403, description = "`method_disabled`: passwords are not enabled"),
        (status = 429, description = "`rate_limited`"),
        (status = 503, description = "`server_busy` (with `Retry-After`): the password-hashing queue is full")
    )
)]
async fn password(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordSignInRequest>,
) -> Result<Response, ApiError> {
    let done = torii
        .sign_in_with_password(&env, &body.email, &body.password, &client)
        .await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}
