//! Extractors: the environment resolved by the middleware, JSON bodies, path parameters and
//! query strings whose rejections answer in the API's error shape, the session token, and the
//! client's details.

use crate::error::ApiError;
use crate::session::{self, SessionToken};
use crate::{ClientInfo, Environment};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use torii_shared::ErrorCode;

/// The request's environment.
#[derive(Debug, Clone)]
pub struct Env(pub Arc<Environment>);

impl<S: Send + Sync> FromRequestParts<S> for Env {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Environment>>()
            .cloned()
            .map(Env)
            .ok_or_else(|| ApiError::internal(&"environment layer missing"))
    }
}

/// A JSON body; malformed or too deeply nested JSON is 400, a wrong shape 422, a wrong content
/// type 415, too large 413 — each in the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(json_rejection(&JsonRejection::MissingJsonContentType(
                axum::extract::rejection::MissingJsonContentType::default(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        ErrorCode::PayloadTooLarge,
                        "The body is too large.",
                    )
                } else {
                    ApiError::malformed("The body could not be read.")
                }
            })?;
        if crate::validate::json_nesting_depth(&bytes) > MAX_JSON_DEPTH {
            return Err(ApiError::malformed("The body is nested too deeply."));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// Path parameters (`Path(id): Path<String>`), like axum's, whose rejection (a parameter that
/// is not UTF-8 once percent-decoded, or not of the expected type) answers 400
/// `malformed_request` in the API's error shape instead of axum's plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            // A 500 here is a route declared with other parameters than its handler reads.
            Err(rejection) if rejection.status().is_server_error() => {
                Err(ApiError::internal(&rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::malformed(format!(
                "The URL path cannot be read: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// A query string (`Query(q): Query<T>`), like axum's, whose rejection (a repeated parameter, a
/// value of the wrong type) answers 400 `malformed_request` in the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::malformed(format!(
                "The query string cannot be read: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Deepest array/object nesting a body may have; no request of the API needs more than a few
/// levels, and refusing early keeps deeply nested input away from the deserialiser.
pub const MAX_JSON_DEPTH: usize = 16;

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .is_some_and(|mime| {
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send the body as application/json.",
        ),
        JsonRejection::JsonDataError(error) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            format!(
                "The body does not have the expected fields: {}",
                error.body_text()
            ),
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::malformed("The body is not valid JSON."),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "The body is too large.",
        ),
        _ => ApiError::malformed("The body could not be read."),
    }
}

/// The session token from `Authorization: Bearer …` or the environment's cookie.
#[derive(Debug, Clone)]
pub struct BearerOrCookie {
    /// The token, when one was sent.
    pub token: Option<SessionToken>,
    /// Whether it came from the cookie (so a stale one should be cleared).
    pub from_cookie: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for BearerOrCookie {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Env(env) = Env::from_request_parts(parts, state).await?;
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 4096)
                .map(SessionToken::from_client);
            return Ok(Self {
                token,
                from_cookie: false,
            });
        }
        let name = session::cookie_name(env.mode);
        let token = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| session::find_cookie(v, name))
            .filter(|t| t.len() <= 4096)
            .map(SessionToken::from_client);
        Ok(Self {
            from_cookie: token.is_some(),
            token,
        })
    }
}

/// A signed-in session, active or pending: for the routes that clear gates.
#[derive(Debug, Clone)]
pub struct AnySession(pub crate::AuthenticatedSession);

impl<S: Send + Sync> FromRequestParts<S> for AnySession
where
    crate::Torii: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let torii = <crate::Torii as axum::extract::FromRef<S>>::from_ref(state);
        let Env(env) = Env::from_request_parts(parts, state).await?;
        let auth = BearerOrCookie::from_request_parts(parts, state).await?;
        let Some(token) = auth.token else {
            return Err(ApiError::unauthenticated());
        };
        torii
            .authenticate(&env, &token)
            .await?
            .map(Self)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// A signed-in, active session, for applications that mount Torii's router and protect their
/// own routes: 401 `unauthenticated` when signed out, 403 `session_pending` (naming the gate)
/// while a gate is outstanding. Needs the router's environment layer, or a single environment.
#[derive(Debug, Clone)]
pub struct ActiveSession(pub crate::AuthenticatedSession);

impl axum::extract::FromRequestParts<crate::Torii> for ActiveSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        torii: &crate::Torii,
    ) -> Result<Self, Self::Rejection> {
        if parts.extensions.get::<Arc<Environment>>().is_none() {
            let key = parts
                .headers
                .get(torii_shared::PUBLISHABLE_KEY_HEADER)
                .and_then(|v| v.to_str().ok());
            let env = torii.environment_for(key).cloned().ok_or_else(|| {
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::InvalidPublishableKey,
                    "The publishable key does not name an environment on this server.",
                )
            })?;
            parts.extensions.insert(env);
        }
        let AnySession(found) = AnySession::from_request_parts(parts, torii).await?;
        if let Some(gate) = found.info.current_gate.clone() {
            return Err(ApiError::session_pending(gate));
        }
        Ok(Self(found))
    }
}

/// The client's user agent and address (the socket peer's, or what trusted proxies forwarded).
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    crate::Torii: axum::extract::FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let torii = <crate::Torii as axum::extract::FromRef<S>>::from_ref(state);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = torii.client_ip(peer, &parts.headers);
        Ok(Self(ClientInfo::new(user_agent, ip)))
    }
}
