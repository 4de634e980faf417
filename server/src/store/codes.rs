//! Codes and links emailed to an existing user: one live code per user and purpose (email
//! verification, password reset, email change), and sign-in links.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// What a code attempt may do, decided atomically by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptReservation {
    /// The attempt is counted; this is how many have been used, this one included.
    Reserved(u32),
    /// No such pending sign-up.
    NotFound,
    /// The code expired (the ceremony has tries left: a resend brings a new code).
    Expired,
    /// The ceremony's tries are used up: no code of it will ever be accepted.
    Exhausted,
}

/// What storing a new code for a ceremony did, decided atomically by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSend {
    /// The code is stored; the ceremony's count of tries is unchanged.
    Sent,
    /// The previous code's resend cooldown runs until then; nothing changed.
    Cooldown(OffsetDateTime),
    /// The ceremony's tries are used up; nothing changed.
    Exhausted,
    /// No such ceremony.
    NotFound,
}

/// A code sent to a signed-in user's address for one purpose (one live code per purpose).
#[derive(Clone, PartialEq, Eq)]
pub struct UserCodeRecord {
    /// `cod_…`
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// What the code is for, e.g. `email_verification`.
    pub purpose: String,
    /// The address the code was sent to when it is not the user's own (an email change's
    /// new address).
    pub target: Option<String>,
    /// Hash of the code.
    pub code_hash: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Tries used in this ceremony, across every code sent in it.
    pub attempts: u32,
    /// Earliest time a replacement is accepted.
    pub resend_available_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When the ceremony ends: until then a new code for the same user and purpose keeps the
    /// count of tries; after it a new ceremony starts from zero.
    pub ceremony_expires_at: OffsetDateTime,
}

impl Debug for UserCodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCodeRecord")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// A sign-in link; the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLinkRecord {
    /// `mlk_…`
    pub id: String,
    /// Environment.
    pub environment_id: String,
    /// Who it signs in.
    pub user_id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Where to send the browser afterwards (already checked against the allow-list).
    pub redirect_url: Option<String>,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// Emailed codes of existing users and sign-in links. Owns their single use: counting a try,
/// replacing a code within its ceremony, and consuming a code or a link, each one atomic
/// statement. (A pending sign-up's code lives with the sign-up, in [`super::SignUpStore`].)
#[async_trait]
pub trait CodeStore: Send + Sync + Debug {
    /// Stores a new code for a user and purpose (atomically). Within a live ceremony the code
    /// replaces the current one (keeping the count of tries and the ceremony's end) only when
    /// its resend cooldown has passed and fewer than `max_attempts` tries were used; once the
    /// ceremony has ended, `code` starts a new one. Never [`CodeSend::NotFound`].
    async fn put_user_code(
        &self,
        code: &UserCodeRecord,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<CodeSend, StoreError>;
    /// The live code of a user for a purpose.
    async fn get_user_code(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> Result<Option<UserCodeRecord>, StoreError>;
    /// Atomically counts one try on a live code whose ceremony has tries left.
    async fn reserve_user_code_attempt(
        &self,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError>;
    /// Consumes a code; exactly one concurrent caller gets true.
    async fn consume_user_code(&self, id: &str) -> Result<bool, StoreError>;
    /// Stores a sign-in link, invalidating the user's older ones in the same transaction.
    async fn insert_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError>;
    /// A link by token hash, without consuming it (the landing page's check).
    async fn find_magic_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<MagicLinkRecord>, StoreError>;
    /// Consumes a live link by token hash: exactly one concurrent caller gets it; used,
    /// expired and unknown links are all `None`.
    async fn consume_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<MagicLinkRecord>, StoreError>;
}
