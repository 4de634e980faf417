//! [`EnvironmentStore`] on SQL.

use super::SqlStore;
use super::db::Param;
use crate::store::{EnvironmentStore, StoreError, StoredEnvironment};
use async_trait::async_trait;

#[async_trait]
impl EnvironmentStore for SqlStore {
    async fn list_environments(&self) -> Result<Vec<StoredEnvironment>, StoreError> {
        self.db
            .fetch_all(
                "SELECT id, name, mode, publishable_key, secret_key_hash, created_at
                 FROM environments ORDER BY created_at",
                &[],
                |row| {
                    Ok(StoredEnvironment {
                        id: row.text("id")?,
                        name: row.text("name")?,
                        mode: row.text("mode")?,
                        publishable_key: row.text("publishable_key")?,
                        secret_key_hash: row.text("secret_key_hash")?,
                        created_at: row.time("created_at")?,
                    })
                },
            )
            .await
    }

    async fn insert_environment(&self, env: &StoredEnvironment) -> Result<(), StoreError> {
        self.db
            .run(
                "INSERT INTO environments (id, name, mode, publishable_key, secret_key_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Param::Text(&env.id),
                    Param::Text(&env.name),
                    Param::Text(&env.mode),
                    Param::Text(&env.publishable_key),
                    Param::Text(&env.secret_key_hash),
                    Param::Time(env.created_at),
                ],
            )
            .await
    }
}
