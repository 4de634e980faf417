//! Rate limits, counted in the store so they hold across every node: fixed windows per
//! account, address and client IP. A hit is counted before it is judged, so parallel requests
//! cannot slip past a limit. Windows are short (minutes), so a limit someone else triggers on
//! your address throttles for a few minutes instead of locking the account. Bucket keys are
//! hashed: the table holds no email addresses or IPs.

use crate::session::sha256_hex;
use crate::store::StoreError;
use crate::{Environment, Torii};
use time::Duration;

/// At most `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Hits allowed per window.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

impl Rule {
    const fn per_minutes(max: u32, minutes: i64) -> Self {
        Self {
            max,
            window: Duration::minutes(minutes),
        }
    }
}

/// An environment's limits. `enabled = false` is for test suites that sign in a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Whether limits apply at all.
    pub enabled: bool,
    /// Password sign-ins per account (the email typed, known or not).
    pub sign_in_per_account: Rule,
    /// Password sign-ins per client IP.
    pub sign_in_per_ip: Rule,
    /// Code and link verifications per client IP, across every code.
    pub verifications_per_ip: Rule,
    /// Password-reset completions per account, across every code.
    pub resets_per_account: Rule,
    /// Emails sent to one address (sign-up codes, links, reset codes).
    pub emails_per_address: Rule,
    /// Emails requested per client IP.
    pub emails_per_ip: Rule,
    /// Sign-ups started per client IP.
    pub sign_ups_per_ip: Rule,
    /// OAuth and passkey ceremonies started per client IP (each one is a stored row).
    pub ceremonies_per_ip: Rule,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            sign_in_per_account: Rule::per_minutes(10, 5),
            sign_in_per_ip: Rule::per_minutes(100, 5),
            verifications_per_ip: Rule::per_minutes(100, 5),
            resets_per_account: Rule::per_minutes(10, 15),
            emails_per_address: Rule::per_minutes(5, 15),
            emails_per_ip: Rule::per_minutes(50, 15),
            sign_ups_per_ip: Rule::per_minutes(30, 15),
            ceremonies_per_ip: Rule::per_minutes(60, 5),
        }
    }
}

/// A request over a limit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Too many requests; retry after this many seconds.
    #[error("rate limited for {retry_after_secs} s")]
    Limited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Torii {
    /// Counts a hit for `key` under `kind` and refuses it when over `rule`.
    ///
    /// # Errors
    /// [`LimitError::Limited`] over the limit; a store failure.
    pub async fn rate_limit(
        &self,
        env: &Environment,
        kind: &str,
        key: &str,
        rule: Rule,
    ) -> Result<(), LimitError> {
        if !env.rate_limits.enabled {
            return Ok(());
        }
        let bucket = format!(
            "{}:{kind}:{}",
            env.id,
            &sha256_hex(key.to_lowercase().as_bytes())[..32]
        );
        let now = self.now();
        let (hits, window_start) = self
            .store()
            .hit_rate_limit(&bucket, rule.window, now)
            .await?;
        if hits > rule.max {
            let wait = (window_start + rule.window - now).whole_seconds().max(1);
            return Err(LimitError::Limited {
                retry_after_secs: u64::try_from(wait).unwrap_or(1),
            });
        }
        Ok(())
    }
}
