//! Environments in the TOML file (`[[environments]]`): keys, origins, legal URLs, sessions,
//! passkeys; their checks and conversion, and the default environment kept in the store.

use super::{ConfigError, LIVE_SECRET_KEY_MIN_CHARS, RateLimitConfig, invalid};
use crate::environment::{
    Environment, FirstFactor, MAX_JWT_LIFETIME, MIN_JWT_LIFETIME, MfaSettings, PasskeySettings,
    SessionSettings, normalize_origin,
};
use crate::session::{new_id, random_url_token, sha256_hex};
use crate::store::{Store, StoreError, StoredEnvironment};
use serde::Deserialize;
use std::fmt;
use time::{Duration, OffsetDateTime};
use torii_shared::{EnvironmentMode, MfaPolicy, Secret, SessionKind, SignInMethod};
use url::Url;
/// One environment in the TOML file.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Stable id; derived from the publishable key when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    /// `test` or `live`.
    #[serde(default = "default_mode")]
    pub mode: EnvironmentMode,
    /// `pk_test_…` or `pk_live_…`.
    pub publishable_key: String,
    /// `sk_…`; only its hash is kept in memory.
    pub secret_key: Secret,
    /// Origins allowed to make cookie requests (the public URL's origin always is).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Terms of service URL; setting it (or `privacy_url`) makes consent required.
    #[serde(default)]
    pub terms_url: Option<String>,
    /// Privacy policy URL.
    #[serde(default)]
    pub privacy_url: Option<String>,
    /// Current Terms version; bumping it sends users through `legal_acceptance` again.
    #[serde(default)]
    pub terms_version: Option<String>,
    /// Make users with an unverified email pending on `email_verification`.
    #[serde(default)]
    pub require_email_verification: bool,
    /// Let a provider account whose email the provider has not verified create a user
    /// (pending on `email_verification`); refused by default.
    #[serde(default)]
    pub oauth_allow_unverified_emails: bool,
    /// Where browsers may be sent after signing in (origin + path prefix).
    #[serde(default)]
    pub redirect_urls: Vec<String>,
    /// Enabled sign-in methods (default: password, and oauth when providers are configured).
    #[serde(default)]
    pub methods: Option<Vec<SignInMethod>>,
    /// OAuth / OpenID Connect providers (`[[environments.oauth_providers]]`).
    #[serde(default)]
    pub oauth_providers: Vec<crate::methods::oauth::OAuthProviderConfig>,
    /// Session kind and lifetimes.
    #[serde(default)]
    pub session: SessionConfig,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    /// The passkeys' relying party.
    #[serde(default)]
    pub passkeys: PasskeyConfig,
    /// Second factors: `off`, `optional` (default) or `required`.
    #[serde(default)]
    pub mfa: MfaPolicy,
    /// The first factors after which a user with a second factor is asked for it (default:
    /// `password`, `magic_link`, `email_code`, `oauth`; a passkey never is).
    #[serde(default)]
    pub mfa_first_factors: Option<Vec<FirstFactor>>,
}

/// `[environments.passkeys]`: where passkeys are bound. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasskeyConfig {
    /// Relying-party id (default: the public URL's host).
    pub rp_id: Option<String>,
    /// Name shown by authenticators (default: the environment's name).
    pub rp_name: Option<String>,
    /// Origins allowed to run a ceremony (default: the allowed origins); https in live mode.
    pub origins: Vec<String>,
}

impl fmt::Debug for EnvironmentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentConfig")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .field("publishable_key", &self.publishable_key)
            .finish_non_exhaustive()
    }
}

fn default_mode() -> EnvironmentMode {
    EnvironmentMode::Test
}

/// Session settings in the TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// `database` (default) or `jwt`.
    pub kind: SessionKind,
    /// Seconds without use after which a session ends (default 7 days).
    pub idle_timeout_secs: u32,
    /// Seconds after sign-in after which a session ends (default 30 days).
    pub absolute_timeout_secs: u32,
    /// Seconds after a sign-in (or re-authentication) during which the changes that need a
    /// recent one are allowed (default 600, 10 minutes).
    pub recent_sign_in_secs: u32,
    /// In a JWT environment, seconds a signed JWT lives (default 60, from 10 to 900): how long
    /// a backend verifying it offline may still accept it after its session was revoked.
    pub jwt_lifetime_secs: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        let defaults = SessionSettings::default();
        Self {
            kind: defaults.kind,
            idle_timeout_secs: u32::try_from(defaults.idle_timeout.whole_seconds()).unwrap_or(0),
            absolute_timeout_secs: u32::try_from(defaults.absolute_timeout.whole_seconds())
                .unwrap_or(0),
            recent_sign_in_secs: u32::try_from(defaults.recent_sign_in.whole_seconds())
                .unwrap_or(0),
            jwt_lifetime_secs: u32::try_from(defaults.jwt_lifetime.whole_seconds()).unwrap_or(0),
        }
    }
}

fn check_http_url(setting: &str, value: &str) -> Result<(), ConfigError> {
    let url = Url::parse(value).map_err(|e| invalid(setting, e.to_string()))?;
    if matches!(url.scheme(), "http" | "https") {
        Ok(())
    } else {
        Err(invalid(setting, "expected an http(s) URL"))
    }
}

impl EnvironmentConfig {
    /// Checks and converts to an [`Environment`].
    ///
    /// # Errors
    /// Keys that do not match the mode, invalid origins or URLs, zero lifetimes.
    pub fn to_environment(&self) -> Result<Environment, ConfigError> {
        let at = |key: &str| format!("environments[{}].{key}", self.name);
        let prefix = match self.mode {
            EnvironmentMode::Test => "pk_test_",
            EnvironmentMode::Live => "pk_live_",
        };
        if !self.publishable_key.starts_with(prefix) || self.publishable_key.len() <= prefix.len() {
            return Err(invalid(
                &at("publishable_key"),
                format!("must start with {prefix}"),
            ));
        }
        if !self.secret_key.expose().starts_with("sk_") || self.secret_key.expose().len() < 8 {
            return Err(invalid(
                &at("secret_key"),
                "must start with sk_ (8 characters at least)",
            ));
        }
        if self.mode == EnvironmentMode::Live
            && self.secret_key.expose().chars().count() < LIVE_SECRET_KEY_MIN_CHARS
        {
            return Err(invalid(
                &at("secret_key"),
                format!(
                    "a live secret key must be at least {LIVE_SECRET_KEY_MIN_CHARS} characters \
                     (generate one, e.g. sk_live_ followed by 32 random characters)"
                ),
            ));
        }
        // Each origin normalised; https only in live mode.
        let origins_of = |field: &str, list: &[String]| -> Result<Vec<String>, ConfigError> {
            list.iter()
                .map(|origin| {
                    let normalized = normalize_origin(origin).ok_or_else(|| {
                        invalid(&at(field), format!("`{origin}` is not an origin"))
                    })?;
                    if self.mode == EnvironmentMode::Live && !normalized.starts_with("https://") {
                        return Err(invalid(&at(field), "live mode requires https origins"));
                    }
                    Ok(normalized)
                })
                .collect()
        };
        let origins = origins_of("allowed_origins", &self.allowed_origins)?;
        for url in &self.redirect_urls {
            check_http_url(&at("redirect_urls"), url)?;
        }
        if let Some(url) = &self.terms_url {
            check_http_url(&at("terms_url"), url)?;
        }
        if let Some(url) = &self.privacy_url {
            check_http_url(&at("privacy_url"), url)?;
        }
        if let Some(version) = &self.terms_version {
            if self.terms_url.is_none() && self.privacy_url.is_none() {
                return Err(invalid(
                    &at("terms_version"),
                    "needs terms_url or privacy_url",
                ));
            }
            if version.is_empty() || version.len() > 64 {
                return Err(invalid(&at("terms_version"), "use 1 to 64 characters"));
            }
        }
        for (i, provider) in self.oauth_providers.iter().enumerate() {
            provider
                .check()
                .map_err(|error| invalid(&at("oauth_providers"), error.to_string()))?;
            if self.mode == EnvironmentMode::Live && !provider.uses_https() {
                return Err(invalid(
                    &at("oauth_providers"),
                    format!("{}: live mode requires https provider URLs", provider.id),
                ));
            }
            if self.oauth_providers[..i]
                .iter()
                .any(|p| p.id == provider.id)
            {
                return Err(invalid(
                    &at("oauth_providers"),
                    format!("the id `{}` is used twice", provider.id),
                ));
            }
        }
        let passkey_origins = origins_of("passkeys.origins", &self.passkeys.origins)?;
        if let Some(rp_id) = &self.passkeys.rp_id
            && (rp_id.is_empty() || rp_id.contains([':', '/']) || rp_id != &rp_id.to_lowercase())
        {
            return Err(invalid(
                &at("passkeys.rp_id"),
                "expected a lower-case domain name such as example.com",
            ));
        }
        if self.session.idle_timeout_secs == 0 || self.session.absolute_timeout_secs == 0 {
            return Err(invalid(&at("session"), "timeouts must be positive"));
        }
        if self.session.recent_sign_in_secs == 0 {
            return Err(invalid(
                &at("session.recent_sign_in_secs"),
                "must be positive",
            ));
        }
        let jwt_lifetime = Duration::seconds(i64::from(self.session.jwt_lifetime_secs));
        if !(MIN_JWT_LIFETIME..=MAX_JWT_LIFETIME).contains(&jwt_lifetime) {
            return Err(invalid(
                &at("session.jwt_lifetime_secs"),
                format!(
                    "must be from {} to {} seconds (got {})",
                    MIN_JWT_LIFETIME.whole_seconds(),
                    MAX_JWT_LIFETIME.whole_seconds(),
                    self.session.jwt_lifetime_secs
                ),
            ));
        }
        Ok(Environment {
            id: self.id.clone().unwrap_or_else(|| {
                format!("env_{}", &sha256_hex(self.publishable_key.as_bytes())[..20])
            }),
            name: self.name.clone(),
            mode: self.mode,
            publishable_key: self.publishable_key.clone(),
            secret_key_hash: sha256_hex(self.secret_key.expose().as_bytes()),
            allowed_origins: origins,
            terms_url: self.terms_url.clone(),
            privacy_url: self.privacy_url.clone(),
            terms_version: self.terms_version.clone(),
            require_email_verification: self.require_email_verification,
            oauth_allow_unverified_emails: self.oauth_allow_unverified_emails,
            redirect_urls: self.redirect_urls.clone(),
            rate_limits: self.rate_limits.to_limits(),
            methods: self.methods.clone().unwrap_or_else(|| {
                let mut methods = vec![SignInMethod::Password];
                if !self.oauth_providers.is_empty() {
                    methods.push(SignInMethod::Oauth);
                }
                methods
            }),
            oauth_providers: self.oauth_providers.clone(),
            session: SessionSettings {
                kind: self.session.kind,
                idle_timeout: Duration::seconds(i64::from(self.session.idle_timeout_secs)),
                absolute_timeout: Duration::seconds(i64::from(self.session.absolute_timeout_secs)),
                recent_sign_in: Duration::seconds(i64::from(self.session.recent_sign_in_secs)),
                jwt_lifetime,
            },
            passkeys: PasskeySettings {
                rp_id: self.passkeys.rp_id.clone(),
                rp_name: self.passkeys.rp_name.clone(),
                origins: passkey_origins,
            },
            mfa: MfaSettings {
                policy: self.mfa,
                first_factors: self
                    .mfa_first_factors
                    .clone()
                    .unwrap_or_else(|| MfaSettings::default().first_factors),
            },
        })
    }
}

/// The environment used when none is configured: created once, kept in the store. Its keys
/// are logged at creation; the secret key is kept only as a hash, so that is the one time it
/// is shown.
///
/// # Errors
/// A store failure.
pub async fn default_environment(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<Environment, StoreError> {
    let stored = match store.list_environments().await?.into_iter().next() {
        Some(env) => {
            tracing::info!(
                publishable_key = %env.publishable_key,
                "using the environment kept in the store (its secret key was shown when it was created)"
            );
            env
        }
        None => {
            let publishable_key = format!("pk_test_{}", random_url_token(18));
            let secret_key = format!("sk_test_{}", random_url_token(24));
            let env = StoredEnvironment {
                id: new_id("env"),
                name: "Torii".to_owned(),
                mode: "test".to_owned(),
                publishable_key,
                secret_key_hash: sha256_hex(secret_key.as_bytes()),
                created_at: now,
            };
            store.insert_environment(&env).await?;
            tracing::warn!(
                publishable_key = %env.publishable_key,
                secret_key = %secret_key,
                "created a test environment; keep the secret key, it is shown only now"
            );
            env
        }
    };
    let mut env = Environment::new_test(&stored.id, &stored.name, &stored.publishable_key, "");
    env.secret_key_hash = stored.secret_key_hash;
    if stored.mode == "live" {
        env.mode = EnvironmentMode::Live;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn live_environments_need_https_origins_and_live_keys() {
        let mut env = EnvironmentConfig {
            id: None,
            name: "Prod".into(),
            mode: EnvironmentMode::Live,
            publishable_key: "pk_test_x".into(),
            secret_key: Secret::new("sk_live_secret"),
            allowed_origins: vec![],
            terms_url: None,
            privacy_url: None,
            terms_version: None,
            require_email_verification: false,
            oauth_allow_unverified_emails: false,
            redirect_urls: vec![],
            methods: None,
            oauth_providers: vec![],
            session: SessionConfig::default(),
            rate_limits: RateLimitConfig::default(),
            passkeys: PasskeyConfig::default(),
            mfa: MfaPolicy::Optional,
            mfa_first_factors: None,
        };
        assert!(env.to_environment().is_err());
        env.publishable_key = "pk_live_x".into();
        env.allowed_origins = vec!["https://app.example.com".into()];
        let error = env.to_environment().unwrap_err().to_string();
        assert!(
            error.contains("secret_key") && error.contains("32"),
            "a short live secret key: {error}"
        );
        env.secret_key = Secret::new("sk_live_0123456789abcdefghijklmnopqrstuv");
        env.allowed_origins = vec!["http://app.example.com".into()];
        assert!(env.to_environment().is_err());
        env.allowed_origins = vec!["https://app.example.com".into()];
        assert!(env.to_environment().is_ok());
        let provider = |issuer: &str| {
            toml::from_str::<crate::methods::oauth::OAuthProviderConfig>(&format!(
                "id = \"corp\"\nkind = \"oidc\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\
                 issuer = \"{issuer}\""
            ))
            .unwrap()
        };
        env.oauth_providers = vec![provider("http://sso.example.com")];
        assert!(
            env.to_environment().is_err(),
            "live mode needs https providers"
        );
        env.oauth_providers = vec![provider("https://sso.example.com")];
        let live = env.to_environment().unwrap();
        assert!(live.oauth_enabled(), "providers enable oauth by default");
    }

    #[test]
    fn passkeys_relying_party_is_read_and_checked() {
        let parse = |extra: &str| {
            toml::from_str::<Config>(&format!(
                "[[environments]]\nname = \"Demo\"\nmode = \"live\"\n\
                 publishable_key = \"pk_live_demo\"\n\
                 secret_key = \"sk_live_0123456789abcdefghijklmnopqrstuv\"\n\
                 methods = [\"passkey\"]\n[environments.passkeys]\n{extra}"
            ))
            .unwrap()
            .environments()
        };
        let envs = parse(
            "rp_id = \"example.com\"\nrp_name = \"Acme\"\norigins = [\"https://app.example.com/\"]",
        )
        .unwrap();
        assert_eq!(envs[0].passkeys.rp_id.as_deref(), Some("example.com"));
        assert_eq!(envs[0].passkeys.rp_name.as_deref(), Some("Acme"));
        assert_eq!(envs[0].passkeys.origins, ["https://app.example.com"]);
        let error = parse("origins = [\"http://app.example.com\"]").unwrap_err();
        assert!(error.to_string().contains("passkeys.origins"), "{error}");
        let error = parse("rp_id = \"https://example.com\"").unwrap_err();
        assert!(error.to_string().contains("passkeys.rp_id"), "{error}");
        assert!(
            toml::from_str::<Config>(
                "[[environments]]\nname = \"D\"\npublishable_key = \"pk_test_d\"\n\
                 secret_key = \"sk_test_d\"\n[environments.passkeys]\nrpid = \"x\""
            )
            .is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn second_factors_default_to_optional_after_every_first_factor() {
        let parse = |extra: &str| {
            toml::from_str::<Config>(&format!(
                "[[environments]]\nname = \"Demo\"\npublishable_key = \"pk_test_demo\"\n\
                 secret_key = \"sk_test_demo\"\n{extra}"
            ))
            .map(|config| config.environments())
        };
        let envs = parse("").unwrap().unwrap();
        assert_eq!(envs[0].mfa, MfaSettings::default());
        assert_eq!(envs[0].info().mfa, MfaPolicy::Optional);
        let envs = parse("mfa = \"required\"\nmfa_first_factors = [\"password\"]")
            .unwrap()
            .unwrap();
        assert_eq!(envs[0].mfa.policy, MfaPolicy::Required);
        assert!(envs[0].mfa.asks_after(FirstFactor::Password));
        assert!(!envs[0].mfa.asks_after(FirstFactor::MagicLink));
        assert!(!envs[0].mfa.asks_after(FirstFactor::Passkey));
        assert!(parse("mfa = \"sometimes\"").is_err());
        assert!(parse("mfa_first_factors = [\"sms\"]").is_err());
    }

    #[test]
    fn the_recent_sign_in_window_defaults_to_ten_minutes_and_is_configurable() {
        let parse = |session: &str| {
            toml::from_str::<Config>(&format!(
                "[[environments]]\nname = \"Demo\"\npublishable_key = \"pk_test_demo\"\n\
                 secret_key = \"sk_test_demo\"\n[environments.session]\n{session}"
            ))
            .unwrap()
            .environments()
        };
        let envs = parse("").unwrap();
        assert_eq!(envs[0].session.recent_sign_in, Duration::minutes(10));
        let envs = parse("recent_sign_in_secs = 5").unwrap();
        assert_eq!(envs[0].session.recent_sign_in, Duration::seconds(5));
        let error = parse("recent_sign_in_secs = 0").unwrap_err();
        assert!(
            error.to_string().contains("session.recent_sign_in_secs"),
            "{error}"
        );
    }

    #[test]
    fn the_jwt_lifetime_defaults_to_a_minute_and_is_bounded() {
        let parse = |session: &str| {
            toml::from_str::<Config>(&format!(
                "[[environments]]\nname = \"Demo\"\npublishable_key = \"pk_test_demo\"\n\
                 secret_key = \"sk_test_demo\"\n[environments.session]\nkind = \"jwt\"\n{session}"
            ))
            .unwrap()
            .environments()
        };
        let envs = parse("").unwrap();
        assert_eq!(envs[0].session.jwt_lifetime, Duration::seconds(60));
        for (value, lifetime) in [("10", 10), ("300", 300), ("900", 900)] {
            let envs = parse(&format!("jwt_lifetime_secs = {value}")).unwrap();
            assert_eq!(envs[0].session.jwt_lifetime, Duration::seconds(lifetime));
        }
        for value in ["0", "9", "901", "2592000"] {
            let error = parse(&format!("jwt_lifetime_secs = {value}")).unwrap_err();
            let message = error.to_string();
            assert!(
                message.contains("environments[Demo].session.jwt_lifetime_secs")
                    && message.contains("from 10 to 900 seconds")
                    && message.contains(&format!("got {value}")),
                "{message}"
            );
        }
    }
}
