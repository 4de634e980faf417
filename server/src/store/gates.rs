//! Gates: steps a user or a session must complete before the session is fully usable.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// What a gate is required on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateTarget<'a> {
    /// A user: every session of theirs, present and future.
    User(&'a str),
    /// One session alone.
    Session(&'a str),
}

/// A required gate as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRecord {
    /// The gate key's wire form.
    pub key: String,
    /// When it was required (orders application-defined gates).
    pub created_at: OffsetDateTime,
}

/// Gates required on a user or on one session. Whether a session has any is also answered by
/// the session lookup ([`super::SessionStore::session_for_request`]).
#[async_trait]
pub trait GateStore: Send + Sync + Debug {
    /// Requires a gate; requiring it again changes nothing.
    async fn require_gate(
        &self,
        target: GateTarget<'_>,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Clears a gate; false when it was not required.
    async fn clear_gate(&self, target: GateTarget<'_>, key: &str) -> Result<bool, StoreError>;
    /// The gates of a user and of one of their sessions, together, in no particular order.
    async fn gates(&self, user_id: &str, session_id: &str) -> Result<Vec<GateRecord>, StoreError>;
}
