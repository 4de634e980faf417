//! The routes a pending session uses to clear the built-in gates: accept the current Terms,
//! and verify the email address with a code.

use super::{AnySession, ApiJson, Env};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{Me, ResendAccepted, VerifyCodeRequest};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/legal/accept", post(accept_terms))
        .route("/v1/email-verification/send", post(send_code))
        .route("/v1/email-verification/verify", post(verify_code))
}

/// The `Me` payload after a change: the user re-read, the gates recomputed.
async fn current_me(
    torii: &Torii,
    env: &crate::Environment,
    found: &crate::AuthenticatedSession,
) -> Result<Me, ApiError> {
    let user = torii
        .store()
        .get_user(&found.user.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let info = torii.session_gates(env, &user, &found.session.id).await?;
    Ok(crate::AuthenticatedSession {
        session: found.session.clone(),
        user,
        info,
    }
    .me())
}

async fn accept_terms(
    State(torii): State<Torii>,
    Env(env): Env,
    AnySession(found): AnySession,
) -> Result<Json<Me>, ApiError> {
    torii
        .accept_terms(&env, &found.user, &found.session.id)
        .await?;
    Ok(Json(current_me(&torii, &env, &found).await?))
}

async fn send_code(
    State(torii): State<Torii>,
    Env(env): Env,
    AnySession(found): AnySession,
) -> Result<(StatusCode, Json<ResendAccepted>), ApiError> {
    let accepted = torii.send_email_verification(&env, &found.user).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

async fn verify_code(
    State(torii): State<Torii>,
    Env(env): Env,
    AnySession(found): AnySession,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Json<Me>, ApiError> {
    torii.verify_email(&found.user, &body.code).await?;
    Ok(Json(current_me(&torii, &env, &found).await?))
}
