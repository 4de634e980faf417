//! Sign-in with OAuth 2.0 and OpenID Connect providers: any OpenID provider by issuer URL
//! (discovery, JWKS, ID-token validation by the `openidconnect` crate), and presets for
//! Google (OpenID Connect) and GitHub (OAuth 2.0 with its `/user` and `/user/emails` API).
//!
//! Transitions of one sign-in:
//! - `start`: the redirect URL is checked against the environment's allow-list; a ceremony
//!   holding the provider, the PKCE verifier, the nonce and the app's URLs is stored (10
//!   minutes, single use) and its random id becomes the OAuth `state`. The browser is sent to
//!   the provider with `state`, an S256 PKCE challenge and the nonce.
//! - `callback`: the ceremony is taken back (consumed) by the `state` the browser returned,
//!   which must also be the one its cookie holds; the provider must be the one the ceremony
//!   was started for, and its `iss` parameter, when sent, the provider's issuer. The code is
//!   exchanged with the verifier and the ID token validated (signature against the JWKS,
//!   `iss`, `aud`, `exp`, `nonce`). The account is then keyed by (provider, subject):
//!   - a linked identity signs its user in;
//!   - otherwise an account with the same email is linked only when both the provider and the
//!     account say the email is verified; else the user is told to sign in with their
//!     existing method and link the provider from their profile (`oauth_account_exists`);
//!   - otherwise, when the provider has not verified the email, the sign-up is refused
//!     (`oauth_email_unverified`) unless the environment allows it, and then the new user is
//!     pending on `email_verification` until the address is proven;
//!   - otherwise a new user is created (email verified as the provider says), at once, or,
//!     when the environment has Terms/Privacy, after the consent step: a pending sign-up is
//!     kept as a ceremony and `POST /v1/sign-ups/{id}/continue` finishes it.
//!
//!   Any failure after the ceremony is known sends the browser back to the app with an
//!   `oauthError` code; before that, the HTTP layer shows a small error page.
//! - `link`: the same ceremony, started by a signed-in user, links the provider account to
//!   them; `unlink` removes one, never the last way to sign in.
//! - `reauthenticate`: the same ceremony, started by a signed-in user for a provider linked to
//!   them, also names their session; when the provider answers with an account linked to that
//!   user, the session's sign-in becomes recent again (see [`crate::account`]); any other
//!   account ends with `oauth_wrong_account`, and nobody is signed in or linked.
//!
//! Files: `provider` (the HTTP client, discovery, the provider of an environment), `redirect`
//! (start and callback), `claims` (who the provider says the user is: ID token, userinfo,
//! GitHub's API), `linking` (sign-in, link or sign-up by the linking rules; unlink).
//! The providers' configuration is [`crate::environment::OAuthProviderConfig`].

mod claims;
mod linking;
mod provider;
mod redirect;

pub use crate::environment::{OAuthProviderConfig, ProviderKind};
#[doc(hidden)]
pub use claims::github_mapping_for_tests;
pub use provider::OAuthRuntime;

use crate::AuthenticatedSessionWithToken;
use crate::ceremony::CeremonyError;
use crate::error::internal::InternalError;
use crate::session::SessionToken;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Duration, OffsetDateTime};
use torii_shared::{EnvironmentMode, ErrorCode};
use url::Url;

/// The state cookie a callback arrived with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundState<'a> {
    /// The cookie's value: the `state` the ceremony started with.
    pub state: &'a str,
    /// Whether it came in the `__Host-` prefixed cookie (Secure, the exact host, path `/`),
    /// the only one a live environment accepts.
    pub host_only: bool,
}

/// Ceremony kind of a sign-in (or link) redirect.
pub const CEREMONY_KIND: &str = "oauth";
/// Ceremony kind of a new user waiting for the consent step.
pub const SIGN_UP_CEREMONY_KIND: &str = "oauth_sign_up";
/// How long a redirect to the provider may take.
pub const CEREMONY_TTL: Duration = Duration::minutes(10);
/// How long the consent step waits.
pub const SIGN_UP_TTL: Duration = Duration::minutes(30);
/// How long a provider's discovery document and keys are reused.
pub const DISCOVERY_TTL: Duration = Duration::hours(1);
/// The longest any call to a provider may take.
pub const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why an OAuth step failed before the app's URL was known, or why a JSON step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The environment has no such provider (or OAuth is not enabled).
    #[error("unknown provider")]
    UnknownProvider,
    /// The redirect URL is not on the environment's allow-list.
    #[error("redirect URL not allowed")]
    RedirectNotAllowed,
    /// The `state` is missing, unknown, used, expired, or not this browser's.
    #[error("unknown or expired sign-in")]
    UnknownState,
    /// The provider could not be reached or answered nonsense while starting.
    #[error("provider unavailable: {0}")]
    Provider(String),
    /// No such pending sign-up, or no such linked identity.
    #[error("not found")]
    NotFound,
    /// The consent checkbox was not ticked.
    #[error("consent required")]
    ConsentRequired,
    /// An account with this email exists (created meanwhile).
    #[error("email taken")]
    EmailTaken,
    /// Unlinking would leave no way to sign in.
    #[error("last sign-in method")]
    LastSignInMethod,
    /// The user has no account of this provider linked, so cannot re-authenticate with it.
    #[error("provider not linked")]
    NotLinked,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure that is nobody's input (ceremony state that does not serialise).
    #[error(transparent)]
    Internal(#[from] InternalError),
    /// The signed-in session may not link a provider now: no recent sign-in, its row is
    /// gone, or the store failed while checking.
    #[error(transparent)]
    Account(Box<crate::account::AccountError>),
    /// Signing the user in failed in a way that is not only the store's (a JWT that could
    /// not be signed).
    #[error(transparent)]
    Session(crate::session::SessionError),
}

impl From<crate::session::SessionError> for OAuthError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Store(e) => Self::Store(e),
            other => Self::Session(other),
        }
    }
}

impl From<CeremonyError> for OAuthError {
    fn from(error: CeremonyError) -> Self {
        match error {
            CeremonyError::Gone => Self::UnknownState,
            CeremonyError::Store(e) => Self::Store(e),
            CeremonyError::Internal(e) => Self::Internal(e),
        }
    }
}

/// Where a start comes back to in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrls {
    /// Where the browser goes when signed in (and, with `oauthError`, when it failed).
    pub redirect_url: String,
    /// The app's sign-up route, which shows the consent step (default: `redirect_url`).
    pub sign_up_url: Option<String>,
}

/// A started redirect: where to send the browser, and the `state` to bind to it.
#[derive(Debug, Clone)]
pub struct Started {
    /// The provider's authorization URL.
    pub url: Url,
    /// The state (ceremony id), also set as a cookie so that only this browser can finish.
    pub state: String,
}

/// A session that got a new token on re-authentication.
#[derive(Debug)]
pub struct RenewedSession {
    /// The new token (the old one no longer works).
    pub token: SessionToken,
    /// The environment's mode (which cookie).
    pub mode: EnvironmentMode,
    /// The session's absolute expiry.
    pub expires_at: OffsetDateTime,
}

/// What the callback leads to.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallbackOutcome {
    /// Signed in: set the session and go to the app.
    SignedIn {
        /// The new session.
        done: Box<AuthenticatedSessionWithToken>,
        /// Where to go.
        redirect_url: String,
    },
    /// A signed-in user linked the provider.
    Linked {
        /// Where to go.
        redirect_url: String,
    },
    /// A signed-in user proved who they are again with a linked provider account: their
    /// session's sign-in is recent again.
    Reauthenticated {
        /// Where to go.
        redirect_url: String,
        /// The session's new token, for the cookie (database sessions).
        renewed: Option<RenewedSession>,
    },
    /// A new user must accept the Terms first: go to the sign-up route's continue step.
    NeedsConsent {
        /// The pending sign-up's id, for `POST /v1/sign-ups/{id}/continue`.
        sign_up_id: String,
        /// The secret that binds the pending sign-up to this browser (its cookie): the id
        /// travels in the app's URL, and alone it finishes nothing.
        browser_binding: String,
        /// The environment's mode (which cookie carries the binding).
        mode: EnvironmentMode,
        /// The app's sign-up route.
        sign_up_url: String,
    },
    /// Failed after the app's URL was known: back to the app with the code.
    Failed {
        /// Stable code for `oauthError`.
        code: ErrorCode,
        /// Where to go.
        redirect_url: String,
    },
}

/// The query of the provider's redirect back.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// Our state, returned.
    pub state: Option<String>,
    /// The issuer (RFC 9207), when the provider sends it.
    pub iss: Option<String>,
    /// An error instead of a code (`access_denied` when the user cancelled).
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Ceremony {
    provider: String,
    pkce_verifier: String,
    nonce: Option<String>,
    redirect_url: String,
    sign_up_url: String,
    link_user_id: Option<String>,
    /// Set for a re-authentication (with `link_user_id` the user): the session to renew.
    #[serde(default)]
    reauth_session_id: Option<String>,
}

/// Whom a redirect is for: a visitor signing in, a user linking a provider, or a user
/// re-authenticating one session.
#[derive(Debug, Clone, Copy)]
struct Purpose<'a> {
    link_user_id: Option<&'a str>,
    reauth_session_id: Option<&'a str>,
}

#[derive(Serialize, Deserialize)]
struct PendingSignUp {
    provider: String,
    subject: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
}

/// Who the provider says the user is.
#[derive(Debug, Clone)]
struct ProviderAccount {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
}

/// Appends `key=value` to a URL's query.
#[must_use]
pub fn with_query(url: &str, key: &str, value: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().append_pair(key, value);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

fn failed(code: ErrorCode, ceremony: &Ceremony) -> CallbackOutcome {
    CallbackOutcome::Failed {
        code,
        redirect_url: ceremony.redirect_url.clone(),
    }
}

/// A failure talking to the provider, logged with its cause.
fn provider_failure(provider: &str, step: &str, cause: &dyn fmt::Display) -> ErrorCode {
    // The cause may quote the provider's own `error` parameter: anyone's text.
    tracing::warn!(
        provider,
        step,
        cause = %crate::log::escaped(cause),
        "OAuth sign-in refused"
    );
    ErrorCode::OauthFailed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_appended() {
        assert_eq!(
            with_query(
                "http://localhost:3000/sign-in?x=1",
                "oauthError",
                "oauth_failed"
            ),
            "http://localhost:3000/sign-in?x=1&oauthError=oauth_failed"
        );
    }
}
