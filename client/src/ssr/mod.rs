//! The server half of a server-rendered app: the request's session, as the server sees it.
//!
//! [`SessionState`] is what a request carries: signed out, pending on gates, or active.
//! [`resolve_session`], an axum middleware over a [`Sessions`], reads the session token from
//! the request (Torii's cookie, else `Authorization: Bearer`), has it verified once, and puts
//! the answer in the request's extensions. From there:
//! - the provider renders with it on the server, and sends it to the browser in the page,
//!   so hydration starts from the same state and does not ask `/me` again;
//! - route handlers take it with the [`CurrentSession`] extractor;
//! - `#[server]` functions call [`current_session`].
//!
//! Where the answer comes from is a [`SessionVerifier`]: [`RemoteVerifier`] asks a separate
//! `torii-server` (`POST /v1/admin/sessions/verify` with the secret key), [`JwksVerifier`]
//! checks JWT sessions offline against the server's published keys, and with the `server`
//! feature `InProcessVerifier` asks a `Torii` instance in the same process (the app that
//! mounts Torii's router in its own axum app). An app may implement the trait itself.
//! A verifier that fails (the Torii server unreachable, the store down) is not a signed-out
//! user: handlers get [`SessionError::Unavailable`], and the provider renders the loading
//! state and asks `/me` from the browser.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use torii_shared::{ErrorBody, ErrorCode, Me, Session, User};

mod jwks;
mod verifiers;

pub use jwks::JwksVerifier;
#[cfg(feature = "server")]
pub use verifiers::InProcessVerifier;
pub use verifiers::RemoteVerifier;

/// The names of Torii's session cookie: test mode, then live mode (`__Host-` prefixed).
pub const SESSION_COOKIES: [&str; 2] = ["torii_session", "__Host-torii_session"];

/// A boxed future, as [`SessionVerifier::verify`] returns it.
pub type VerifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SessionState, VerifyError>> + Send + 'a>>;

/// Says what session a token names.
pub trait SessionVerifier: Send + Sync + 'static {
    /// The state of the session `token` names: [`SessionState::SignedOut`] for a token that
    /// names no valid session; an error only when the answer could not be had.
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;
}

/// Why a session could not be verified (which is not the same as "signed out").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The Torii server could not be reached, or did not answer in time.
    #[error("the Torii server could not be reached")]
    Unreachable,
    /// The Torii server refused the secret key (wrong key, or a publishable key).
    #[error("the Torii server refused the secret key")]
    SecretKeyRefused,
    /// The Torii server answered something this client does not understand.
    #[error("the Torii server answered status {0} unexpectedly")]
    UnexpectedAnswer(u16),
    /// The in-process Torii instance has no environment for the publishable key.
    #[error("no Torii environment for this publishable key")]
    UnknownEnvironment,
    /// The session store failed.
    #[error("the session store is unavailable")]
    StoreUnavailable,
    /// The Torii server's URL is not an absolute `http(s)` URL.
    #[error("the Torii server's URL is not an absolute http(s) URL")]
    InvalidUrl,
}

/// How a Leptos SSR app learns its requests' sessions: a verifier and the cookie names to
/// read. Cheap to clone. Give it to [`resolve_session`].
#[derive(Clone)]
pub struct Sessions {
    verifier: Arc<dyn SessionVerifier>,
    cookies: Arc<[String]>,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("cookies", &self.cookies)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions verified by `verifier`, read from Torii's cookies ([`SESSION_COOKIES`]).
    #[must_use]
    pub fn new(verifier: impl SessionVerifier) -> Self {
        Self {
            verifier: Arc::new(verifier),
            cookies: SESSION_COOKIES
                .iter()
                .map(|&name| name.to_owned())
                .collect(),
        }
    }

    /// Sessions of a separate `torii-server` at `api_url`, verified with the environment's
    /// secret key; see [`RemoteVerifier`]. For JWT sessions verified offline, see
    /// [`Sessions::jwks`].
    ///
    /// # Errors
    /// The HTTP client could not be built (no TLS backend).
    pub fn remote(api_url: &str, secret_key: &str) -> Result<Self, VerifyError> {
        Ok(Self::new(RemoteVerifier::new(api_url, secret_key)?))
    }

    /// JWT sessions of environment `environment_id` of the `torii-server` at `api_url`,
    /// verified offline against its JWKS; see [`JwksVerifier`].
    ///
    /// # Errors
    /// `api_url` is not an absolute URL, or the HTTP client could not be built.
    pub fn jwks(api_url: &str, environment_id: &str) -> Result<Self, VerifyError> {
        Ok(Self::new(JwksVerifier::new(api_url, environment_id)?))
    }

    /// The session token a request carries: Torii's cookie, else `Authorization: Bearer`.
    #[must_use]
    pub fn token<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        let from_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| !value.is_empty() && self.cookies.iter().any(|c| c == name))
            .map(|(_, value)| value);
        from_cookie.or_else(|| {
            headers
                .get(header::AUTHORIZATION)?
                .to_str()
                .ok()?
                .strip_prefix("Bearer ")
                .map(str::trim)
                .filter(|token| !token.is_empty())
        })
    }

    /// The session of a request with these headers. No token: signed out, without asking.
    ///
    /// # Errors
    /// The verifier could not answer.
    pub async fn resolve(&self, headers: &HeaderMap) -> Result<SessionState, VerifyError> {
        match self.token(headers) {
            Some(token) => self.verifier.verify(token).await,
            None => Ok(SessionState::SignedOut),
        }
    }
}

/// What [`resolve_session`] left in a request's extensions when the verifier failed.
#[derive(Debug, Clone)]
struct Unresolved(VerifyError);

/// Axum middleware: resolves the request's session once (see [`Sessions::resolve`]) and
/// leaves it in the request's extensions for the provider, [`CurrentSession`] and
/// [`current_session`]. Layer it over the Leptos routes and the server functions:
///
/// ```text
/// let app = Router::new()
///     .leptos_routes(&options, routes, shell)
///     .layer(axum::middleware::from_fn_with_state(sessions, resolve_session));
/// ```
pub async fn resolve_session(
    State(sessions): State<Sessions>,
    mut request: Request,
    next: Next,
) -> Response {
    match sessions.resolve(request.headers()).await {
        Ok(state) => {
            request.extensions_mut().insert(state);
        }
        Err(err) => {
            leptos::logging::error!("torii: could not verify the session: {err}");
            request.extensions_mut().insert(Unresolved(err));
        }
    }
    next.run(request).await
}

/// Why a handler or server function has no session state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// [`resolve_session`] did not run for this request (a wiring mistake in the app), or
    /// this is not a request (no `Parts` in the Leptos context).
    #[error("the session was not resolved for this request: layer `resolve_session` over it")]
    NotResolved,
    /// The verifier failed: the state is unknown.
    #[error("the session could not be verified: {0}")]
    Unavailable(VerifyError),
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        // Both are the server's own trouble; the body says nothing of the cause.
        let (status, code, message) = match self {
            Self::NotResolved => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "Something went wrong.",
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StoreUnavailable,
                "Try again in a moment.",
            ),
        };
        let body = ErrorBody::new(code, message);
        (status, axum::Json(body)).into_response()
    }
}

/// The session [`resolve_session`] left in these request parts.
///
/// # Errors
/// See [`SessionError`].
pub fn session_of(parts: &Parts) -> Result<SessionState, SessionError> {
    if let Some(state) = parts.extensions.get::<SessionState>() {
        return Ok(state.clone());
    }
    match parts.extensions.get::<Unresolved>() {
        Some(Unresolved(err)) => Err(SessionError::Unavailable(err.clone())),
        None => Err(SessionError::NotResolved),
    }
}

/// The current request's session, inside a `#[server]` function (or anywhere the Leptos
/// integration provides the request's `Parts` as context).
///
/// ```text
/// #[server]
/// pub async fn my_notes() -> Result<Vec<Note>, ServerFnError> {
///     let state = torii_client::ssr::current_session().await.map_err(ServerFnError::new)?;
///     let Some(user) = state.active_user() else {
///         // leptos_axum::ResponseOptions can set the status to 401 here.
///         return Err(ServerFnError::new("sign in first"));
///     };
///     load_notes(&user.id).await
/// }
/// ```
///
/// # Errors
/// See [`SessionError`].
#[allow(clippy::unused_async)] // Async so that a lazy verification can come without a break.
pub async fn current_session() -> Result<SessionState, SessionError> {
    let parts = use_context::<Parts>().ok_or(SessionError::NotResolved)?;
    session_of(&parts)
}

/// Axum extractor: the request's session, as [`resolve_session`] resolved it. Rejects with
/// 503 when the verifier failed, 500 when the middleware is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentSession(pub SessionState);

impl<S: Send + Sync> FromRequestParts<S> for CurrentSession {
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        session_of(parts).map(Self)
    }
}

/// A request's session: signed out, signed in but pending on one or more gates, or active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// No session, or one that is not valid (unknown, revoked, expired).
    SignedOut,
    /// Signed in, but the session is pending: `session.info.gates` says on what, and
    /// `session.info.current_gate` which comes first. Counts as signed out for rendering.
    Pending {
        /// The signed-in user.
        user: User,
        /// The session, with its gates.
        session: Session,
    },
    /// Signed in on an active session.
    Active {
        /// The signed-in user.
        user: User,
        /// The session.
        session: Session,
    },
}

impl SessionState {
    /// The state a `/me` payload describes.
    #[must_use]
    pub fn from_me(me: Me) -> Self {
        match (me.user, me.session) {
            (Some(user), Some(session)) if session.info.is_active() => {
                Self::Active { user, session }
            }
            (Some(user), Some(session)) => Self::Pending { user, session },
            _ => Self::SignedOut,
        }
    }

    /// The `/me` payload of this state (without a token: the page never carries one).
    #[must_use]
    pub fn to_me(&self) -> Me {
        match self {
            Self::SignedOut => Me::signed_out(),
            Self::Pending { user, session } | Self::Active { user, session } => Me {
                user: Some(user.clone()),
                session: Some(session.clone()),
                token: None,
            },
        }
    }

    /// The user, pending or active.
    #[must_use]
    pub fn user(&self) -> Option<&User> {
        match self {
            Self::SignedOut => None,
            Self::Pending { user, .. } | Self::Active { user, .. } => Some(user),
        }
    }

    /// The session, pending or active.
    #[must_use]
    pub fn session(&self) -> Option<&Session> {
        match self {
            Self::SignedOut => None,
            Self::Pending { session, .. } | Self::Active { session, .. } => Some(session),
        }
    }

    /// The user of an active session: what protected data needs.
    #[must_use]
    pub fn active_user(&self) -> Option<&User> {
        match self {
            Self::Active { user, .. } => Some(user),
            _ => None,
        }
    }
}

/// The state the provider renders with on the server: the one the server integration
/// resolved for the request being rendered, if any.
pub(crate) fn state_for_render() -> Option<Me> {
    let parts = use_context::<Parts>()?;
    let state = parts.extensions.get::<SessionState>()?;
    Some(state.to_me())
}

#[cfg(test)]
mod tests;
