//! [`CeremonyStore`] on SQL.

use super::SqlStore;
use super::db::Param;
use crate::store::{CeremonyRecord, CeremonyStore, StoreError};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl CeremonyStore for SqlStore {
    async fn insert_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError> {
        self.db
            .run(
                "INSERT INTO ceremonies (id_hash, kind, environment_id, payload,
                    expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Param::Text(&ceremony.id_hash),
                    Param::Text(&ceremony.kind),
                    Param::Text(&ceremony.environment_id),
                    Param::Text(&ceremony.payload),
                    Param::Time(ceremony.expires_at),
                    Param::Time(ceremony.created_at),
                ],
            )
            .await
    }

    async fn take_ceremony(
        &self,
        kind: &str,
        environment_id: &str,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<CeremonyRecord>, StoreError> {
        let row = self
            .db
            .fetch_optional(
                "SELECT id_hash, kind, environment_id, payload,
                    expires_at, created_at
                 FROM ceremonies WHERE id_hash = $1 AND kind = $2 AND environment_id = $3",
                &[
                    Param::Text(id_hash),
                    Param::Text(kind),
                    Param::Text(environment_id),
                ],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let ceremony = CeremonyRecord {
            id_hash: row.text("id_hash")?,
            kind: row.text("kind")?,
            environment_id: row.text("environment_id")?,
            payload: row.text("payload")?,
            expires_at: row.time("expires_at")?,
            created_at: row.time("created_at")?,
        };
        // The delete decides: of concurrent callers only one removes the row.
        let deleted = self
            .db
            .execute(
                "DELETE FROM ceremonies WHERE id_hash = $1",
                &[Param::Text(id_hash)],
            )
            .await?;
        Ok((deleted == 1 && ceremony.expires_at > now).then_some(ceremony))
    }

    async fn purge_ceremonies(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.db
            .execute(
                "DELETE FROM ceremonies WHERE expires_at < $1",
                &[Param::Time(before)],
            )
            .await
    }
}
