//! `POST /v1/sign-ups`, `/v1/sign-ups/{id}/verify` and `/v1/sign-ups/{id}/resend`, and
//! `/v1/sign-ups/{id}/continue`, the consent step of a new user who came through OAuth.

use super::Path;
use super::oauth::{HOST_SIGN_UP_COOKIE, SIGN_UP_COOKIE, cookie_value, sign_up_cookie};
use super::{ApiJson, Client, Env, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{
    ContinueSignUpRequest, EnvironmentMode, ResendAccepted, SignUpCreated, SignUpRequest,
    VerifyCodeRequest,
};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/sign-ups", post(start))
        .route("/v1/sign-ups/{id}/verify", post(verify))
        .route("/v1/sign-ups/{id}/resend", post(resend))
        .route("/v1/sign-ups/{id}/continue", post(continue_sign_up))
}

/// The consent step of a new user who came through OAuth in an environment with Terms.
#[utoipa::path(
    post,
    path = "/v1/sign-ups/{id}/continue",
    operation_id = "continueSignUp",
    tag = "sign-up",
    params(
        ("id" = String, Path, description = "The OAuth sign-up id (`oauthSignUp` in the app's URL)")
    ),
    request_body = torii_shared::ContinueSignUpRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "Signed up and signed in", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 403, description = "`method_disabled`: OAuth is not enabled"),
        (status = 404, description = "`not_found`: no such OAuth sign-up, it expired, or this browser is not the one that started it (its binding cookie is missing or another)"),
        (status = 409, description = "`email_taken`"),
        (status = 422, description = "`consent_required` or `validation_failed`"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn continue_sign_up(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ContinueSignUpRequest>,
) -> Result<Response, ApiError> {
    let cookie = if env.mode == EnvironmentMode::Live {
        HOST_SIGN_UP_COOKIE
    } else {
        SIGN_UP_COOKIE
    };
    let binding = cookie_value(&headers, cookie);
    let done = torii
        .continue_oauth_sign_up(&env, &id, binding, body.legal_accepted, &client)
        .await?;
    let mut response = signed_in(&torii, &env, StatusCode::OK, &done);
    if let Ok(clear) = HeaderValue::from_str(&sign_up_cookie(env.mode, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    Ok(response)
}

/// Starts a sign-up: emails a 6-digit code to verify the address.
#[utoipa::path(
    post,
    path = "/v1/sign-ups",
    operation_id = "startSignUp",
    tag = "sign-up",
    request_body = torii_shared::SignUpRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 201, description = "A 6-digit code was emailed (the same answer for an address that has an account)", body = torii_shared::SignUpCreated),
        (status = 422, description = "`validation_failed` (see `fields`), `consent_required`, or `password_breached` (on `password`)"),
        (status = 429, description = "`rate_limited`"),
        (status = 503, description = "`mail_unavailable`, `store_unavailable`, `server_busy` (with `Retry-After`: the password-hashing queue is full) or `password_check_unavailable`")
    )
)]
async fn start(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<SignUpRequest>,
) -> Result<(StatusCode, Json<SignUpCreated>), ApiError> {
    let created = torii.start_sign_up(&env, &body, &client).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Finishes a sign-up with the emailed code: creates the user and the session.
#[utoipa::path(
    post,
    path = "/v1/sign-ups/{id}/verify",
    operation_id = "verifySignUp",
    tag = "sign-up",
    params(
        ("id" = String, Path, description = "The sign-up id")
    ),
    request_body = torii_shared::VerifyCodeRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "Signed up and signed in", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 404, description = "`not_found`: no such sign-up, or it expired"),
        (status = 409, description = "`email_taken`"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 422, description = "`invalid_code` (with `triesLeft`), `code_expired` or `validation_failed`"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn verify(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    let done = torii.verify_sign_up(&env, &id, &body.code, &client).await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}

/// Sends a new code for a sign-up.
#[utoipa::path(
    post,
    path = "/v1/sign-ups/{id}/resend",
    operation_id = "resendSignUpCode",
    tag = "sign-up",
    params(
        ("id" = String, Path, description = "The sign-up id")
    ),
    security(("publishableKey" = [])),
    responses(
        (status = 202, description = "A new code was emailed", body = torii_shared::ResendAccepted),
        (status = 404, description = "`not_found`: no such sign-up, or it expired"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 429, description = "`rate_limited`, also during the resend cooldown"),
        (status = 503, description = "`mail_unavailable` or `store_unavailable`")
    )
)]
async fn resend(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ResendAccepted>), ApiError> {
    let accepted = torii.resend_sign_up_code(&env, &id, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
