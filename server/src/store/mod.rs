//! The storage contract. Everything that must survive a restart or be shared between server
//! nodes goes through a [`Store`]: users, credentials, sessions, pending sign-ups, and the
//! environments the server created itself.
//!
//! The contract is split by aggregate, one trait per file with its record types: [`users`],
//! [`sessions`], [`codes`] (emailed codes and sign-in links), [`sign_ups`], [`ceremonies`],
//! [`passkeys`], [`identities`] (OAuth), [`gates`], [`rate_limits`], [`second_factors`]
//! (authenticator apps, backup codes), [`keys`] (JWT), [`environments`] and [`revocations`]
//! (the log of changes to sessions that every node follows). A decision that spans several
//! aggregates (proving an address, finishing a sign-up) belongs to the trait of the aggregate
//! that owns it, and is one transaction there.
//! [`Store`] is all of them together: the one object the server holds (`Arc<dyn Store>`).
//! Import [`prelude`] to call the aggregate methods on a concrete store.
//!
//! The one implementation is [`SqlStore`] (module `sql`): SQLite, PostgreSQL and MySQL/MariaDB
//! through sqlx, one file per aggregate, each statement written once over a small dialect type.
//!
//! Single-use and counted operations are single atomic statements here (a conditional
//! `UPDATE` checked by rows affected, a `DELETE` inside the transaction that consumes), never
//! read-then-write in the caller, so that concurrent requests on any number of nodes cannot
//! both win.

pub mod ceremonies;
pub mod codes;
pub mod environments;
pub mod gates;
pub mod identities;
pub mod keys;
pub mod passkeys;
pub mod rate_limits;
pub mod revocations;
pub mod second_factors;
pub mod sessions;
pub mod sign_ups;
mod sql;
pub mod users;

pub(crate) use sql::MAX_LOOKUP_BATCH;
pub use sql::{
    ACQUIRE_TIMEOUT, MySqlStore, PostgresStore, REVOCATION_CHANNEL, SqlPool, SqlStore, SqliteStore,
};

pub use ceremonies::{CeremonyRecord, CeremonyStore};
pub use codes::{AttemptReservation, CodeSend, CodeStore, MagicLinkRecord, UserCodeRecord};
pub use environments::{EnvironmentStore, StoredEnvironment};
pub use gates::{GateRecord, GateStore, GateTarget};
pub use identities::{CreateOAuthUser, IdentityStore, OAuthIdentityRecord};
pub use keys::{JwtKeyRecord, KeyStore};
pub use passkeys::{PasskeyRecord, PasskeyStore};
pub use rate_limits::{AttemptVerdict, RateLimitStore};
pub use revocations::{
    Revocation, RevocationListener, RevocationObserver, RevocationScope, RevocationStore,
};
pub use second_factors::{SecondFactorStore, TotpConfirmation, TotpRecord};
pub use sessions::{SessionRecord, SessionStore};
pub use sign_ups::{CompleteSignUp, SignUpRecord, SignUpStore};
pub use users::{ClaimedMethods, MethodRemoval, SignInMethodRef, UserRecord, UserStore};

use async_trait::async_trait;
use std::fmt::Debug;

/// Every aggregate trait, for callers that use a store: `use crate::store::prelude::*;`.
pub mod prelude {
    pub use super::{
        CeremonyStore, CodeStore, EnvironmentStore, GateStore, IdentityStore, KeyStore,
        PasskeyStore, RateLimitStore, RevocationStore, SecondFactorStore, SessionStore,
        SignUpStore, Store, UserStore,
    };
}

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool timeout).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness constraint was violated; the string names the constraint or column.
    #[error("conflict on {0}")]
    Conflict(String),
    /// Any other database failure.
    #[error("store failure: {0}")]
    Other(String),
}

/// The whole storage contract: every aggregate, plus the database's own upkeep. This is the
/// one object the rest of the server holds.
#[async_trait]
pub trait Store:
    UserStore
    + SessionStore
    + CodeStore
    + SignUpStore
    + CeremonyStore
    + PasskeyStore
    + IdentityStore
    + GateStore
    + RateLimitStore
    + SecondFactorStore
    + KeyStore
    + EnvironmentStore
    + RevocationStore
    + Send
    + Sync
    + Debug
{
    /// Applies embedded migrations; a no-op on an up-to-date database, an error on one
    /// migrated by a newer version.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The connection pool's connections, open and idle, where the store has a pool.
    fn connections(&self) -> Option<(u32, u32)> {
        None
    }
}
