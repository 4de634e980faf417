//! OAuth and OpenID Connect: `GET /v1/oauth/{provider}/start` (a browser navigation, answered
//! with a redirect to the provider), `GET /v1/oauth/{provider}/callback` (the provider's
//! redirect back, answered with a redirect to the app), linking, unlinking and re-authenticating
//! for a signed-in user. The callback is outside the environment layer: the ceremony names its
//! environment.

use super::{ActiveSession, ApiJson, Client, Env};
use super::{Path, Query};
use crate::error::ApiError;
use crate::guard::{Guarded, Refused};
use crate::mail::escape_html;
use crate::methods::oauth::{
    AppUrls, BoundState, CEREMONY_TTL, CallbackOutcome, CallbackParams, OAuthError, SIGN_UP_TTL,
    Started, with_query,
};
use crate::store::StoreError;
use crate::{Torii, session};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use torii_shared::{
    EnvironmentMode, ErrorCode, OAUTH_ERROR_QUERY, OAUTH_SIGN_UP_QUERY, OAuthIdentity,
    OAuthLinkRequest, OAuthLinkStarted,
};

/// The cookie binding a redirect to the browser that started it (its value is the `state`),
/// in test mode.
pub const STATE_COOKIE: &str = "torii_oauth";
/// The same in live mode: `__Host-` makes browsers keep it only when it is `Secure`, for the
/// exact host and path `/`, so no sibling domain can plant one.
pub const HOST_STATE_COOKIE: &str = "__Host-torii_oauth";
/// The cookie binding a pending OAuth sign-up (the consent step) to its browser, test mode.
pub const SIGN_UP_COOKIE: &str = "torii_oauth_sign_up";
/// The same in live mode.
pub const HOST_SIGN_UP_COOKIE: &str = "__Host-torii_oauth_sign_up";

/// A short-lived cookie for `mode`: `__Host-` prefixed (Secure, path `/`) in live mode, else
/// plain on `test_path`.
fn ceremony_cookie(
    mode: EnvironmentMode,
    (test_name, live_name): (&str, &str),
    test_path: &str,
    value: &str,
    max_age: i64,
) -> String {
    if mode == EnvironmentMode::Live {
        format!("{live_name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}; Secure")
    } else {
        format!("{test_name}={value}; Path={test_path}; HttpOnly; SameSite=Lax; Max-Age={max_age}")
    }
}

/// The cookie a pending OAuth sign-up is bound to its browser with.
pub(super) fn sign_up_cookie(mode: EnvironmentMode, binding: &str, max_age: i64) -> String {
    ceremony_cookie(
        mode,
        (SIGN_UP_COOKIE, HOST_SIGN_UP_COOKIE),
        "/v1/sign-ups",
        binding,
        max_age,
    )
}

/// The value of the first cookie named `name` in the request.
pub(super) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| session::find_cookie(v, name))
}

/// Routes that need the request's environment.
pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/oauth/{provider}/start", get(start))
        .route("/v1/oauth/{provider}/link", post(link))
        .route("/v1/oauth/{provider}/reauthenticate", post(reauthenticate))
        .route("/v1/oauth/identities", get(identities))
        .route("/v1/oauth/identities/{id}", delete(unlink))
}

/// The provider's redirect back, which carries no publishable key.
pub(super) fn callback_routes() -> Router<Torii> {
    Router::new().route("/v1/oauth/{provider}/callback", get(callback))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartQuery {
    redirect_url: Option<String>,
    sign_up_url: Option<String>,
}

fn state_cookie(mode: EnvironmentMode, state: &str) -> String {
    ceremony_cookie(
        mode,
        (STATE_COOKIE, HOST_STATE_COOKIE),
        "/v1/oauth",
        state,
        CEREMONY_TTL.whole_seconds(),
    )
}

/// Both forms of the state cookie, expired.
const CLEAR_STATE_COOKIES: [&str; 2] = [
    "torii_oauth=; Path=/v1/oauth; HttpOnly; SameSite=Lax; Max-Age=0",
    "__Host-torii_oauth=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure",
];

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A small page for the cases where the app to go back to is unknown.
fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2328;\
         display:grid;place-items:center;min-height:100vh;margin:0}}main{{background:#fff;\
         border-radius:12px;padding:32px;max-width:400px;box-shadow:0 1px 3px #0002}}</style>\
         </head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>",
        title = escape_html(title),
        text = escape_html(text),
    );
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

/// The page for a browser step the store's absence failed: `503` with the `Retry-After` of
/// `store_unavailable`, so that a browser or a balancer can tell it from a broken server.
fn store_unavailable_page() -> Response {
    tracing::warn!("OAuth step failed: the store is unavailable");
    let mut page = error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "Sign-in is temporarily unavailable. Try again shortly.",
    );
    page.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::error::STORE_RETRY_AFTER_SECS),
    );
    page
}

fn start_error_page(error: &OAuthError) -> Response {
    match error {
        OAuthError::UnknownProvider => error_page(
            StatusCode::NOT_FOUND,
            "Unknown sign-in provider",
            "This application does not offer that sign-in provider.",
        ),
        OAuthError::RedirectNotAllowed => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in not started",
            "The page to come back to is not one this application allows.",
        ),
        OAuthError::Store(StoreError::Unavailable(_)) => store_unavailable_page(),
        other => {
            tracing::error!(error = %crate::log::escaped(other), "OAuth start failed");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in not started",
                "The sign-in provider cannot be reached right now. Go back and try again shortly.",
            )
        }
    }
}

/// → 302 to the provider, with the state cookie.
#[utoipa::path(
    get,
    path = "/v1/oauth/{provider}/start",
    operation_id = "startOAuth",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The provider's id, e.g. `google`"),
        ("redirectUrl" = Option<String>, Query, description = "Where to come back to (allow-listed); default: the public URL"),
        ("signUpUrl" = Option<String>, Query, description = "The app's sign-up route, for the consent step")
    ),
    security(("publishableKey" = [])),
    responses(
        (status = 302, description = "To the provider, with the state cookie", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "A page: the redirect URL is not allowed; or `malformed_request` (JSON): the query cannot be read", content((torii_shared::ErrorBody = "application/json"), (String = "text/html"))),
        (status = 403, description = "A page: OAuth is not enabled; or `invalid_publishable_key` (JSON)", content((torii_shared::ErrorBody = "application/json"), (String = "text/html"))),
        (status = 404, description = "A page: the provider is not offered", content_type = "text/html", body = String),
        (status = 429, description = "A page: too many sign-ins started from here", content_type = "text/html", body = String, headers(("Retry-After" = u64))),
        (status = 503, description = "A page: the provider or the store cannot be reached", content_type = "text/html", body = String)
    )
)]
async fn start(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    if !env.oauth_enabled() {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sign-in method not enabled",
            "This application does not offer sign-in with providers.",
        );
    }
    let redirect_url = query
        .redirect_url
        .unwrap_or_else(|| torii.public_url().to_string());
    let urls = AppUrls {
        redirect_url,
        sign_up_url: query.sign_up_url,
    };
    match torii.start_oauth(&env, &provider, &urls, &client).await {
        Ok(started) => {
            let mut response = redirect(started.url.as_str());
            if let Ok(cookie) = HeaderValue::from_str(&state_cookie(env.mode, &started.state)) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(Guarded::Refused(refused)) => refused_start_page(refused),
        Err(Guarded::Failed(error)) => start_error_page(&error),
    }
}

/// The page for a start refused before its work: over the limit, or the limit could not be
/// counted.
fn refused_start_page(refused: Refused) -> Response {
    let answer = ApiError::from(refused).into_response();
    let status = answer.status();
    let mut page = if status == StatusCode::TOO_MANY_REQUESTS {
        error_page(
            status,
            "Too many sign-in attempts",
            "Too many sign-ins were started from here. Wait a few minutes, then try again.",
        )
    } else {
        error_page(
            status,
            "Temporarily unavailable",
            "Sign-in is temporarily unavailable. Try again shortly.",
        )
    };
    if let Some(retry) = answer.headers().get(header::RETRY_AFTER) {
        page.headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    page
}

/// A signed-in user links another provider: → `{url}` to navigate to, with the state cookie.
#[utoipa::path(
    post,
    path = "/v1/oauth/{provider}/link",
    operation_id = "linkOAuthProvider",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The provider's id, e.g. `google`")
    ),
    request_body = torii_shared::OAuthLinkRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The provider's page to send the browser to, with the state cookie", body = torii_shared::OAuthLinkStarted),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required`, `second_factor_required` or `method_disabled`"),
        (status = 404, description = "`not_found`: the provider is not offered"),
        (status = 422, description = "`validation_failed`: the redirect URL is not allowed"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn link(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ActiveSession(found): ActiveSession,
    Path(provider): Path<String>,
    ApiJson(body): ApiJson<OAuthLinkRequest>,
) -> Result<Response, ApiError> {
    let urls = AppUrls {
        redirect_url: body.redirect_url,
        sign_up_url: None,
    };
    let started = torii
        .start_oauth_link(&env, &provider, &urls, &found, &client)
        .await?;
    Ok(started_answer(env.mode, &started))
}

/// `{url}` for the browser to navigate to, and the cookie binding the state to it.
fn started_answer(mode: EnvironmentMode, started: &Started) -> Response {
    let mut response = Json(OAuthLinkStarted {
        url: started.url.to_string(),
    })
    .into_response();
    if let Ok(cookie) = HeaderValue::from_str(&state_cookie(mode, &started.state)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// A signed-in user proves who they are again with a provider linked to them: → `{url}` to
/// navigate to, with the state cookie. Coming back renews the session's recent sign-in.
#[utoipa::path(
    post,
    path = "/v1/oauth/{provider}/reauthenticate",
    operation_id = "reauthenticateWithOAuthProvider",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The provider's id, e.g. `google`; one linked to the user")
    ),
    request_body = torii_shared::OAuthLinkRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The provider's page to send the browser to, with the state cookie; the provider's redirect back renews the session's recent sign-in when it comes with the account linked to this user (else `oauthError=oauth_wrong_account`)", body = torii_shared::OAuthLinkStarted),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` or `method_disabled`"),
        (status = 404, description = "`not_found`: the provider is not offered, or not linked to the user"),
        (status = 422, description = "`validation_failed`: the redirect URL is not allowed"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn reauthenticate(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ActiveSession(found): ActiveSession,
    Path(provider): Path<String>,
    ApiJson(body): ApiJson<OAuthLinkRequest>,
) -> Result<Response, ApiError> {
    let urls = AppUrls {
        redirect_url: body.redirect_url,
        sign_up_url: None,
    };
    let (user, session) = (&found.user.id, &found.session.id);
    let started = torii
        .start_oauth_reauthentication(&env, &provider, &urls, user, session, &client)
        .await?;
    Ok(started_answer(env.mode, &started))
}

/// The signed-in user's linked provider accounts.
#[utoipa::path(
    get,
    path = "/v1/oauth/identities",
    operation_id = "listOAuthIdentities",
    tag = "oauth",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The provider accounts linked to the user", body = Vec<torii_shared::OAuthIdentity>),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)")
    )
)]
async fn identities(
    State(torii): State<Torii>,
    ActiveSession(found): ActiveSession,
) -> Result<Json<Vec<OAuthIdentity>>, ApiError> {
    let list = torii.oauth_identities(&found.user.id).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| OAuthIdentity {
                id: i.id,
                provider: i.provider,
                email: i.email,
                created_at: i.created_at,
            })
            .collect(),
    ))
}

/// Unlinks a provider account (needs a recent sign-in; never the last way to sign in).
#[utoipa::path(
    delete,
    path = "/v1/oauth/identities/{id}",
    operation_id = "unlinkOAuthIdentity",
    tag = "oauth",
    params(
        ("id" = String, Path, description = "The linked identity, `oid_…`")
    ),
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required` or `second_factor_required`"),
        (status = 404, description = "`not_found`"),
        (status = 409, description = "`last_sign_in_method`")
    )
)]
async fn unlink(
    State(torii): State<Torii>,
    ActiveSession(found): ActiveSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    torii.require_recent_sign_in(&found).await?;
    torii.unlink_oauth_identity(&found.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The provider's redirect back: → 302 to the app (signed in, or with `oauthError`), or to
/// its sign-up route's continue step; a small page when the app is unknown.
#[utoipa::path(
    get,
    path = "/v1/oauth/{provider}/callback",
    operation_id = "oauthCallback",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The provider's id, e.g. `google`"),
        ("code" = Option<String>, Query, description = "The authorization code"),
        ("state" = Option<String>, Query, description = "The state the ceremony started with"),
        ("iss" = Option<String>, Query, description = "The issuer (RFC 9207)"),
        ("error" = Option<String>, Query, description = "The provider's error, e.g. `access_denied`")
    ),
    responses(
        (status = 302, description = "To the app (signed in, or with `oauthError`), or to its sign-up continue step", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "A page: this sign-in was not started in this browser, was used, or expired; or `malformed_request` (JSON): the query cannot be read", content((torii_shared::ErrorBody = "application/json"), (String = "text/html"))),
        (status = 503, description = "A page: something failed on the server's side", content_type = "text/html", body = String)
    )
)]
async fn callback(
    State(torii): State<Torii>,
    Client(client): Client,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let bound = match cookie_value(&headers, HOST_STATE_COOKIE) {
        Some(state) => Some(BoundState {
            state,
            host_only: true,
        }),
        None => cookie_value(&headers, STATE_COOKIE).map(|state| BoundState {
            state,
            host_only: false,
        }),
    };
    let outcome = torii.finish_oauth(&provider, &params, bound, &client).await;
    let mut response = match outcome {
        Ok(CallbackOutcome::SignedIn { done, redirect_url }) => {
            let env = torii
                .environments()
                .iter()
                .find(|e| e.id == done.session.session.environment_id)
                .map_or(EnvironmentMode::Live, |e| e.mode);
            let max_age = done.session.session.expires_at - torii.now();
            let mut response = redirect(&redirect_url);
            if let Ok(cookie) =
                HeaderValue::from_str(&session::session_cookie(env, &done.token, max_age))
            {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Ok(CallbackOutcome::Linked { redirect_url }) => redirect(&redirect_url),
        Ok(CallbackOutcome::Reauthenticated {
            redirect_url,
            renewed,
        }) => {
            let mut response = redirect(&redirect_url);
            if let Some(renewed) = renewed {
                let max_age = renewed.expires_at - torii.now();
                let cookie = session::session_cookie(renewed.mode, &renewed.token, max_age);
                if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                }
            }
            response
        }
        Ok(CallbackOutcome::NeedsConsent {
            sign_up_id,
            browser_binding,
            mode,
            sign_up_url,
        }) => {
            let mut response =
                redirect(&with_query(&sign_up_url, OAUTH_SIGN_UP_QUERY, &sign_up_id));
            let cookie = sign_up_cookie(mode, &browser_binding, SIGN_UP_TTL.whole_seconds());
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Ok(CallbackOutcome::Failed { code, redirect_url }) => {
            redirect(&with_query(&redirect_url, OAUTH_ERROR_QUERY, code.as_str()))
        }
        Err(OAuthError::UnknownState) => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be completed",
            "This sign-in was not started in this browser, was already used, or has expired. \
             Go back to the application and sign in again.",
        ),
        Err(OAuthError::Store(StoreError::Unavailable(_))) => store_unavailable_page(),
        Err(other) => {
            tracing::error!(error = %crate::log::escaped(&other), "OAuth callback failed");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in could not be completed",
                "Something went wrong on our side. Go back to the application and try again.",
            )
        }
    };
    for clear in CLEAR_STATE_COOKIES {
        response
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static(clear));
    }
    response
}

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        match error {
            OAuthError::UnknownProvider => Self::not_found("This provider is not offered."),
            OAuthError::RedirectNotAllowed => Self::validation(
                [(
                    "redirectUrl".to_owned(),
                    "This URL is not on the environment's redirect allow-list.".to_owned(),
                )]
                .into(),
            ),
            OAuthError::UnknownState | OAuthError::NotFound => {
                Self::not_found("This sign-up was not found or has expired. Start again.")
            }
            OAuthError::ConsentRequired => {
                crate::methods::email_code::SignUpError::ConsentRequired.into()
            }
            OAuthError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "An account with this email already exists. Sign in instead.",
            ),
            OAuthError::NotLinked => {
                Self::not_found("No account of this provider is linked to yours.")
            }
            OAuthError::LastSignInMethod => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::LastSignInMethod,
                "This is your only way to sign in. Add another one before removing it.",
            ),
            OAuthError::Provider(cause) => {
                tracing::error!(cause = %crate::log::escaped(&cause), "OAuth provider unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::OauthFailed,
                    "The sign-in provider cannot be reached right now. Try again shortly.",
                )
            }
            OAuthError::Store(e) => e.into(),
            OAuthError::Internal(e) => e.into(),
            OAuthError::Session(e) => e.into(),
            OAuthError::Account(e) => (*e).into(),
        }
    }
}
