//! The session revocation log: what nodes that answer session lookups from memory follow so
//! that a change made through any node reaches all of them.
//!
//! Every write of the store that ends or alters a session, or changes what a session lookup
//! answers about its user (sign-out and revocations, a re-authentication, a gate required or
//! cleared, a password, name, email or Terms version set, the address proven, the user
//! deleted), appends a [`Revocation`] in its own transaction, so a committed change always has
//! its entry. Ids are gap-free and become visible in order: a reader that read up to id `n`
//! has missed nothing at or below `n`. Besides, the store tells the observers registered in
//! this process ([`RevocationStore::observe_revocations`]) right after such a write commits.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use std::sync::Weak;
use time::OffsetDateTime;

/// What an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RevocationScope {
    /// One session (`ses_…`).
    Session(String),
    /// A user (`usr_…`): every session of theirs.
    User(String),
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Position in the log: 1, 2, 3, … without gaps.
    pub id: i64,
    /// The session or user it is about.
    pub scope: RevocationScope,
    /// When it was appended (the appending process's clock; used to prune).
    pub created_at: OffsetDateTime,
}

/// Told of this process's own revoking writes right after they commit.
pub trait RevocationObserver: Send + Sync {
    /// A write about these scopes committed.
    fn revoked(&self, scopes: &[RevocationScope]);
}

/// A connection told of every commit that appended to the log (PostgreSQL `LISTEN`).
#[async_trait]
pub trait RevocationListener: Send {
    /// Waits until entries may have been appended: a notification came, or the connection
    /// was lost and made again (notifications sent meanwhile are lost: read the log).
    ///
    /// # Errors
    /// The connection failed and could not be made again; make a new listener.
    async fn wait(&mut self) -> Result<(), StoreError>;
}

/// The revocation log.
#[async_trait]
pub trait RevocationStore: Send + Sync + Debug {
    /// The id of the last entry appended so far (0 when none ever was).
    async fn last_revocation_id(&self) -> Result<i64, StoreError>;
    /// Entries after `after`, oldest first, at most `limit`.
    async fn revocations_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Revocation>, StoreError>;
    /// Removes entries appended before `before`; returns how many.
    async fn prune_revocations(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
    /// Registers an observer of this process's own revoking writes, held weakly (it stops
    /// being told once dropped).
    fn observe_revocations(&self, observer: Weak<dyn RevocationObserver>);
    /// A listener on the log when the database can push commits (PostgreSQL), its connection
    /// named `application_name`; `None` on a database that cannot (the log is polled).
    async fn revocation_listener(
        &self,
        application_name: &str,
    ) -> Result<Option<Box<dyn RevocationListener>>, StoreError>;
}
