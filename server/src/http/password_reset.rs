//! `POST /v1/password-resets` and `POST /v1/password-resets/complete`.

use super::{ApiJson, Client, Env, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{EmailAccepted, PasswordResetComplete, PasswordResetRequest};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/password-resets", post(request))
        .route("/v1/password-resets/complete", post(complete))
}

/// Emails a code to reset the password.
#[utoipa::path(
    post,
    path = "/v1/password-resets",
    operation_id = "requestPasswordReset",
    tag = "password-resets",
    request_body = torii_shared::PasswordResetRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 202, description = "A code was emailed (the same answer for an unknown address)", body = torii_shared::EmailAccepted),
        (status = 403, description = "`method_disabled`: passwords are not enabled"),
        (status = 422, description = "`validation_failed` (see `fields`)"),
        (status = 429, description = "`rate_limited`"),
        (status = 503, description = "`mail_unavailable` or `store_unavailable`")
    )
)]
async fn request(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<(StatusCode, Json<EmailAccepted>), ApiError> {
    torii
        .request_password_reset(&env, &body.email, &client)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(EmailAccepted {
            status: "accepted".to_owned(),
        }),
    ))
}

/// Sets the new password, revokes every session of the user, and signs them in afresh.
#[utoipa::path(
    post,
    path = "/v1/password-resets/complete",
    operation_id = "completePasswordReset",
    tag = "password-resets",
    request_body = torii_shared::PasswordResetComplete,
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "Password set, every other session ended, signed in", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 403, description = "`method_disabled`: passwords are not enabled"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 422, description = "`invalid_code`, `validation_failed` or `password_breached` (on `password`)"),
        (status = 429, description = "`rate_limited`"),
        (status = 503, description = "`server_busy` (with `Retry-After`): the password-hashing queue is full; `password_check_unavailable`: the breached-password service cannot be asked and the server refuses meanwhile")
    )
)]
async fn complete(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetComplete>,
) -> Result<Response, ApiError> {
    let done = torii
        .complete_password_reset(&env, &body.email, &body.code, &body.password, &client)
        .await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}
