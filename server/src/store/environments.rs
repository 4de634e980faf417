//! Environments the server created itself.

use super::StoreError;
use async_trait::async_trait;
use std::fmt::Debug;
use time::OffsetDateTime;

/// An environment the server created and keeps in the store.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredEnvironment {
    /// `env_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `test` or `live`.
    pub mode: String,
    /// `pk_test_…` / `pk_live_…`.
    pub publishable_key: String,
    /// SHA-256 of the secret key; the key itself is shown once, at creation.
    pub secret_key_hash: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Debug for StoredEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEnvironment")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("mode", &self.mode)
            .field("publishable_key", &self.publishable_key)
            .finish_non_exhaustive()
    }
}

/// Environments the server created and keeps in the store.
#[async_trait]
pub trait EnvironmentStore: Send + Sync + Debug {
    /// Environments the server created itself.
    async fn list_environments(&self) -> Result<Vec<StoredEnvironment>, StoreError>;
    /// Keeps a server-created environment.
    async fn insert_environment(&self, env: &StoredEnvironment) -> Result<(), StoreError>;
}
