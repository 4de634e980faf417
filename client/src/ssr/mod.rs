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
mod tests {
    use super::verifiers::interpret_verify_answer;
    use super::*;
    use crate::{AuthLoading, GateKey, RedirectToGates, SignIn, SignedIn, SignedOut};
    use torii_shared::{Gate, SessionInfo, SessionKind, SessionStatus};

    fn user() -> User {
        User {
            id: "usr_1".into(),
            email: "ada@example.com".into(),
            name: None,
            email_verified: true,
            created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
            updated_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn session(gates: &[GateKey]) -> Session {
        let gates: Vec<Gate> = gates.iter().map(|key| Gate { key: key.clone() }).collect();
        Session {
            id: "ses_1".into(),
            info: SessionInfo {
                status: if gates.is_empty() {
                    SessionStatus::Active
                } else {
                    SessionStatus::Pending
                },
                current_gate: gates.first().cloned(),
                gates,
            },
            kind: SessionKind::Database,
            expires_at: time::macros::datetime!(2026-02-01 0:00 UTC),
        }
    }

    /// Renders a page as the server does, for a request whose session the integration
    /// resolved to `state` (or did not resolve, `None`).
    fn render(state: Option<SessionState>) -> String {
        Owner::new().with(|| {
            let (mut parts, ()) = axum::http::Request::new(()).into_parts();
            if let Some(state) = state {
                parts.extensions.insert(state);
            }
            provide_context(parts);
            view! {
                <crate::ToriiProvider
                    publishable_key="pk_test_1"
                    gate_urls=[(GateKey::LegalAcceptance, "/legal")]
                >
                    <AuthLoading>
                        <p>"Loading the session"</p>
                    </AuthLoading>
                    <SignedIn>
                        <p>"Welcome " {move || crate::use_auth().user.get().map(|u| u.email)}</p>
                    </SignedIn>
                    <SignedOut>
                        <RedirectToGates />
                        <SignIn />
                    </SignedOut>
                </crate::ToriiProvider>
            }
            .to_html()
        })
    }

    #[test]
    fn a_signed_in_request_renders_the_signed_in_content_on_the_server() {
        let html = render(Some(SessionState::Active {
            user: user(),
            session: session(&[]),
        }));
        assert!(html.contains("<p>Welcome <!>ada@example.com</p>"), "{html}");
        assert!(!html.contains("Loading the session"), "{html}");
        assert!(!html.contains("torii-sign-in-1"), "{html}");
    }

    #[test]
    fn a_signed_out_or_pending_request_renders_the_sign_in_path_with_stable_ids() {
        let signed_out = render(Some(SessionState::SignedOut));
        assert!(signed_out.contains("torii-sign-in-1-title"), "{signed_out}");
        assert!(!signed_out.contains("Welcome"), "{signed_out}");
        assert!(!signed_out.contains("Loading the session"), "{signed_out}");
        // A second request renders the same ids: nothing counts across requests.
        assert_eq!(render(Some(SessionState::SignedOut)), signed_out);

        // Pending on a gate with its own route: the card steps aside for the gate's screen.
        let pending = render(Some(SessionState::Pending {
            user: user(),
            session: session(&[GateKey::LegalAcceptance]),
        }));
        assert!(!pending.contains("Welcome"), "{pending}");
        assert!(!pending.contains("torii-sign-in-1-title"), "{pending}");

        // Pending on the second factor: the card's place holds the second step.
        let second = render(Some(SessionState::Pending {
            user: user(),
            session: session(&[GateKey::SecondFactor]),
        }));
        assert!(!second.contains("Welcome"), "{second}");
        assert!(!second.contains("torii-sign-in-1-title"), "{second}");
        assert!(second.contains("Two-step verification"), "{second}");
        assert!(
            second.contains(r#"autocomplete="one-time-code""#),
            "{second}"
        );
    }

    #[test]
    fn without_the_integration_the_server_renders_the_loading_state() {
        let html = render(None);
        assert!(html.contains("Loading the session"), "{html}");
        assert!(!html.contains("Welcome"), "{html}");
    }

    #[test]
    fn states_round_trip_through_the_me_payload() {
        for state in [
            SessionState::SignedOut,
            SessionState::Pending {
                user: user(),
                session: session(&[GateKey::EmailVerification]),
            },
            SessionState::Active {
                user: user(),
                session: session(&[]),
            },
        ] {
            assert_eq!(SessionState::from_me(state.to_me()), state);
        }
        let active = SessionState::Active {
            user: user(),
            session: session(&[]),
        };
        assert_eq!(active.active_user().map(|u| u.id.as_str()), Some("usr_1"));
        assert_eq!(
            SessionState::Pending {
                user: user(),
                session: session(&[GateKey::LegalAcceptance])
            }
            .active_user(),
            None
        );
    }

    /// Knows one token, `good` (active) and `gated` (pending); `broken` fails.
    struct FakeVerifier;

    impl SessionVerifier for FakeVerifier {
        fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
            Box::pin(async move {
                match token {
                    "good" => Ok(SessionState::Active {
                        user: user(),
                        session: session(&[]),
                    }),
                    "gated" => Ok(SessionState::Pending {
                        user: user(),
                        session: session(&[GateKey::LegalAcceptance]),
                    }),
                    "broken" => Err(VerifyError::Unreachable),
                    _ => Ok(SessionState::SignedOut),
                }
            })
        }
    }

    async fn who(CurrentSession(state): CurrentSession) -> String {
        match state {
            SessionState::Active { user, .. } => format!("active {}", user.email),
            SessionState::Pending { session, .. } => {
                format!("pending {:?}", session.info.current_gate.map(|g| g.key))
            }
            SessionState::SignedOut => "signed out".to_owned(),
        }
    }

    async fn call(app: axum::Router, headers: &[(&str, &str)]) -> (u16, String) {
        use tower::ServiceExt as _;
        let mut request = axum::http::Request::builder().uri("/who");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = app
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn app() -> axum::Router {
        axum::Router::new()
            .route("/who", axum::routing::get(who))
            .layer(axum::middleware::from_fn_with_state(
                Sessions::new(FakeVerifier),
                resolve_session,
            ))
    }

    #[tokio::test]
    async fn handlers_get_the_session_from_the_cookie_or_the_bearer_header() {
        assert_eq!(
            call(app(), &[("cookie", "theme=dark; torii_session=good")]).await,
            (200, "active ada@example.com".to_owned())
        );
        assert_eq!(
            call(app(), &[("cookie", "__Host-torii_session=gated")]).await,
            (200, "pending Some(LegalAcceptance)".to_owned())
        );
        assert_eq!(
            call(app(), &[("authorization", "Bearer good")]).await,
            (200, "active ada@example.com".to_owned())
        );
        assert_eq!(
            call(app(), &[("cookie", "torii_session=revoked")]).await,
            (200, "signed out".to_owned())
        );
        assert_eq!(call(app(), &[]).await, (200, "signed out".to_owned()));
        // Another cookie of the same value is not a session.
        assert_eq!(
            call(app(), &[("cookie", "other_session=good")]).await,
            (200, "signed out".to_owned())
        );
    }

    #[tokio::test]
    async fn a_failed_verification_is_a_503_not_a_signed_out_user_and_a_missing_layer_a_500() {
        let (status, body) = call(app(), &[("cookie", "torii_session=broken")]).await;
        assert_eq!(status, 503);
        assert!(body.contains("store_unavailable"), "{body}");
        let bare = axum::Router::new().route("/who", axum::routing::get(who));
        let (status, body) = call(bare, &[("cookie", "torii_session=good")]).await;
        assert_eq!(status, 500);
        assert!(!body.contains("resolve_session"), "{body}");
    }

    #[test]
    fn server_functions_read_the_session_from_the_request_parts() {
        let owner = Owner::new();
        owner.with(|| {
            let (mut parts, ()) = axum::http::Request::new(()).into_parts();
            parts
                .extensions
                .insert(Unresolved(VerifyError::Unreachable));
            provide_context(parts);
        });
        let answer = owner.with(|| futures_lite_block_on(current_session()));
        assert_eq!(
            answer,
            Err(SessionError::Unavailable(VerifyError::Unreachable))
        );
        assert_eq!(
            Owner::new().with(|| futures_lite_block_on(current_session())),
            Err(SessionError::NotResolved)
        );
    }

    /// `current_session` never waits on anything; poll it once.
    fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("current_session waited"),
        }
    }

    #[test]
    fn the_admin_verify_answer_reads_as_a_state_or_an_error() {
        let me = serde_json::to_vec(
            &SessionState::Active {
                user: user(),
                session: session(&[]),
            }
            .to_me(),
        )
        .unwrap();
        assert!(matches!(
            interpret_verify_answer(200, &me),
            Ok(SessionState::Active { .. })
        ));
        let unauthenticated = br#"{"error":{"code":"unauthenticated","message":"Sign in first."}}"#;
        assert_eq!(
            interpret_verify_answer(401, unauthenticated),
            Ok(SessionState::SignedOut)
        );
        let bad_key = br#"{"error":{"code":"invalid_secret_key","message":"No."}}"#;
        assert_eq!(
            interpret_verify_answer(401, bad_key),
            Err(VerifyError::SecretKeyRefused)
        );
        assert_eq!(
            interpret_verify_answer(502, b"<html>"),
            Err(VerifyError::UnexpectedAnswer(502))
        );
        assert_eq!(
            interpret_verify_answer(200, b"{"),
            Err(VerifyError::UnexpectedAnswer(200))
        );
    }

    #[test]
    fn the_remote_verifier_never_shows_its_secret_key() {
        let verifier = RemoteVerifier::new("https://auth.example.com/", "sk_test_secret").unwrap();
        let shown = format!("{verifier:?}");
        assert!(!shown.contains("sk_test_secret"), "{shown}");
        assert!(shown.contains("https://auth.example.com/v1/admin/sessions/verify"));
    }
}
