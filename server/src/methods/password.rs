//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1). Hashing runs on the blocking
//! pool behind a semaphore so that a burst of sign-ins cannot starve the async workers that
//! serve `/me`; an unknown email is verified against a dummy hash so it costs the same time.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore as _;
use rand::rngs::OsRng;
use std::sync::Arc;
use tokio::sync::{OnceCell, Semaphore};
use torii_shared::Secret;

/// Why hashing failed (never a wrong password: that is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The hashing task was cancelled or panicked.
    #[error("hashing task failed")]
    Task,
    /// argon2 refused the input.
    #[error("hashing failed: {0}")]
    Argon2(String),
}

/// argon2id hasher with bounded parallelism.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    dummy: Arc<OnceCell<String>>,
}

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl PasswordHasher {
    /// A hasher running at most `parallelism` hashes at once.
    #[must_use]
    pub fn new(parallelism: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Task)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| HashError::Task)?
    }

    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// When the blocking task fails.
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let password = password.clone();
        self.blocking(move || {
            let mut salt = [0_u8; 16];
            OsRng.fill_bytes(&mut salt);
            let salt =
                SaltString::encode_b64(&salt).map_err(|e| HashError::Argon2(e.to_string()))?;
            argon2()?
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| HashError::Argon2(e.to_string()))
        })
        .await
    }

    /// Verifies a password against a stored hash; `None` verifies against a dummy hash (same
    /// cost) and always answers false.
    ///
    /// # Errors
    /// When the blocking task fails.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<bool, HashError> {
        let (stored, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?, false),
        };
        let password = password.clone();
        let matched = self
            .blocking(move || {
                let parsed =
                    PasswordHash::new(&stored).map_err(|e| HashError::Argon2(e.to_string()))?;
                Ok(argon2()?
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(matched && real)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        self.dummy
            .get_or_try_init(|| async {
                self.hash(&Secret::new("torii-dummy-password-for-timing"))
                    .await
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let hasher = PasswordHasher::new(2);
        let password = Secret::new("correct horse battery");
        let a = hasher.hash(&password).await.unwrap();
        let b = hasher.hash(&password).await.unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&a)).await.unwrap());
        assert!(
            !hasher
                .verify(&Secret::new("wrong"), Some(&a))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new(1);
        assert!(
            !hasher
                .verify(&Secret::new("torii-dummy-password-for-timing"), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn long_passwords_are_not_truncated() {
        let hasher = PasswordHasher::new(1);
        let a = Secret::new(format!("{}a", "x".repeat(255)));
        let b = Secret::new(format!("{}b", "x".repeat(255)));
        let hash = hasher.hash(&a).await.unwrap();
        assert!(!hasher.verify(&b, Some(&hash)).await.unwrap());
    }
}

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
}

impl crate::Torii {
    /// Signs in with email and password, creating a session. An unknown email costs the same
    /// hash work as a wrong password and fails the same way.
    ///
    /// # Errors
    /// [`SignInError::InvalidCredentials`] for any mismatch; store or hashing failures.
    pub async fn sign_in_with_password(
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
        Ok(self.sign_in_user(env, user, client).await?)
    }
}
