//! The HTTP API: one file per area, each exporting its routes, merged here with the layers
//! every request goes through (environment resolution, Origin check, body limit, tracing).

mod account;
mod admin;
mod cors;
mod extract;
mod gates;
mod health;
mod jwks;
mod magic_link;
mod me;
mod oauth;
mod openapi;
mod passkeys;
mod password_reset;
mod sign_in;
mod sign_up;

pub use admin::SecretKeyEnv;
pub use extract::{ActiveSession, AnySession, ApiJson, BearerOrCookie, Client, Env, Path, Query};
pub use openapi::document as openapi_document;

use crate::error::ApiError;
use crate::{AuthenticatedSessionWithToken, Environment, Torii, session};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use std::sync::Arc;
use torii_shared::{ErrorCode, PUBLISHABLE_KEY_HEADER, PUBLISHABLE_KEY_QUERY};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Largest accepted request body.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// The API router for a Torii instance, ready to serve or to nest in an application's router.
pub fn router(torii: Torii) -> Router {
    let api = Router::new()
        .merge(me::routes())
        .merge(sign_up::routes())
        .merge(sign_in::routes())
        .merge(gates::routes())
        .merge(magic_link::routes())
        .merge(password_reset::routes())
        .merge(oauth::routes())
        .merge(passkeys::routes())
        .merge(account::routes())
        .route("/v1/{*rest}", any(not_found))
        .layer(middleware::from_fn_with_state(
            torii.clone(),
            resolve_environment,
        ));
    Router::new()
        .merge(api)
        .merge(oauth::callback_routes())
        .merge(admin::routes())
        .merge(health::routes())
        .merge(jwks::routes())
        .merge(openapi::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(torii.clone(), cors::cors))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(
            // Paths only: query strings may carry tokens and must not reach the log.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(torii)
}

/// [`router`] plus a built single-page app served from `dir`, unknown paths falling back to
/// its `index.html` so client-side routes survive a reload.
pub fn router_with_static(torii: Torii, dir: &std::path::Path) -> Router {
    let spa = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    router(torii).fallback_service(spa)
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such route.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "This route does not accept that method.",
    )
}

fn publishable_key(req: &Request) -> Option<String> {
    if let Some(value) = req.headers().get(PUBLISHABLE_KEY_HEADER) {
        return value.to_str().ok().map(str::to_owned);
    }
    req.uri().query().and_then(|query| {
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == PUBLISHABLE_KEY_QUERY).then(|| value.to_owned())
        })
    })
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the request's environment and, for state-changing requests, checks the Origin:
/// a foreign Origin is refused, and so is a cookie-carrying request with no Origin at all
/// (browsers always send one on such requests).
async fn resolve_environment(State(torii): State<Torii>, mut req: Request, next: Next) -> Response {
    let key = publishable_key(&req);
    let Some(env) = torii.environment_for(key.as_deref()).cloned() else {
        let message = if key.is_some() {
            "The publishable key does not name an environment on this server."
        } else {
            "Name the environment with the Torii-Publishable-Key header."
        };
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::InvalidPublishableKey,
            message,
        )
        .into_response();
    };
    if is_state_changing(req.method())
        && let Err(error) = check_origin(&env, &req)
    {
        return error.into_response();
    }
    req.extensions_mut().insert(env);
    next.run(req).await
}

fn check_origin(env: &Environment, req: &Request) -> Result<(), ApiError> {
    let forbidden = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::ForbiddenOrigin,
            "Requests from this origin are not allowed.",
        )
    };
    let origins = req.headers().get_all(header::ORIGIN);
    // The sign-in link's landing page is served with `Referrer-Policy: no-referrer`, so the
    // browser posts its Continue form with `Origin: null`. `Sec-Fetch-Site` is set by the
    // browser alone and says the form was on one of this server's own pages.
    if req.uri().path() == "/v1/magic-links/verify"
        && origins
            .iter()
            .map(HeaderValue::as_bytes)
            .eq([b"null".as_slice()])
        && req
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin")
    {
        return Ok(());
    }
    if origins.iter().next().is_some() {
        // Every Origin value must be allowed; browsers send exactly one.
        let all_allowed = origins
            .iter()
            .all(|origin| origin.to_str().is_ok_and(|o| env.allows_origin(o)));
        return if all_allowed {
            Ok(())
        } else {
            Err(forbidden())
        };
    }
    let has_cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| session::find_cookie(v, session::cookie_name(env.mode)).is_some());
    if has_cookie { Err(forbidden()) } else { Ok(()) }
}

/// The key of per-account limits: the canonical email when it is one, else the text as sent
/// (lower-cased), so that look-alike spellings of one address share a bucket.
fn account_key(email: &str) -> String {
    crate::validate::email(email)
        .map_or_else(|_| email.trim().to_lowercase(), |address| address.canonical)
}

/// Runs a password check for the account `email` names under its growing delay: refused
/// (429) while the delay earlier failures set runs, counted as a failure unless it succeeds.
async fn password_check<T, E>(
    torii: &Torii,
    env: &Environment,
    email: &str,
    check: impl Future<Output = Result<T, E>>,
) -> Result<T, ApiError>
where
    ApiError: From<E>,
{
    let account = account_key(email);
    let backoff = env.rate_limits.sign_in_per_account;
    torii
        .reserve_attempt(env, "password_account", &account, backoff)
        .await?;
    let checked = check.await?;
    torii
        .attempt_succeeded(env, "password_account", &account)
        .await?;
    Ok(checked)
}

/// Refuses a request for a sign-in method the environment does not enable.
fn require_method(env: &Environment, method: torii_shared::SignInMethod) -> Result<(), ApiError> {
    if env.methods.contains(&method) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::MethodDisabled,
            "This sign-in method is not enabled for this application.",
        ))
    }
}

/// The key of per-IP limits (an IPv6 client's /64); requests without a peer address share
/// one bucket.
fn ip_key(client: &crate::ClientInfo) -> &str {
    client.ip_limit_key.as_deref().unwrap_or("unknown")
}

/// The limits on trying a code sent to a signed-in user (email verification, email change):
/// per client address and per account, across every such code.
async fn limit_code_tries(
    torii: &Torii,
    env: &Environment,
    client: &crate::ClientInfo,
    user_id: &str,
) -> Result<(), ApiError> {
    let rules = env.rate_limits;
    limit(
        torii,
        env,
        &[
            ("verify_ip", ip_key(client), rules.verifications_per_ip),
            ("verify_account", user_id, rules.verifications_per_account),
        ],
    )
    .await
}

/// Counts a hit against each `(kind, key, rule)`; the first one over its limit refuses.
async fn limit(
    torii: &Torii,
    env: &Environment,
    checks: &[(&str, &str, crate::rate_limit::Rule)],
) -> Result<(), ApiError> {
    for (kind, key, rule) in checks {
        torii.rate_limit(env, kind, key, *rule).await?;
    }
    Ok(())
}

/// A signed-in answer: the `Me` payload and the session cookie.
fn signed_in(
    torii: &Torii,
    env: &Arc<Environment>,
    status: StatusCode,
    done: &AuthenticatedSessionWithToken,
) -> Response {
    let max_age = done.session.session.expires_at - torii.now();
    let cookie = session::session_cookie(env.mode, &done.token, max_age);
    let mut response = (status, axum::Json(done.me())).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
