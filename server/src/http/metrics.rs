//! `GET /metrics` on its own listener, and the layer that counts every request of the API
//! router by its route template (see [`crate::metrics`]).

use crate::Torii;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Instant;
use torii_shared::ErrorCode;

/// The router of the metrics listener: `GET /metrics` only. Kept off the API's listener so
/// that what the node counts is not public.
pub fn metrics_router(torii: Torii) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(torii)
}

async fn scrape(State(torii): State<Torii>) -> Response {
    match torii.metrics_text() {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            );
            response
        }
        Err(error) => ApiError::internal(&error).into_response(),
    }
}

/// Counts the request once it is answered: method, route template, status, latency, and for
/// sign-in and sign-up routes the error code answered.
pub(super) async fn track(State(torii): State<Torii>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    torii.metrics().request(
        method.as_str(),
        route.as_deref(),
        response.status().as_u16(),
        response.extensions().get::<ErrorCode>().copied(),
        started.elapsed(),
    );
    response
}
