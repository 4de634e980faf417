//! [`KeyStore`] on SQL.

use super::db::Param;
use super::{SqlStore, map_err};
use crate::store::{JwtKeyRecord, KeyStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl KeyStore for SqlStore {
    async fn list_jwt_keys(&self) -> Result<Vec<JwtKeyRecord>, StoreError> {
        self.db
            .fetch_all(
                "SELECT kid, environment_id, private_key, public_key, created_at, retired_at
                 FROM jwt_keys ORDER BY created_at, kid",
                &[],
                |row| {
                    Ok(JwtKeyRecord {
                        kid: row.text("kid")?,
                        environment_id: row.text("environment_id")?,
                        private_key: row.text("private_key")?,
                        public_key: row.text("public_key")?,
                        created_at: row.time("created_at")?,
                        retired_at: row.opt_time("retired_at")?,
                    })
                },
            )
            .await
    }

    async fn rotate_jwt_key(&self, key: &JwtKeyRecord) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        // A retired key never signs again, so its private half is erased: only the
        // public key is needed to verify the tokens it signed.
        exec.run(
            "UPDATE jwt_keys SET retired_at = $1, private_key = ''
             WHERE retired_at IS NULL AND environment_id = $2",
            &[
                Param::Time(key.created_at),
                Param::Text(&key.environment_id),
            ],
        )
        .await?;
        exec.run(
            "INSERT INTO jwt_keys (kid, environment_id, private_key, public_key, created_at, retired_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Param::Text(&key.kid),
                Param::Text(&key.environment_id),
                Param::Text(&key.private_key),
                Param::Text(&key.public_key),
                Param::Time(key.created_at),
                Param::OptTime(key.retired_at),
            ],
        )
.await?;
        tx.commit().await.map_err(map_err)
    }
}
