//! [`SecondFactorStore`] on SQL.

use super::db::{Param, Row};
use super::{SqlStore, map_err};
use crate::store::{SecondFactorStore, StoreError, TotpConfirmation, TotpRecord};
use async_trait::async_trait;
use time::OffsetDateTime;

fn totp_from(row: &Row) -> Result<TotpRecord, StoreError> {
    Ok(TotpRecord {
        user_id: row.text("user_id")?,
        sealed_secret: row.text("sealed_secret")?,
        created_at: row.time("created_at")?,
        confirmed_at: row.opt_time("confirmed_at")?,
        last_step: row.int("last_step")?,
    })
}

/// `code_mac = $first OR code_mac = $first+1 …` for `count` MACs.
fn any_mac(first: usize, count: usize) -> String {
    let alternatives: Vec<String> = (first..first + count)
        .map(|n| format!("code_mac = ${n}"))
        .collect();
    format!("({})", alternatives.join(" OR "))
}

const INSERT_BACKUP_CODE: &str =
    "INSERT INTO backup_codes (id, user_id, code_mac, created_at) VALUES ($1, $2, $3, $4)";

#[async_trait]
impl SecondFactorStore for SqlStore {
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, StoreError> {
        self.db
            .find(
                "SELECT user_id, sealed_secret, created_at, confirmed_at, last_step
                 FROM totp_authenticators WHERE user_id = $1",
                &[Param::Text(user_id)],
                totp_from,
            )
            .await
    }

    async fn enroll_totp(&self, record: &TotpRecord) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        exec.run(
            "DELETE FROM totp_authenticators WHERE user_id = $1 AND confirmed_at IS NULL",
            &[Param::Text(&record.user_id)],
        )
        .await?;
        // A confirmed authenticator keeps its row: the insert conflicts on the user id and
        // the transaction is dropped unchanged.
        let inserted = exec
            .execute(
                "INSERT INTO totp_authenticators
                    (user_id, sealed_secret, created_at, confirmed_at, last_step)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    Param::Text(&record.user_id),
                    Param::Text(&record.sealed_secret),
                    Param::Time(record.created_at),
                    Param::OptTime(record.confirmed_at),
                    Param::Int(record.last_step),
                ],
            )
            .await
            .map_err(map_err);
        match inserted {
            Ok(_) => {
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    async fn confirm_totp(
        &self,
        user_id: &str,
        step: i64,
        now: OffsetDateTime,
        backup_code_macs: &[String],
    ) -> Result<TotpConfirmation, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        let confirmed = exec
            .execute(
                "UPDATE totp_authenticators SET confirmed_at = $1, last_step = $2
                 WHERE user_id = $3 AND confirmed_at IS NULL",
                &[Param::Time(now), Param::Int(step), Param::Text(user_id)],
            )
            .await
            .map_err(map_err)?;
        if confirmed == 0 {
            return Ok(TotpConfirmation::NotPending);
        }
        let left = exec
            .fetch_one(
                "SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = $1 AND used_at IS NULL",
                &[Param::Text(user_id)],
            )
            .await
            .map_err(map_err)?
            .int("n")?;
        let outcome = if left == 0 && !backup_code_macs.is_empty() {
            exec.run(
                "DELETE FROM backup_codes WHERE user_id = $1",
                &[Param::Text(user_id)],
            )
            .await?;
            for mac in backup_code_macs {
                let id = crate::session::new_id("bkc");
                exec.run(
                    INSERT_BACKUP_CODE,
                    &[
                        Param::Text(&id),
                        Param::Text(user_id),
                        Param::Text(mac),
                        Param::Time(now),
                    ],
                )
                .await?;
            }
            TotpConfirmation::ConfirmedWithCodes
        } else {
            TotpConfirmation::Confirmed
        };
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let updated = self
            .db
            .execute(
                "UPDATE totp_authenticators SET last_step = $1
                 WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $3",
                &[Param::Int(step), Param::Text(user_id), Param::Int(step)],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn totp_secrets(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .fetch_all(
                "SELECT user_id, sealed_secret FROM totp_authenticators",
                &[],
                |row| Ok((row.text("user_id")?, row.text("sealed_secret")?)),
            )
            .await
    }

    async fn reseal_totp_secret(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let updated = self
            .db
            .execute(
                "UPDATE totp_authenticators SET sealed_secret = $1
                 WHERE user_id = $2 AND sealed_secret = $3",
                &[Param::Text(new), Param::Text(user_id), Param::Text(old)],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn delete_totp(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        let deleted = exec
            .execute(
                "DELETE FROM totp_authenticators WHERE user_id = $1",
                &[Param::Text(user_id)],
            )
            .await
            .map_err(map_err)?;
        exec.run(
            "DELETE FROM backup_codes WHERE user_id = $1",
            &[Param::Text(user_id)],
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted > 0)
    }

    async fn replace_backup_codes(
        &self,
        user_id: &str,
        code_macs: &[String],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        exec.run(
            "DELETE FROM backup_codes WHERE user_id = $1",
            &[Param::Text(user_id)],
        )
        .await?;
        for mac in code_macs {
            let id = crate::session::new_id("bkc");
            exec.run(
                INSERT_BACKUP_CODE,
                &[
                    Param::Text(&id),
                    Param::Text(user_id),
                    Param::Text(mac),
                    Param::Time(now),
                ],
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn use_backup_code(
        &self,
        user_id: &str,
        code_macs: &[String],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        if code_macs.is_empty() {
            return Ok(false);
        }
        let sql = format!(
            "UPDATE backup_codes SET used_at = $1
             WHERE user_id = $2 AND used_at IS NULL AND {}",
            any_mac(3, code_macs.len())
        );
        let mut params = vec![Param::Time(now), Param::Text(user_id)];
        params.extend(code_macs.iter().map(|mac| Param::Text(mac)));
        let used = self.db.execute(&sql, &params).await?;
        Ok(used >= 1)
    }

    async fn count_backup_codes(&self, user_id: &str) -> Result<u32, StoreError> {
        let row = self
            .db
            .fetch_one(
                "SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = $1 AND used_at IS NULL",
                &[Param::Text(user_id)],
            )
            .await?;
        Ok(u32::try_from(row.int("n")?).unwrap_or(u32::MAX))
    }

    async fn reset_second_factors(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await.map_err(map_err)?;
        let mut exec = tx.exec();
        let totp = exec
            .execute(
                "DELETE FROM totp_authenticators WHERE user_id = $1",
                &[Param::Text(user_id)],
            )
            .await
            .map_err(map_err)?;
        let codes = exec
            .execute(
                "DELETE FROM backup_codes WHERE user_id = $1",
                &[Param::Text(user_id)],
            )
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(totp + codes > 0)
    }

    async fn set_session_second_factor(
        &self,
        session_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = self
            .db
            .execute(
                "UPDATE sessions SET second_factor_at = $1 WHERE id = $2",
                &[Param::Time(at), Param::Text(session_id)],
            )
            .await?;
        if updated == 1 {
            return Ok(true);
        }
        // MySQL counts an update to the same value as no row affected.
        Ok(self.session_second_factor(session_id).await?.is_some())
    }

    async fn session_second_factor(
        &self,
        session_id: &str,
    ) -> Result<Option<Option<OffsetDateTime>>, StoreError> {
        self.db
            .find(
                "SELECT second_factor_at FROM sessions WHERE id = $1",
                &[Param::Text(session_id)],
                |row| row.opt_time("second_factor_at"),
            )
            .await
    }
}
