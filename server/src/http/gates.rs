//! The routes a pending session uses to clear the built-in gates: accept the current Terms,
//! and verify the email address with a code. Each answers the session's new state; a JWT
//! session gets a re-issued token carrying it.

use super::{AnySession, ApiJson, BearerOrCookie, Env, signed_in};
use crate::error::ApiError;
use crate::{Environment, Torii};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::sync::Arc;
use torii_shared::{ResendAccepted, SessionKind, VerifyCodeRequest};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/legal/accept", post(accept_terms))
        .route("/v1/email-verification/send", post(send_code))
        .route("/v1/email-verification/verify", post(verify_code))
}

/// The session's state after a change.
async fn current(
    torii: &Torii,
    env: &Arc<Environment>,
    auth: &BearerOrCookie,
) -> Result<Response, ApiError> {
    let token = auth.token.as_ref().ok_or_else(ApiError::unauthenticated)?;
    let refreshed = torii
        .refresh_session(env, token)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(match refreshed.session.kind {
        SessionKind::Jwt => signed_in(torii, env, StatusCode::OK, &refreshed),
        SessionKind::Database => Json(refreshed.session.me()).into_response(),
    })
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
    current(&torii, &env, &auth).await
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
    current(&torii, &env, &auth).await
}
