//! Rate limits and the growing password delay in the TOML file.

use serde::Deserialize;
use time::Duration;
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
    pub(super) fn to_limits(&self) -> crate::rate_limit::RateLimits {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::test_support::vars;
    use crate::session::new_id;

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
}
