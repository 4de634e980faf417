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

use crate::ceremony::CeremonyError;
use crate::environment::Environment;
use crate::session::{SessionToken, new_id};
use crate::store::{
    CreateOAuthUser, GateTarget, MethodRemoval, OAuthIdentityRecord, SignInMethodRef, StoreError,
    UserRecord,
};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Torii, validate};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessToken, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use torii_shared::{EnvironmentMode, ErrorCode, GateKey, Secret};
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

const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GITHUB_AUTHORIZATION_URL: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN_URL: &str = "https://github.com/login/oauth/access_token";
const GITHUB_API_URL: &str = "https://api.github.com";

/// What kind of provider an entry configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenID Connect provider, found by its `issuer`.
    Oidc,
    /// Google (OpenID Connect, issuer `https://accounts.google.com`).
    Google,
    /// GitHub (OAuth 2.0; identity from `/user`, email from `/user/emails`).
    Github,
}

/// One provider of an environment, as configured (`[[environments.oauth_providers]]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthProviderConfig {
    /// Route segment and stable key of linked accounts, e.g. `google` (`a-z`, `0-9`, `-`, `_`).
    pub id: String,
    /// `oidc`, `google` or `github`.
    pub kind: ProviderKind,
    /// Button label; defaults to `Google`, `GitHub`, or the id.
    #[serde(default)]
    pub name: Option<String>,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret; never logged.
    pub client_secret: Secret,
    /// The issuer URL (`oidc`: required; `google`: fixed).
    #[serde(default)]
    pub issuer: Option<String>,
    /// Scopes to request; default `openid email profile` (OIDC) or `read:user user:email`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// GitHub Enterprise Server: its authorization endpoint.
    #[serde(default)]
    pub authorization_url: Option<String>,
    /// GitHub Enterprise Server: its token endpoint.
    #[serde(default)]
    pub token_url: Option<String>,
    /// GitHub Enterprise Server: its REST API base (`…/api/v3`).
    #[serde(default)]
    pub api_url: Option<String>,
}

impl fmt::Debug for OAuthProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProviderConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl OAuthProviderConfig {
    /// The label of its button.
    #[must_use]
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| match self.kind {
            ProviderKind::Google => "Google".to_owned(),
            ProviderKind::Github => "GitHub".to_owned(),
            ProviderKind::Oidc => self.id.clone(),
        })
    }

    /// The issuer of an OpenID provider.
    #[must_use]
    pub fn issuer_url(&self) -> Option<&str> {
        match self.kind {
            ProviderKind::Google => Some(self.issuer.as_deref().unwrap_or(GOOGLE_ISSUER)),
            ProviderKind::Oidc => self.issuer.as_deref(),
            ProviderKind::Github => None,
        }
    }

    fn scopes(&self) -> Vec<String> {
        self.scopes.clone().unwrap_or_else(|| match self.kind {
            ProviderKind::Github => vec!["read:user".to_owned(), "user:email".to_owned()],
            ProviderKind::Google | ProviderKind::Oidc => {
                vec![
                    "openid".to_owned(),
                    "email".to_owned(),
                    "profile".to_owned(),
                ]
            }
        })
    }

    /// Whether every URL of the entry (issuer, GitHub endpoints) is https.
    #[must_use]
    pub fn uses_https(&self) -> bool {
        [
            &self.issuer,
            &self.authorization_url,
            &self.token_url,
            &self.api_url,
        ]
        .into_iter()
        .flatten()
        .all(|url| url.starts_with("https://"))
    }

    /// Checks the entry; the error says what is wrong.
    ///
    /// # Errors
    /// A malformed id, a missing or malformed URL, a setting of another kind.
    pub fn check(&self) -> Result<(), String> {
        let id_ok = (1..=32).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!(
                "id `{}` must be 1-32 characters of a-z, 0-9, - and _",
                self.id
            ));
        }
        if self.client_id.is_empty() {
            return Err(format!("{}: client_id is required", self.id));
        }
        let github_urls = [&self.authorization_url, &self.token_url, &self.api_url];
        match self.kind {
            ProviderKind::Oidc if self.issuer.is_none() => {
                return Err(format!(
                    "{}: issuer is required for kind = \"oidc\"",
                    self.id
                ));
            }
            ProviderKind::Oidc | ProviderKind::Google
                if github_urls.iter().any(|u| u.is_some()) =>
            {
                return Err(format!(
                    "{}: authorization_url, token_url and api_url are for kind = \"github\"",
                    self.id
                ));
            }
            ProviderKind::Github if self.issuer.is_some() => {
                return Err(format!("{}: GitHub has no issuer", self.id));
            }
            _ => {}
        }
        for url in github_urls.into_iter().flatten().chain(self.issuer.iter()) {
            let parsed = Url::parse(url).map_err(|e| format!("{}: `{url}`: {e}", self.id))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("{}: `{url}` is not an http(s) URL", self.id));
            }
        }
        Ok(())
    }
}

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
}

impl From<CeremonyError> for OAuthError {
    fn from(error: CeremonyError) -> Self {
        match error {
            CeremonyError::Gone => Self::UnknownState,
            CeremonyError::Store(e) => Self::Store(e),
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

/// Process-wide OAuth machinery: one HTTP client (no redirects followed, bounded time) and
/// the providers' discovery documents, fetched on first use and kept for an hour.
pub struct OAuthRuntime {
    http: reqwest::Client,
    discovered: tokio::sync::Mutex<HashMap<String, (Arc<CoreProviderMetadata>, OffsetDateTime)>>,
}

impl fmt::Debug for OAuthRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthRuntime").finish_non_exhaustive()
    }
}

impl OAuthRuntime {
    /// A runtime with its HTTP client.
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new() -> Result<Self, String> {
        let http = reqwest::Client::builder()
            // Following a redirect would let a provider's answer steer requests (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .connect_timeout(PROVIDER_TIMEOUT / 2)
            .user_agent("torii")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            discovered: tokio::sync::Mutex::new(HashMap::new()),
        })
    }
}

/// The signature algorithms accepted on ID tokens: asymmetric ones only (an HMAC keyed with
/// the client secret would let anyone holding the secret mint tokens).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

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

impl Torii {
    /// The provider `id` of an environment, when OAuth is enabled there.
    #[must_use]
    pub fn oauth_provider<'a>(
        &self,
        env: &'a Environment,
        id: &str,
    ) -> Option<&'a OAuthProviderConfig> {
        env.oauth_enabled()
            .then(|| env.oauth_providers.iter().find(|p| p.id == id))
            .flatten()
    }

    /// The exact redirect URI registered with every provider:
    /// `{public URL}/v1/oauth/{provider}/callback`.
    #[must_use]
    pub fn oauth_redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}/v1/oauth/{provider}/callback",
            self.public_url().as_str().trim_end_matches('/')
        )
    }

    async fn provider_metadata(
        &self,
        issuer: &str,
        refresh: bool,
    ) -> Result<Arc<CoreProviderMetadata>, String> {
        let runtime = self.oauth_runtime();
        let mut cache = runtime.discovered.lock().await;
        let now = self.now();
        if !refresh
            && let Some((metadata, fetched)) = cache.get(issuer)
            && *fetched + DISCOVERY_TTL > now
        {
            return Ok(Arc::clone(metadata));
        }
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?;
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &runtime.http)
            .await
            .map_err(|e| format!("discovery: {e}"))?;
        let metadata = Arc::new(metadata);
        cache.insert(issuer.to_owned(), (Arc::clone(&metadata), now));
        Ok(metadata)
    }

    /// Starts a sign-in (or, with `link_user_id`, a link) with a provider.
    ///
    /// # Errors
    /// An unknown provider, a redirect URL off the allow-list, an unreachable provider, a
    /// store failure.
    pub async fn start_oauth(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        link_user_id: Option<&str>,
    ) -> Result<Started, OAuthError> {
        let purpose = Purpose {
            link_user_id,
            reauth_session_id: None,
        };
        self.start_oauth_for(env, provider_id, urls, purpose).await
    }

    /// Starts a re-authentication of `session_id` (of `user_id`) with a provider linked to
    /// the user.
    ///
    /// # Errors
    /// An unknown provider, or one the user has not linked; a redirect URL off the
    /// allow-list; an unreachable provider; a store failure.
    pub async fn start_oauth_reauthentication(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        user_id: &str,
        session_id: &str,
    ) -> Result<Started, OAuthError> {
        self.oauth_provider(env, provider_id)
            .ok_or(OAuthError::UnknownProvider)?;
        let linked = self
            .store()
            .list_oauth_identities(user_id)
            .await?
            .iter()
            .any(|identity| identity.provider == provider_id);
        if !linked {
            return Err(OAuthError::NotLinked);
        }
        let purpose = Purpose {
            link_user_id: Some(user_id),
            reauth_session_id: Some(session_id),
        };
        self.start_oauth_for(env, provider_id, urls, purpose).await
    }

    async fn start_oauth_for(
        &self,
        env: &Environment,
        provider_id: &str,
        urls: &AppUrls,
        purpose: Purpose<'_>,
    ) -> Result<Started, OAuthError> {
        let provider = self
            .oauth_provider(env, provider_id)
            .ok_or(OAuthError::UnknownProvider)?;
        let sign_up_url = urls
            .sign_up_url
            .clone()
            .unwrap_or_else(|| urls.redirect_url.clone());
        if !env.allows_redirect(&urls.redirect_url) || !env.allows_redirect(&sign_up_url) {
            return Err(OAuthError::RedirectNotAllowed);
        }
        let redirect_uri = RedirectUrl::new(self.oauth_redirect_uri(&provider.id))
            .map_err(|e| OAuthError::Provider(e.to_string()))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = provider.scopes().into_iter().map(Scope::new);
        let (url, state) = match provider.issuer_url() {
            Some(issuer) => {
                let metadata = self
                    .provider_metadata(issuer, false)
                    .await
                    .map_err(OAuthError::Provider)?;
                let nonce = Nonce::new_random();
                let state = self
                    .store_oauth_ceremony(env, provider, &verifier, Some(&nonce), urls, purpose)
                    .await?;
                let client = CoreClient::from_provider_metadata(
                    (*metadata).clone(),
                    ClientId::new(provider.client_id.clone()),
                    Some(ClientSecret::new(
                        provider.client_secret.expose().to_owned(),
                    )),
                )
                .set_redirect_uri(redirect_uri);
                let returned_state = state.clone();
                let (url, _, _) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(returned_state),
                        move || nonce,
                    )
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state)
            }
            None => {
                let state = self
                    .store_oauth_ceremony(env, provider, &verifier, None, urls, purpose)
                    .await?;
                let client = github_client(provider)
                    .map_err(OAuthError::Provider)?
                    .set_redirect_uri(redirect_uri);
                let returned_state = state.clone();
                let (url, _) = client
                    .authorize_url(move || CsrfToken::new(returned_state))
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state)
            }
        };
        Ok(Started { url, state })
    }

    async fn store_oauth_ceremony(
        &self,
        env: &Environment,
        provider: &OAuthProviderConfig,
        verifier: &PkceCodeVerifier,
        nonce: Option<&Nonce>,
        urls: &AppUrls,
        purpose: Purpose<'_>,
    ) -> Result<String, StoreError> {
        let ceremony = Ceremony {
            provider: provider.id.clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.map(|n| n.secret().clone()),
            redirect_url: urls.redirect_url.clone(),
            sign_up_url: urls
                .sign_up_url
                .clone()
                .unwrap_or_else(|| urls.redirect_url.clone()),
            link_user_id: purpose.link_user_id.map(str::to_owned),
            reauth_session_id: purpose.reauth_session_id.map(str::to_owned),
        };
        self.start_ceremony(CEREMONY_KIND, &env.id, &ceremony, CEREMONY_TTL)
            .await
    }

    /// Finishes the provider's redirect back. `bound_state` is the state this browser's
    /// cookie holds: a `state` that is not it is refused (and the browser's own ceremony,
    /// when it has one, ends with `oauth_state_mismatch`).
    ///
    /// # Errors
    /// [`OAuthError::UnknownState`] when no ceremony of this browser can be found (the app's
    /// URL is then unknown); a store failure.
    pub async fn finish_oauth(
        &self,
        provider_id: &str,
        params: &CallbackParams,
        bound_state: Option<BoundState<'_>>,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome, OAuthError> {
        let Some(BoundState {
            state: bound,
            host_only,
        }) = bound_state
        else {
            return Err(OAuthError::UnknownState);
        };
        let matches = params.state.as_deref().is_some_and(|state| {
            use subtle::ConstantTimeEq as _;
            state.len() == bound.len() && bool::from(state.as_bytes().ct_eq(bound.as_bytes()))
        });
        // The ceremony may be in any environment offering this provider; the take is bound
        // to the environment, so at most one can match.
        let mut found = None;
        for env in self.environments() {
            if self.oauth_provider(env, provider_id).is_none() {
                continue;
            }
            match self
                .take_ceremony::<Ceremony>(CEREMONY_KIND, &env.id, bound)
                .await
            {
                Ok(ceremony) => {
                    found = Some((Arc::clone(env), ceremony));
                    break;
                }
                Err(CeremonyError::Gone) => {}
                Err(CeremonyError::Store(e)) => return Err(e.into()),
            }
        }
        let Some((env, ceremony)) = found else {
            return Err(OAuthError::UnknownState);
        };
        // A live environment sets its state cookie with the `__Host-` prefix, which a sibling
        // domain cannot plant; a cookie without it is not this browser's proof.
        let planted = env.mode == EnvironmentMode::Live && !host_only;
        if !matches || planted || ceremony.provider != provider_id {
            return Ok(failed(ErrorCode::OauthStateMismatch, &ceremony));
        }
        let Some(provider) = self.oauth_provider(&env, provider_id) else {
            return Ok(failed(ErrorCode::OauthFailed, &ceremony));
        };
        if let Some(error) = &params.error {
            let code = if error == "access_denied" {
                ErrorCode::OauthCancelled
            } else {
                provider_failure(provider_id, "authorization", error)
            };
            return Ok(failed(code, &ceremony));
        }
        let Some(code) = params.code.clone().filter(|c| !c.is_empty()) else {
            return Ok(failed(ErrorCode::OauthFailed, &ceremony));
        };
        let account = match provider.issuer_url() {
            Some(issuer) => {
                self.oidc_account(provider, issuer, &ceremony, code, params.iss.as_deref())
                    .await
            }
            None if params.iss.is_some() => Err(provider_failure(
                provider_id,
                "iss",
                &"an issuer parameter from a provider without one",
            )),
            None => self.github_account(provider, &ceremony, code).await,
        };
        let account = match account {
            Ok(account) => account,
            Err(code) => return Ok(failed(code, &ceremony)),
        };
        self.oauth_account_signed_in(&env, provider, &ceremony, account, client)
            .await
    }

    async fn oidc_account(
        &self,
        provider: &OAuthProviderConfig,
        issuer: &str,
        ceremony: &Ceremony,
        code: String,
        iss: Option<&str>,
    ) -> Result<ProviderAccount, ErrorCode> {
        let fail =
            |step: &str, cause: &dyn fmt::Display| provider_failure(&provider.id, step, cause);
        let metadata = self
            .provider_metadata(issuer, false)
            .await
            .map_err(|e| fail("discovery", &e))?;
        // Mix-up defence (RFC 9207): the answer must come from the issuer we sent the user to.
        if let Some(iss) = iss
            && iss != metadata.issuer().as_str()
        {
            return Err(fail(
                "iss",
                &format!("`{iss}` is not `{}`", metadata.issuer().as_str()),
            ));
        }
        let redirect_uri = RedirectUrl::new(self.oauth_redirect_uri(&provider.id))
            .map_err(|e| fail("redirect_uri", &e))?;
        let client = |metadata: &CoreProviderMetadata| {
            CoreClient::from_provider_metadata(
                metadata.clone(),
                ClientId::new(provider.client_id.clone()),
                Some(ClientSecret::new(
                    provider.client_secret.expose().to_owned(),
                )),
            )
            .set_redirect_uri(redirect_uri.clone())
        };
        let oidc = client(&metadata);
        let http = &self.oauth_runtime().http;
        let response = oidc
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| fail("token endpoint", &e))?
            .set_pkce_verifier(PkceCodeVerifier::new(ceremony.pkce_verifier.clone()))
            .request_async(http)
            .await
            .map_err(|e| fail("token", &e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| fail("token", &"no ID token"))?;
        let nonce = Nonce::new(ceremony.nonce.clone().unwrap_or_default());
        let verify = |oidc: &openidconnect::core::CoreClient<_, _, _, _, _, _>| {
            id_token
                .claims(
                    &oidc.id_token_verifier().set_allowed_algs(ALLOWED_ALGS),
                    &nonce,
                )
                .cloned()
        };
        let claims = match verify(&oidc) {
            Ok(claims) => claims,
            // The provider may have rotated its keys since discovery: fetch them once more.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self
                    .provider_metadata(issuer, true)
                    .await
                    .map_err(|e| fail("discovery", &e))?;
                verify(&client(&fresh)).map_err(|e| fail("id_token", &e))?
            }
            Err(other) => return Err(fail("id_token", &other)),
        };
        let mut account = ProviderAccount {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        };
        // Many providers put the email in the userinfo answer only.
        if account.email.is_none()
            && let Ok(request) = oidc.user_info(
                response.access_token().clone(),
                Some(claims.subject().clone()),
            )
        {
            let info: openidconnect::core::CoreUserInfoClaims =
                request
                    .request_async(http)
                    .await
                    .map_err(|e| fail("userinfo", &e))?;
            account.email = info.email().map(|e| e.as_str().to_owned());
            account.email_verified = info.email_verified().unwrap_or(false);
            if account.name.is_none() {
                account.name = info
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned());
            }
        }
        Ok(account)
    }

    async fn github_account(
        &self,
        provider: &OAuthProviderConfig,
        ceremony: &Ceremony,
        code: String,
    ) -> Result<ProviderAccount, ErrorCode> {
        let fail =
            |step: &str, cause: &dyn fmt::Display| provider_failure(&provider.id, step, cause);
        let redirect_uri = RedirectUrl::new(self.oauth_redirect_uri(&provider.id))
            .map_err(|e| fail("redirect_uri", &e))?;
        let client = github_client(provider)
            .map_err(|e| fail("config", &e))?
            .set_redirect_uri(redirect_uri);
        let http = &self.oauth_runtime().http;
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(ceremony.pkce_verifier.clone()))
            .request_async(http)
            .await
            .map_err(|e| fail("token", &e))?;
        let api = provider
            .api_url
            .as_deref()
            .unwrap_or(GITHUB_API_URL)
            .trim_end_matches('/');
        let token = response.access_token();
        let user: GithubUser = github_get(http, &format!("{api}/user"), token)
            .await
            .map_err(|e| fail("/user", &e))?;
        let emails: Vec<GithubEmail> = github_get(http, &format!("{api}/user/emails"), token)
            .await
            .map_err(|e| fail("/user/emails", &e))?;
        Ok(github_account(user, &emails))
    }

    /// Signs in, links or signs up the provider's account, by the linking rules.
    async fn oauth_account_signed_in(
        &self,
        env: &Environment,
        provider: &OAuthProviderConfig,
        ceremony: &Ceremony,
        account: ProviderAccount,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome, OAuthError> {
        let now = self.now();
        let existing = self
            .store()
            .find_oauth_identity(&env.id, &provider.id, &account.subject)
            .await?;
        let identity_for = |user_id: &str| OAuthIdentityRecord {
            id: new_id("oid"),
            user_id: user_id.to_owned(),
            environment_id: env.id.clone(),
            provider: provider.id.clone(),
            subject: account.subject.clone(),
            email: account.email.clone(),
            created_at: now,
        };
        if let Some(session_id) = &ceremony.reauth_session_id {
            let is_the_users = matches!(
                (&existing, &ceremony.link_user_id),
                (Some(identity), Some(user_id)) if &identity.user_id == user_id
            );
            if !is_the_users {
                return Ok(failed(ErrorCode::OauthWrongAccount, ceremony));
            }
            // The session gets a new token; it may have ended meanwhile (signed out,
            // revoked): then there is nothing to renew.
            let token = SessionToken::generate();
            let renewed = self
                .store()
                .reauthenticate_session(session_id, now, &token.hash())
                .await?;
            let session = if renewed {
                self.store().get_session(session_id).await?
            } else {
                None
            };
            let Some(session) = session else {
                return Ok(failed(ErrorCode::OauthFailed, ceremony));
            };
            return Ok(CallbackOutcome::Reauthenticated {
                redirect_url: ceremony.redirect_url.clone(),
                // A JWT environment's cookie holds a JWT, which the client refreshes.
                renewed: (env.session.kind == torii_shared::SessionKind::Database).then_some(
                    RenewedSession {
                        token,
                        mode: env.mode,
                        expires_at: session.expires_at,
                    },
                ),
            });
        }
        if let Some(user_id) = &ceremony.link_user_id {
            return Ok(match existing {
                Some(identity) if &identity.user_id == user_id => CallbackOutcome::Linked {
                    redirect_url: ceremony.redirect_url.clone(),
                },
                Some(_) => failed(ErrorCode::OauthAlreadyLinked, ceremony),
                None => match self
                    .store()
                    .insert_oauth_identity(&identity_for(user_id))
                    .await
                {
                    Ok(()) => {
                        if let Some(user) = self.store().get_user(user_id).await? {
                            let notice = crate::mail::Notice::provider_linked(
                                &env.name,
                                &provider.display_name(),
                                account.email.as_deref(),
                            );
                            self.notify(&env.id, &user.email, &notice);
                        }
                        CallbackOutcome::Linked {
                            redirect_url: ceremony.redirect_url.clone(),
                        }
                    }
                    Err(StoreError::Conflict(_)) => failed(ErrorCode::OauthAlreadyLinked, ceremony),
                    Err(other) => return Err(other.into()),
                },
            });
        }
        if let Some(identity) = existing {
            let Some(user) = self.store().get_user(&identity.user_id).await? else {
                return Ok(failed(ErrorCode::OauthFailed, ceremony));
            };
            return self.oauth_signed_in(env, user, ceremony, client).await;
        }
        let Some(email) = account
            .email
            .as_deref()
            .and_then(|e| validate::email(e).ok())
        else {
            return Ok(failed(ErrorCode::OauthEmailMissing, ceremony));
        };
        if let Some(user) = self
            .store()
            .find_user_by_email(&env.id, &email.canonical)
            .await?
        {
            // Linking on an email alone is only safe when both ends proved they own it.
            if !(account.email_verified && user.email_verified) {
                return Ok(failed(ErrorCode::OauthAccountExists, ceremony));
            }
            match self
                .store()
                .insert_oauth_identity(&identity_for(&user.id))
                .await
            {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
            return self.oauth_signed_in(env, user, ceremony, client).await;
        }
        // An address the provider has not verified is anyone's claim: a user made from it
        // would be waiting for the address's real owner (see `crate::account::prove_email`).
        if !account.email_verified && !env.oauth_allow_unverified_emails {
            return Ok(failed(ErrorCode::OauthEmailUnverified, ceremony));
        }
        let pending = PendingSignUp {
            provider: provider.id.clone(),
            subject: account.subject.clone(),
            email: email.display,
            email_verified: account.email_verified,
            name: account.name.clone(),
        };
        if env.legal_required() {
            let (sign_up_id, browser_binding) = self
                .start_bound_ceremony(SIGN_UP_CEREMONY_KIND, &env.id, &pending, SIGN_UP_TTL)
                .await?;
            return Ok(CallbackOutcome::NeedsConsent {
                sign_up_id,
                browser_binding,
                mode: env.mode,
                sign_up_url: ceremony.sign_up_url.clone(),
            });
        }
        Ok(match self.create_oauth_user(env, pending, client).await {
            Ok(done) => CallbackOutcome::SignedIn {
                done: Box::new(done),
                redirect_url: ceremony.redirect_url.clone(),
            },
            Err(OAuthError::EmailTaken) => failed(ErrorCode::OauthAccountExists, ceremony),
            Err(OAuthError::Store(e)) => return Err(e.into()),
            Err(_) => failed(ErrorCode::OauthFailed, ceremony),
        })
    }

    async fn oauth_signed_in(
        &self,
        env: &Environment,
        user: UserRecord,
        ceremony: &Ceremony,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome, OAuthError> {
        let done = self.sign_in_user(env, user, client).await?;
        Ok(CallbackOutcome::SignedIn {
            done: Box::new(done),
            redirect_url: ceremony.redirect_url.clone(),
        })
    }

    async fn create_oauth_user(
        &self,
        env: &Environment,
        pending: PendingSignUp,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, OAuthError> {
        let now = self.now();
        let email = validate::email(&pending.email).map_err(|_| OAuthError::NotFound)?;
        let user = UserRecord {
            id: new_id("usr"),
            environment_id: env.id.clone(),
            email: email.display,
            email_canonical: email.canonical,
            name: pending
                .name
                .as_deref()
                .and_then(|n| validate::name(Some(n)).ok().flatten()),
            email_verified: pending.email_verified,
            legal_version: env
                .legal_required()
                .then(|| env.terms_version.clone())
                .flatten(),
            created_at: now,
            updated_at: now,
        };
        let identity = OAuthIdentityRecord {
            id: new_id("oid"),
            user_id: user.id.clone(),
            environment_id: env.id.clone(),
            provider: pending.provider,
            subject: pending.subject,
            email: Some(pending.email),
            created_at: now,
        };
        let (session, token) = self.new_session_record(env, &user.id, client);
        match self
            .store()
            .create_oauth_user(&user, &identity, &session)
            .await?
        {
            CreateOAuthUser::Created => {
                if !user.email_verified {
                    // Until the address's owner proves it, the account is theirs to claim.
                    self.store()
                        .require_gate(
                            GateTarget::User(&user.id),
                            GateKey::EmailVerification.as_str(),
                            now,
                        )
                        .await?;
                }
                let info = self.session_gates(env, &user, &session.id).await?;
                Ok(self.finish_sign_in(env, session, user, info, token)?)
            }
            CreateOAuthUser::EmailTaken => Err(OAuthError::EmailTaken),
            CreateOAuthUser::IdentityTaken => Err(OAuthError::NotFound),
        }
    }

    /// The consent step of a new OAuth user: with the Terms accepted, creates the user, links
    /// the provider and signs in. The pending sign-up works once.
    ///
    /// # Errors
    /// Consent not given, an unknown or used sign-up, the email taken meanwhile, a store
    /// failure.
    pub async fn continue_oauth_sign_up(
        &self,
        env: &Environment,
        sign_up_id: &str,
        browser_binding: Option<&str>,
        legal_accepted: bool,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, OAuthError> {
        if env.legal_required() && !legal_accepted {
            return Err(OAuthError::ConsentRequired);
        }
        // Another browser (one that only saw the id in a URL) finds nothing, consumes nothing.
        let Some(binding) = browser_binding.filter(|b| !b.is_empty() && !sign_up_id.contains('.'))
        else {
            return Err(OAuthError::NotFound);
        };
        let pending: PendingSignUp = self
            .take_ceremony(
                SIGN_UP_CEREMONY_KIND,
                &env.id,
                &crate::ceremony::bound_ceremony_key(sign_up_id, binding),
            )
            .await
            .map_err(|e| match e {
                CeremonyError::Gone => OAuthError::NotFound,
                CeremonyError::Store(e) => OAuthError::Store(e),
            })?;
        self.create_oauth_user(env, pending, client).await
    }

    /// The signed-in user's linked provider accounts.
    ///
    /// # Errors
    /// A store failure.
    pub async fn oauth_identities(
        &self,
        user_id: &str,
    ) -> Result<Vec<OAuthIdentityRecord>, StoreError> {
        self.store().list_oauth_identities(user_id).await
    }

    /// Unlinks one of the user's provider accounts, unless it is their last way to sign in.
    ///
    /// # Errors
    /// [`OAuthError::NotFound`], [`OAuthError::LastSignInMethod`], a store failure.
    pub async fn unlink_oauth_identity(
        &self,
        user_id: &str,
        identity_id: &str,
    ) -> Result<(), OAuthError> {
        match self
            .store()
            .remove_sign_in_method(user_id, SignInMethodRef::OAuthIdentity(identity_id))
            .await?
        {
            MethodRemoval::Removed => Ok(()),
            MethodRemoval::NotFound => Err(OAuthError::NotFound),
            MethodRemoval::LastMethod => Err(OAuthError::LastSignInMethod),
        }
    }
}

/// GitHub speaks plain OAuth 2.0; the `oauth2` client under `openidconnect` does the
/// authorization URL and the code exchange.
fn github_client(
    provider: &OAuthProviderConfig,
) -> Result<
    oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    String,
> {
    let auth = provider
        .authorization_url
        .as_deref()
        .unwrap_or(GITHUB_AUTHORIZATION_URL);
    let token = provider.token_url.as_deref().unwrap_or(GITHUB_TOKEN_URL);
    Ok(
        oauth2::basic::BasicClient::new(oauth2::ClientId::new(provider.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(
                provider.client_secret.expose().to_owned(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(oauth2::AuthUrl::new(auth.to_owned()).map_err(|e| e.to_string())?)
            .set_token_uri(oauth2::TokenUrl::new(token.to_owned()).map_err(|e| e.to_string())?),
    )
}

#[derive(Debug, Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GithubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

async fn github_get<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    token: &AccessToken,
) -> Result<T, String> {
    let response = http
        .get(url)
        .bearer_auth(token.secret())
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("status {status}"));
    }
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

/// GitHub's account: its numeric id is the subject; the email is the primary address when
/// GitHub has verified it, else the public profile address, unverified.
fn github_account(user: GithubUser, emails: &[GithubEmail]) -> ProviderAccount {
    let chosen = emails
        .iter()
        .find(|e| e.primary && e.verified)
        .or_else(|| emails.iter().find(|e| e.primary));
    let (email, email_verified) = match chosen {
        Some(e) => (Some(e.email.clone()), e.verified),
        None => {
            let public = user.email.clone();
            let verified = public
                .as_deref()
                .is_some_and(|p| emails.iter().any(|e| e.verified && e.email == p));
            (public, verified)
        }
    };
    ProviderAccount {
        subject: user.id.to_string(),
        email,
        email_verified,
        name: user.name.or(Some(user.login)),
    }
}

/// For tests of the GitHub mapping.
#[doc(hidden)]
#[must_use]
pub fn github_mapping_for_tests(
    user: &str,
    emails: &str,
) -> Option<(String, Option<String>, bool)> {
    let user: GithubUser = serde_json::from_str(user).ok()?;
    let emails: Vec<GithubEmail> = serde_json::from_str(emails).ok()?;
    let account = github_account(user, &emails);
    Some((account.subject, account.email, account.email_verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(kind: ProviderKind) -> OAuthProviderConfig {
        OAuthProviderConfig {
            id: "p".into(),
            kind,
            name: None,
            client_id: "client".into(),
            client_secret: Secret::new("hunter2"),
            issuer: None,
            scopes: None,
            authorization_url: None,
            token_url: None,
            api_url: None,
        }
    }

    #[test]
    fn github_prefers_the_verified_primary_address() {
        let user = r#"{"id": 42, "login": "ada", "name": null, "email": "public@example.com"}"#;
        let emails = r#"[{"email": "old@example.com", "primary": false, "verified": true},
                         {"email": "ada@example.com", "primary": true, "verified": true}]"#;
        assert_eq!(
            github_mapping_for_tests(user, emails),
            Some(("42".into(), Some("ada@example.com".into()), true))
        );
        let unverified = r#"[{"email": "ada@example.com", "primary": true, "verified": false}]"#;
        assert_eq!(
            github_mapping_for_tests(user, unverified),
            Some(("42".into(), Some("ada@example.com".into()), false))
        );
        assert_eq!(
            github_mapping_for_tests(user, "[]"),
            Some(("42".into(), Some("public@example.com".into()), false))
        );
    }

    #[test]
    fn entries_are_checked() {
        assert!(provider(ProviderKind::Google).check().is_ok());
        assert!(provider(ProviderKind::Github).check().is_ok());
        assert!(
            provider(ProviderKind::Oidc).check().is_err(),
            "needs an issuer"
        );
        let mut bad = provider(ProviderKind::Google);
        bad.id = "Google!".into();
        assert!(bad.check().is_err());
        let mut github = provider(ProviderKind::Github);
        github.issuer = Some("https://github.com".into());
        assert!(github.check().is_err());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let shown = format!("{:?}", provider(ProviderKind::Google));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

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
