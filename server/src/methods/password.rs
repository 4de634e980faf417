//! Password sign-in: email and password against the stored argon2id hash, with the growing
//! per-account delay of [`AttemptBucket::PasswordAccount`]. The hashing itself (its threads,
//! its bounded queue, the dummy hash for unknown emails) is [`hasher`].

pub mod hasher;

pub use hasher::{DEFAULT_QUEUE_PER_THREAD, HashError, PasswordHasher};

use crate::guard::Guarded;
use crate::rate_limit::{AttemptBucket, IpKey, RateBucket, account_key};
use torii_shared::Secret;

/// Why a password sign-in failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// The email and password do not match an account (also for unknown emails).
    #[error("the email or password is not right")]
    InvalidCredentials,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// Signing the user in failed in a way that is not only the store's (a JWT that could
    /// not be signed).
    #[error(transparent)]
    Session(crate::session::SessionError),
}

impl From<crate::session::SessionError> for SignInError {
    fn from(error: crate::session::SessionError) -> Self {
        match error {
            crate::session::SessionError::Store(e) => Self::Store(e),
            other => Self::Session(other),
        }
    }
}

impl crate::Torii {
    /// Signs in with email and password, creating a session. An unknown email costs the same
    /// hash work as a wrong password and fails the same way. Needs passwords enabled; limited
    /// per client address, and each account's checks wait out its growing delay.
    ///
    /// # Errors
    /// Passwords disabled; a rate limit; [`SignInError::InvalidCredentials`] for any mismatch;
    /// store or hashing failures.
    pub async fn sign_in_with_password(
        &self,
        env: &crate::Environment,
        email: &str,
        password: &Secret,
        client: &crate::ClientInfo,
    ) -> Result<crate::AuthenticatedSessionWithToken, Guarded<SignInError>> {
        let ip = IpKey::of(client);
        let method = Some(torii_shared::SignInMethod::Password);
        self.guard(env, method, &[RateBucket::SignInIp(ip)]).await?;
        let account = account_key(email);
        let check = self.check_password_sign_in(env, email, password, client);
        self.password_attempt(env, AttemptBucket::PasswordAccount(&account), check)
            .await
    }

    async fn check_password_sign_in(
        &self,
        env: &crate::Environment,
        email: &str,
        password: &Secret,
        client: &crate::ClientInfo,
    ) -> Result<crate::AuthenticatedSessionWithToken, SignInError> {
        let user = match crate::validate::email(email) {
            Ok(address) => {
                self.store()
                    .find_user_by_email(&env.id, &address.canonical)
                    .await?
            }
            Err(_) => None,
        };
        let stored = match &user {
            Some(user) => self.store().password_hash(&user.id).await?,
            None => None,
        };
        // Over-long input is never hashed as is, but still costs one hash.
        let too_long = password.expose().chars().count() > torii_shared::PASSWORD_MAX_CHARS;
        let matched = self
            .hasher()
            .verify(password, if too_long { None } else { stored.as_deref() })
            .await?;
        let Some(user) = user.filter(|_| matched) else {
            return Err(SignInError::InvalidCredentials);
        };
        Ok(self
            .sign_in_user(env, user, client, crate::FirstFactor::Password)
            .await?)
    }
}
