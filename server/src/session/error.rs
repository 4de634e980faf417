//! The error of signing in and of authenticating a session, saying where a failure came from:
//! the store, the server's own machinery (JWT signing, the lookup coalescer), or the store
//! while the JWT key set was read again for a token naming an unknown key.

use crate::error::internal::InternalError;
use crate::store::StoreError;

/// Why a session could not be created, signed, found or refreshed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure that is nobody's input and not the store's: no JWT key loaded, a JWT that
    /// could not be signed, key material that could not be opened, or a session lookup
    /// abandoned by the task that carried it.
    #[error(transparent)]
    Internal(#[from] InternalError),
    /// The store failed while the JWT key set was read again (a token named a key this node
    /// did not hold). Answered as an opaque 500 unless the store was unreachable, which is
    /// `503 store_unavailable` like every other request the outage fails.
    #[error("reading the JWT key set again: {0}")]
    KeyReload(StoreError),
}
