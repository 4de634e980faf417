//! [`RevocationStore`] on SQL, and the append every revoking write makes in its transaction.
//!
//! An append first bumps the one-row `session_revocation_head` and takes the new id from it:
//! the row lock queues concurrent appenders until the one before commits, so ids are gap-free
//! and committed in order (a sequence or auto-increment would let id 11 commit before id 10,
//! and a reader that had moved past 11 would never see 10). The append is the last statement of
//! its transaction, so the row is held only until the commit. On PostgreSQL the same
//! transaction sends a `NOTIFY`, delivered to listeners only if it commits.

use super::db::{Exec, Param, SqlPool};
use super::{SqlStore, map_err};
use crate::store::{
    Revocation, RevocationListener, RevocationObserver, RevocationScope, RevocationStore,
    StoreError,
};
use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPoolOptions};
use std::sync::{Mutex, PoisonError, Weak};
use time::OffsetDateTime;

/// The PostgreSQL channel a commit that appended to the log notifies.
pub const REVOCATION_CHANNEL: &str = "torii_session_revocations";

/// The observers of this process's own revoking writes.
#[derive(Default)]
pub(super) struct Observers(Mutex<Vec<Weak<dyn RevocationObserver>>>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observers").finish_non_exhaustive()
    }
}

impl Observers {
    fn add(&self, observer: Weak<dyn RevocationObserver>) {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|o| o.strong_count() > 0);
        list.push(observer);
    }

    fn tell(&self, scopes: &[RevocationScope]) {
        let list: Vec<_> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for observer in list {
            observer.revoked(scopes);
        }
    }
}

/// Appends one entry in the transaction `exec` runs in; the caller commits, then calls
/// [`SqlStore::announce`].
pub(super) async fn append(exec: &mut Exec<'_>, scope: &RevocationScope) -> Result<(), StoreError> {
    let (session_id, user_id) = match scope {
        RevocationScope::Session(id) => (Some(id.as_str()), None),
        RevocationScope::User(id) => (None, Some(id.as_str())),
    };
    exec.run(
        "UPDATE session_revocation_head SET last_id = last_id + 1 WHERE singleton = 1",
        &[],
    )
    .await?;
    exec.run(
        "INSERT INTO session_revocations (id, session_id, user_id, created_at)
         SELECT last_id, $1, $2, $3 FROM session_revocation_head WHERE singleton = 1",
        &[
            Param::OptText(session_id),
            Param::OptText(user_id),
            Param::Time(OffsetDateTime::now_utc()),
        ],
    )
    .await?;
    if matches!(exec, Exec::Postgres(_)) {
        exec.run(
            &format!("SELECT pg_notify('{REVOCATION_CHANNEL}', '')"),
            &[],
        )
        .await?;
    }
    Ok(())
}

impl SqlStore {
    /// Tells this process's observers that a write about `scopes` committed.
    pub(super) fn announce(&self, scopes: &[RevocationScope]) {
        self.observers.tell(scopes);
    }

    /// Runs one statement in a transaction and, when it changed a row, appends `scope` to the
    /// log in the same transaction; rows affected.
    pub(super) async fn execute_revoking(
        &self,
        sql: &str,
        params: &[Param<'_>],
        scope: RevocationScope,
    ) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let affected = tx.exec().execute(sql, params).await.map_err(map_err)?;
        if affected == 0 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(0);
        }
        append(&mut tx.exec(), &scope).await?;
        tx.commit().await.map_err(map_err)?;
        self.announce(&[scope]);
        Ok(affected)
    }
}

/// [`RevocationListener`] on a PostgreSQL connection of its own.
struct PgRevocationListener(PgListener);

#[async_trait]
impl RevocationListener for PgRevocationListener {
    async fn wait(&mut self) -> Result<(), StoreError> {
        // `Ok(None)`: the connection was lost and made again; whatever was sent meanwhile is
        // lost, which the caller makes up for by reading the log.
        self.0.try_recv().await.map(|_| ()).map_err(map_err)
    }
}

#[async_trait]
impl RevocationStore for SqlStore {
    async fn last_revocation_id(&self) -> Result<i64, StoreError> {
        let row = self
            .db
            .fetch_one(
                "SELECT last_id FROM session_revocation_head WHERE singleton = 1",
                &[],
            )
            .await?;
        row.int("last_id")
    }

    async fn revocations_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Revocation>, StoreError> {
        self.db
            .fetch_all(
                "SELECT id, session_id, user_id, created_at FROM session_revocations
                 WHERE id > $1 ORDER BY id LIMIT $2",
                &[Param::Int(after), Param::Int(i64::from(limit))],
                |row| {
                    let scope = match (row.opt_text("session_id")?, row.opt_text("user_id")?) {
                        (Some(session), _) => RevocationScope::Session(session),
                        (None, Some(user)) => RevocationScope::User(user),
                        (None, None) => {
                            return Err(StoreError::Other(
                                "a revocation names neither a session nor a user".to_owned(),
                            ));
                        }
                    };
                    Ok(Revocation {
                        id: row.int("id")?,
                        scope,
                        created_at: row.time("created_at")?,
                    })
                },
            )
            .await
    }

    async fn prune_revocations(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.db
            .execute(
                "DELETE FROM session_revocations WHERE created_at < $1",
                &[Param::Time(before)],
            )
            .await
    }

    fn observe_revocations(&self, observer: Weak<dyn RevocationObserver>) {
        self.observers.add(observer);
    }

    async fn revocation_listener(
        &self,
        application_name: &str,
    ) -> Result<Option<Box<dyn RevocationListener>>, StoreError> {
        let SqlPool::Postgres(pool) = &self.db else {
            return Ok(None);
        };
        // A pool of one connection of its own, named so that an operator (or a test) can tell
        // it apart; the listener reconnects through it.
        let options = (*pool.connect_options())
            .clone()
            .application_name(application_name);
        let own = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let mut listener = PgListener::connect_with(&own).await.map_err(map_err)?;
        listener.ignore_pool_close_event(true);
        listener.listen(REVOCATION_CHANNEL).await.map_err(map_err)?;
        Ok(Some(Box::new(PgRevocationListener(listener))))
    }
}
