//! CORS for applications served from another origin than the server (`api_url` in the client):
//! only an environment's allowed origins are answered, always with credentials, never with a
//! wildcard. The secret-key API is never opened to browsers.
//!
//! A preflight cannot carry the publishable key's value (only the header's name), so it is
//! answered for an origin that any environment on this server allows; the request that follows
//! is checked against its own environment, as every state-changing request is.

use crate::Torii;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use torii_shared::{ErrorCode, PUBLISHABLE_KEY_HEADER};

const ALLOW_METHODS: &str = "GET, POST, PATCH, DELETE";
const MAX_AGE_SECS: &str = "600";

/// The middleware: answers preflights and adds the CORS headers to answers for allowed
/// origins.
pub(super) async fn cors(State(torii): State<Torii>, req: Request, next: Next) -> Response {
    // Browsers send exactly one Origin; anything else gets no CORS answer at all.
    let mut origins = req.headers().get_all(header::ORIGIN).iter();
    let origin = match (origins.next(), origins.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    };
    let is_admin = req.uri().path().starts_with("/v1/admin/");
    let Some(origin) = origin.filter(|_| !is_admin) else {
        return next.run(req).await;
    };
    let origin_text = origin.to_str().unwrap_or_default().to_owned();
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        let allowed = torii
            .environments()
            .iter()
            .any(|env| env.allows_origin(&origin_text));
        if !allowed {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::ForbiddenOrigin,
                "Requests from this origin are not allowed.",
            )
            .into_response();
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        allow(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, torii-publishable-key"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECS),
        );
        return response;
    }
    let key = req
        .headers()
        .get(PUBLISHABLE_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = torii
        .environment_for(key.as_deref())
        .is_some_and(|env| env.allows_origin(&origin_text));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        allow(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-request-id"),
        );
    }
    response
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}
