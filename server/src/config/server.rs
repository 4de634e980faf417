//! What the server process is built from: the address, the HTTP limits, trusted proxies,
//! the breached-password check, the public URL, SMTP credentials and the environments.

use super::{Config, ConfigError, EnvironmentConfig, invalid};
use crate::environment::Environment;
use std::net::SocketAddr;
use url::Url;
impl Config {
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

    /// The address of the metrics listener, when one is configured.
    ///
    /// # Errors
    /// An address that is not `host:port`.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        self.metrics_listen
            .as_deref()
            .map(|addr| {
                addr.parse().map_err(|_| {
                    invalid("TORII_METRICS_LISTEN", format!("`{addr}` is not host:port"))
                })
            })
            .transpose()
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

    /// How long a shutting-down server keeps serving, with readiness at 503, before it closes
    /// its listener.
    #[must_use]
    pub fn drain_delay(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.drain_delay_secs)
    }

    /// The session cache's capacity and the bound on propagating a revocation, for
    /// [`crate::ToriiBuilder::session_cache`].
    #[must_use]
    pub fn session_cache(&self) -> (usize, std::time::Duration) {
        (
            self.session_cache_size,
            std::time::Duration::from_millis(self.revocation_bound_ms),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::vars;

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
    fn the_session_cache_has_documented_defaults_and_is_read_and_checked() {
        let config = Config::load(None, vars(&[])).unwrap();
        assert_eq!(
            config.session_cache(),
            (10_000, std::time::Duration::from_secs(1))
        );
        let config: Config =
            toml::from_str("session_cache_size = 0\nrevocation_bound_ms = 250").unwrap();
        assert_eq!(
            config.session_cache(),
            (0, std::time::Duration::from_millis(250))
        );
        let config = Config::load(
            None,
            vars(&[
                ("TORII_SESSION_CACHE_SIZE", "64"),
                ("TORII_REVOCATION_BOUND_MS", "500"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.session_cache(),
            (64, std::time::Duration::from_millis(500))
        );
        for (var, value) in [
            ("TORII_SESSION_CACHE_SIZE", "-1"),
            ("TORII_SESSION_CACHE_SIZE", "lots"),
            ("TORII_REVOCATION_BOUND_MS", "0"),
            ("TORII_REVOCATION_BOUND_MS", "soon"),
        ] {
            let error = Config::load(None, vars(&[(var, value)])).unwrap_err();
            assert!(error.to_string().contains(var), "{error}");
        }
        let error = toml::from_str::<Config>("revocation_bound_ms = 0")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("revocation_bound_ms"), "{error}");
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
    fn the_metrics_listener_is_off_by_default_and_its_address_is_checked() {
        assert_eq!(
            Config::load(None, vars(&[]))
                .unwrap()
                .metrics_addr()
                .unwrap(),
            None
        );
        let on = Config::load(None, vars(&[("TORII_METRICS_LISTEN", "127.0.0.1:9100")])).unwrap();
        assert_eq!(
            on.metrics_addr().unwrap(),
            Some("127.0.0.1:9100".parse().unwrap())
        );
        let error = Config::load(None, vars(&[("TORII_METRICS_LISTEN", "port 9100")])).unwrap_err();
        assert!(
            error.to_string().contains("TORII_METRICS_LISTEN"),
            "{error}"
        );
        assert!(toml::from_str::<Config>("metrics_listen = \"0.0.0.0:9100\"").is_ok());
    }

    #[test]
    fn the_drain_delay_has_a_documented_default_and_is_read_and_checked() {
        let secs = |config: &Config| config.drain_delay().as_secs();
        assert_eq!(secs(&Config::load(None, vars(&[])).unwrap()), 5);
        assert_eq!(
            secs(&toml::from_str::<Config>("drain_delay_secs = 12").unwrap()),
            12
        );
        let zero = Config::load(None, vars(&[("TORII_DRAIN_DELAY_SECS", "0")])).unwrap();
        assert_eq!(secs(&zero), 0);
        for value in ["-1", "soon", ""] {
            let error = Config::load(None, vars(&[("TORII_DRAIN_DELAY_SECS", value)])).unwrap_err();
            assert!(
                error.to_string().contains("TORII_DRAIN_DELAY_SECS"),
                "{error}"
            );
        }
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
}
