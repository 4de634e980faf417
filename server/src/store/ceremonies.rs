//! The state of multi-step ceremonies (an OAuth redirect, a WebAuthn challenge).

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// The state of a multi-step ceremony (an OAuth redirect, a WebAuthn challenge) between its
/// start and its finish. The ceremony id is handed to the client; only its hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// SHA-256 of the ceremony id, hex.
    pub id_hash: String,
    /// What the ceremony is, e.g. `oauth` or `passkey_sign_in`; a ceremony is only ever
    /// taken back by the kind that made it.
    pub kind: String,
    /// Environment.
    pub environment_id: String,
    /// The method's own state, serialised (JSON).
    pub payload: String,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Debug for CeremonyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CeremonyRecord")
            .field("kind", &self.kind)
            .field("environment_id", &self.environment_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Ceremonies between their start and their finish. Owns taking one back exactly once, by
/// the kind that made it.
#[async_trait]
pub trait CeremonyStore: Send + Sync + Debug {
    /// Stores the state of a ceremony that has just started.
    async fn insert_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError>;
    /// Takes a ceremony back, consuming it: exactly one concurrent caller gets it, and only
    /// when it is of `kind`, in `environment_id` and not expired. Anything else is `None`
    /// (and a ceremony of another kind is left alone).
    async fn take_ceremony(
        &self,
        kind: &str,
        environment_id: &str,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<CeremonyRecord>, StoreError>;
    /// Removes ceremonies that expired before `before`.
    async fn purge_ceremonies(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
