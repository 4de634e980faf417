//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1). Hashing runs on the blocking
//! pool behind a semaphore so that a burst of sign-ins cannot starve the async workers that
//! serve `/me`; an unknown email is verified against a dummy hash so it costs the same time.
//! The 19 MiB working memory of each hash is taken from a small pool and given back, never
//! freed: at most one buffer per permit exists, so a sign-in storm costs a fixed amount of
//! memory instead of a fresh allocation per hash that the allocator keeps per thread.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore as _;
use rand::rngs::OsRng;
use std::sync::{Arc, Mutex, PoisonError};
use subtle::ConstantTimeEq as _;
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

impl From<argon2::Error> for HashError {
    fn from(e: argon2::Error) -> Self {
        Self::Argon2(e.to_string())
    }
}

impl From<argon2::password_hash::Error> for HashError {
    fn from(e: argon2::password_hash::Error) -> Self {
        Self::Argon2(e.to_string())
    }
}

/// Working memory of one hash at a time, reused.
type Memory = Vec<Block>;

/// argon2id hasher with bounded parallelism.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Memory>>>,
    dummy: Arc<OnceCell<String>>,
}

fn params() -> Result<Params, HashError> {
    Ok(Params::new(19_456, 2, 1, Some(32))?)
}

/// Hashes with `argon` into `out`, in `memory` (grown to the size the parameters need).
fn hash_into(
    argon: &Argon2<'_>,
    memory: &mut Memory,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Ok(argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])?)
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String, HashError> {
    let params = params()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0_u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt_string = SaltString::encode_b64(&salt)?;
    let output = Output::init_with(32, |out| {
        hash_into(&argon, memory, password, &salt, out)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt_string.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (any argon2 variant and parameters it
/// names), compared in constant time.
fn verify_with(memory: &mut Memory, password: &[u8], stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return Err(HashError::Argon2(
            "the stored hash has no salt or output".to_owned(),
        ));
    };
    let mut salt_bytes = [0_u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0_u8; expected.len()];
    hash_into(&argon, memory, password, salt, &mut out)?;
    Ok(bool::from(expected.as_bytes().ct_eq(&out)))
}

impl PasswordHasher {
    /// A hasher running at most `parallelism` hashes at once.
    #[must_use]
    pub fn new(parallelism: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            memory: Arc::new(Mutex::new(Vec::new())),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// Runs `work` on the blocking pool with a permit and a working memory from the pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Task)?;
        let pool = Arc::clone(&self.memory);
        tokio::task::spawn_blocking(move || {
            let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut memory = taken.unwrap_or_default();
            let result = work(&mut memory);
            pool.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(memory);
            result
        })
        .await
        .map_err(|_| HashError::Task)?
    }

    /// Hashes a password into a PHC string.
    ///
    /// # Errors
    /// When the blocking task fails.
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let password = password.clone();
        self.blocking(move |memory| hash_with(memory, password.expose().as_bytes()))
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
            .blocking(move |memory| verify_with(memory, password.expose().as_bytes(), &stored))
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

    #[test]
    fn hashes_agree_with_the_reference_implementation_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap());
        let mut memory = Memory::new();
        let ours = hash_with(&mut memory, b"correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(reference.verify_password(b"correct horse", &parsed).is_ok());
        assert!(
            reference
                .verify_password(b"correct horsE", &parsed)
                .is_err()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = reference
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, b"battery staple", &theirs).unwrap());
        assert!(!verify_with(&mut memory, b"battery stapl", &theirs).unwrap());
        // Other parameters (an older hash) verify too, in the same memory.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        );
        let older = light.hash_password(b"old one", &salt).unwrap().to_string();
        assert!(verify_with(&mut memory, b"old one", &older).unwrap());
        assert!(verify_with(&mut memory, b"x", "not a phc string").is_err());
    }

    #[tokio::test]
    async fn working_memory_is_reused_not_multiplied() {
        let hasher = PasswordHasher::new(2);
        let password = Secret::new("correct horse battery");
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (hasher, password) = (hasher.clone(), password.clone());
            tasks.push(tokio::spawn(async move { hasher.hash(&password).await }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let pool = hasher.memory.lock().unwrap();
        assert!(
            pool.len() <= 2,
            "one buffer per permit at most: {}",
            pool.len()
        );
        assert!(pool.iter().all(|m| m.len() == 19_456));
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
