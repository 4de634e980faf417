//! [`IdentityStore`] on SQL.

use super::db::{Exec, Param};
use super::records::insert_session;
use super::records::insert_user;
use super::records::{IDENTITY_COLUMNS, USER_IDENTITIES, identity_from};
use super::{SqlStore, map_err};
use crate::store::{
    CreateOAuthUser, IdentityStore, OAuthIdentityRecord, SessionRecord, StoreError, UserRecord,
};
use async_trait::async_trait;

async fn insert_identity(
    exec: &mut Exec<'_>,
    identity: &OAuthIdentityRecord,
) -> Result<(), StoreError> {
    exec.run(
        "INSERT INTO oauth_identities (id, user_id, environment_id, provider, subject,
            email, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Param::Text(&identity.id),
            Param::Text(&identity.user_id),
            Param::Text(&identity.environment_id),
            Param::Text(&identity.provider),
            Param::Text(&identity.subject),
            Param::OptText(identity.email.as_deref()),
            Param::Time(identity.created_at),
        ],
    )
    .await
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn find_oauth_identity(
        &self,
        environment_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<OAuthIdentityRecord>, StoreError> {
        self.db
            .find(
                &format!(
                    "SELECT {IDENTITY_COLUMNS}
                     FROM oauth_identities
                     WHERE environment_id = $1 AND provider = $2 AND subject = $3"
                ),
                &[
                    Param::Text(environment_id),
                    Param::Text(provider),
                    Param::Text(subject),
                ],
                identity_from,
            )
            .await
    }

    async fn list_oauth_identities(
        &self,
        user_id: &str,
    ) -> Result<Vec<OAuthIdentityRecord>, StoreError> {
        self.db
            .fetch_all(USER_IDENTITIES, &[Param::Text(user_id)], identity_from)
            .await
    }

    async fn insert_oauth_identity(
        &self,
        identity: &OAuthIdentityRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.db.acquire().await.map_err(map_err)?;
        insert_identity(&mut conn.exec(), identity).await
    }

    async fn create_oauth_user(
        &self,
        user: &UserRecord,
        identity: &OAuthIdentityRecord,
        session: &SessionRecord,
    ) -> Result<CreateOAuthUser, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        match insert_user(&mut exec, user).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(CreateOAuthUser::EmailTaken),
            Err(other) => return Err(other),
        }
        match insert_identity(&mut exec, identity).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(CreateOAuthUser::IdentityTaken),
            Err(other) => return Err(other),
        }
        insert_session(&mut exec, session).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(CreateOAuthUser::Created)
    }
}
