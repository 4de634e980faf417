//! Users and what belongs to a user alone: the account row, its password, and the decisions
//! that span the user's sign-in methods (the first proof of the address, removing a method,
//! deleting the account).

use super::{OAuthIdentityRecord, PasskeyRecord, StoreError};
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// `usr_…`
    pub id: String,
    /// Environment the user belongs to.
    pub environment_id: String,
    /// Email as the user typed it (trimmed).
    pub email: String,
    /// Canonical form used for uniqueness and lookups.
    pub email_canonical: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// The Terms version the user accepted, when the environment versions its Terms.
    pub legal_version: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last update.
    pub updated_at: OffsetDateTime,
}

/// What [`UserStore::prove_email`] removed from an account whose address was not verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimedMethods {
    /// The provider identities that were linked.
    pub identities: Vec<OAuthIdentityRecord>,
    /// The passkeys that were registered.
    pub passkeys: Vec<PasskeyRecord>,
    /// How many sessions were revoked.
    pub sessions: u64,
}

impl ClaimedMethods {
    /// Whether anything but sessions was removed.
    #[must_use]
    pub fn removed_sign_in_methods(&self) -> bool {
        !self.identities.is_empty() || !self.passkeys.is_empty()
    }
}

/// One of a user's sign-in methods, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethodRef<'a> {
    /// A passkey (`pky_…`).
    Passkey(&'a str),
    /// A linked provider account (`oid_…`).
    OAuthIdentity(&'a str),
}

/// The result of removing a sign-in method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodRemoval {
    /// Removed.
    Removed,
    /// The user has no such method.
    NotFound,
    /// It is the user's last way to sign in; kept.
    LastMethod,
}

/// Users, their passwords and profile. Owns the decisions that reach across a user's
/// sign-in methods, because they are about the account: [`UserStore::prove_email`] (which
/// removes identities, passkeys and sessions added while the address was unverified),
/// [`UserStore::remove_sign_in_method`] (never the last one) and [`UserStore::delete_user`]
/// (everything of the user goes with it).
#[async_trait]
pub trait UserStore: Send + Sync + Debug {
    /// A user by canonical email within an environment.
    async fn find_user_by_email(
        &self,
        environment_id: &str,
        email_canonical: &str,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// A user by id.
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Creates a user directly (secret-key API), with an optional password hash.
    async fn insert_user(
        &self,
        user: &UserRecord,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Records the Terms version a user accepted.
    async fn set_legal_version(
        &self,
        user_id: &str,
        version: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Marks a user's email verified.
    async fn set_email_verified(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Sets (or clears) a user's display name.
    async fn set_user_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Replaces a user's email with a verified one; [`StoreError::Conflict`] when another
    /// user of the environment has it.
    async fn set_user_email(
        &self,
        user_id: &str,
        email: &str,
        email_canonical: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Sets (or replaces) a user's password hash.
    async fn set_password(
        &self,
        user_id: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The user's password hash, when they have a password.
    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// The first proof that someone controls a user's address (a password-reset code, a
    /// sign-in link): marks it verified and, in the same transaction, removes every linked
    /// provider identity, passkey and session of the user and the user's
    /// `email_verification` gate. Whatever was added while the address was unverified may be
    /// a squatter's, and the address's owner is the one who has now shown up. `None` when the
    /// address was verified already: nothing is removed, and of concurrent proofs exactly
    /// one gets `Some`.
    async fn prove_email(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ClaimedMethods>, StoreError>;
    /// Removes one of a user's sign-in methods, unless it is their last one (a password,
    /// a linked identity and a passkey each count as one). The check and the removal are one
    /// transaction serialised per user, so concurrent removals cannot take away the last two.
    async fn remove_sign_in_method(
        &self,
        user_id: &str,
        method: SignInMethodRef<'_>,
    ) -> Result<MethodRemoval, StoreError>;
    /// Deletes a user; their password, sessions and other rows go with them. False when
    /// there was no such user.
    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError>;
}
