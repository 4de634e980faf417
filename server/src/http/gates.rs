//! The routes a pending session uses to clear the built-in gates: accept the current Terms,
//! and verify the email address with a code. Each answers the session's new state; a JWT
//! session gets a re-issued token carrying it.

use super::{AnySession, ApiJson, BearerOrCookie, Env};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{ResendAccepted, VerifyCodeRequest};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/legal/accept", post(accept_terms))
        .route("/v1/email-verification/send", post(send_code))
        .route("/v1/email-verification/verify", post(verify_code))
}

async fn accept_terms(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
    AnySession(found): AnySession,
) -> Result<Response, ApiError> {
    torii
        .accept_terms(&env, &found.user, &found.session.id)
        .await?;
    super::me::refreshed(&torii, &env, &auth).await
}

async fn send_code(
    State(torii): State<Torii>,
    Env(env): Env,
    AnySession(found): AnySession,
) -> Result<(StatusCode, Json<ResendAccepted>), ApiError> {
    let user = torii
        .store()
        .get_user(&found.user.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let accepted = torii.send_email_verification(&env, &user).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

async fn verify_code(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
    AnySession(found): AnySession,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    torii.verify_email(&found.user, &body.code).await?;
    super::me::refreshed(&torii, &env, &auth).await
}
