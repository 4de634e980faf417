//! Rate limits, counted in the store so they hold across every node: fixed windows per
//! account, address and client IP, and a growing delay on password checks per account. A hit
//! is counted before it is judged, so parallel requests cannot slip past a limit. Windows are
//! short (minutes) and delays are capped, so what someone else triggers on your address
//! throttles for a while instead of locking the account. Bucket keys are hashed: the tables
//! hold no email addresses or IPs.
//!
//! Each limit is a [`RateBucket`] (or, for growing delays, an [`AttemptBucket`]): the variant
//! names the stored counter and picks its rule from the environment's [`RateLimits`], and
//! carries whose hits it counts. The library calls count their own limits (see
//! [`crate::guard`]), so an embedder gets the same limits as the HTTP API.

use crate::session::sha256_hex;
use crate::store::{AttemptVerdict, StoreError};
use crate::{ClientInfo, Environment, Torii};
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

/// A growing delay between failed attempts: the first `free_attempts` are judged at once,
/// then each further failure doubles the wait before the next one is judged, from
/// `first_delay` up to `max_delay`. A success clears the count; so does `forget_after`
/// without an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures judged without any delay.
    pub free_attempts: u32,
    /// The wait after the first failure beyond the free ones.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// Failures older than this are forgotten.
    pub forget_after: Duration,
}

impl Backoff {
    /// The wait before the next attempt, once `failures` stand against the bucket.
    #[must_use]
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free_attempts.max(1) {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_attempts.max(1)).min(30);
        let delay = self
            .first_delay
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_delay);
        delay.min(self.max_delay)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            free_attempts: 5,
            first_delay: Duration::seconds(2),
            max_delay: Duration::minutes(15),
            forget_after: Duration::hours(1),
        }
    }
}

/// An environment's limits. `enabled = false` is for test suites that sign in a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Whether limits apply at all.
    pub enabled: bool,
    /// Password checks per account (the email typed, known or not): a growing delay.
    pub sign_in_per_account: Backoff,
    /// Password sign-ins per client IP.
    pub sign_in_per_ip: Rule,
    /// Code and link verifications per client IP, across every code.
    pub verifications_per_ip: Rule,
    /// Password-reset completions per account, across every code.
    pub resets_per_account: Rule,
    /// Code checks per signed-in account (email verification, email change).
    pub verifications_per_account: Rule,
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
            sign_in_per_account: Backoff::default(),
            sign_in_per_ip: Rule::per_minutes(100, 5),
            verifications_per_ip: Rule::per_minutes(100, 5),
            resets_per_account: Rule::per_minutes(10, 15),
            verifications_per_account: Rule::per_minutes(10, 15),
            emails_per_address: Rule::per_minutes(5, 15),
            emails_per_ip: Rule::per_minutes(50, 15),
            sign_ups_per_ip: Rule::per_minutes(30, 15),
            ceremonies_per_ip: Rule::per_minutes(60, 5),
        }
    }
}

impl RateLimits {
    /// The longest fixed window: counters older than it are of no use.
    #[must_use]
    pub fn longest_window(&self) -> Duration {
        [
            self.sign_in_per_ip,
            self.verifications_per_ip,
            self.resets_per_account,
            self.verifications_per_account,
            self.emails_per_address,
            self.emails_per_ip,
            self.sign_ups_per_ip,
            self.ceremonies_per_ip,
        ]
        .iter()
        .map(|rule| rule.window)
        .max()
        .unwrap_or(Duration::ZERO)
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

/// The key of per-address limits: the client's address, or for IPv6 its /64; clients whose
/// address is unknown share one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpKey<'a>(&'a str);

impl<'a> IpKey<'a> {
    /// The key of a client.
    #[must_use]
    pub fn of(client: &'a ClientInfo) -> Self {
        Self(client.ip_limit_key.as_deref().unwrap_or("unknown"))
    }

    /// The key as counted.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// One fixed-window limit and whose hits it counts. [`RateBucket::name`] names the stored
/// counter: changing one starts every such counter afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateBucket<'a> {
    /// Password sign-ins (and password checks of a signed-in user) per client address.
    SignInIp(IpKey<'a>),
    /// Code and link verifications per client address.
    VerifyIp(IpKey<'a>),
    /// Code checks per signed-in account (email verification, email change), by user id.
    VerifyAccount(&'a str),
    /// Password-reset completions per account, by [`account_key`].
    ResetAccount(&'a str),
    /// Emails sent to one address, by [`account_key`].
    EmailAddress(&'a str),
    /// Emails requested per client address.
    EmailIp(IpKey<'a>),
    /// Sign-ups started per client address.
    SignUpIp(IpKey<'a>),
    /// OAuth and passkey ceremonies started per client address.
    CeremonyIp(IpKey<'a>),
    /// Password-reset codes tried at an address with no live code (by canonical address):
    /// part of the reset ceremony's contract, counted even with limits off.
    ResetUnmatched(&'a str),
    /// Second-factor codes (authenticator, backup) tried per account, by user id: the rule of
    /// code checks per account.
    SecondFactorAccount(&'a str),
    /// Second-factor codes tried per session, by session id: as many as one emailed code's
    /// ceremony allows, per its hour.
    SecondFactorSession(&'a str),
}

impl<'a> RateBucket<'a> {
    /// The limits on an email sent to `address` (an [`account_key`]) at a client's request:
    /// per client address, then per address emailed.
    #[must_use]
    pub fn email(client: &'a ClientInfo, address: &'a str) -> [Self; 2] {
        [
            Self::EmailIp(IpKey::of(client)),
            Self::EmailAddress(address),
        ]
    }

    /// The limits on trying a code sent to a signed-in user (email verification, email
    /// change): per client address, then per account, across every such code.
    #[must_use]
    pub fn code_tries(client: &'a ClientInfo, user_id: &'a str) -> [Self; 2] {
        [
            Self::VerifyIp(IpKey::of(client)),
            Self::VerifyAccount(user_id),
        ]
    }

    /// The limits on trying a second factor: per client address, then per session, then
    /// per account.
    #[must_use]
    pub fn second_factor_tries(
        client: &'a ClientInfo,
        session_id: &'a str,
        user_id: &'a str,
    ) -> [Self; 3] {
        [
            Self::VerifyIp(IpKey::of(client)),
            Self::SecondFactorSession(session_id),
            Self::SecondFactorAccount(user_id),
        ]
    }

    /// The name of the stored counter.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::SignInIp(_) => "sign_in_ip",
            Self::VerifyIp(_) => "verify_ip",
            Self::VerifyAccount(_) => "verify_account",
            Self::ResetAccount(_) => "reset_account",
            Self::EmailAddress(_) => "email_address",
            Self::EmailIp(_) => "email_ip",
            Self::SignUpIp(_) => "sign_up_ip",
            Self::CeremonyIp(_) => "ceremony_ip",
            Self::ResetUnmatched(_) => "reset_unmatched",
            Self::SecondFactorAccount(_) => "second_factor_account",
            Self::SecondFactorSession(_) => "second_factor_session",
        }
    }

    /// Whose hits are counted.
    #[must_use]
    pub fn key(&self) -> &'a str {
        match *self {
            Self::SignInIp(ip)
            | Self::VerifyIp(ip)
            | Self::EmailIp(ip)
            | Self::SignUpIp(ip)
            | Self::CeremonyIp(ip) => ip.as_str(),
            Self::VerifyAccount(key)
            | Self::ResetAccount(key)
            | Self::EmailAddress(key)
            | Self::ResetUnmatched(key)
            | Self::SecondFactorAccount(key)
            | Self::SecondFactorSession(key) => key,
        }
    }

    /// The rule of this bucket under an environment's limits.
    #[must_use]
    pub fn rule(&self, limits: &RateLimits) -> Rule {
        match self {
            Self::SignInIp(_) => limits.sign_in_per_ip,
            Self::VerifyIp(_) => limits.verifications_per_ip,
            Self::VerifyAccount(_) => limits.verifications_per_account,
            Self::ResetAccount(_) => limits.resets_per_account,
            Self::EmailAddress(_) => limits.emails_per_address,
            Self::EmailIp(_) => limits.emails_per_ip,
            Self::SignUpIp(_) => limits.sign_ups_per_ip,
            Self::CeremonyIp(_) => limits.ceremonies_per_ip,
            Self::ResetUnmatched(_) | Self::SecondFactorSession(_) => Rule {
                max: crate::codes::MAX_ATTEMPTS,
                window: crate::codes::USER_CODE_CEREMONY_TTL,
            },
            Self::SecondFactorAccount(_) => limits.verifications_per_account,
        }
    }
}

/// One growing-delay limit ([`Backoff`]) and whose attempts it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptBucket<'a> {
    /// Password checks per account, by [`account_key`] (the email typed, known or not).
    PasswordAccount(&'a str),
}

impl<'a> AttemptBucket<'a> {
    /// The name of the stored counter.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::PasswordAccount(_) => "password_account",
        }
    }

    /// Whose attempts are counted.
    #[must_use]
    pub fn key(&self) -> &'a str {
        match *self {
            Self::PasswordAccount(key) => key,
        }
    }

    /// The delays of this bucket under an environment's limits.
    #[must_use]
    pub fn backoff(&self, limits: &RateLimits) -> Backoff {
        match self {
            Self::PasswordAccount(_) => limits.sign_in_per_account,
        }
    }
}

/// The key of per-account limits: the canonical email when it is one, else the text as sent
/// (lower-cased), so that look-alike spellings of one address share a bucket.
#[must_use]
pub fn account_key(email: &str) -> String {
    crate::validate::email(email)
        .map_or_else(|_| email.trim().to_lowercase(), |address| address.canonical)
}

impl Torii {
    /// Counts a hit in `bucket` and refuses it when over the bucket's rule.
    ///
    /// # Errors
    /// [`LimitError::Limited`] over the limit; a store failure.
    pub async fn rate_limit(
        &self,
        env: &Environment,
        bucket: RateBucket<'_>,
    ) -> Result<(), LimitError> {
        if !env.rate_limits.enabled {
            return Ok(());
        }
        let rule = bucket.rule(&env.rate_limits);
        let now = self.now();
        let (hits, window_start) = self
            .store()
            .hit_rate_limit(
                &stored_bucket(env, bucket.name(), bucket.key()),
                rule.window,
                now,
            )
            .await?;
        if hits > rule.max {
            self.metrics().rate_limited(bucket.name());
            return Err(limited(window_start + rule.window - now));
        }
        Ok(())
    }

    /// Counts a hit in each bucket in turn; the first one over its limit refuses (and the
    /// later ones are not counted).
    ///
    /// # Errors
    /// [`LimitError::Limited`] over a limit; a store failure.
    pub async fn limit(
        &self,
        env: &Environment,
        buckets: &[RateBucket<'_>],
    ) -> Result<(), LimitError> {
        for bucket in buckets {
            self.rate_limit(env, *bucket).await?;
        }
        Ok(())
    }

    /// Counts a hit in `bucket`'s window and answers the count, whether or not the
    /// environment's limits are enabled: for bounds that are part of a method's contract
    /// rather than throttling.
    ///
    /// # Errors
    /// A store failure.
    pub(crate) async fn count_hit(
        &self,
        env: &Environment,
        bucket: RateBucket<'_>,
    ) -> Result<u32, StoreError> {
        let window = bucket.rule(&env.rate_limits).window;
        let (hits, _) = self
            .store()
            .hit_rate_limit(
                &stored_bucket(env, bucket.name(), bucket.key()),
                window,
                self.now(),
            )
            .await?;
        Ok(hits)
    }

    /// Counts an attempt in `bucket` as a failure until [`Torii::attempt_succeeded`] clears
    /// it, and refuses it while the bucket waits out the delay earlier failures set.
    ///
    /// # Errors
    /// [`LimitError::Limited`] while waiting; a store failure.
    pub async fn reserve_attempt(
        &self,
        env: &Environment,
        bucket: AttemptBucket<'_>,
    ) -> Result<(), LimitError> {
        if !env.rate_limits.enabled {
            return Ok(());
        }
        let backoff = bucket.backoff(&env.rate_limits);
        let now = self.now();
        let store = self.store();
        // Stale counters are swept now and then by whoever counts a new attempt.
        if rand::RngCore::next_u32(&mut rand::rngs::OsRng).is_multiple_of(64) {
            store
                .purge_counters(
                    now - env.rate_limits.longest_window().max(Duration::days(1)),
                    now - backoff.forget_after,
                )
                .await?;
        }
        let verdict = store
            .reserve_attempt(
                &stored_bucket(env, bucket.name(), bucket.key()),
                now,
                now - backoff.forget_after,
                &|failures| backoff.delay_after(failures),
            )
            .await?;
        match verdict {
            AttemptVerdict::Counted(_) => Ok(()),
            AttemptVerdict::Wait(until) => {
                self.metrics().rate_limited(bucket.name());
                Err(limited(until - now))
            }
        }
    }

    /// Clears the failures counted by [`Torii::reserve_attempt`]: the attempt succeeded.
    ///
    /// # Errors
    /// A store failure.
    pub async fn attempt_succeeded(
        &self,
        env: &Environment,
        bucket: AttemptBucket<'_>,
    ) -> Result<(), StoreError> {
        if !env.rate_limits.enabled {
            return Ok(());
        }
        self.store()
            .clear_attempts(&stored_bucket(env, bucket.name(), bucket.key()))
            .await
    }
}

/// Wrong secret keys on the admin API per client IP, across environments. A right key is
/// never refused by it: keys are long random strings nobody guesses in a few tries, so the
/// limit bounds the noise of a guesser (store writes, log lines) without letting anyone who
/// shares the backend's address lock the backend out.
pub const WRONG_SECRET_KEYS_PER_IP: Rule = Rule::per_minutes(20, 5);

impl Torii {
    /// Counts a wrong secret key from `ip` and refuses it once the address has sent more than
    /// [`WRONG_SECRET_KEYS_PER_IP`] in the window.
    ///
    /// # Errors
    /// [`LimitError::Limited`] over the limit; a store failure.
    pub async fn wrong_secret_key(&self, ip: &str) -> Result<(), LimitError> {
        let rule = WRONG_SECRET_KEYS_PER_IP;
        let now = self.now();
        let bucket = format!(
            "server:wrong_secret_key_ip:{}",
            &sha256_hex(ip.as_bytes())[..32]
        );
        let (hits, window_start) = self
            .store()
            .hit_rate_limit(&bucket, rule.window, now)
            .await?;
        if hits > rule.max {
            self.metrics().rate_limited("wrong_secret_key_ip");
            return Err(limited(window_start + rule.window - now));
        }
        Ok(())
    }
}

fn stored_bucket(env: &Environment, kind: &str, key: &str) -> String {
    format!(
        "{}:{kind}:{}",
        env.id,
        &sha256_hex(key.to_lowercase().as_bytes())[..32]
    )
}

/// A refusal for `wait` (rounded up to whole seconds, at least one).
fn limited(wait: Duration) -> LimitError {
    let secs = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
    LimitError::Limited {
        retry_after_secs: u64::try_from(secs.max(1)).unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_are_the_stored_counters_names() {
        let client = ClientInfo::new(None, None);
        let ip = IpKey::of(&client);
        assert_eq!(ip.as_str(), "unknown");
        let names: Vec<&str> = [
            RateBucket::SignInIp(ip),
            RateBucket::VerifyIp(ip),
            RateBucket::VerifyAccount("usr_1"),
            RateBucket::ResetAccount("a@example.com"),
            RateBucket::EmailAddress("a@example.com"),
            RateBucket::EmailIp(ip),
            RateBucket::SignUpIp(ip),
            RateBucket::CeremonyIp(ip),
            RateBucket::ResetUnmatched("a@example.com"),
        ]
        .iter()
        .map(RateBucket::name)
        .collect();
        assert_eq!(
            names,
            [
                "sign_in_ip",
                "verify_ip",
                "verify_account",
                "reset_account",
                "email_address",
                "email_ip",
                "sign_up_ip",
                "ceremony_ip",
                "reset_unmatched"
            ]
        );
        let account = AttemptBucket::PasswordAccount("a@example.com");
        assert_eq!(account.name(), "password_account");
        assert_eq!(account.key(), "a@example.com");
    }

    #[test]
    fn delays_double_from_the_first_beyond_the_free_attempts_and_are_capped() {
        let b = Backoff::default();
        let secs: Vec<i64> = (1..=14).map(|n| b.delay_after(n).whole_seconds()).collect();
        assert_eq!(secs, [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]);
        assert_eq!(b.delay_after(u32::MAX), Duration::minutes(15));
    }
}
