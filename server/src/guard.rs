//! What a library call checks before its work, in this order: that the environment enables
//! the sign-in method, that the session's user still exists, and the rate limits that bound
//! the call. An embedder calling [`Torii`] gets the same checks as the HTTP API.

use crate::rate_limit::{AttemptBucket, LimitError, RateBucket};
use crate::store::StoreError;
use crate::{Environment, Torii};
use torii_shared::SignInMethod;

/// A call refused before its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The environment does not enable this sign-in method.
    #[error("sign-in method not enabled")]
    MethodDisabled,
    /// The session's user no longer exists.
    #[error("signed out")]
    SignedOut,
    /// Over a rate limit, or the limit could not be counted.
    #[error(transparent)]
    Limited(#[from] LimitError),
}

/// A guarded call's failure: refused before its work, or failed in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Guarded<E> {
    /// Refused before the work.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The work failed.
    #[error(transparent)]
    Failed(E),
}

impl<E> From<LimitError> for Guarded<E> {
    fn from(error: LimitError) -> Self {
        Self::Refused(Refused::Limited(error))
    }
}

impl<E> Guarded<E> {
    /// The work's own failure, if it was one.
    #[must_use]
    pub fn failed(self) -> Option<E> {
        match self {
            Self::Failed(error) => Some(error),
            Self::Refused(_) => None,
        }
    }
}

impl Torii {
    /// Refuses a call for a `method` the environment does not enable, then counts a hit in
    /// each bucket in turn (the first one over its limit refuses).
    ///
    /// # Errors
    /// [`Refused::MethodDisabled`]; [`Refused::Limited`] over a limit or on a store failure.
    pub async fn guard(
        &self,
        env: &Environment,
        method: Option<SignInMethod>,
        buckets: &[RateBucket<'_>],
    ) -> Result<(), Refused> {
        if let Some(method) = method
            && !env.methods.contains(&method)
        {
            return Err(Refused::MethodDisabled);
        }
        self.limit(env, buckets).await?;
        Ok(())
    }

    /// [`Torii::guard`], then `work`.
    ///
    /// # Errors
    /// A refusal, or the work's failure.
    pub(crate) async fn guarded<T, E>(
        &self,
        env: &Environment,
        method: Option<SignInMethod>,
        buckets: &[RateBucket<'_>],
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, Guarded<E>> {
        self.guard(env, method, buckets).await?;
        work.await.map_err(Guarded::Failed)
    }

    /// Runs a password check under its account's growing delay: refused while the delay
    /// earlier failures set runs, counted as a failure unless it succeeds.
    ///
    /// # Errors
    /// [`Refused::Limited`] while waiting; the check's failure.
    pub(crate) async fn password_attempt<T, E>(
        &self,
        env: &Environment,
        bucket: AttemptBucket<'_>,
        check: impl Future<Output = Result<T, E>>,
    ) -> Result<T, Guarded<E>> {
        self.reserve_attempt(env, bucket).await?;
        let checked = check.await.map_err(Guarded::Failed)?;
        self.attempt_succeeded(env, bucket)
            .await
            .map_err(|e: StoreError| LimitError::Store(e))?;
        Ok(checked)
    }
}
