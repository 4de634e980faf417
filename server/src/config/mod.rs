//! Server configuration, layered: defaults → TOML file (`--config` / `TORII_CONFIG`) →
//! `TORII_*` environment variables. Unknown keys in the file are errors, and every error names
//! the setting it is about.

mod environments;
mod keys;
mod load;
mod rate_limits;
mod server;

pub use environments::{EnvironmentConfig, PasskeyConfig, SessionConfig, default_environment};
pub use keys::ServerKeySource;
pub use rate_limits::{BackoffConfig, RateLimitConfig, RuleConfig};

use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use torii_shared::Secret;

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
    /// `TORII_LOG_FORMAT`: `text` (default, for people) or `json` (one object a line, for
    /// log pipelines).
    pub log_format: LogFormat,
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
    /// `TORII_METRICS_LISTEN`: address of a second listener serving only `GET /metrics`;
    /// unset (the default): no metrics listener.
    pub metrics_listen: Option<String>,
    /// `TORII_DRAIN_DELAY_SECS`: on SIGTERM or SIGINT, how long `/readyz` answers
    /// `503 shutting_down` while every request is still served, before the listener closes
    /// (default 5; 0 closes at once).
    pub drain_delay_secs: u64,
    /// `TORII_PASSWORD_HASH_QUEUE`: password hashes that may wait for a hashing thread before
    /// more are answered `503 server_busy` (default: 64 per hashing thread).
    pub password_hash_queue: Option<usize>,
    /// `TORII_SESSION_CACHE_SIZE`: database sessions each node answers from memory at most
    /// (default 10000); 0 turns the cache off (every request asks the store).
    pub session_cache_size: usize,
    /// `TORII_REVOCATION_BOUND_MS`: how long at most a change that ends or alters a session
    /// takes to reach every node's cache (default 1000).
    pub revocation_bound_ms: u64,
    /// Environments; none → one test environment is created on first start.
    pub environments: Vec<EnvironmentConfig>,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line, with the request's span fields (request id, method, route).
    Json,
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
            log_format: LogFormat::Text,
            secret_key_file: None,
            secret_key_previous_file: None,
            trusted_proxies: Vec::new(),
            breached_passwords_url: None,
            breached_passwords_on_error: crate::breached::OnError::Allow,
            breached_passwords_timeout_ms: 3000,
            header_read_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            metrics_listen: None,
            drain_delay_secs: 5,
            password_hash_queue: None,
            session_cache_size: crate::session::DEFAULT_SESSION_CACHE_CAPACITY,
            revocation_bound_ms: 1000,
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

#[cfg(test)]
mod test_support {
    use crate::session::new_id;
    use std::collections::HashMap;
    use std::path::PathBuf;

    pub(super) fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    pub(super) fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("torii-config-{}", new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::vars;

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
