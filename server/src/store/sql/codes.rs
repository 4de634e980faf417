//! [`CodeStore`] on SQL: codes emailed to existing users, and sign-in links.

use super::db::{Param, Row};
use super::{SqlStore, map_err};
use crate::store::{
    AttemptReservation, CodeSend, CodeStore, MagicLinkRecord, StoreError, UserCodeRecord,
};
use async_trait::async_trait;
use time::OffsetDateTime;

fn user_code_from(row: &Row) -> Result<UserCodeRecord, StoreError> {
    Ok(UserCodeRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        purpose: row.text("purpose")?,
        target: row.opt_text("target")?,
        code_hash: row.text("code_hash")?,
        expires_at: row.time("expires_at")?,
        attempts: row.count("attempts")?,
        resend_available_at: row.time("resend_available_at")?,
        created_at: row.time("created_at")?,
        ceremony_expires_at: row.time("ceremony_expires_at")?,
    })
}

fn magic_link_from(row: &Row) -> Result<MagicLinkRecord, StoreError> {
    Ok(MagicLinkRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        user_id: row.text("user_id")?,
        token_hash: row.text("token_hash")?,
        redirect_url: row.opt_text("redirect_url")?,
        expires_at: row.time("expires_at")?,
        created_at: row.time("created_at")?,
    })
}

#[async_trait]
impl CodeStore for SqlStore {
    async fn put_user_code(
        &self,
        code: &UserCodeRecord,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<CodeSend, StoreError> {
        // A resend within a live ceremony: a new code, the same count of tries.
        let replaced = self
            .db
            .execute(
                "UPDATE user_codes SET id = $1, code_hash = $2, expires_at = $3,
                    resend_available_at = $4, target = $5
                 WHERE user_id = $6 AND purpose = $7 AND resend_available_at <= $8
                   AND attempts < $9 AND ceremony_expires_at > $10",
                &[
                    Param::Text(&code.id),
                    Param::Text(&code.code_hash),
                    Param::Time(code.expires_at),
                    Param::Time(code.resend_available_at),
                    Param::OptText(code.target.as_deref()),
                    Param::Text(&code.user_id),
                    Param::Text(&code.purpose),
                    Param::Time(now),
                    Param::Int(i64::from(max_attempts)),
                    Param::Time(now),
                ],
            )
            .await?;
        if replaced == 1 {
            return Ok(CodeSend::Sent);
        }
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        // Only an ended ceremony makes way for a new one; a live one makes the insert
        // conflict on (user_id, purpose), and the transaction is dropped unchanged.
        exec.run(
            "DELETE FROM user_codes
             WHERE user_id = $1 AND purpose = $2 AND ceremony_expires_at <= $3",
            &[
                Param::Text(&code.user_id),
                Param::Text(&code.purpose),
                Param::Time(now),
            ],
        )
        .await?;
        let inserted = exec
            .execute(
                "INSERT INTO user_codes (id, user_id, purpose, code_hash, expires_at,
                    attempts, resend_available_at, created_at, target, ceremony_expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    Param::Text(&code.id),
                    Param::Text(&code.user_id),
                    Param::Text(&code.purpose),
                    Param::Text(&code.code_hash),
                    Param::Time(code.expires_at),
                    Param::Int(i64::from(code.attempts)),
                    Param::Time(code.resend_available_at),
                    Param::Time(code.created_at),
                    Param::OptText(code.target.as_deref()),
                    Param::Time(code.ceremony_expires_at),
                ],
            )
            .await
            .map_err(map_err);
        match inserted {
            Ok(_) => {
                tx.commit().await.map_err(map_err)?;
                Ok(CodeSend::Sent)
            }
            Err(StoreError::Conflict(_)) => {
                drop(tx);
                let live = self.get_user_code(&code.user_id, &code.purpose).await?;
                Ok(match live {
                    Some(live) if live.attempts >= max_attempts => CodeSend::Exhausted,
                    Some(live) => CodeSend::Cooldown(live.resend_available_at),
                    // Consumed meanwhile: the caller may simply try again.
                    None => CodeSend::Cooldown(now),
                })
            }
            Err(other) => Err(other),
        }
    }

    async fn get_user_code(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> Result<Option<UserCodeRecord>, StoreError> {
        self.db
            .find(
                "SELECT id, user_id, purpose, code_hash, expires_at, attempts,
                    resend_available_at, created_at, target, ceremony_expires_at
                 FROM user_codes WHERE user_id = $1 AND purpose = $2",
                &[Param::Text(user_id), Param::Text(purpose)],
                user_code_from,
            )
            .await
    }

    async fn reserve_user_code_attempt(
        &self,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError> {
        self.db
            .reserve_try(
                "UPDATE user_codes SET attempts = attempts + 1
                 WHERE id = $1 AND attempts < $2 AND expires_at > $3",
                "SELECT attempts FROM user_codes WHERE id = $1",
                id,
                max_attempts,
                now,
            )
            .await
    }

    async fn consume_user_code(&self, id: &str) -> Result<bool, StoreError> {
        self.db
            .execute("DELETE FROM user_codes WHERE id = $1", &[Param::Text(id)])
            .await
            .map(|affected| affected == 1)
    }

    async fn insert_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        exec.run(
            "DELETE FROM magic_links WHERE user_id = $1",
            &[Param::Text(&link.user_id)],
        )
        .await?;
        exec.run(
            "INSERT INTO magic_links (id, environment_id, user_id, token_hash,
                redirect_url, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                Param::Text(&link.id),
                Param::Text(&link.environment_id),
                Param::Text(&link.user_id),
                Param::Text(&link.token_hash),
                Param::OptText(link.redirect_url.as_deref()),
                Param::Time(link.expires_at),
                Param::Time(link.created_at),
            ],
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_magic_link(
        &self,
        token_hash: &str,
    ) -> Result<Option<MagicLinkRecord>, StoreError> {
        self.db
            .find(
                "SELECT id, environment_id, user_id, token_hash, redirect_url,
                    expires_at, created_at
                 FROM magic_links WHERE token_hash = $1",
                &[Param::Text(token_hash)],
                magic_link_from,
            )
            .await
    }

    async fn consume_magic_link(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<MagicLinkRecord>, StoreError> {
        let Some(link) = self.find_magic_link(token_hash).await? else {
            return Ok(None);
        };
        // The delete decides: of concurrent callers only one removes the row.
        let deleted = self
            .db
            .execute(
                "DELETE FROM magic_links WHERE id = $1",
                &[Param::Text(&link.id)],
            )
            .await?;
        Ok((deleted == 1 && link.expires_at > now).then_some(link))
    }
}
