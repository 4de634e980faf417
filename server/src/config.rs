//! Server configuration, layered: defaults → TOML file (`--config` / `TORII_CONFIG`) →
//! `TORII_*` environment variables. Unknown keys in the file are errors, and every error names
//! the setting it is about.

use crate::environment::{Environment, PasskeySettings, SessionSettings, normalize_origin};
use crate::session::{new_id, random_url_token, sha256_hex};
use crate::store::{Store, StoreError, StoredEnvironment};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};
use torii_shared::{EnvironmentMode, Secret, SessionKind, SignInMethod};
use url::Url;

/// The whole server configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `TORII_LISTEN`: address to bind.
    pub listen: String,
    /// `TORII_DATABASE_URL`: `sqlite://…`, `postgres://…` or `mysql://…`.
    pub database_url: Secret,
    /// `TORII_DATABASE_MAX_CONNECTIONS`: pool size.
    pub database_max_connections: u32,
    /// `TORII_PUBLIC_URL`: base of every link in an email.
    pub public_url: String,
    /// `TORII_SMTP_URL`: unset → emails are written to the log.
    pub smtp_url: Option<Secret>,
    /// `TORII_SMTP_USERNAME`: SMTP user, instead of the URL's user info.
    pub smtp_username: Option<String>,
    /// `TORII_SMTP_PASSWORD`: SMTP password, instead of the URL's user info.
    pub smtp_password: Option<Secret>,
    /// `TORII_MAIL_FROM`: sender of every email.
    pub mail_from: String,
    /// `TORII_STATIC_DIR`: a built app served on the same origin.
    pub static_dir: Option<PathBuf>,
    /// `TORII_LOG`: log filter (`info`, `torii_server=debug`, …).
    pub log: String,
    /// `TORII_SECRET_KEY_FILE`: the server key, 64 hexadecimal characters (32 random bytes).
    /// Required when an environment is in live mode; in test mode, unset → a key file beside
    /// the SQLite database (`<database file>.key`), or `torii-secret.key` in the working
    /// directory for another database, created on first start.
    pub secret_key_file: Option<PathBuf>,
    /// `TORII_SECRET_KEY_PREVIOUS_FILE`: the server key before a rotation, still accepted for
    /// codes sent under it and for opening JWT keys sealed with it.
    pub secret_key_previous_file: Option<PathBuf>,
    /// `TORII_TRUSTED_PROXIES` (comma-separated): networks (CIDR) or addresses of the proxies
    /// whose `X-Forwarded-For` / `Forwarded` headers name the client. Empty: none.
    pub trusted_proxies: Vec<String>,
    /// `TORII_BREACHED_PASSWORDS_URL`: a "Have I Been Pwned"-style range API
    /// (`https://api.pwnedpasswords.com/range`, or a mirror) every new password is looked up
    /// in; unset: no look-up.
    pub breached_passwords_url: Option<String>,
    /// `TORII_BREACHED_PASSWORDS_ON_ERROR`: `allow` (default) or `refuse` new passwords while
    /// the range API cannot be asked.
    pub breached_passwords_on_error: crate::breached::OnError,
    /// `TORII_BREACHED_PASSWORDS_TIMEOUT_MS`: time allowed for one look-up (default 3000).
    pub breached_passwords_timeout_ms: u64,
    /// `TORII_HEADER_READ_TIMEOUT_SECS`: time allowed for a request's header, and for an idle
    /// keep-alive connection (default 10).
    pub header_read_timeout_secs: u64,
    /// `TORII_REQUEST_TIMEOUT_SECS`: time allowed for a whole request, body and answer; then
    /// `408 request_timeout` (default 30).
    pub request_timeout_secs: u64,
    /// `TORII_MAX_CONNECTIONS`: connections open at once; one more is answered
    /// `503 server_busy` (default 1024).
    pub max_connections: usize,
    /// `TORII_PASSWORD_HASH_QUEUE`: password hashes that may wait for a hashing thread before
    /// more are answered `503 server_busy` (default: 64 per hashing thread).
    pub password_hash_queue: Option<usize>,
    /// Environments; none → one test environment is created on first start.
    pub environments: Vec<EnvironmentConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:3000".to_owned(),
            database_url: Secret::new("sqlite://torii.db"),
            database_max_connections: 10,
            public_url: "http://localhost:3000".to_owned(),
            smtp_url: None,
            smtp_username: None,
            smtp_password: None,
            mail_from: "Torii <no-reply@localhost>".to_owned(),
            static_dir: None,
            log: "info".to_owned(),
            secret_key_file: None,
            secret_key_previous_file: None,
            trusted_proxies: Vec::new(),
            breached_passwords_url: None,
            breached_passwords_on_error: crate::breached::OnError::Allow,
            breached_passwords_timeout_ms: 3000,
            header_read_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            password_hash_queue: None,
            environments: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &"[redacted]")
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "[redacted]"))
            .field("static_dir", &self.static_dir)
            .field("secret_key_file", &self.secret_key_file)
            .field("secret_key_previous_file", &self.secret_key_previous_file)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("breached_passwords_url", &self.breached_passwords_url)
            .field("environments", &self.environments)
            .finish_non_exhaustive()
    }
}

/// The server keys as configuration gives them (see [`Config::server_keys`]).
#[derive(Debug)]
pub struct ServerKeySource {
    /// The key; `None` only for an in-memory SQLite database in test mode.
    pub current: Option<crate::secret_key::ServerKey>,
    /// The key before a rotation.
    pub previous: Option<crate::secret_key::ServerKey>,
    /// The key file created on this start (to be reported once).
    pub created: Option<PathBuf>,
    /// Whether the key is the working directory's default file (a database other than a
    /// SQLite file): every node sharing the database must be given the same key.
    pub shared_default: bool,
}

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

/// Rate limits in the TOML file: `enabled`, `max`/`window_secs` pairs per rule, and the
/// growing delay of password checks per account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Off only for test suites that sign in a lot.
    pub enabled: bool,
    /// Password checks per account: a growing delay after failures.
    pub sign_in_per_account: BackoffConfig,
    /// Password sign-ins per client IP.
    pub sign_in_per_ip: RuleConfig,
    /// Code and link verifications per client IP.
    pub verifications_per_ip: RuleConfig,
    /// Password-reset completions per account.
    pub resets_per_account: RuleConfig,
    /// Code checks per signed-in account (email verification, email change).
    pub verifications_per_account: RuleConfig,
    /// Emails to one address.
    pub emails_per_address: RuleConfig,
    /// Emails requested per client IP.
    pub emails_per_ip: RuleConfig,
    /// Sign-ups started per client IP.
    pub sign_ups_per_ip: RuleConfig,
    /// OAuth and passkey ceremonies started per client IP.
    pub ceremonies_per_ip: RuleConfig,
}

/// One rule: at most `max` hits per `window_secs`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Hits per window.
    pub max: u32,
    /// Window length in seconds.
    pub window_secs: u32,
}

/// A growing delay: `free_attempts` failures judged at once, then a wait doubling from
/// `first_delay_secs` up to `max_delay_secs`; forgotten after `forget_after_secs` without
/// an attempt.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffConfig {
    /// Failures judged without delay.
    pub free_attempts: u32,
    /// The first wait, in seconds.
    pub first_delay_secs: u32,
    /// The longest wait, in seconds.
    pub max_delay_secs: u32,
    /// Seconds without an attempt after which failures are forgotten.
    pub forget_after_secs: u32,
}

impl From<crate::rate_limit::Backoff> for BackoffConfig {
    fn from(b: crate::rate_limit::Backoff) -> Self {
        let secs = |d: Duration| u32::try_from(d.whole_seconds()).unwrap_or(0);
        Self {
            free_attempts: b.free_attempts,
            first_delay_secs: secs(b.first_delay),
            max_delay_secs: secs(b.max_delay),
            forget_after_secs: secs(b.forget_after),
        }
    }
}

impl From<BackoffConfig> for crate::rate_limit::Backoff {
    fn from(b: BackoffConfig) -> Self {
        let first = b.first_delay_secs.max(1);
        Self {
            free_attempts: b.free_attempts.max(1),
            first_delay: Duration::seconds(i64::from(first)),
            max_delay: Duration::seconds(i64::from(b.max_delay_secs.max(first))),
            forget_after: Duration::seconds(i64::from(b.forget_after_secs.max(1))),
        }
    }
}

impl From<crate::rate_limit::Rule> for RuleConfig {
    fn from(rule: crate::rate_limit::Rule) -> Self {
        Self {
            max: rule.max,
            window_secs: u32::try_from(rule.window.whole_seconds()).unwrap_or(0),
        }
    }
}

impl From<RuleConfig> for crate::rate_limit::Rule {
    fn from(rule: RuleConfig) -> Self {
        Self {
            max: rule.max,
            window: Duration::seconds(i64::from(rule.window_secs.max(1))),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let d = crate::rate_limit::RateLimits::default();
        Self {
            enabled: d.enabled,
            sign_in_per_account: d.sign_in_per_account.into(),
            sign_in_per_ip: d.sign_in_per_ip.into(),
            verifications_per_ip: d.verifications_per_ip.into(),
            resets_per_account: d.resets_per_account.into(),
            verifications_per_account: d.verifications_per_account.into(),
            emails_per_address: d.emails_per_address.into(),
            emails_per_ip: d.emails_per_ip.into(),
            sign_ups_per_ip: d.sign_ups_per_ip.into(),
            ceremonies_per_ip: d.ceremonies_per_ip.into(),
        }
    }
}

impl RateLimitConfig {
    fn to_limits(&self) -> crate::rate_limit::RateLimits {
        crate::rate_limit::RateLimits {
            enabled: self.enabled,
            sign_in_per_account: self.sign_in_per_account.into(),
            sign_in_per_ip: self.sign_in_per_ip.into(),
            verifications_per_ip: self.verifications_per_ip.into(),
            resets_per_account: self.resets_per_account.into(),
            verifications_per_account: self.verifications_per_account.into(),
            emails_per_address: self.emails_per_address.into(),
            emails_per_ip: self.emails_per_ip.into(),
            sign_ups_per_ip: self.sign_ups_per_ip.into(),
            ceremonies_per_ip: self.ceremonies_per_ip.into(),
        }
    }
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
        }
    }
}

/// A configuration error, naming the setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {message}")]
    Read {
        /// File path.
        path: PathBuf,
        /// OS error.
        message: String,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// A value is not acceptable.
    #[error("invalid {setting}: {message}")]
    Invalid {
        /// The variable or key.
        setting: String,
        /// What is wrong.
        message: String,
    },
}

/// The shortest secret key a live environment accepts: it guards the whole admin API.
pub const LIVE_SECRET_KEY_MIN_CHARS: usize = 32;

fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        message: message.into(),
    }
}

impl Config {
    /// Loads defaults, then `file` (when given), then variables from `var`.
    ///
    /// # Errors
    /// An unreadable or invalid file, or an invalid value.
    pub fn load(
        file: Option<&Path>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?;
                toml::from_str::<Self>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?
            }
            None => Self::default(),
        };
        if let Some(v) = var("TORII_LISTEN") {
            config.listen = v;
        }
        if let Some(v) = var("TORII_DATABASE_URL") {
            config.database_url = Secret::new(v);
        }
        if let Some(v) = var("TORII_DATABASE_MAX_CONNECTIONS") {
            config.database_max_connections = v.parse().map_err(|_| {
                invalid(
                    "TORII_DATABASE_MAX_CONNECTIONS",
                    "expected a positive integer",
                )
            })?;
        }
        if let Some(v) = var("TORII_PUBLIC_URL") {
            config.public_url = v;
        }
        if let Some(v) = var("TORII_SMTP_URL") {
            config.smtp_url = Some(Secret::new(v)).filter(|s| !s.expose().is_empty());
        }
        if let Some(v) = var("TORII_SMTP_USERNAME") {
            config.smtp_username = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = var("TORII_SMTP_PASSWORD") {
            config.smtp_password = Some(Secret::new(v));
        }
        if let Some(v) = var("TORII_MAIL_FROM") {
            config.mail_from = v;
        }
        if let Some(v) = var("TORII_STATIC_DIR") {
            config.static_dir = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = var("TORII_LOG") {
            config.log = v;
        }
        if let Some(v) = var("TORII_SECRET_KEY_FILE") {
            config.secret_key_file = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = var("TORII_SECRET_KEY_PREVIOUS_FILE") {
            config.secret_key_previous_file =
                Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = var("TORII_BREACHED_PASSWORDS_URL") {
            config.breached_passwords_url = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = var("TORII_BREACHED_PASSWORDS_ON_ERROR") {
            config.breached_passwords_on_error = match v.as_str() {
                "allow" => crate::breached::OnError::Allow,
                "refuse" => crate::breached::OnError::Refuse,
                _ => {
                    return Err(invalid(
                        "TORII_BREACHED_PASSWORDS_ON_ERROR",
                        "expected allow or refuse",
                    ));
                }
            };
        }
        if let Some(v) = var("TORII_BREACHED_PASSWORDS_TIMEOUT_MS") {
            config.breached_passwords_timeout_ms = v.parse().map_err(|_| {
                invalid(
                    "TORII_BREACHED_PASSWORDS_TIMEOUT_MS",
                    "expected a positive integer",
                )
            })?;
        }
        let positive = |name: &str, v: &str| -> Result<u64, ConfigError> {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(name, "expected a positive integer"))
        };
        if let Some(v) = var("TORII_HEADER_READ_TIMEOUT_SECS") {
            config.header_read_timeout_secs = positive("TORII_HEADER_READ_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = var("TORII_REQUEST_TIMEOUT_SECS") {
            config.request_timeout_secs = positive("TORII_REQUEST_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = var("TORII_MAX_CONNECTIONS") {
            config.max_connections = usize::try_from(positive("TORII_MAX_CONNECTIONS", &v)?)
                .map_err(|_| invalid("TORII_MAX_CONNECTIONS", "too large"))?;
        }
        if let Some(v) = var("TORII_PASSWORD_HASH_QUEUE") {
            config.password_hash_queue = Some(
                usize::try_from(positive("TORII_PASSWORD_HASH_QUEUE", &v)?)
                    .map_err(|_| invalid("TORII_PASSWORD_HASH_QUEUE", "too large"))?,
            );
        }
        if let Some(v) = var("TORII_TRUSTED_PROXIES") {
            config.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        self.trusted_proxies()?;
        self.breached_passwords()?;
        for (setting, value) in [
            (
                "header_read_timeout_secs (TORII_HEADER_READ_TIMEOUT_SECS)",
                self.header_read_timeout_secs,
            ),
            (
                "request_timeout_secs (TORII_REQUEST_TIMEOUT_SECS)",
                self.request_timeout_secs,
            ),
            (
                "max_connections (TORII_MAX_CONNECTIONS)",
                u64::try_from(self.max_connections).unwrap_or(u64::MAX),
            ),
            (
                "password_hash_queue (TORII_PASSWORD_HASH_QUEUE)",
                self.password_hash_queue
                    .map_or(1, |n| u64::try_from(n).unwrap_or(u64::MAX)),
            ),
        ] {
            if value == 0 {
                return Err(invalid(setting, "must be positive"));
            }
        }
        self.public_url()?;
        let db = self.database_url.expose();
        if ![
            "sqlite:",
            "postgres://",
            "postgresql://",
            "mysql://",
            "mariadb://",
        ]
        .iter()
        .any(|scheme| db.starts_with(scheme))
        {
            return Err(invalid(
                "TORII_DATABASE_URL",
                "expected sqlite://…, postgres://… or mysql://…",
            ));
        }
        if self.database_max_connections == 0 {
            return Err(invalid(
                "TORII_DATABASE_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        for env in &self.environments {
            env.to_environment()?;
        }
        let live = self
            .environments
            .iter()
            .find(|env| env.mode == EnvironmentMode::Live);
        if let Some(live) = live
            && self.secret_key_file.is_none()
        {
            return Err(invalid(
                "secret_key_file (TORII_SECRET_KEY_FILE)",
                format!(
                    "required: environment \"{}\" is in live mode. Create one with \
                     `openssl rand -hex 32 > torii.key; chmod 600 torii.key`",
                    live.name
                ),
            ));
        }
        if let Some(live) = live
            && self.smtp_url.is_none()
        {
            return Err(invalid(
                "TORII_SMTP_URL",
                format!(
                    "the live environment `{}` needs an SMTP server: without one, codes and \
                     sign-in links would be written to the log",
                    live.name
                ),
            ));
        }
        Ok(())
    }

    /// The server keys: read from `secret_key_file` (and `secret_key_previous_file`); in test
    /// mode without one, read from or created at the default place (see the field's docs), or
    /// none (a key for this process only) for an in-memory SQLite database.
    ///
    /// # Errors
    /// A key file that cannot be read, created or parsed, named by its setting.
    pub fn server_keys(&self) -> Result<ServerKeySource, ConfigError> {
        use crate::secret_key::ServerKey;
        let read = |setting: &str, path: &Path| {
            ServerKey::read(path).map_err(|e| invalid(setting, e.to_string()))
        };
        let previous = self
            .secret_key_previous_file
            .as_deref()
            .map(|path| {
                read(
                    "secret_key_previous_file (TORII_SECRET_KEY_PREVIOUS_FILE)",
                    path,
                )
            })
            .transpose()?;
        if let Some(path) = &self.secret_key_file {
            return Ok(ServerKeySource {
                current: Some(read("secret_key_file (TORII_SECRET_KEY_FILE)", path)?),
                previous,
                created: None,
                shared_default: false,
            });
        }
        let Some((path, shared_default)) = self.default_key_path() else {
            return Ok(ServerKeySource {
                current: None,
                previous,
                created: None,
                shared_default: false,
            });
        };
        let (key, created) = ServerKey::read_or_create(&path)
            .map_err(|e| invalid("secret_key_file (TORII_SECRET_KEY_FILE)", e.to_string()))?;
        Ok(ServerKeySource {
            current: Some(key),
            previous,
            created: created.then_some(path),
            shared_default,
        })
    }

    /// Where a test-mode server keeps its key when none is configured, and whether that is
    /// the working directory (a database other than a SQLite file); `None` for an in-memory
    /// SQLite database.
    fn default_key_path(&self) -> Option<(PathBuf, bool)> {
        let url = self.database_url.expose();
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Some((PathBuf::from("torii-secret.key"), true));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
            return None;
        }
        Some((PathBuf::from(format!("{path}.key")), false))
    }

    /// SMTP credentials given apart from the URL.
    #[must_use]
    pub fn smtp_credentials(&self) -> Option<(String, String)> {
        self.smtp_username.clone().map(|user| {
            (
                user,
                self.smtp_password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default(),
            )
        })
    }

    /// The address to bind.
    ///
    /// # Errors
    /// When `listen` is not `host:port`.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            invalid(
                "TORII_LISTEN",
                format!("`{}` is not host:port", self.listen),
            )
        })
    }

    /// The trusted proxies.
    ///
    /// # Errors
    /// An entry that is neither a network nor an address.
    pub fn trusted_proxies(&self) -> Result<crate::client_ip::TrustedProxies, ConfigError> {
        crate::client_ip::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| invalid("trusted_proxies (TORII_TRUSTED_PROXIES)", e.to_string()))
    }

    /// The breached-password check, when a URL is set.
    ///
    /// # Errors
    /// A URL that is not http(s); a zero timeout.
    pub fn breached_passwords(
        &self,
    ) -> Result<Option<crate::breached::BreachedPasswords>, ConfigError> {
        const SETTING: &str = "breached_passwords_url (TORII_BREACHED_PASSWORDS_URL)";
        let Some(raw) = &self.breached_passwords_url else {
            return Ok(None);
        };
        if self.breached_passwords_timeout_ms == 0 {
            return Err(invalid(
                "breached_passwords_timeout_ms (TORII_BREACHED_PASSWORDS_TIMEOUT_MS)",
                "must be positive",
            ));
        }
        let url = Url::parse(raw).map_err(|e| invalid(SETTING, e.to_string()))?;
        crate::breached::BreachedPasswords::new(
            url,
            self.breached_passwords_on_error,
            std::time::Duration::from_millis(self.breached_passwords_timeout_ms),
        )
        .map(Some)
        .map_err(|e| invalid(SETTING, e.to_string()))
    }

    /// The limits of the HTTP server: timeouts and the connection cap.
    #[must_use]
    pub fn serve_settings(&self) -> crate::serve::ServeSettings {
        crate::serve::ServeSettings {
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs),
            max_connections: self.max_connections,
        }
    }

    /// The public URL.
    ///
    /// # Errors
    /// When it is not an absolute http(s) URL.
    pub fn public_url(&self) -> Result<Url, ConfigError> {
        let url =
            Url::parse(&self.public_url).map_err(|e| invalid("TORII_PUBLIC_URL", e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("TORII_PUBLIC_URL", "expected an http(s) URL"));
        }
        Ok(url)
    }

    /// The configured environments, ready to use.
    ///
    /// # Errors
    /// An invalid environment.
    pub fn environments(&self) -> Result<Vec<Environment>, ConfigError> {
        self.environments
            .iter()
            .map(EnvironmentConfig::to_environment)
            .collect()
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
            },
            passkeys: PasskeySettings {
                rp_id: self.passkeys.rp_id.clone(),
                rp_name: self.passkeys.rp_name.clone(),
                origins: passkey_origins,
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
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let config = Config::load(None, vars(&[])).unwrap();
        assert_eq!(config.listen, "127.0.0.1:3000");
        assert_eq!(config.database_url.expose(), "sqlite://torii.db");
        assert_eq!(config.public_url, "http://localhost:3000");
        assert!(config.smtp_url.is_none());
        assert!(config.static_dir.is_none());
        assert!(config.trusted_proxies().unwrap().is_empty());
    }

    #[test]
    fn the_breached_password_check_is_off_by_default_and_read_and_checked() {
        let config = Config::load(None, vars(&[])).unwrap();
        assert!(config.breached_passwords().unwrap().is_none());
        let config: Config = toml::from_str(
            "breached_passwords_url = \"https://mirror.example.com/range\"\n\
             breached_passwords_on_error = \"refuse\"\nbreached_passwords_timeout_ms = 500",
        )
        .unwrap();
        let check = config.breached_passwords().unwrap().unwrap();
        assert_eq!(check.on_error(), crate::breached::OnError::Refuse);
        let config = Config::load(
            None,
            vars(&[(
                "TORII_BREACHED_PASSWORDS_URL",
                "https://api.pwnedpasswords.com/range",
            )]),
        )
        .unwrap();
        let check = config.breached_passwords().unwrap().unwrap();
        assert_eq!(check.on_error(), crate::breached::OnError::Allow);
        for (var, value) in [
            ("TORII_BREACHED_PASSWORDS_URL", "ftp://mirror/range"),
            ("TORII_BREACHED_PASSWORDS_URL", "not a url"),
            ("TORII_BREACHED_PASSWORDS_ON_ERROR", "maybe"),
            ("TORII_BREACHED_PASSWORDS_TIMEOUT_MS", "soon"),
        ] {
            let error = Config::load(
                None,
                vars(&[
                    (
                        "TORII_BREACHED_PASSWORDS_URL",
                        "https://mirror.example.com/range",
                    ),
                    (var, value),
                ]),
            )
            .unwrap_err();
            assert!(error.to_string().contains(var), "{error}");
        }
        assert!(toml::from_str::<Config>("breached_passwords_on_error = \"sometimes\"").is_err());
    }

    #[test]
    fn server_limits_have_documented_defaults_and_are_read_and_checked() {
        let config = Config::load(None, vars(&[])).unwrap();
        let serve = config.serve_settings();
        assert_eq!(serve, crate::serve::ServeSettings::default());
        assert_eq!(
            serve.header_read_timeout,
            std::time::Duration::from_secs(10)
        );
        assert_eq!(serve.request_timeout, std::time::Duration::from_secs(30));
        assert_eq!(serve.max_connections, 1024);
        assert_eq!(config.password_hash_queue, None);
        let config: Config = toml::from_str(
            "header_read_timeout_secs = 5\nrequest_timeout_secs = 7\nmax_connections = 9\n\
             password_hash_queue = 11",
        )
        .unwrap();
        let serve = config.serve_settings();
        assert_eq!(serve.header_read_timeout, std::time::Duration::from_secs(5));
        assert_eq!(serve.request_timeout, std::time::Duration::from_secs(7));
        assert_eq!(serve.max_connections, 9);
        assert_eq!(config.password_hash_queue, Some(11));
        let config = Config::load(
            None,
            vars(&[
                ("TORII_HEADER_READ_TIMEOUT_SECS", "2"),
                ("TORII_REQUEST_TIMEOUT_SECS", "3"),
                ("TORII_MAX_CONNECTIONS", "4"),
                ("TORII_PASSWORD_HASH_QUEUE", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(config.serve_settings().max_connections, 4);
        assert_eq!(config.password_hash_queue, Some(5));
        for var in [
            "TORII_HEADER_READ_TIMEOUT_SECS",
            "TORII_REQUEST_TIMEOUT_SECS",
            "TORII_MAX_CONNECTIONS",
            "TORII_PASSWORD_HASH_QUEUE",
        ] {
            for value in ["0", "-1", "soon"] {
                let error = Config::load(None, vars(&[(var, value)])).unwrap_err();
                assert!(error.to_string().contains(var), "{error}");
            }
        }
        let error = toml::from_str::<Config>("max_connections = 0")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("max_connections"), "{error}");
    }

    #[test]
    fn trusted_proxies_are_read_from_the_file_and_the_variable_and_checked() {
        let config: Config =
            toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\"]").unwrap();
        let proxies = config.trusted_proxies().unwrap();
        assert!(proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(proxies.contains("fd00::1".parse().unwrap()));
        let config = Config::load(
            None,
            vars(&[("TORII_TRUSTED_PROXIES", "192.0.2.1, 2001:db8::/32,")]),
        )
        .unwrap();
        let proxies = config.trusted_proxies().unwrap();
        assert!(proxies.contains("192.0.2.1".parse().unwrap()));
        assert!(proxies.contains("2001:db8::9".parse().unwrap()));
        assert!(!proxies.contains("192.0.2.2".parse().unwrap()));
        let error = Config::load(
            None,
            vars(&[("TORII_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.0/40")]),
        )
        .unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.contains("TORII_TRUSTED_PROXIES") && shown.contains("10.0.0.0/40"),
            "{shown}"
        );
    }

    #[test]
    fn variables_override_the_file() {
        let dir = std::env::temp_dir().join(format!("torii-config-{}", new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("torii.toml");
        std::fs::write(
            &path,
            r#"
listen = "127.0.0.1:4000"
public_url = "http://localhost:4000"
[[environments]]
name = "Demo"
publishable_key = "pk_test_demo"
secret_key = "sk_test_demo"
terms_url = "https://example.com/terms"
"#,
        )
        .unwrap();
        let config =
            Config::load(Some(&path), vars(&[("TORII_LISTEN", "127.0.0.1:5000")])).unwrap();
        assert_eq!(config.listen, "127.0.0.1:5000");
        assert_eq!(config.public_url, "http://localhost:4000");
        let envs = config.environments().unwrap();
        assert_eq!(envs[0].name, "Demo");
        assert!(envs[0].legal_required());
        assert!(envs[0].secret_key_matches("sk_test_demo"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rate_limits_and_the_password_delay_are_read_from_the_file() {
        let dir = std::env::temp_dir().join(format!("torii-config-{}", new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("torii.toml");
        std::fs::write(
            &path,
            r#"
[[environments]]
name = "Demo"
publishable_key = "pk_test_demo"
secret_key = "sk_test_demo"
[environments.rate_limits]
sign_in_per_account = { free_attempts = 3, first_delay_secs = 1, max_delay_secs = 60, forget_after_secs = 600 }
sign_in_per_ip = { max = 7, window_secs = 60 }
"#,
        )
        .unwrap();
        let config = Config::load(Some(&path), vars(&[])).unwrap();
        let limits = config.environments().unwrap()[0].rate_limits;
        let delay = limits.sign_in_per_account;
        assert_eq!(delay.free_attempts, 3);
        assert_eq!(delay.delay_after(3), Duration::seconds(1));
        assert_eq!(delay.delay_after(20), Duration::seconds(60));
        assert_eq!(delay.forget_after, Duration::minutes(10));
        assert_eq!(limits.sign_in_per_ip.max, 7);
        assert_eq!(
            limits.resets_per_account,
            crate::rate_limit::RateLimits::default().resets_per_account,
            "the rest keep their defaults"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("torii-config-{}", new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("torii.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let error = Config::load(Some(&path), vars(&[])).unwrap_err();
        assert!(error.to_string().contains("lisen"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("TORII_DATABASE_URL", "oracle://x"),
            ("TORII_LISTEN", "nowhere"),
            ("TORII_PUBLIC_URL", "ftp://x"),
            ("TORII_DATABASE_MAX_CONNECTIONS", "lots"),
        ] {
            let error = Config::load(None, vars(&[(var, value)])).unwrap_err();
            assert!(error.to_string().contains(var), "{error}");
        }
    }

    #[test]
    fn live_mode_refuses_to_start_without_a_server_key_file() {
        let dir = temp_dir();
        let path = dir.join("torii.toml");
        std::fs::write(
            &path,
            "[[environments]]\nname = \"Prod\"\nmode = \"live\"\n\
             publishable_key = \"pk_live_x\"\n\
             secret_key = \"sk_live_0123456789abcdefghijklmnopqrstuv\"\n\
             allowed_origins = [\"https://app.example.com\"]\n",
        )
        .unwrap();
        let smtp = ("TORII_SMTP_URL", "smtp://127.0.0.1:2525");
        let error = Config::load(Some(&path), vars(&[smtp]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("secret_key_file"), "{error}");
        assert!(error.contains("TORII_SECRET_KEY_FILE"), "{error}");
        let key = dir.join("server.key");
        std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
        let key_var = key.to_str().unwrap();
        let config = Config::load(
            Some(&path),
            vars(&[("TORII_SECRET_KEY_FILE", key_var), smtp]),
        )
        .unwrap();
        let keys = config.server_keys().unwrap();
        assert_eq!(
            keys.current,
            Some(crate::secret_key::ServerKey::from_bytes([0xab; 32]))
        );
        assert!(keys.created.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_malformed_key_file_is_refused_naming_the_setting() {
        let dir = temp_dir();
        let key = dir.join("server.key");
        std::fs::write(&key, "not a key").unwrap();
        for (var, setting) in [
            ("TORII_SECRET_KEY_FILE", "TORII_SECRET_KEY_FILE"),
            (
                "TORII_SECRET_KEY_PREVIOUS_FILE",
                "TORII_SECRET_KEY_PREVIOUS_FILE",
            ),
        ] {
            let config = Config::load(None, vars(&[(var, key.to_str().unwrap())])).unwrap();
            let error = config.server_keys().unwrap_err().to_string();
            assert!(error.contains(setting), "{error}");
            assert!(error.contains("64 hexadecimal"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn test_mode_creates_a_key_beside_the_sqlite_file_then_reuses_it() {
        let dir = temp_dir();
        let db = dir.join("torii.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        let config = Config::load(None, vars(&[("TORII_DATABASE_URL", &url)])).unwrap();
        let first = config.server_keys().unwrap();
        let key_file = dir.join("torii.db.key");
        assert_eq!(first.created.as_deref(), Some(key_file.as_path()));
        assert!(!first.shared_default);
        let again = config.server_keys().unwrap();
        assert!(again.created.is_none(), "reused, not created again");
        assert_eq!(again.current, first.current);
        assert!(first.current.is_some());
        // In memory there is nothing to keep a key beside.
        let memory = Config::load(None, vars(&[("TORII_DATABASE_URL", "sqlite::memory:")]))
            .unwrap()
            .server_keys()
            .unwrap();
        assert!(memory.current.is_none() && memory.created.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("torii-config-{}", new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

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
    fn a_live_environment_without_smtp_refuses_to_start() {
        let file = std::env::temp_dir().join(crate::session::new_id("torii-live-config"));
        std::fs::write(
            &file,
            "[[environments]]\nname = \"Prod\"\nmode = \"live\"\n\
             publishable_key = \"pk_live_prod\"\n\
             secret_key = \"sk_live_0123456789abcdefghijklmnopqrstuv\"\n\
             allowed_origins = [\"https://app.example.com\"]\n",
        )
        .unwrap();
        let key = ("TORII_SECRET_KEY_FILE", "/etc/torii/server.key");
        let error = Config::load(Some(&file), vars(&[key]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("TORII_SMTP_URL") && error.contains("Prod"),
            "{error}"
        );
        let with_smtp = Config::load(
            Some(&file),
            vars(&[key, ("TORII_SMTP_URL", "smtp://127.0.0.1:2525")]),
        );
        std::fs::remove_file(&file).unwrap();
        assert!(with_smtp.is_ok(), "{with_smtp:?}");
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
    fn debug_redacts_secrets() {
        let config = Config {
            database_url: Secret::new("postgres://u:hunter2@db/x"),
            smtp_url: Some(Secret::new("smtp://u:hunter3@mail")),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3"),
            "{shown}"
        );
    }
}
