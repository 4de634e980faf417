//! `GET /me`, `GET /v1/environment` and `POST /v1/sign-out`.

use super::{BearerOrCookie, Env};
use crate::Torii;
use crate::error::ApiError;
use crate::session;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use torii_shared::{EnvironmentInfo, Me};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/me", get(me))
        .route("/v1/environment", get(environment))
        .route("/v1/sign-out", post(sign_out))
        .route("/v1/session/refresh", post(refresh))
}

/// The state the provider polls: never an error for a missing or dead session.
#[utoipa::path(
    get,
    path = "/me",
    operation_id = "getMe",
    tag = "session",
    security(("publishableKey" = []), ("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The user and session, both `null` when signed out", body = torii_shared::Me)
    )
)]
async fn me(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
) -> Result<Response, ApiError> {
    let found = match &auth.token {
        Some(token) => torii.authenticate(&env, token).await?,
        None => None,
    };
    let mut me = found
        .as_ref()
        .map_or_else(Me::signed_out, crate::AuthenticatedSession::me);
    if let (Some(found), Some(token)) = (&found, &auth.token) {
        me.token = torii.jwt_for(&env, found, token)?;
    }
    let mut response = Json(me).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if found.is_none()
        && auth.from_cookie
        && let Ok(value) = HeaderValue::from_str(&session::clear_cookie(env.mode))
    {
        headers.insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Re-issues the session with its current gates and user fields (in a JWT environment, a
/// freshly signed short-lived JWT in `token`); 401 when there is no valid session, and for a
/// JWT, which is not a refresh session.
#[utoipa::path(
    post,
    path = "/v1/session/refresh",
    operation_id = "refreshSession",
    tag = "session",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The session's current state", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session")
    )
)]
async fn refresh(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
) -> Result<Response, ApiError> {
    refreshed(&torii, &env, &auth).await
}

/// The session's current state as an answer (with a new JWT in a JWT environment); the
/// refresh session's token is unchanged, so no cookie is set.
pub(super) async fn refreshed(
    torii: &Torii,
    env: &std::sync::Arc<crate::Environment>,
    auth: &BearerOrCookie,
) -> Result<Response, ApiError> {
    let token = auth.token.as_ref().ok_or_else(ApiError::unauthenticated)?;
    let refreshed = torii
        .refresh_session(env, token)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let mut response = Json(refreshed.me()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The answer to a call that gave the session a new token (a re-authentication, the second
/// step of a sign-in): the old token no longer works, so the cookie gets the new one, and a
/// client that sent its token as a bearer token gets it in the body (it holds its token
/// itself). In a JWT environment the token renewed is the refresh session's and the body's
/// `token` is a freshly signed JWT, so a bearer client reads its new refresh session token from
/// the `Set-Cookie` header, as after its sign-in.
pub(super) async fn renewed(
    torii: &Torii,
    env: &std::sync::Arc<crate::Environment>,
    auth: &BearerOrCookie,
    kind: torii_shared::SessionKind,
    renewed: &session::SessionToken,
) -> Result<Response, ApiError> {
    let done = torii
        .refresh_session(env, renewed)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let mut response = super::signed_in(torii, env, StatusCode::OK, &done);
    if !auth.from_cookie && kind == torii_shared::SessionKind::Database {
        let mut me = done.me();
        me.token = Some(renewed.expose().to_owned());
        let body = Json(me).into_response();
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(header::SET_COOKIE);
        parts.headers.remove(header::CONTENT_LENGTH);
        response = Response::from_parts(parts, body.into_body());
    }
    Ok(response)
}

/// What a frontend needs to render the sign-in and sign-up cards.
#[utoipa::path(
    get,
    path = "/v1/environment",
    operation_id = "getEnvironment",
    tag = "session",
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "The environment's name, methods, providers and legal settings", body = torii_shared::EnvironmentInfo)
    )
)]
async fn environment(Env(env): Env) -> Json<EnvironmentInfo> {
    Json(env.info())
}

/// Revokes the current session (if any) and clears the cookie; idempotent.
#[utoipa::path(
    post,
    path = "/v1/sign-out",
    operation_id = "signOut",
    tag = "session",
    security(("publishableKey" = []), ("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared", headers(("Set-Cookie" = String, description = "Clears the session cookie")))
    )
)]
async fn sign_out(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
) -> Result<Response, ApiError> {
    if let Some(token) = &auth.token {
        torii.sign_out(&env, token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&session::clear_cookie(env.mode)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
