//! [`SessionStore`] on SQL, with the batched lookup every request goes through.

use super::db::{Param, Row, question};
use super::records::insert_session;
use super::records::user_from;
use super::{SqlPool, SqlStore, map_err};
use crate::store::{RevocationScope, SessionRecord, SessionStore, StoreError, UserRecord};
use async_trait::async_trait;
use std::sync::OnceLock;
use time::OffsetDateTime;

const SESSION_COLUMNS: &str = "id, environment_id, user_id, token_hash, created_at, expires_at, last_active_at, \
     authenticated_at, user_agent, ip";

/// The names [`session_from`] reads, selected plainly.
const SESSION_NAMES: [&str; 10] = [
    "id",
    "environment_id",
    "user_id",
    "token_hash",
    "created_at",
    "expires_at",
    "last_active_at",
    "authenticated_at",
    "user_agent",
    "ip",
];

/// The names of the session columns in the lookup ([`session_lookup_sql`]).
const LOOKUP_SESSION_NAMES: [&str; 10] = [
    "s_id",
    "s_environment_id",
    "s_user_id",
    "s_token_hash",
    "s_created_at",
    "s_expires_at",
    "s_last_active_at",
    "s_authenticated_at",
    "s_user_agent",
    "s_ip",
];

/// The names of the user columns in the lookup ([`session_lookup_sql`]).
const LOOKUP_USER_NAMES: [&str; 9] = [
    "u_id",
    "u_environment_id",
    "u_email",
    "u_email_canonical",
    "u_name",
    "u_email_verified",
    "u_legal_version",
    "u_created_at",
    "u_updated_at",
];

/// The padded sizes of a batched session lookup ([`SessionStore::sessions_for_requests`]).
const LOOKUP_BATCH_SIZES: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];
/// The most token hashes one lookup query carries.
pub(crate) const MAX_LOOKUP_BATCH: usize = LOOKUP_BATCH_SIZES[LOOKUP_BATCH_SIZES.len() - 1];

/// The session lookup of every request, for `size` token hashes (`$1`…`$size`): the session,
/// its user, and whether any gate is stored on either, in one indexed query.
fn session_lookup_sql(size: usize) -> String {
    let mut placeholders = String::new();
    for n in 1..=size {
        if n > 1 {
            placeholders.push_str(", ");
        }
        placeholders.push('$');
        placeholders.push_str(&n.to_string());
    }
    format!(
        "SELECT s.id AS s_id, s.environment_id AS s_environment_id, s.user_id AS s_user_id,
            s.token_hash AS s_token_hash, s.created_at AS s_created_at,
            s.expires_at AS s_expires_at, s.last_active_at AS s_last_active_at,
            s.user_agent AS s_user_agent, s.ip AS s_ip,
            s.authenticated_at AS s_authenticated_at,
            u.id AS u_id, u.environment_id AS u_environment_id, u.email AS u_email,
            u.email_canonical AS u_email_canonical, u.name AS u_name,
            u.email_verified AS u_email_verified, u.legal_version AS u_legal_version,
            u.created_at AS u_created_at,
            u.updated_at AS u_updated_at,
            CASE WHEN EXISTS (SELECT 1 FROM user_gates g WHERE g.user_id = s.user_id)
                  OR EXISTS (SELECT 1 FROM session_gates g WHERE g.session_id = s.id)
                 THEN 1 ELSE 0 END AS has_gates
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash IN ({placeholders})"
    )
}

/// The lookup statements of every padded size, built once per placeholder style.
fn lookup_statements(db: &SqlPool) -> &'static [String] {
    static DOLLAR: OnceLock<Vec<String>> = OnceLock::new();
    static QUESTION: OnceLock<Vec<String>> = OnceLock::new();
    let (cell, mysql) = match db {
        SqlPool::MySql(_) => (&QUESTION, true),
        SqlPool::Sqlite(_) | SqlPool::Postgres(_) => (&DOLLAR, false),
    };
    cell.get_or_init(|| {
        LOOKUP_BATCH_SIZES
            .iter()
            .map(|&size| {
                let sql = session_lookup_sql(size);
                if mysql { question(&sql) } else { sql }
            })
            .collect()
    })
}

/// A session row whose columns are named `names` (see [`SESSION_NAMES`]).
fn session_from(row: &Row, names: &[&str; 10]) -> Result<SessionRecord, StoreError> {
    let [
        id,
        environment_id,
        user_id,
        token_hash,
        created_at,
        expires_at,
        last_active_at,
        authenticated_at,
        user_agent,
        ip,
    ] = *names;
    Ok(SessionRecord {
        id: row.text(id)?,
        environment_id: row.text(environment_id)?,
        user_id: row.text(user_id)?,
        token_hash: row.text(token_hash)?,
        created_at: row.time(created_at)?,
        expires_at: row.time(expires_at)?,
        last_active_at: row.time(last_active_at)?,
        authenticated_at: row.time(authenticated_at)?,
        user_agent: row.opt_text(user_agent)?,
        ip: row.opt_text(ip)?,
    })
}

/// One row of the lookup: the session, its user, and whether either has a gate.
fn lookup_from(row: &Row) -> Result<(SessionRecord, UserRecord, bool), StoreError> {
    Ok((
        session_from(row, &LOOKUP_SESSION_NAMES)?,
        user_from(row, &LOOKUP_USER_NAMES)?,
        row.flag("has_gates")?,
    ))
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut conn = self.db.acquire().await.map_err(map_err)?;
        insert_session(&mut conn.exec(), session).await
    }

    async fn session_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        // One lookup for every caller; the gate flag is a cheap indexed probe.
        Ok(self
            .session_for_request(token_hash)
            .await?
            .map(|(session, user, _)| (session, user)))
    }

    async fn session_for_request(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord, bool)>, StoreError> {
        Ok(self
            .sessions_for_requests(&[token_hash.to_owned()])
            .await?
            .pop())
    }

    async fn sessions_for_requests(
        &self,
        token_hashes: &[String],
    ) -> Result<Vec<(SessionRecord, UserRecord, bool)>, StoreError> {
        let statements = lookup_statements(&self.db);
        let mut found = Vec::with_capacity(token_hashes.len());
        for chunk in token_hashes.chunks(MAX_LOOKUP_BATCH) {
            // The list is padded (with its last hash) to one of a few sizes, so that a
            // handful of prepared statements serve every batch.
            let slot = LOOKUP_BATCH_SIZES
                .iter()
                .position(|&size| size >= chunk.len())
                .unwrap_or(LOOKUP_BATCH_SIZES.len() - 1);
            let size = LOOKUP_BATCH_SIZES[slot];
            let mut params = [Param::Int(0); MAX_LOOKUP_BATCH];
            for (i, param) in params.iter_mut().take(size).enumerate() {
                *param = Param::Text(&chunk[i.min(chunk.len() - 1)]);
            }
            let mut conn = self.db.acquire().await.map_err(map_err)?;
            let rows = conn
                .exec()
                .fetch_all_native(&statements[slot], &params[..size], lookup_from)
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    async fn touch_session(
        &self,
        session_id: &str,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.db
            .run(
                "UPDATE sessions SET last_active_at = $1 WHERE id = $2 AND last_active_at < $3",
                &[
                    Param::Time(now),
                    Param::Text(session_id),
                    Param::Time(stale_before),
                ],
            )
            .await
    }

    async fn get_session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.db
            .find(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"),
                &[Param::Text(session_id)],
                |row| session_from(row, &SESSION_NAMES),
            )
            .await
    }

    async fn list_user_sessions(&self, user_id: &str) -> Result<Vec<SessionRecord>, StoreError> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1
                     ORDER BY last_active_at DESC, id"
                ),
                &[Param::Text(user_id)],
                |row| session_from(row, &SESSION_NAMES),
            )
            .await
    }

    async fn reauthenticate_session(
        &self,
        session_id: &str,
        at: OffsetDateTime,
        token_hash: &str,
    ) -> Result<bool, StoreError> {
        self.execute_revoking(
            "UPDATE sessions SET authenticated_at = $1, token_hash = $2 WHERE id = $3",
            &[
                Param::Time(at),
                Param::Text(token_hash),
                Param::Text(session_id),
            ],
            RevocationScope::Session(session_id.to_owned()),
        )
        .await
        .map(|affected| affected == 1)
    }

    async fn set_session_authenticated(
        &self,
        session_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.execute_revoking(
            "UPDATE sessions SET authenticated_at = $1 WHERE id = $2",
            &[Param::Time(at), Param::Text(session_id)],
            RevocationScope::Session(session_id.to_owned()),
        )
        .await
        .map(|affected| affected == 1)
    }

    async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
        self.execute_revoking(
            "DELETE FROM sessions WHERE id = $1",
            &[Param::Text(session_id)],
            RevocationScope::Session(session_id.to_owned()),
        )
        .await
        .map(|affected| affected == 1)
    }

    async fn delete_user_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        self.execute_revoking(
            "DELETE FROM sessions WHERE id = $1 AND user_id = $2",
            &[Param::Text(session_id), Param::Text(user_id)],
            RevocationScope::Session(session_id.to_owned()),
        )
        .await
        .map(|affected| affected == 1)
    }

    async fn delete_other_sessions(&self, user_id: &str, keep: &str) -> Result<u64, StoreError> {
        self.execute_revoking(
            "DELETE FROM sessions WHERE user_id = $1 AND id <> $2",
            &[Param::Text(user_id), Param::Text(keep)],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
        self.execute_revoking(
            "DELETE FROM sessions WHERE user_id = $1",
            &[Param::Text(user_id)],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
    }
}
