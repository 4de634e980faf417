//! Environments: one application's settings (keys, origins, legal URLs, methods, session
//! lifetimes). A server hosts one or more; requests name theirs by publishable key.

mod oauth_provider;

pub(crate) use oauth_provider::{GITHUB_API_URL, GITHUB_AUTHORIZATION_URL, GITHUB_TOKEN_URL};
pub use oauth_provider::{OAuthProviderConfig, ProviderConfigError, ProviderKind};

use crate::session::sha256_hex;
use subtle::ConstantTimeEq as _;
use time::Duration;
use torii_shared::{
    EnvironmentInfo, EnvironmentMode, LegalInfo, MfaPolicy, OAuthProviderInfo, SessionKind,
    SignInMethod,
};
use url::Url;

/// Session lifetimes for an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Database or JWT.
    pub kind: SessionKind,
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in whatever its use.
    pub absolute_timeout: Duration,
    /// How long after a sign-in (or re-authentication) the changes that need a recent one
    /// are allowed (default [`crate::account::REAUTH_WINDOW`], 10 minutes).
    pub recent_sign_in: Duration,
    /// In a JWT environment, how long a signed JWT lives (default
    /// [`DEFAULT_JWT_LIFETIME`], at most [`MAX_JWT_LIFETIME`]): the longest a backend that
    /// verifies it offline may still accept it after its session was revoked.
    pub jwt_lifetime: Duration,
}

/// How long a JWT lives unless configured.
pub const DEFAULT_JWT_LIFETIME: Duration = Duration::seconds(60);
/// The shortest JWT lifetime the configuration accepts.
pub const MIN_JWT_LIFETIME: Duration = Duration::seconds(10);
/// The longest JWT lifetime the configuration accepts.
pub const MAX_JWT_LIFETIME: Duration = Duration::minutes(15);

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            kind: SessionKind::Database,
            idle_timeout: Duration::days(7),
            absolute_timeout: Duration::days(30),
            recent_sign_in: crate::account::REAUTH_WINDOW,
            jwt_lifetime: DEFAULT_JWT_LIFETIME,
        }
    }
}

/// Where passkeys are bound: the relying party. Unset values are derived when the server is
/// built: the id from the public URL's host (`localhost` in development), the origins from
/// the environment's allowed origins (which include the public URL's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasskeySettings {
    /// The relying-party id: a registrable domain that is the origins' host or a parent of
    /// it, e.g. `example.com` for `https://app.example.com`. Passkeys are bound to it for
    /// good: changing it orphans every passkey.
    pub rp_id: Option<String>,
    /// The name authenticators show (default: the environment's name).
    pub rp_name: Option<String>,
    /// The exact origins a ceremony may come from (default: the allowed origins).
    pub origins: Vec<String>,
}

/// How a session's user proved who they are first, before any second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstFactor {
    /// Email and password.
    Password,
    /// An emailed sign-in link.
    MagicLink,
    /// A code emailed to the account (a sign-up's, or a password reset's, which signs in).
    EmailCode,
    /// An OAuth / OpenID Connect provider.
    Oauth,
    /// A passkey with user verification: both factors at once, never asked for a second.
    Passkey,
}

/// Second factors in an environment: whether they are off, optional or required, and after
/// which first factors a user who has one is asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSettings {
    /// Off, optional (the default) or required.
    pub policy: MfaPolicy,
    /// The first factors after which a user with a second factor is asked for it (default:
    /// password, sign-in link, emailed code and provider). A passkey never is.
    pub first_factors: Vec<FirstFactor>,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self {
            policy: MfaPolicy::Optional,
            first_factors: vec![
                FirstFactor::Password,
                FirstFactor::MagicLink,
                FirstFactor::EmailCode,
                FirstFactor::Oauth,
            ],
        }
    }
}

impl MfaSettings {
    /// Whether a user with a second factor who signed in with `first` is asked for it.
    #[must_use]
    pub fn asks_after(&self, first: FirstFactor) -> bool {
        self.policy != MfaPolicy::Off
            && first != FirstFactor::Passkey
            && self.first_factors.contains(&first)
    }
}

/// One application's settings, ready to use.
#[derive(Clone, PartialEq, Eq)]
pub struct Environment {
    /// Stable id, `env_…`.
    pub id: String,
    /// Display name, used in emails and on the cards.
    pub name: String,
    /// Test or live.
    pub mode: EnvironmentMode,
    /// Safe in a browser.
    pub publishable_key: String,
    /// SHA-256 of the secret key (backend only).
    pub secret_key_hash: String,
    /// Exact origins (`scheme://host[:port]`) allowed to make cookie requests.
    pub allowed_origins: Vec<String>,
    /// Terms of service URL.
    pub terms_url: Option<String>,
    /// Privacy policy URL.
    pub privacy_url: Option<String>,
    /// The current Terms version. When set, a user who accepted another version (or none) is
    /// pending on `legal_acceptance` until they accept this one. Off (`None`) by default.
    pub terms_version: Option<String>,
    /// When true, a user whose email is not verified is pending on `email_verification`
    /// until they enter a code sent to it. Off by default.
    pub require_email_verification: bool,
    /// When true, a provider whose account's email is not verified may still create a user:
    /// the user is created pending on `email_verification`. Off by default: such a sign-up is
    /// refused with `oauth_email_unverified`, because an unverified address is anyone's claim.
    pub oauth_allow_unverified_emails: bool,
    /// Where a browser may be sent after signing in: exact origin plus path prefix. The
    /// allowed origins (and the public URL) are always allowed at their root.
    pub redirect_urls: Vec<String>,
    /// Enabled sign-in methods.
    pub methods: Vec<SignInMethod>,
    /// OAuth / OpenID Connect providers, offered when `methods` has `oauth`.
    pub oauth_providers: Vec<OAuthProviderConfig>,
    /// Rate limits.
    pub rate_limits: crate::rate_limit::RateLimits,
    /// Session settings.
    pub session: SessionSettings,
    /// The passkeys' relying party.
    pub passkeys: PasskeySettings,
    /// Second factors.
    pub mfa: MfaSettings,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("mode", &self.mode)
            .field("publishable_key", &self.publishable_key)
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// A test-mode environment with password sign-in and default lifetimes.
    #[must_use]
    pub fn new_test(id: &str, name: &str, publishable_key: &str, secret_key: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            mode: EnvironmentMode::Test,
            publishable_key: publishable_key.to_owned(),
            secret_key_hash: sha256_hex(secret_key.as_bytes()),
            allowed_origins: Vec::new(),
            terms_url: None,
            privacy_url: None,
            terms_version: None,
            require_email_verification: false,
            oauth_allow_unverified_emails: false,
            redirect_urls: Vec::new(),
            methods: vec![SignInMethod::Password],
            oauth_providers: Vec::new(),
            rate_limits: crate::rate_limit::RateLimits::default(),
            session: SessionSettings::default(),
            passkeys: PasskeySettings::default(),
            mfa: MfaSettings::default(),
        }
    }

    /// Whether sign-up needs the consent checkbox.
    #[must_use]
    pub fn legal_required(&self) -> bool {
        self.terms_url.is_some() || self.privacy_url.is_some()
    }

    /// Whether the OAuth providers are offered.
    #[must_use]
    pub fn oauth_enabled(&self) -> bool {
        self.methods.contains(&SignInMethod::Oauth)
    }

    /// The public description served at `GET /v1/environment`.
    #[must_use]
    pub fn info(&self) -> EnvironmentInfo {
        EnvironmentInfo {
            name: self.name.clone(),
            mode: self.mode,
            methods: self.methods.clone(),
            oauth_providers: if self.oauth_enabled() {
                self.oauth_providers
                    .iter()
                    .map(|p| OAuthProviderInfo {
                        id: p.id.clone(),
                        name: p.display_name(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            legal: LegalInfo {
                terms_url: self.terms_url.clone(),
                privacy_url: self.privacy_url.clone(),
                required: self.legal_required(),
                version: self.terms_version.clone(),
            },
            mfa: self.mfa.policy,
        }
    }

    /// Whether `origin` (an `Origin` header value) may make cookie requests.
    #[must_use]
    pub fn allows_origin(&self, origin: &str) -> bool {
        let Some(origin) = normalize_origin(origin) else {
            return false;
        };
        self.allowed_origins.contains(&origin)
    }

    /// Checks a redirect target against the allow-list: an absolute http(s) URL whose origin
    /// equals an allowed entry's and whose path starts with the entry's path. Anything else
    /// (`//evil`, `/\evil`, `javascript:`, look-alike hosts, userinfo tricks) is refused.
    #[must_use]
    pub fn allows_redirect(&self, target: &str) -> bool {
        if target.chars().any(|c| c.is_control() || c == '\\') {
            return false;
        }
        let Ok(url) = Url::parse(target) else {
            return false;
        };
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return false;
        }
        let origin = url.origin().ascii_serialization();
        let roots = self.allowed_origins.iter().map(|o| format!("{o}/"));
        self.redirect_urls
            .iter()
            .cloned()
            .chain(roots)
            .any(|entry| {
                Url::parse(&entry).is_ok_and(|allowed| {
                    allowed.origin().ascii_serialization() == origin
                        && url.path().starts_with(allowed.path())
                })
            })
    }

    /// Checks a secret key in constant time.
    #[must_use]
    pub fn secret_key_matches(&self, candidate: &str) -> bool {
        let hash = sha256_hex(candidate.as_bytes());
        bool::from(hash.as_bytes().ct_eq(self.secret_key_hash.as_bytes()))
    }
}

/// `scheme://host[:port]`, lower-case, default ports dropped; `None` for anything that is not
/// an http(s) origin (including the opaque `null`).
#[must_use]
pub fn normalize_origin(value: &str) -> Option<String> {
    let url = Url::parse(value.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let mut env = Environment::new_test("env_1", "Demo", "pk_test_1", "sk_test_1");
        env.allowed_origins = vec![normalize_origin("http://localhost:3000").unwrap()];
        env
    }

    #[test]
    fn origins_match_exactly() {
        let env = env();
        assert!(env.allows_origin("http://localhost:3000"));
        assert!(env.allows_origin("HTTP://LOCALHOST:3000"));
        assert!(!env.allows_origin("http://localhost:3001"));
        assert!(!env.allows_origin("https://localhost:3000"));
        assert!(!env.allows_origin("http://localhost:3000.evil.com"));
        assert!(!env.allows_origin("null"));
        assert!(!env.allows_origin(""));
    }

    #[test]
    fn default_ports_normalise() {
        assert_eq!(
            normalize_origin("https://app.example.com:443/").as_deref(),
            Some("https://app.example.com")
        );
    }

    #[test]
    fn redirects_match_origin_and_path_prefix_exactly() {
        let mut env = env();
        env.redirect_urls = vec!["https://app.example.com/after/".into()];
        for ok in [
            "http://localhost:3000/",
            "http://localhost:3000/dashboard?x=1",
            "https://app.example.com/after/sign-in",
        ] {
            assert!(env.allows_redirect(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "https://app.example.com.evil.com/after/",
            "https://app.example.com/other",
            "http://app.example.com/after/",
            "http://localhost:3001/",
            "http://user@localhost:3000/",
            "data:text/html,hi",
            "",
        ] {
            assert!(!env.allows_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn secret_keys_are_checked_by_hash() {
        let env = env();
        assert!(env.secret_key_matches("sk_test_1"));
        assert!(!env.secret_key_matches("sk_test_2"));
    }

    #[test]
    fn legal_is_required_when_a_url_is_set() {
        let mut env = env();
        assert!(!env.info().legal.required);
        env.privacy_url = Some("https://example.com/privacy".into());
        assert!(env.info().legal.required);
    }
}
