//! Second factors: a user's authenticator app (TOTP) and backup codes, and when a session last
//! verified a second factor.
//!
//! An authenticator is one row per user: enrolled (its secret sealed under the server key),
//! then confirmed by a first code. The last time step a code was accepted for is kept on the
//! row, and a code is accepted only for a strictly later step, in one conditional statement,
//! so the same code cannot sign in twice, even from two requests at once. Backup codes are
//! stored as MACs; using one is one conditional statement checked by rows affected.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// A user's authenticator app as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// Owner.
    pub user_id: String,
    /// The shared secret, sealed under the server key and bound to the user id.
    pub sealed_secret: String,
    /// When it was enrolled.
    pub created_at: OffsetDateTime,
    /// When its first code confirmed it; `None` while the enrolment waits for one.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The last time step (Unix time / 30 s) a code was accepted for; 0 before the first.
    pub last_step: i64,
}

impl Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// What confirming an authenticator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpConfirmation {
    /// No unconfirmed enrolment (none, or already confirmed).
    NotPending,
    /// Confirmed; the backup codes given were stored (the user had none left).
    ConfirmedWithCodes,
    /// Confirmed; the user still had backup codes, which were kept.
    Confirmed,
}

/// Second factors. Owns the single use of authenticator time steps and backup codes.
#[async_trait]
pub trait SecondFactorStore: Send + Sync + Debug {
    /// The user's authenticator, confirmed or not.
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, StoreError>;
    /// Stores a new unconfirmed authenticator, replacing an older unconfirmed one; false
    /// (nothing changed) when the user has a confirmed one.
    async fn enroll_totp(&self, record: &TotpRecord) -> Result<bool, StoreError>;
    /// Confirms the unconfirmed authenticator whose code for `step` was right: records the
    /// step as used and, when the user has no unused backup code, stores `backup_code_macs`
    /// as their new set, in one transaction.
    async fn confirm_totp(
        &self,
        user_id: &str,
        step: i64,
        now: OffsetDateTime,
        backup_code_macs: &[String],
    ) -> Result<TotpConfirmation, StoreError>;
    /// Records that a code of `step` was accepted, only when the authenticator is confirmed
    /// and its last accepted step is earlier; false when it is not (a replay, or no
    /// confirmed authenticator).
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError>;
    /// Every authenticator's user and sealed secret (for re-sealing them under a new server
    /// key), in no particular order.
    async fn totp_secrets(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// Replaces a user's sealed secret with the same secret sealed anew, only while it is
    /// still `old` (a new enrolment meanwhile is kept); false when it was not.
    async fn reseal_totp_secret(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError>;
    /// Removes the user's authenticator (confirmed or not) and, with it, every backup code;
    /// false when there was none.
    async fn delete_totp(&self, user_id: &str) -> Result<bool, StoreError>;
    /// Replaces every backup code of the user (used or not) with a new set.
    async fn replace_backup_codes(
        &self,
        user_id: &str,
        code_macs: &[String],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Uses one unused backup code whose MAC is one of `code_macs` (the MAC under the
    /// current server key and, during a rotation, the previous one); false when none is.
    async fn use_backup_code(
        &self,
        user_id: &str,
        code_macs: &[String],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// How many unused backup codes the user has.
    async fn count_backup_codes(&self, user_id: &str) -> Result<u32, StoreError>;
    /// Removes the user's authenticator and backup codes; true when there was anything.
    async fn reset_second_factors(&self, user_id: &str) -> Result<bool, StoreError>;
    /// Records that a session verified a second factor at `at`; false when it does not exist.
    async fn set_session_second_factor(
        &self,
        session_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// When a session last verified a second factor: `None` for no such session,
    /// `Some(None)` for one that never did.
    async fn session_second_factor(
        &self,
        session_id: &str,
    ) -> Result<Option<Option<OffsetDateTime>>, StoreError>;
}
