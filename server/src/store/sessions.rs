//! Sessions: the lookup of every request, and revocation.

use super::{StoreError, UserRecord};
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// A session row. The token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// `ses_…`
    pub id: String,
    /// Environment the session belongs to.
    pub environment_id: String,
    /// Owner.
    pub user_id: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Last time a request used it (written at most once a minute).
    pub last_active_at: OffsetDateTime,
    /// When the user last proved who they are on this session: its sign-in, or a later
    /// re-authentication. Sensitive account changes ask for a recent one.
    pub authenticated_at: OffsetDateTime,
    /// Client user agent at creation.
    pub user_agent: Option<String>,
    /// Client IP at creation.
    pub ip: Option<String>,
}

/// Sessions. Owns the per-request lookup (one query for the session, its user and whether
/// any gate is stored) and every way a session ends. Sessions created together with a user are
/// stored by [`super::SignUpStore::complete_sign_up`] and
/// [`super::IdentityStore::create_oauth_user`], in their transaction.
#[async_trait]
pub trait SessionStore: Send + Sync + Debug {
    /// Stores a new session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A session and its user by token hash, in one query.
    async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// [`SessionStore::session_by_token_hash`] plus whether any gate is stored on the session or its
    /// user, still in one round trip, so that a request on a session without gates (the common
    /// case) needs no second query. The default answers `true` (look the gates up).
    async fn session_for_request(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord, bool)>, StoreError> {
        Ok(self
            .session_by_token_hash(token_hash)
            .await?
            .map(|(session, user)| (session, user, true)))
    }
    /// [`SessionStore::session_for_request`] for several token hashes at once: the sessions found,
    /// in any order (each names its token hash), no more than one per hash. The SQL stores
    /// answer with one query; the default asks once per hash.
    async fn sessions_for_requests(
        &self,
        token_hashes: &[String],
    ) -> Result<Vec<(SessionRecord, UserRecord, bool)>, StoreError> {
        let mut found = Vec::with_capacity(token_hashes.len());
        for hash in token_hashes {
            if let Some(one) = self.session_for_request(hash).await? {
                found.push(one);
            }
        }
        Ok(found)
    }
    /// Marks a session used now, only when its last mark is older than `stale_before`.
    async fn touch_session(
        &self,
        session_id: &str,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// A session by id.
    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Every session of a user, most recently active first (expired ones included: the
    /// caller decides what is still valid).
    async fn list_user_sessions(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError>;
    /// Records a re-authentication on a session and gives it a new token hash in the same
    /// statement (the old token stops working); false when it does not exist.
    async fn reauthenticate_session(
        &self,
        session_id: &str,
        at: OffsetDateTime,
        token_hash: &str,
    ) -> Result<bool, StoreError>;
    /// Records a re-authentication on a session; false when it does not exist.
    async fn set_session_authenticated(
        &self,
        session_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Revokes a session; false when it did not exist.
    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError>;
    /// Revokes one session of a user; false when the user has no session with this id (so
    /// another user's session is never touched).
    async fn delete_user_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError>;
    /// Revokes every session of a user except `keep`; returns how many.
    async fn delete_other_sessions(&self, user_id: &str, keep: &str) -> Result<u64, StoreError>;
    /// Revokes every session of a user; returns how many.
    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError>;
}
