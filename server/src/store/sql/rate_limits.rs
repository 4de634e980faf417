//! [`RateLimitStore`] on SQL. Each count is a short transaction, tried again when it loses a
//! race the database broke.

use super::db::Param;
use super::{SqlStore, lost_race_or_conflict, map_err};
use crate::clock::{from_millis, to_millis};
use crate::store::{AttemptVerdict, RateLimitStore, StoreError};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl RateLimitStore for SqlStore {
    async fn hit_rate_limit(
        &self,
        bucket: &str,
        window: time::Duration,
        now: OffsetDateTime,
    ) -> Result<(u32, OffsetDateTime), StoreError> {
        let cutoff = Param::Time(now - window);
        // One transaction per try: the row lock taken by the counting statement is held
        // until the count is read back, so each caller reads its own hit's count. A lost
        // race (the row created meanwhile, or a deadlock the database broke) tries again.
        for _ in 0..8 {
            let attempt = async {
                let mut tx = self.db.begin().await?;
                let mut exec = tx.exec();
                let counted = exec
                    .execute(
                        "UPDATE rate_limits SET hits = hits + 1
                         WHERE bucket = $1 AND window_start > $2",
                        &[Param::Text(bucket), cutoff],
                    )
                    .await?;
                if counted == 0 {
                    let restarted = exec
                        .execute(
                            "UPDATE rate_limits SET hits = 1, window_start = $1
                             WHERE bucket = $2 AND window_start <= $3",
                            &[Param::Time(now), Param::Text(bucket), cutoff],
                        )
                        .await?;
                    if restarted == 0 {
                        exec.execute(
                            "INSERT INTO rate_limits (bucket, window_start, hits)
                             VALUES ($1, $2, $3)",
                            &[Param::Text(bucket), Param::Time(now), Param::Int(1)],
                        )
                        .await?;
                    }
                }
                let row = exec
                    .fetch_one(
                        "SELECT hits, window_start FROM rate_limits WHERE bucket = $1",
                        &[Param::Text(bucket)],
                    )
                    .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(row)
            }
            .await;
            match attempt {
                Ok(row) => return Ok((row.count("hits")?, row.time("window_start")?)),
                Err(error) if lost_race_or_conflict(&error) => {}
                Err(other) => return Err(map_err(other)),
            }
        }
        Err(StoreError::Other("rate limit contention".to_owned()))
    }

    async fn reserve_attempt(
        &self,
        bucket: &str,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
        delay_after: &(dyn Fn(u32) -> time::Duration + Sync),
    ) -> Result<AttemptVerdict, StoreError> {
        // The counting statement takes the bucket's row lock (SQLite: the write lock)
        // and holds it until the new delay is written, so a concurrent attempt either
        // waits and then sees the delay, or finds no row and races to insert one (the
        // loser, or one that finds the row only after its update looked, tries again).
        for _ in 0..8 {
            let attempt = async {
                let mut tx = self.db.begin().await?;
                let mut exec = tx.exec();
                let counted = exec
                    .execute(
                        "UPDATE attempt_backoffs
                         SET failures = CASE WHEN last_attempt_at <= $1 THEN 1 ELSE failures + 1 END,
                             last_attempt_at = $2
                         WHERE bucket = $3 AND next_allowed_at <= $4",
                        &[
                            Param::Time(forget_before),
                            Param::Time(now),
                            Param::Text(bucket),
                            Param::Time(now),
                        ],
                    )
                    .await?;
                if counted == 0 {
                    let waiting = exec
                        .fetch_optional(
                            "SELECT next_allowed_at FROM attempt_backoffs WHERE bucket = $1",
                            &[Param::Text(bucket)],
                        )
                        .await?;
                    if let Some(row) = waiting {
                        tx.rollback().await?;
                        let until: i64 = row.try_get("next_allowed_at")?;
                        // Created by a concurrent first attempt after the update
                        // looked: count again rather than wait for nothing.
                        return Ok(if until > to_millis(now) {
                            Err(Some(until))
                        } else {
                            Err(None)
                        });
                    }
                    exec.execute(
                        "INSERT INTO attempt_backoffs (bucket, failures, last_attempt_at, next_allowed_at)
                         VALUES ($1, $2, $3, $4)",
                        &[
                            Param::Text(bucket),
                            Param::Int(1),
                            Param::Time(now),
                            Param::Time(now),
                        ],
                    )
                    .await?;
                }
                let row = exec
                    .fetch_one(
                        "SELECT failures FROM attempt_backoffs WHERE bucket = $1",
                        &[Param::Text(bucket)],
                    )
                    .await?;
                let failures: i64 = row.try_get("failures")?;
                let failures = u32::try_from(failures).unwrap_or(u32::MAX);
                exec.execute(
                    "UPDATE attempt_backoffs SET next_allowed_at = $1 WHERE bucket = $2",
                    &[
                        Param::Time(now + delay_after(failures)),
                        Param::Text(bucket),
                    ],
                )
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(failures))
            }
            .await;
            match attempt {
                Ok(Ok(failures)) => return Ok(AttemptVerdict::Counted(failures)),
                Ok(Err(Some(until))) => return Ok(AttemptVerdict::Wait(from_millis(until))),
                Ok(Err(None)) => {}
                Err(error) if lost_race_or_conflict(&error) => {}
                Err(other) => return Err(map_err(other)),
            }
        }
        Err(StoreError::Other("attempt counter contention".to_owned()))
    }

    async fn clear_attempts(&self, bucket: &str) -> Result<(), StoreError> {
        self.db
            .run(
                "DELETE FROM attempt_backoffs WHERE bucket = $1",
                &[Param::Text(bucket)],
            )
            .await
    }

    async fn purge_counters(
        &self,
        windows_before: OffsetDateTime,
        attempts_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let windows = self
            .db
            .execute(
                "DELETE FROM rate_limits WHERE window_start < $1",
                &[Param::Time(windows_before)],
            )
            .await?;
        let attempts = self
            .db
            .execute(
                "DELETE FROM attempt_backoffs
                 WHERE last_attempt_at < $1 AND next_allowed_at < $2",
                &[Param::Time(attempts_before), Param::Time(attempts_before)],
            )
            .await?;
        Ok(windows + attempts)
    }
}
