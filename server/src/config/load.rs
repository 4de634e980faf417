//! Loading: defaults, then the TOML file, then `TORII_*` variables; then the checks.

use super::{Config, ConfigError, invalid};
use std::path::{Path, PathBuf};
use torii_shared::{EnvironmentMode, Secret};
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
        if let Some(v) = var("TORII_LOG_FORMAT") {
            config.log_format = match v.as_str() {
                "text" => super::LogFormat::Text,
                "json" => super::LogFormat::Json,
                _ => return Err(invalid("TORII_LOG_FORMAT", "expected text or json")),
            };
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
        if let Some(v) = var("TORII_METRICS_LISTEN") {
            config.metrics_listen = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = var("TORII_DRAIN_DELAY_SECS") {
            config.drain_delay_secs = v.parse().map_err(|_| {
                invalid(
                    "TORII_DRAIN_DELAY_SECS",
                    "expected a whole number of seconds",
                )
            })?;
        }
        if let Some(v) = var("TORII_PASSWORD_HASH_QUEUE") {
            config.password_hash_queue = Some(
                usize::try_from(positive("TORII_PASSWORD_HASH_QUEUE", &v)?)
                    .map_err(|_| invalid("TORII_PASSWORD_HASH_QUEUE", "too large"))?,
            );
        }
        if let Some(v) = var("TORII_SESSION_CACHE_SIZE") {
            config.session_cache_size = v.parse().map_err(|_| {
                invalid(
                    "TORII_SESSION_CACHE_SIZE",
                    "expected a non-negative integer",
                )
            })?;
        }
        if let Some(v) = var("TORII_REVOCATION_BOUND_MS") {
            config.revocation_bound_ms = positive("TORII_REVOCATION_BOUND_MS", &v)?;
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

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        self.metrics_addr()?;
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
                "revocation_bound_ms (TORII_REVOCATION_BOUND_MS)",
                self.revocation_bound_ms,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::vars;
    use crate::session::new_id;

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
}
