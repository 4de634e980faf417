//! [`GateStore`] on SQL.

use super::SqlStore;
use super::db::Param;
use crate::store::{GateRecord, GateStore, GateTarget, RevocationScope, StoreError};
use async_trait::async_trait;
use time::OffsetDateTime;

/// The log entry a change of a gate on `target` appends.
fn scope(target: GateTarget<'_>) -> RevocationScope {
    match target {
        GateTarget::User(id) => RevocationScope::User(id.to_owned()),
        GateTarget::Session(id) => RevocationScope::Session(id.to_owned()),
    }
}

#[async_trait]
impl GateStore for SqlStore {
    async fn require_gate(
        &self,
        target: GateTarget<'_>,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (sql, id) = match target {
            GateTarget::User(id) => (
                "INSERT INTO user_gates (user_id, gate_key, created_at) VALUES ($1, $2, $3)",
                id,
            ),
            GateTarget::Session(id) => (
                "INSERT INTO session_gates (session_id, gate_key, created_at) VALUES ($1, $2, $3)",
                id,
            ),
        };
        let inserted = self
            .execute_revoking(
                sql,
                &[Param::Text(id), Param::Text(key), Param::Time(now)],
                scope(target),
            )
            .await;
        match inserted {
            // Already required: idempotent, and the original order is kept.
            Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(other) => Err(other),
        }
    }

    async fn clear_gate(&self, target: GateTarget<'_>, key: &str) -> Result<bool, StoreError> {
        let (sql, id) = match target {
            GateTarget::User(id) => (
                "DELETE FROM user_gates WHERE user_id = $1 AND gate_key = $2",
                id,
            ),
            GateTarget::Session(id) => (
                "DELETE FROM session_gates WHERE session_id = $1 AND gate_key = $2",
                id,
            ),
        };
        self.execute_revoking(sql, &[Param::Text(id), Param::Text(key)], scope(target))
            .await
            .map(|affected| affected == 1)
    }

    async fn gates(&self, user_id: &str, session_id: &str) -> Result<Vec<GateRecord>, StoreError> {
        self.db
            .fetch_all(
                "SELECT gate_key, created_at FROM user_gates WHERE user_id = $1
                 UNION ALL
                 SELECT gate_key, created_at FROM session_gates WHERE session_id = $2",
                &[Param::Text(user_id), Param::Text(session_id)],
                |row| {
                    Ok(GateRecord {
                        key: row.text("gate_key")?,
                        created_at: row.time("created_at")?,
                    })
                },
            )
            .await
    }
}
