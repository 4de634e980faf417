//! The routes a pending session uses to clear the built-in gates: accept the current Terms,
//! and verify the email address with a code. Each answers the session's new state; a JWT
//! session gets a re-issued token carrying it. A session still owing its second factor
//! (`second_factor`, always the first gate) gives that first: until then its user has not
//! finished signing in. (Second factors have their own routes, in `mfa.rs`.)

use super::{AnySession, ApiJson, BearerOrCookie, Client, Env};
use crate::AuthenticatedSession;
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{ResendAccepted, VerifyCodeRequest};

/// A signed-in session, active or pending, that is not owing its second factor.
struct SignedInSession(AuthenticatedSession);

impl axum::extract::FromRequestParts<Torii> for SignedInSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        torii: &Torii,
    ) -> Result<Self, Self::Rejection> {
        let AnySession(found) = AnySession::from_request_parts(parts, torii).await?;
        match &found.info.current_gate {
            Some(gate) if gate.key == torii_shared::GateKey::SecondFactor => {
                Err(ApiError::session_pending(gate.clone()))
            }
            _ => Ok(Self(found)),
        }
    }
}

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/legal/accept", post(accept_terms))
        .route("/v1/email-verification/send", post(send_code))
        .route("/v1/email-verification/verify", post(verify_code))
}

/// Accepts the current Terms, clearing the `legal_acceptance` gate.
#[utoipa::path(
    post,
    path = "/v1/legal/accept",
    operation_id = "acceptTerms",
    tag = "gates",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The session's new state", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` on `second_factor`: give the second factor first")
    )
)]
async fn accept_terms(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
    SignedInSession(found): SignedInSession,
) -> Result<Response, ApiError> {
    torii
        .accept_terms(&env, &found.user, &found.session.id)
        .await?;
    super::me::refreshed(&torii, &env, &auth).await
}

/// Emails a code that verifies the user's address (the `email_verification` gate).
#[utoipa::path(
    post,
    path = "/v1/email-verification/send",
    operation_id = "sendEmailVerification",
    tag = "gates",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 202, description = "A code was emailed to the user's address", body = torii_shared::ResendAccepted),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` on `second_factor`: give the second factor first"),
        (status = 404, description = "`not_found`"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 429, description = "`rate_limited`, also during the resend cooldown"),
        (status = 503, description = "`mail_unavailable` or `store_unavailable`")
    )
)]
async fn send_code(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    SignedInSession(found): SignedInSession,
) -> Result<(StatusCode, Json<ResendAccepted>), ApiError> {
    let accepted = torii.send_email_verification(&env, &found, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Verifies the user's address with the emailed code, clearing `email_verification`.
#[utoipa::path(
    post,
    path = "/v1/email-verification/verify",
    operation_id = "verifyEmail",
    tag = "gates",
    request_body = torii_shared::VerifyCodeRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The session's new state", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` on `second_factor`: give the second factor first"),
        (status = 404, description = "`not_found`: no code is waiting"),
        (status = 409, description = "`email_taken`"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 422, description = "`invalid_code` (with `triesLeft`), `code_expired` or `validation_failed`"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn verify_code(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    auth: BearerOrCookie,
    SignedInSession(found): SignedInSession,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    torii
        .verify_email(&env, &found.user, &body.code, &client)
        .await?;
    super::me::refreshed(&torii, &env, &auth).await
}
