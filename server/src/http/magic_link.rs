//! `POST /v1/magic-links`, and the link's landing: `GET /v1/magic-links/verify` shows a page
//! that consumes nothing (mail scanners fetch links); its button POSTs the token.

use super::Query;
use super::{ApiJson, Client, Env, signed_in};
use crate::error::ApiError;
use crate::mail::escape_html;
use crate::rate_limit::{IpKey, RateBucket};
use crate::{Environment, Torii, session};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use torii_shared::{EmailAccepted, MagicLinkRequest, MagicLinkVerifyRequest, SignInMethod};
use utoipa::ToSchema;

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/magic-links", post(request))
        .route("/v1/magic-links/verify", post(verify).get(landing))
}

/// Emails a sign-in link.
#[utoipa::path(
    post,
    path = "/v1/magic-links",
    operation_id = "requestMagicLink",
    tag = "magic-links",
    request_body = torii_shared::MagicLinkRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 202, description = "A link was emailed (the same answer for an unknown address)", body = torii_shared::EmailAccepted),
        (status = 403, description = "`method_disabled`: sign-in links are not enabled"),
        (status = 422, description = "`validation_failed` (see `fields`)"),
        (status = 429, description = "`rate_limited`"),
        (status = 503, description = "`mail_unavailable` or `store_unavailable`")
    )
)]
async fn request(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<MagicLinkRequest>,
) -> Result<(StatusCode, Json<EmailAccepted>), ApiError> {
    torii
        .request_magic_link(&env, &body.email, body.redirect_url.as_deref(), &client)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(EmailAccepted {
            status: "accepted".to_owned(),
        }),
    ))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Headers of every page this module renders: never cached, never referred, never framed.
fn page(status: StatusCode, env: &Environment, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let form_targets: Vec<&str> = env.allowed_origins.iter().map(String::as_str).collect();
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self' {}",
        form_targets.join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

fn layout(title: &str, app: &str, inner: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2328;\
         display:grid;place-items:center;min-height:100vh;margin:0}}main{{background:#fff;\
         border-radius:12px;padding:32px;max-width:400px;box-shadow:0 1px 3px #0002}}\
         button{{font:inherit;padding:10px 20px;border:0;border-radius:8px;background:#1f6feb;\
         color:#fff;font-weight:600;cursor:pointer}}button:focus-visible{{outline:3px solid #0969da;\
         outline-offset:2px}}</style></head><body><main><p>{app}</p>{inner}</main></body></html>",
        app = escape_html(app),
    )
}

/// Shows a Continue button for a live link, the "used or expired" page otherwise; consumes
/// nothing.
#[utoipa::path(
    get,
    path = "/v1/magic-links/verify",
    operation_id = "magicLinkLanding",
    tag = "magic-links",
    params(
        ("token" = Option<String>, Query, description = "The token from the emailed link")
    ),
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "A page whose button confirms the sign-in by POST; nothing is consumed", content_type = "text/html", body = String),
        (status = 410, description = "A page saying the link was used, replaced or expired", content_type = "text/html", body = String)
    )
)]
async fn landing(
    State(torii): State<Torii>,
    Env(env): Env,
    Query(query): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let token = query.token.unwrap_or_default();
    if !torii.magic_link_is_live(&env, &token).await? {
        return Ok(used_or_expired(&env));
    }
    let action = format!(
        "/v1/magic-links/verify?{}={}",
        torii_shared::PUBLISHABLE_KEY_QUERY,
        escape_html(&env.publishable_key)
    );
    let inner = format!(
        "<h1>Sign in</h1><p>Continue to sign in to {app}.</p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\">Continue</button></form>",
        app = escape_html(&env.name),
        token = escape_html(&token),
    );
    Ok(page(
        StatusCode::OK,
        &env,
        layout("Sign in", &env.name, &inner),
    ))
}

fn used_or_expired(env: &Environment) -> Response {
    let inner = "<h1>Link used or expired</h1><p>This sign-in link was already used, \
                 replaced by a newer one, or has expired. Request a new link from the \
                 sign-in page.</p>";
    page(
        StatusCode::GONE,
        env,
        layout("Link used or expired", &env.name, inner),
    )
}

/// The landing page's form (`POST /v1/magic-links/verify`), answered with a redirect.
#[derive(ToSchema)]
pub struct MagicLinkForm {
    /// The token from the link.
    token: String,
}

impl std::fmt::Debug for MagicLinkForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MagicLinkForm { token: [redacted] }")
    }
}

impl MagicLinkForm {
    /// Reads the form body: its first `token` field, empty when there is none (which then
    /// finds no link).
    fn parse(body: &[u8]) -> Self {
        let token = url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        Self { token }
    }
}

/// JSON `{token}` → 200 Me + cookie; the landing page's form → 303 to the redirect URL.
#[utoipa::path(
    post,
    path = "/v1/magic-links/verify",
    operation_id = "verifyMagicLink",
    tag = "magic-links",
    request_body(content(
        (torii_shared::MagicLinkVerifyRequest = "application/json"),
        (MagicLinkForm = "application/x-www-form-urlencoded")
    )),
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "Signed in (JSON request)", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 303, description = "Signed in (form request): to the link's redirect URL", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 403, description = "`method_disabled`: sign-in links are not enabled"),
        (status = 410, description = "The link was used, replaced or expired (form request)", content_type = "text/html", body = String),
        (status = 422, description = "`link_expired` or `validation_failed` (JSON request)"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn verify(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The one handler that guards apart from its library call: the guard must run before the
    // body is read, so that a malformed body over the limit is refused as over it (429), not
    // as malformed (400), and the body's parsing happens here, between the two. The library
    // call therefore does not guard (see `Torii::verify_magic_link`).
    let buckets = [RateBucket::VerifyIp(IpKey::of(&client))];
    torii
        .guard(&env, Some(SignInMethod::MagicLink), &buckets)
        .await?;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        let request = axum::http::Request::builder()
            .header(
                header::CONTENT_TYPE,
                headers
                    .get(header::CONTENT_TYPE)
                    .cloned()
                    .unwrap_or(HeaderValue::from_static("")),
            )
            .body(axum::body::Body::from(body))
            .map_err(|e| ApiError::internal(&e))?;
        let ApiJson(json) =
            <ApiJson<MagicLinkVerifyRequest> as axum::extract::FromRequest<()>>::from_request(
                request,
                &(),
            )
            .await?;
        let (done, _) = torii
            .verify_magic_link(&env, json.token.expose(), &client)
            .await?;
        return Ok(signed_in(&torii, &env, StatusCode::OK, &done));
    }
    let MagicLinkForm { token } = MagicLinkForm::parse(&body);
    match torii.verify_magic_link(&env, &token, &client).await {
        Ok((done, redirect)) => {
            let target = redirect.unwrap_or_else(|| torii.public_url().to_string());
            let max_age = done.session.session.expires_at - torii.now();
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            if let Ok(location) = HeaderValue::from_str(&target) {
                headers.insert(header::LOCATION, location);
            }
            if let Ok(cookie) =
                HeaderValue::from_str(&session::session_cookie(env.mode, &done.token, max_age))
            {
                headers.insert(header::SET_COOKIE, cookie);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            Ok(response)
        }
        Err(crate::methods::magic_link::MagicLinkError::Expired) => Ok(used_or_expired(&env)),
        Err(other) => Err(other.into()),
    }
}
