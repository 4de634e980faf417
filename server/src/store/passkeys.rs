//! Passkeys (WebAuthn credentials).

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// A passkey (WebAuthn credential) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// `pky_…`
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Environment of the owner.
    pub environment_id: String,
    /// The credential id, base64url without padding; unique across every user.
    pub credential_id: String,
    /// webauthn-rs's serialised `Passkey` (public key, counter, backup state), JSON.
    pub credential: String,
    /// The signature counter last seen, repeated out of `credential` for the atomic update.
    pub sign_count: u32,
    /// What the user calls it.
    pub name: String,
    /// Registration time.
    pub created_at: OffsetDateTime,
    /// Last sign-in with it.
    pub last_used_at: Option<OffsetDateTime>,
}

/// Passkeys. Owns the uniqueness of credential ids and the forward-only signature counter.
/// Removing one is [`super::UserStore::remove_sign_in_method`], which decides whether it is
/// the user's last way to sign in.
#[async_trait]
pub trait PasskeyStore: Send + Sync + Debug {
    /// Stores a newly registered passkey; [`StoreError::Conflict`] when its credential id is
    /// already registered, to anyone.
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> Result<(), StoreError>;
    /// A user's passkeys, oldest first.
    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, StoreError>;
    /// How many passkeys a user has.
    async fn count_passkeys(&self, user_id: &str) -> Result<u64, StoreError>;
    /// A passkey by credential id within an environment.
    async fn find_passkey_by_credential_id(
        &self,
        environment_id: &str,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError>;
    /// After a sign-in: stores the updated credential, its counter and the time of use, only
    /// when the counter moved forward (or both the stored and the new counter are 0, for
    /// authenticators without one). False when it did not: a counter going backwards, or a
    /// concurrent sign-in that got there first, or the passkey is gone.
    async fn record_passkey_use(
        &self,
        id: &str,
        credential: &str,
        sign_count: u32,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Renames a user's passkey; false when the user has no such passkey.
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str)
    -> Result<bool, StoreError>;
}
