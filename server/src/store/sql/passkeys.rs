//! [`PasskeyStore`] on SQL.

use super::SqlStore;
use super::db::Param;
use super::records::{PASSKEY_COLUMNS, USER_PASSKEYS, passkey_from};
use crate::store::{PasskeyRecord, PasskeyStore, StoreError};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn insert_passkey(&self, p: &PasskeyRecord) -> Result<(), StoreError> {
        self.db
            .run(
                "INSERT INTO passkeys (id, user_id, environment_id, credential_id, credential,
                    sign_count, name, created_at, last_used_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    Param::Text(&p.id),
                    Param::Text(&p.user_id),
                    Param::Text(&p.environment_id),
                    Param::Text(&p.credential_id),
                    Param::Text(&p.credential),
                    Param::Int(i64::from(p.sign_count)),
                    Param::Text(&p.name),
                    Param::Time(p.created_at),
                    Param::OptTime(p.last_used_at),
                ],
            )
            .await
    }

    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, StoreError> {
        self.db
            .fetch_all(USER_PASSKEYS, &[Param::Text(user_id)], passkey_from)
            .await
    }

    async fn count_passkeys(&self, user_id: &str) -> Result<u64, StoreError> {
        let row = self
            .db
            .fetch_one(
                "SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1",
                &[Param::Text(user_id)],
            )
            .await?;
        Ok(u64::try_from(row.int("n")?).unwrap_or(0))
    }

    async fn find_passkey_by_credential_id(
        &self,
        environment_id: &str,
        credential_id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        self.db
            .find(
                &format!(
                    "SELECT {PASSKEY_COLUMNS}
                     FROM passkeys WHERE credential_id = $1 AND environment_id = $2"
                ),
                &[Param::Text(credential_id), Param::Text(environment_id)],
                passkey_from,
            )
            .await
    }

    async fn record_passkey_use(
        &self,
        id: &str,
        credential: &str,
        sign_count: u32,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let count = i64::from(sign_count);
        let updated = self
            .db
            .execute(
                "UPDATE passkeys SET credential = $1, sign_count = $2, last_used_at = $3
                 WHERE id = $4 AND (sign_count < $5 OR (sign_count = 0 AND $6 = 0))",
                &[
                    Param::Text(credential),
                    Param::Int(count),
                    Param::Time(now),
                    Param::Text(id),
                    Param::Int(count),
                    Param::Int(count),
                ],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn rename_passkey(
        &self,
        user_id: &str,
        id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        // Selected first: MySQL counts an update to the same value as no row affected.
        let exists = self
            .db
            .fetch_optional(
                "SELECT id FROM passkeys WHERE id = $1 AND user_id = $2",
                &[Param::Text(id), Param::Text(user_id)],
            )
            .await?;
        if exists.is_none() {
            return Ok(false);
        }
        self.db
            .execute(
                "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3",
                &[Param::Text(name), Param::Text(id), Param::Text(user_id)],
            )
            .await
            .map(|_| true)
    }
}
