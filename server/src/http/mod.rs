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
mod metrics;
mod mfa;
mod oauth;
mod openapi;
mod passkeys;
mod password_reset;
mod request_id;
mod sign_in;
mod sign_up;

pub use admin::SecretKeyEnv;
pub use extract::{ActiveSession, AnySession, ApiJson, BearerOrCookie, Client, Env, Path, Query};
pub use metrics::metrics_router;
pub use openapi::document as openapi_document;

use crate::error::ApiError;
use crate::guard::{Guarded, Refused};
use crate::{AuthenticatedSessionWithToken, Environment, Torii, session};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use axum::extract::MatchedPath;
pub use request_id::{REQUEST_ID_HEADER, RequestId};
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
        .merge(mfa::routes())
        .route("/v1/{*rest}", any(not_found))
        .layer(middleware::from_fn_with_state(
            torii.clone(),
            resolve_environment,
        ));
    Router::new()
        .merge(api)
        .merge(oauth::callback_routes())
        .merge(admin::routes())
        .merge(mfa::admin_routes())
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
        // Inside the routes (a `Router::layer`), so the route template is known.
        .layer(middleware::from_fn_with_state(
            torii.clone(),
            metrics::track,
        ))
        .layer(
            // Paths only: query strings may carry tokens and must not reach the log.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .map_or("", |id| id.0.as_str());
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("", MatchedPath::as_str);
                    tracing::info_span!(
                        "request",
                        request_id = %id,
                        route = %route,
                        method = %req.method(),
                        path = %req.uri().path(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // Outside the trace layer, so the span has the id.
        .layer(middleware::from_fn(request_id::assign))
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

/// A refusal before a library call's work, as the API answers it.
impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::MethodDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::MethodDisabled,
                "This sign-in method is not enabled for this application.",
            ),
            Refused::SignedOut => ApiError::unauthenticated(),
            Refused::Limited(error) => error.into(),
        }
    }
}

impl<E> From<Guarded<E>> for ApiError
where
    ApiError: From<E>,
{
    fn from(error: Guarded<E>) -> Self {
        match error {
            Guarded::Refused(refused) => refused.into(),
            Guarded::Failed(error) => error.into(),
        }
    }
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
