//! Ceremonies: the state a multi-step sign-in method keeps between its start and its finish
//! (an OAuth redirect's state, PKCE verifier and nonce; a WebAuthn challenge). The state lives
//! in the [`Store`](crate::store::Store), so a ceremony started on one node finishes on any
//! other; the client holds only a random id, whose hash is the key; taking it back consumes it
//! atomically, so it works once.

use crate::Torii;
use crate::error::internal::{InternalError, InternalSource};
use crate::session::{random_url_token, sha256_hex};
use crate::store::{CeremonyRecord, StoreError};
use rand::RngCore as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Duration;

/// Why a ceremony could not be taken back.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// Unknown, already used, expired, or of another kind or environment: all alike to the
    /// caller, so a probe learns nothing.
    #[error("the ceremony is unknown, used or expired")]
    Gone,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The state could not be written or read back as JSON.
    #[error(transparent)]
    Internal(#[from] InternalError),
}

fn state_error(cause: &serde_json::Error) -> CeremonyError {
    CeremonyError::Internal(InternalError::new(InternalSource::CeremonyState, cause))
}

/// The key a bound ceremony is taken back by: its id and the browser's binding together.
#[must_use]
pub fn bound_ceremony_key(id: &str, binding: &str) -> String {
    format!("{id}.{binding}")
}

impl Torii {
    /// Starts a ceremony of `kind` holding `state` for `ttl`; returns the id to hand to the
    /// client (256 random bits, base64url).
    ///
    /// # Errors
    /// A store failure, or state that cannot be serialised.
    pub async fn start_ceremony<T: Serialize>(
        &self,
        kind: &str,
        environment_id: &str,
        state: &T,
        ttl: Duration,
    ) -> Result<String, CeremonyError> {
        let id = random_url_token(32);
        self.store_ceremony(kind, environment_id, &id, state, ttl)
            .await?;
        Ok(id)
    }

    /// Starts a ceremony that only the browser holding the returned binding can finish: the
    /// id may travel in a URL (where history, logs and `Referer` can leak it), the binding
    /// goes into that browser's cookie, and the ceremony is kept under the hash of both, so
    /// an id alone finds nothing and consumes nothing. Returns `(id, binding)`; take it back
    /// with [`bound_ceremony_key`].
    ///
    /// # Errors
    /// A store failure, or state that cannot be serialised.
    pub async fn start_bound_ceremony<T: Serialize>(
        &self,
        kind: &str,
        environment_id: &str,
        state: &T,
        ttl: Duration,
    ) -> Result<(String, String), CeremonyError> {
        let id = random_url_token(32);
        let binding = random_url_token(32);
        self.store_ceremony(
            kind,
            environment_id,
            &bound_ceremony_key(&id, &binding),
            state,
            ttl,
        )
        .await?;
        Ok((id, binding))
    }

    async fn store_ceremony<T: Serialize>(
        &self,
        kind: &str,
        environment_id: &str,
        id: &str,
        state: &T,
        ttl: Duration,
    ) -> Result<(), CeremonyError> {
        let now = self.now();
        let payload = serde_json::to_string(state).map_err(|e| state_error(&e))?;
        self.store()
            .insert_ceremony(&CeremonyRecord {
                id_hash: sha256_hex(id.as_bytes()),
                kind: kind.to_owned(),
                environment_id: environment_id.to_owned(),
                payload,
                expires_at: now + ttl,
                created_at: now,
            })
            .await?;
        // Expired ceremonies are swept now and then by whoever starts a new one.
        if rand::rngs::OsRng.next_u32().is_multiple_of(32) {
            self.store().purge_ceremonies(now).await?;
        }
        Ok(())
    }

    /// Takes a ceremony back by the id the client returned, consuming it.
    ///
    /// # Errors
    /// [`CeremonyError::Gone`] when it is unknown, used, expired or not of `kind` in
    /// `environment_id`; a store failure.
    pub async fn take_ceremony<T: DeserializeOwned>(
        &self,
        kind: &str,
        environment_id: &str,
        id: &str,
    ) -> Result<T, CeremonyError> {
        if id.is_empty() || id.len() > 128 {
            return Err(CeremonyError::Gone);
        }
        let record = self
            .store()
            .take_ceremony(kind, environment_id, &sha256_hex(id.as_bytes()), self.now())
            .await?
            .ok_or(CeremonyError::Gone)?;
        serde_json::from_str(&record.payload).map_err(|e| state_error(&e))
    }
}
