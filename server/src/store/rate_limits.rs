//! Rate-limit windows and failed-attempt delays, shared by every server node.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// The verdict on an attempt under a growing delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Counted: this many failures now stand against the bucket, this one included.
    Counted(u32),
    /// Not counted: the bucket waits until then.
    Wait(OffsetDateTime),
}

/// Rate-limit counters. Owns counting every hit and attempt exactly once, whatever the
/// concurrency.
#[async_trait]
pub trait RateLimitStore: Send + Sync + Debug {
    /// Counts one hit on a rate-limit bucket and returns the hits in its current window
    /// (this one included) and when that window started. Every hit is counted exactly once,
    /// whatever the concurrency, so a limit checked on the returned count cannot be slipped.
    async fn hit_rate_limit(
        &self,
        bucket: &str,
        window: time::Duration,
        now: OffsetDateTime,
    ) -> Result<(u32, OffsetDateTime), StoreError>;
    /// Counts one attempt on a failed-attempt bucket, unless the bucket is waiting out a
    /// delay. A counted attempt is judged a failure until [`RateLimitStore::clear_attempts`] says
    /// otherwise, and sets the next allowed time to `now + delay_after(failures)`. Failures
    /// are forgotten when the last attempt was at or before `forget_before`. Concurrent
    /// attempts are serialised on the bucket, so none slips past a delay another one set.
    async fn reserve_attempt(
        &self,
        bucket: &str,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
        delay_after: &(dyn Fn(u32) -> time::Duration + Sync),
    ) -> Result<AttemptVerdict, StoreError>;
    /// Forgets a bucket's failures (the attempt succeeded).
    async fn clear_attempts(&self, bucket: &str) -> Result<(), StoreError>;
    /// Removes rate-limit windows that started before `windows_before` and failed-attempt
    /// buckets last used before `attempts_before`.
    async fn purge_counters(
        &self,
        windows_before: OffsetDateTime,
        attempts_before: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
