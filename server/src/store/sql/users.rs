//! [`UserStore`] on SQL.

use super::db::Param;
use super::records::{USER_COLUMNS, USER_NAMES, insert_password, insert_user, user_from};
use super::records::{USER_IDENTITIES, identity_from};
use super::records::{USER_PASSKEYS, passkey_from};
use super::revocations::append;
use super::{SqlStore, lost_race, map_err};
use crate::store::{
    ClaimedMethods, MethodRemoval, RevocationScope, SignInMethodRef, StoreError, UserRecord,
    UserStore,
};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl UserStore for SqlStore {
    async fn find_user_by_email(
        &self,
        environment_id: &str,
        email_canonical: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.db
            .find(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE environment_id = $1 AND email_canonical = $2"
                ),
                &[Param::Text(environment_id), Param::Text(email_canonical)],
                |row| user_from(row, &USER_NAMES),
            )
            .await
    }

    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.db
            .find(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
                &[Param::Text(user_id)],
                |row| user_from(row, &USER_NAMES),
            )
            .await
    }

    async fn insert_user(
        &self,
        user: &UserRecord,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        insert_user(&mut tx.exec(), user).await?;
        if let Some(hash) = password_hash {
            insert_password(&mut tx.exec(), user, hash).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn set_legal_version(
        &self,
        user_id: &str,
        version: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.execute_revoking(
            "UPDATE users SET legal_version = $1, updated_at = $2 WHERE id = $3",
            &[Param::Text(version), Param::Time(now), Param::Text(user_id)],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
        .map(|_| ())
    }

    async fn set_email_verified(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.execute_revoking(
            "UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3",
            &[Param::Bool(true), Param::Time(now), Param::Text(user_id)],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
        .map(|_| ())
    }

    async fn set_user_name(
        &self,
        user_id: &str,
        name: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.execute_revoking(
            "UPDATE users SET name = $1, updated_at = $2 WHERE id = $3",
            &[Param::OptText(name), Param::Time(now), Param::Text(user_id)],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
        .map(|_| ())
    }

    async fn set_user_email(
        &self,
        user_id: &str,
        email: &str,
        email_canonical: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.execute_revoking(
            "UPDATE users SET email = $1, email_canonical = $2, email_verified = $3,
                    updated_at = $4
                 WHERE id = $5",
            &[
                Param::Text(email),
                Param::Text(email_canonical),
                Param::Bool(true),
                Param::Time(now),
                Param::Text(user_id),
            ],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
        .map(|_| ())
    }

    async fn set_password(
        &self,
        user_id: &str,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        exec.run(
            "DELETE FROM passwords WHERE user_id = $1",
            &[Param::Text(user_id)],
        )
        .await?;
        exec.run(
            "INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)",
            &[Param::Text(user_id), Param::Text(hash), Param::Time(now)],
        )
        .await?;
        let scope = RevocationScope::User(user_id.to_owned());
        append(&mut exec, &scope).await?;
        tx.commit().await.map_err(map_err)?;
        self.announce(&[scope]);
        Ok(())
    }

    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        self.db
            .find(
                "SELECT hash FROM passwords WHERE user_id = $1",
                &[Param::Text(user_id)],
                |row| row.text("hash"),
            )
            .await
    }

    async fn prove_email(
        &self,
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ClaimedMethods>, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        // The conditional update is the once-only step: a second proof (or a
        // concurrent one) finds the address verified and removes nothing.
        let first = exec
            .execute(
                "UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3 AND email_verified = $4",
                &[
                    Param::Bool(true),
                    Param::Time(now),
                    Param::Text(user_id),
                    Param::Bool(false),
                ],
            )
            .await
            .map_err(map_err)?;
        if first != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(None);
        }
        let identities = exec
            .fetch_all(USER_IDENTITIES, &[Param::Text(user_id)], identity_from)
            .await?;
        let passkeys = exec
            .fetch_all(USER_PASSKEYS, &[Param::Text(user_id)], passkey_from)
            .await?;
        for sql in [
            "DELETE FROM oauth_identities WHERE user_id = $1",
            "DELETE FROM passkeys WHERE user_id = $1",
            "DELETE FROM user_gates WHERE user_id = $1 AND gate_key = 'email_verification'",
        ] {
            exec.run(sql, &[Param::Text(user_id)]).await?;
        }
        let sessions = exec
            .execute(
                "DELETE FROM sessions WHERE user_id = $1",
                &[Param::Text(user_id)],
            )
            .await
            .map_err(map_err)?;
        let scope = RevocationScope::User(user_id.to_owned());
        append(&mut exec, &scope).await?;
        tx.commit().await.map_err(map_err)?;
        self.announce(&[scope]);
        Ok(Some(ClaimedMethods {
            identities,
            passkeys,
            sessions,
        }))
    }

    async fn remove_sign_in_method(
        &self,
        user_id: &str,
        method: SignInMethodRef<'_>,
    ) -> Result<MethodRemoval, StoreError> {
        let (table, id) = match method {
            SignInMethodRef::Passkey(id) => ("passkeys", id),
            SignInMethodRef::OAuthIdentity(id) => ("oauth_identities", id),
        };
        let owned_sql = format!("SELECT 1 AS one FROM {table} WHERE id = $1 AND user_id = $2");
        let delete_sql = format!("DELETE FROM {table} WHERE id = $1 AND user_id = $2");
        for _ in 0..8 {
            let attempt = async {
                let mut tx = self.db.begin().await?;
                let mut exec = tx.exec();
                // Serialise on the user's row first: a second removal waits here and
                // then counts what the first one left.
                exec.execute(
                    "UPDATE users SET updated_at = updated_at WHERE id = $1",
                    &[Param::Text(user_id)],
                )
                .await?;
                let owned = exec
                    .fetch_optional(&owned_sql, &[Param::Text(id), Param::Text(user_id)])
                    .await?;
                if owned.is_none() {
                    tx.rollback().await?;
                    return Ok(MethodRemoval::NotFound);
                }
                let row = exec
                    .fetch_one(
                        "SELECT
                           (SELECT COUNT(*) FROM passwords WHERE user_id = $1)
                         + (SELECT COUNT(*) FROM oauth_identities WHERE user_id = $2)
                         + (SELECT COUNT(*) FROM passkeys WHERE user_id = $3) AS n",
                        &[
                            Param::Text(user_id),
                            Param::Text(user_id),
                            Param::Text(user_id),
                        ],
                    )
                    .await?;
                let methods: i64 = row.try_get("n")?;
                if methods <= 1 {
                    tx.rollback().await?;
                    return Ok(MethodRemoval::LastMethod);
                }
                exec.execute(&delete_sql, &[Param::Text(id), Param::Text(user_id)])
                    .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(MethodRemoval::Removed)
            }
            .await;
            match attempt {
                Ok(done) => return Ok(done),
                Err(error) if lost_race(&error) => {}
                Err(other) => return Err(map_err(other)),
            }
        }
        Err(StoreError::Other(
            "sign-in method removal contention".to_owned(),
        ))
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        self.execute_revoking(
            "DELETE FROM users WHERE id = $1",
            &[Param::Text(user_id)],
            RevocationScope::User(user_id.to_owned()),
        )
        .await
        .map(|affected| affected == 1)
    }
}
