//! [`SignUpStore`] on SQL.

use super::db::{Param, Row};
use super::records::insert_session;
use super::records::{insert_password, insert_user};
use super::{SqlStore, map_err};
use crate::store::{
    AttemptReservation, CodeSend, CompleteSignUp, SessionRecord, SignUpRecord, SignUpStore,
    StoreError, UserRecord,
};
use async_trait::async_trait;
use time::OffsetDateTime;

fn sign_up_from(row: &Row) -> Result<SignUpRecord, StoreError> {
    Ok(SignUpRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        email: row.text("email")?,
        email_canonical: row.text("email_canonical")?,
        name: row.opt_text("name")?,
        password_hash: row.opt_text("password_hash")?,
        legal_accepted_at: row.opt_time("legal_accepted_at")?,
        legal_version: row.opt_text("legal_version")?,
        code_hash: row.text("code_hash")?,
        code_expires_at: row.time("code_expires_at")?,
        attempts: row.count("attempts")?,
        resend_available_at: row.time("resend_available_at")?,
        created_at: row.time("created_at")?,
    })
}

#[async_trait]
impl SignUpStore for SqlStore {
    async fn insert_sign_up(&self, s: &SignUpRecord) -> Result<(), StoreError> {
        self.db
            .run(
                "INSERT INTO sign_ups (id, environment_id, email, email_canonical, name, password_hash,
                    legal_accepted_at, code_hash, code_expires_at, attempts, resend_available_at, created_at,
                    legal_version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                &[
                    Param::Text(&s.id),
                    Param::Text(&s.environment_id),
                    Param::Text(&s.email),
                    Param::Text(&s.email_canonical),
                    Param::OptText(s.name.as_deref()),
                    Param::OptText(s.password_hash.as_deref()),
                    Param::OptTime(s.legal_accepted_at),
                    Param::Text(&s.code_hash),
                    Param::Time(s.code_expires_at),
                    Param::Int(i64::from(s.attempts)),
                    Param::Time(s.resend_available_at),
                    Param::Time(s.created_at),
                    Param::OptText(s.legal_version.as_deref()),
                ],
            )
            .await
    }

    async fn get_sign_up(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<SignUpRecord>, StoreError> {
        self.db
            .find(
                "SELECT * FROM sign_ups WHERE id = $1 AND environment_id = $2",
                &[Param::Text(id), Param::Text(environment_id)],
                sign_up_from,
            )
            .await
    }

    async fn reserve_sign_up_attempt(
        &self,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError> {
        self.db
            .reserve_try(
                "UPDATE sign_ups SET attempts = attempts + 1
                 WHERE id = $1 AND attempts < $2 AND code_expires_at > $3",
                "SELECT attempts FROM sign_ups WHERE id = $1",
                id,
                max_attempts,
                now,
            )
            .await
    }

    async fn replace_sign_up_code(
        &self,
        id: &str,
        code_hash: &str,
        code_expires_at: OffsetDateTime,
        resend_available_at: OffsetDateTime,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<CodeSend, StoreError> {
        // The count of tries belongs to the sign-up, not to its code: a resend keeps it.
        let updated = self
            .db
            .execute(
                "UPDATE sign_ups SET code_hash = $1, code_expires_at = $2,
                    resend_available_at = $3
                 WHERE id = $4 AND resend_available_at <= $5 AND attempts < $6",
                &[
                    Param::Text(code_hash),
                    Param::Time(code_expires_at),
                    Param::Time(resend_available_at),
                    Param::Text(id),
                    Param::Time(now),
                    Param::Int(i64::from(max_attempts)),
                ],
            )
            .await?;
        if updated == 1 {
            return Ok(CodeSend::Sent);
        }
        let row = self
            .db
            .fetch_optional(
                "SELECT attempts, resend_available_at FROM sign_ups WHERE id = $1",
                &[Param::Text(id)],
            )
            .await?;
        let Some(row) = row else {
            return Ok(CodeSend::NotFound);
        };
        Ok(if row.count("attempts")? >= max_attempts {
            CodeSend::Exhausted
        } else {
            CodeSend::Cooldown(row.time("resend_available_at")?)
        })
    }

    async fn complete_sign_up(
        &self,
        sign_up_id: &str,
        user: &UserRecord,
        password_hash: Option<&str>,
        session: &SessionRecord,
    ) -> Result<CompleteSignUp, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        let consumed = exec
            .execute(
                "DELETE FROM sign_ups WHERE id = $1",
                &[Param::Text(sign_up_id)],
            )
            .await
            .map_err(map_err)?;
        if consumed != 1 {
            return Ok(CompleteSignUp::AlreadyConsumed);
        }
        match insert_user(&mut exec, user).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(CompleteSignUp::EmailTaken),
            Err(other) => return Err(other),
        }
        if let Some(hash) = password_hash {
            insert_password(&mut exec, user, hash).await?;
        }
        insert_session(&mut exec, session).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(CompleteSignUp::Created(user.clone()))
    }

    async fn purge_sign_ups(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.db
            .execute(
                "DELETE FROM sign_ups WHERE created_at < $1",
                &[Param::Time(before)],
            )
            .await
    }
}
