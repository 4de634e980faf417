//! Pending sign-ups: what the user entered, waiting for the emailed code.

use super::{AttemptReservation, CodeSend, SessionRecord, StoreError, UserRecord};
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// A pending sign-up: everything the user entered, waiting for the emailed code.
#[derive(Clone, PartialEq, Eq)]
pub struct SignUpRecord {
    /// `sgu_…`
    pub id: String,
    /// Environment.
    pub environment_id: String,
    /// Email as typed (trimmed).
    pub email: String,
    /// Canonical email.
    pub email_canonical: String,
    /// Display name.
    pub name: Option<String>,
    /// argon2id PHC string of the chosen password.
    pub password_hash: Option<String>,
    /// When consent was given, if the environment asks for it.
    pub legal_accepted_at: Option<OffsetDateTime>,
    /// The Terms version consented to, when the environment versions its Terms.
    pub legal_version: Option<String>,
    /// Hash of the current code.
    pub code_hash: String,
    /// When the current code stops working.
    pub code_expires_at: OffsetDateTime,
    /// Tries used in this sign-up, across every code sent for it.
    pub attempts: u32,
    /// Earliest time a resend is accepted.
    pub resend_available_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Debug for SignUpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpRecord")
            .field("id", &self.id)
            .field("environment_id", &self.environment_id)
            .field("email", &self.email)
            .field("attempts", &self.attempts)
            .field("code_expires_at", &self.code_expires_at)
            .finish_non_exhaustive()
    }
}

/// The result of finishing a sign-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompleteSignUp {
    /// The user and session were created.
    Created(UserRecord),
    /// Another request finished (or removed) this sign-up first.
    AlreadyConsumed,
    /// An account with this email exists now.
    EmailTaken,
}

/// Pending sign-ups and their codes. Owns [`SignUpStore::complete_sign_up`], which consumes
/// the sign-up and creates the user, their password and their first session in one
/// transaction.
#[async_trait]
pub trait SignUpStore: Send + Sync + Debug {
    /// Stores a new pending sign-up.
    async fn insert_sign_up(&self, sign_up: &SignUpRecord) -> Result<(), StoreError>;
    /// A pending sign-up by id within an environment.
    async fn get_sign_up(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<SignUpRecord>, StoreError>;
    /// Atomically counts one try on the current code, if it is alive and the sign-up has
    /// tries left (counted across every code it was sent).
    async fn reserve_sign_up_attempt(
        &self,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError>;
    /// Atomically replaces the code when the resend cooldown has passed and fewer than
    /// `max_attempts` tries were used; the count of tries is kept.
    async fn replace_sign_up_code(
        &self,
        id: &str,
        code_hash: &str,
        code_expires_at: OffsetDateTime,
        resend_available_at: OffsetDateTime,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<CodeSend, StoreError>;
    /// In one transaction: consumes the sign-up, creates the user (with its password, if any)
    /// and the session. Exactly one concurrent caller gets [`CompleteSignUp::Created`].
    async fn complete_sign_up(
        &self,
        sign_up_id: &str,
        user: &UserRecord,
        password_hash: Option<&str>,
        session: &SessionRecord,
    ) -> Result<CompleteSignUp, StoreError>;
    /// Removes pending sign-ups created before `before`.
    async fn purge_sign_ups(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
