//! The SQL backends: SQLite (the embedded default), PostgreSQL and MySQL/MariaDB, all through
//! sqlx. The statements are written once, with `$n` placeholders (rewritten to `?` for MySQL),
//! and instantiated per backend by `sql_store!`, so the three cannot drift apart. Every
//! single-use or counted operation is one conditional statement checked by rows affected.

use super::{
    AttemptReservation, AttemptVerdict, CeremonyRecord, ClaimedMethods, CodeSend, CompleteSignUp,
    CreateOAuthUser, GateRecord, GateTarget, JwtKeyRecord, MagicLinkRecord, MethodRemoval,
    OAuthIdentityRecord, PasskeyRecord, SessionRecord, SignInMethodRef, SignUpRecord, Store,
    StoreError, StoredEnvironment, UserCodeRecord, UserRecord,
};
use crate::clock::{from_millis, to_millis};
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::borrow::Cow;
use std::str::FromStr as _;
use std::time::Duration;
use time::OffsetDateTime;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL_MIGRATOR: Migrator = sqlx::migrate!("migrations/mysql");

/// How much of a SQLite database file is read through a memory map (shared by every
/// connection and process; only what is touched occupies memory).
const SQLITE_MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// How long a request waits for a pooled connection before answering "store unavailable".
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

const SESSION_COLUMNS: &str = "id, environment_id, user_id, token_hash, created_at, expires_at, last_active_at, \
     authenticated_at, user_agent, ip";

const USER_COLUMNS: &str = "id, environment_id, email, email_canonical, name, email_verified, legal_version, created_at, \
     updated_at";

fn map_err(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Database(ref db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or_else(|| db.message()).to_owned())
        }
        other => StoreError::Other(other.to_string()),
    }
}

fn migrate_error(error: &sqlx::migrate::MigrateError) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::Other(format!(
            "the database was migrated by a newer version of Torii (migration {version} is \
             unknown to this one); refusing to start"
        )),
        sqlx::migrate::MigrateError::Execute(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
            StoreError::Unavailable(format!("migration failed: {error}"))
        }
        other => StoreError::Other(format!("migration failed: {other}")),
    }
}

/// `$n` placeholders as written (SQLite, PostgreSQL).
fn dollar(sql: &str) -> Cow<'_, str> {
    Cow::Borrowed(sql)
}

/// `$n` placeholders rewritten to `?` (MySQL). Statements use each parameter once, in order.
fn question(sql: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The padded sizes of a batched session lookup ([`Store::sessions_for_requests`]).
const LOOKUP_BATCH_SIZES: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];
/// The most token hashes one lookup query carries.
pub(crate) const MAX_LOOKUP_BATCH: usize = LOOKUP_BATCH_SIZES[LOOKUP_BATCH_SIZES.len() - 1];

/// The session lookup of every request, for `size` token hashes (`$1`…`$size`): the session,
/// its user, and whether any gate is stored on either, in one indexed query.
fn session_lookup_sql(size: usize) -> String {
    let mut placeholders = String::new();
    for n in 1..=size {
        if n > 1 {
            placeholders.push_str(", ");
        }
        placeholders.push('$');
        placeholders.push_str(&n.to_string());
    }
    format!(
        "SELECT s.id AS s_id, s.environment_id AS s_environment_id, s.user_id AS s_user_id,
            s.token_hash AS s_token_hash, s.created_at AS s_created_at,
            s.expires_at AS s_expires_at, s.last_active_at AS s_last_active_at,
            s.user_agent AS s_user_agent, s.ip AS s_ip,
            s.authenticated_at AS s_authenticated_at,
            u.id AS u_id, u.environment_id AS u_environment_id, u.email AS u_email,
            u.email_canonical AS u_email_canonical, u.name AS u_name,
            u.email_verified AS u_email_verified, u.legal_version AS u_legal_version,
            u.created_at AS u_created_at,
            u.updated_at AS u_updated_at,
            CASE WHEN EXISTS (SELECT 1 FROM user_gates g WHERE g.user_id = s.user_id)
                  OR EXISTS (SELECT 1 FROM session_gates g WHERE g.session_id = s.id)
                 THEN 1 ELSE 0 END AS has_gates
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash IN ({placeholders})"
    )
}

macro_rules! sql_store {
    ($(#[$doc:meta])* $store:ident, $db:ty, $pool:ty, $conn:ty, $row:ty, $migrator:ident, $q:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $store {
            pool: $pool,
        }

        impl $store {
            /// The connection pool, for applications that share it.
            #[must_use]
            pub fn pool(&self) -> &$pool {
                &self.pool
            }
        }

        const _: () = {
        use sqlx::Row as _;

        fn q(sql: &str) -> Cow<'_, str> {
            $q(sql)
        }

        fn get<'r, T>(row: &'r $row, column: &str) -> Result<T, StoreError>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get(column).map_err(map_err)
        }

        /// Text columns; MySQL reports binary-collated text as VARBINARY, so bytes are
        /// accepted too and checked as UTF-8.
        fn text(row: &$row, column: &str) -> Result<String, StoreError> {
            match row.try_get::<String, _>(column) {
                Ok(value) => Ok(value),
                Err(_) => String::from_utf8(get::<Vec<u8>>(row, column)?)
                    .map_err(|e| StoreError::Other(format!("column {column}: {e}"))),
            }
        }

        fn opt_text(row: &$row, column: &str) -> Result<Option<String>, StoreError> {
            match row.try_get::<Option<String>, _>(column) {
                Ok(value) => Ok(value),
                Err(_) => get::<Option<Vec<u8>>>(row, column)?
                    .map(|bytes| {
                        String::from_utf8(bytes)
                            .map_err(|e| StoreError::Other(format!("column {column}: {e}")))
                    })
                    .transpose(),
            }
        }

        fn time_at(row: &$row, column: &str) -> Result<OffsetDateTime, StoreError> {
            Ok(from_millis(get::<i64>(row, column)?))
        }

        /// Reads a counted try: `updated` rows by the counting statement, then the row's
        /// `attempts` as read back.
        fn reservation(
            updated: u64,
            row: Option<&$row>,
            max_attempts: u32,
        ) -> Result<AttemptReservation, StoreError> {
            let Some(row) = row else {
                return Ok(AttemptReservation::NotFound);
            };
            let attempts = u32::try_from(get::<i64>(row, "attempts")?).unwrap_or(u32::MAX);
            Ok(if updated > 0 {
                AttemptReservation::Reserved(attempts)
            } else if attempts >= max_attempts {
                AttemptReservation::Exhausted
            } else {
                AttemptReservation::Expired
            })
        }

        fn user_from(row: &$row, prefix: &str) -> Result<UserRecord, StoreError> {
            let col = |name: &str| format!("{prefix}{name}");
            Ok(UserRecord {
                id: text(row, &col("id"))?,
                environment_id: text(row, &col("environment_id"))?,
                email: text(row, &col("email"))?,
                email_canonical: text(row, &col("email_canonical"))?,
                name: opt_text(row, &col("name"))?,
                email_verified: get(row, &col("email_verified"))?,
                legal_version: opt_text(row, &col("legal_version"))?,
                created_at: time_at(row, &col("created_at"))?,
                updated_at: time_at(row, &col("updated_at"))?,
            })
        }

        fn session_from(row: &$row, prefix: &str) -> Result<SessionRecord, StoreError> {
            let col = |name: &str| format!("{prefix}{name}");
            Ok(SessionRecord {
                id: text(row, &col("id"))?,
                environment_id: text(row, &col("environment_id"))?,
                user_id: text(row, &col("user_id"))?,
                token_hash: text(row, &col("token_hash"))?,
                created_at: time_at(row, &col("created_at"))?,
                expires_at: time_at(row, &col("expires_at"))?,
                last_active_at: time_at(row, &col("last_active_at"))?,
                authenticated_at: time_at(row, &col("authenticated_at"))?,
                user_agent: opt_text(row, &col("user_agent"))?,
                ip: opt_text(row, &col("ip"))?,
            })
        }

        fn identity_from(row: &$row) -> Result<OAuthIdentityRecord, StoreError> {
            Ok(OAuthIdentityRecord {
                id: text(row, "id")?,
                user_id: text(row, "user_id")?,
                environment_id: text(row, "environment_id")?,
                provider: text(row, "provider")?,
                subject: text(row, "subject")?,
                email: opt_text(row, "email")?,
                created_at: time_at(row, "created_at")?,
            })
        }

        fn sign_up_from(row: &$row) -> Result<SignUpRecord, StoreError> {
            Ok(SignUpRecord {
                id: text(row, "id")?,
                environment_id: text(row, "environment_id")?,
                email: text(row, "email")?,
                email_canonical: text(row, "email_canonical")?,
                name: opt_text(row, "name")?,
                password_hash: opt_text(row, "password_hash")?,
                legal_accepted_at: get::<Option<i64>>(row, "legal_accepted_at")?.map(from_millis),
                legal_version: opt_text(row, "legal_version")?,
                code_hash: text(row, "code_hash")?,
                code_expires_at: time_at(row, "code_expires_at")?,
                attempts: u32::try_from(get::<i64>(row, "attempts")?).unwrap_or(u32::MAX),
                resend_available_at: time_at(row, "resend_available_at")?,
                created_at: time_at(row, "created_at")?,
            })
        }

        fn passkey_from(row: &$row) -> Result<PasskeyRecord, StoreError> {
            Ok(PasskeyRecord {
                id: text(row, "id")?,
                user_id: text(row, "user_id")?,
                environment_id: text(row, "environment_id")?,
                credential_id: text(row, "credential_id")?,
                credential: text(row, "credential")?,
                sign_count: u32::try_from(get::<i64>(row, "sign_count")?).unwrap_or(u32::MAX),
                name: text(row, "name")?,
                created_at: time_at(row, "created_at")?,
                last_used_at: get::<Option<i64>>(row, "last_used_at")?.map(from_millis),
            })
        }

        #[async_trait]
        impl Store for $store {
            async fn migrate(&self) -> Result<(), StoreError> {
                $migrator
                    .run(&self.pool)
                    .await
                    .map_err(|e| migrate_error(&e))
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query(&q("SELECT 1"))
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn list_environments(&self) -> Result<Vec<StoredEnvironment>, StoreError> {
                let rows = sqlx::query(&q("SELECT id, name, mode, publishable_key, secret_key_hash, created_at
                     FROM environments ORDER BY created_at"),
                )
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok(StoredEnvironment {
                            id: text(row, "id")?,
                            name: text(row, "name")?,
                            mode: text(row, "mode")?,
                            publishable_key: text(row, "publishable_key")?,
                            secret_key_hash: text(row, "secret_key_hash")?,
                            created_at: time_at(row, "created_at")?,
                        })
                    })
                    .collect()
            }

            async fn insert_environment(&self, env: &StoredEnvironment) -> Result<(), StoreError> {
                sqlx::query(&q("INSERT INTO environments (id, name, mode, publishable_key, secret_key_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)"),
                )
                .bind(&env.id)
                .bind(&env.name)
                .bind(&env.mode)
                .bind(&env.publishable_key)
                .bind(&env.secret_key_hash)
                .bind(to_millis(env.created_at))
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn find_user_by_email(
                &self,
                environment_id: &str,
                email_canonical: &str,
            ) -> Result<Option<UserRecord>, StoreError> {
                let row = sqlx::query(&q(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE environment_id = $1 AND email_canonical = $2"
                )))
                .bind(environment_id)
                .bind(email_canonical)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                row.map(|row| user_from(&row, "")).transpose()
            }

            async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
                let row = sqlx::query(&q(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                row.map(|row| user_from(&row, "")).transpose()
            }

            async fn insert_user(
                &self,
                user: &UserRecord,
                password_hash: Option<&str>,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                insert_user(&mut tx, user).await?;
                if let Some(hash) = password_hash {
                    sqlx::query(&q("INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)"))
                        .bind(&user.id)
                        .bind(hash)
                        .bind(to_millis(user.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn set_legal_version(
                &self,
                user_id: &str,
                version: &str,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query(&q("UPDATE users SET legal_version = $1, updated_at = $2 WHERE id = $3"))
                    .bind(version)
                    .bind(to_millis(now))
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn set_email_verified(
                &self,
                user_id: &str,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query(&q("UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3"))
                    .bind(true)
                    .bind(to_millis(now))
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn prove_email(
                &self,
                user_id: &str,
                now: OffsetDateTime,
            ) -> Result<Option<ClaimedMethods>, StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                // The conditional update is the once-only step: a second proof (or a
                // concurrent one) finds the address verified and removes nothing.
                let first = sqlx::query(&q(
                    "UPDATE users SET email_verified = $1, updated_at = $2 WHERE id = $3 AND email_verified = $4",
                ))
                .bind(true)
                .bind(to_millis(now))
                .bind(user_id)
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                if first.rows_affected() != 1 {
                    tx.rollback().await.map_err(map_err)?;
                    return Ok(None);
                }
                let identities = sqlx::query(&q("SELECT id, user_id, environment_id, provider, subject, email, created_at
                     FROM oauth_identities WHERE user_id = $1 ORDER BY created_at, id"))
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(identity_from)
                .collect::<Result<Vec<_>, _>>()?;
                let passkeys = sqlx::query(&q("SELECT id, user_id, environment_id, credential_id, credential, sign_count,
                        name, created_at, last_used_at
                     FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"))
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?
                .iter()
                .map(passkey_from)
                .collect::<Result<Vec<_>, _>>()?;
                for sql in [
                    "DELETE FROM oauth_identities WHERE user_id = $1",
                    "DELETE FROM passkeys WHERE user_id = $1",
                    "DELETE FROM user_gates WHERE user_id = $1 AND gate_key = 'email_verification'",
                ] {
                    sqlx::query(&q(sql))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                let sessions = sqlx::query(&q("DELETE FROM sessions WHERE user_id = $1"))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?
                    .rows_affected();
                tx.commit().await.map_err(map_err)?;
                Ok(Some(ClaimedMethods {
                    identities,
                    passkeys,
                    sessions,
                }))
            }

            async fn put_user_code(
                &self,
                code: &UserCodeRecord,
                max_attempts: u32,
                now: OffsetDateTime,
            ) -> Result<CodeSend, StoreError> {
                // A resend within a live ceremony: a new code, the same count of tries.
                let replaced = sqlx::query(&q("UPDATE user_codes SET id = $1, code_hash = $2, expires_at = $3,
                        resend_available_at = $4, target = $5
                     WHERE user_id = $6 AND purpose = $7 AND resend_available_at <= $8
                       AND attempts < $9 AND ceremony_expires_at > $10"))
                .bind(&code.id)
                .bind(&code.code_hash)
                .bind(to_millis(code.expires_at))
                .bind(to_millis(code.resend_available_at))
                .bind(&code.target)
                .bind(&code.user_id)
                .bind(&code.purpose)
                .bind(to_millis(now))
                .bind(i64::from(max_attempts))
                .bind(to_millis(now))
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                if replaced.rows_affected() == 1 {
                    return Ok(CodeSend::Sent);
                }
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                // Only an ended ceremony makes way for a new one; a live one makes the insert
                // conflict on (user_id, purpose), and the transaction is dropped unchanged.
                sqlx::query(&q("DELETE FROM user_codes
                     WHERE user_id = $1 AND purpose = $2 AND ceremony_expires_at <= $3"))
                .bind(&code.user_id)
                .bind(&code.purpose)
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                let inserted = sqlx::query(&q("INSERT INTO user_codes (id, user_id, purpose, code_hash, expires_at,
                        attempts, resend_available_at, created_at, target, ceremony_expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
                .bind(&code.id)
                .bind(&code.user_id)
                .bind(&code.purpose)
                .bind(&code.code_hash)
                .bind(to_millis(code.expires_at))
                .bind(i64::from(code.attempts))
                .bind(to_millis(code.resend_available_at))
                .bind(to_millis(code.created_at))
                .bind(&code.target)
                .bind(to_millis(code.ceremony_expires_at))
                .execute(&mut *tx)
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
                let row = sqlx::query(&q("SELECT id, user_id, purpose, code_hash, expires_at, attempts,
                        resend_available_at, created_at, target, ceremony_expires_at
                     FROM user_codes WHERE user_id = $1 AND purpose = $2"))
                .bind(user_id)
                .bind(purpose)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                row.map(|row| {
                    Ok(UserCodeRecord {
                        id: text(&row, "id")?,
                        user_id: text(&row, "user_id")?,
                        purpose: text(&row, "purpose")?,
                        target: opt_text(&row, "target")?,
                        code_hash: text(&row, "code_hash")?,
                        expires_at: time_at(&row, "expires_at")?,
                        attempts: u32::try_from(get::<i64>(&row, "attempts")?).unwrap_or(u32::MAX),
                        resend_available_at: time_at(&row, "resend_available_at")?,
                        created_at: time_at(&row, "created_at")?,
                        ceremony_expires_at: time_at(&row, "ceremony_expires_at")?,
                    })
                })
                .transpose()
            }

            async fn reserve_user_code_attempt(
                &self,
                id: &str,
                max_attempts: u32,
                now: OffsetDateTime,
            ) -> Result<AttemptReservation, StoreError> {
                let updated = sqlx::query(&q("UPDATE user_codes SET attempts = attempts + 1
                     WHERE id = $1 AND attempts < $2 AND expires_at > $3"))
                .bind(id)
                .bind(i64::from(max_attempts))
                .bind(to_millis(now))
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                let row = sqlx::query(&q("SELECT attempts FROM user_codes WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                reservation(updated.rows_affected(), row.as_ref(), max_attempts)
            }

            async fn consume_user_code(&self, id: &str) -> Result<bool, StoreError> {
                sqlx::query(&q("DELETE FROM user_codes WHERE id = $1"))
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn set_password(
                &self,
                user_id: &str,
                hash: &str,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(&q("DELETE FROM passwords WHERE user_id = $1"))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(&q("INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)"))
                    .bind(user_id)
                    .bind(hash)
                    .bind(to_millis(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }

            async fn delete_user_sessions(&self, user_id: &str) -> Result<u64, StoreError> {
                sqlx::query(&q("DELETE FROM sessions WHERE user_id = $1"))
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(map_err)
            }

            async fn insert_magic_link(&self, link: &MagicLinkRecord) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                sqlx::query(&q("DELETE FROM magic_links WHERE user_id = $1"))
                    .bind(&link.user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(&q("INSERT INTO magic_links (id, environment_id, user_id, token_hash,
                        redirect_url, expires_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                .bind(&link.id)
                .bind(&link.environment_id)
                .bind(&link.user_id)
                .bind(&link.token_hash)
                .bind(&link.redirect_url)
                .bind(to_millis(link.expires_at))
                .bind(to_millis(link.created_at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }

            async fn find_magic_link(
                &self,
                token_hash: &str,
            ) -> Result<Option<MagicLinkRecord>, StoreError> {
                let row = sqlx::query(&q("SELECT id, environment_id, user_id, token_hash, redirect_url,
                        expires_at, created_at
                     FROM magic_links WHERE token_hash = $1"))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                row.map(|row| {
                    Ok(MagicLinkRecord {
                        id: text(&row, "id")?,
                        environment_id: text(&row, "environment_id")?,
                        user_id: text(&row, "user_id")?,
                        token_hash: text(&row, "token_hash")?,
                        redirect_url: opt_text(&row, "redirect_url")?,
                        expires_at: time_at(&row, "expires_at")?,
                        created_at: time_at(&row, "created_at")?,
                    })
                })
                .transpose()
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
                let deleted = sqlx::query(&q("DELETE FROM magic_links WHERE id = $1"))
                    .bind(&link.id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok((deleted.rows_affected() == 1 && link.expires_at > now).then_some(link))
            }

            async fn insert_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError> {
                sqlx::query(&q("INSERT INTO ceremonies (id_hash, kind, environment_id, payload,
                        expires_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(&ceremony.id_hash)
                .bind(&ceremony.kind)
                .bind(&ceremony.environment_id)
                .bind(&ceremony.payload)
                .bind(to_millis(ceremony.expires_at))
                .bind(to_millis(ceremony.created_at))
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn take_ceremony(
                &self,
                kind: &str,
                environment_id: &str,
                id_hash: &str,
                now: OffsetDateTime,
            ) -> Result<Option<CeremonyRecord>, StoreError> {
                let row = sqlx::query(&q("SELECT id_hash, kind, environment_id, payload,
                        expires_at, created_at
                     FROM ceremonies WHERE id_hash = $1 AND kind = $2 AND environment_id = $3"))
                .bind(id_hash)
                .bind(kind)
                .bind(environment_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let ceremony = CeremonyRecord {
                    id_hash: text(&row, "id_hash")?,
                    kind: text(&row, "kind")?,
                    environment_id: text(&row, "environment_id")?,
                    payload: text(&row, "payload")?,
                    expires_at: time_at(&row, "expires_at")?,
                    created_at: time_at(&row, "created_at")?,
                };
                // The delete decides: of concurrent callers only one removes the row.
                let deleted = sqlx::query(&q("DELETE FROM ceremonies WHERE id_hash = $1"))
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok((deleted.rows_affected() == 1 && ceremony.expires_at > now).then_some(ceremony))
            }

            async fn purge_ceremonies(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                sqlx::query(&q("DELETE FROM ceremonies WHERE expires_at < $1"))
                    .bind(to_millis(before))
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(map_err)
            }

            async fn list_jwt_keys(&self) -> Result<Vec<JwtKeyRecord>, StoreError> {
                let rows = sqlx::query(&q("SELECT kid, environment_id, private_key, public_key, created_at, retired_at
                     FROM jwt_keys ORDER BY created_at, kid"))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok(JwtKeyRecord {
                            kid: text(row, "kid")?,
                            environment_id: text(row, "environment_id")?,
                            private_key: text(row, "private_key")?,
                            public_key: text(row, "public_key")?,
                            created_at: time_at(row, "created_at")?,
                            retired_at: get::<Option<i64>>(row, "retired_at")?.map(from_millis),
                        })
                    })
                    .collect()
            }

            async fn rotate_jwt_key(&self, key: &JwtKeyRecord) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                // A retired key never signs again, so its private half is erased: only the
                // public key is needed to verify the tokens it signed.
                sqlx::query(&q("UPDATE jwt_keys SET retired_at = $1, private_key = ''
                     WHERE retired_at IS NULL AND environment_id = $2"))
                    .bind(to_millis(key.created_at))
                    .bind(&key.environment_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(&q("INSERT INTO jwt_keys (kid, environment_id, private_key, public_key, created_at, retired_at)
                     VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(&key.kid)
                .bind(&key.environment_id)
                .bind(&key.private_key)
                .bind(&key.public_key)
                .bind(to_millis(key.created_at))
                .bind(key.retired_at.map(to_millis))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }

            async fn hit_rate_limit(
                &self,
                bucket: &str,
                window: time::Duration,
                now: OffsetDateTime,
            ) -> Result<(u32, OffsetDateTime), StoreError> {
                let cutoff = to_millis(now - window);
                // One transaction per try: the row lock taken by the counting statement is held
                // until the count is read back, so each caller reads its own hit's count. A lost
                // race (the row created meanwhile, or a deadlock the database broke) tries again.
                for _ in 0..8 {
                    let attempt = async {
                        let mut tx = self.pool.begin().await?;
                        let counted = sqlx::query(&q("UPDATE rate_limits SET hits = hits + 1
                             WHERE bucket = $1 AND window_start > $2"))
                        .bind(bucket)
                        .bind(cutoff)
                        .execute(&mut *tx)
                        .await?;
                        if counted.rows_affected() == 0 {
                            let restarted = sqlx::query(&q("UPDATE rate_limits SET hits = 1, window_start = $1
                                 WHERE bucket = $2 AND window_start <= $3"))
                            .bind(to_millis(now))
                            .bind(bucket)
                            .bind(cutoff)
                            .execute(&mut *tx)
                            .await?;
                            if restarted.rows_affected() == 0 {
                                sqlx::query(&q("INSERT INTO rate_limits (bucket, window_start, hits)
                                     VALUES ($1, $2, $3)"))
                                .bind(bucket)
                                .bind(to_millis(now))
                                .bind(1_i64)
                                .execute(&mut *tx)
                                .await?;
                            }
                        }
                        let row = sqlx::query(&q("SELECT hits, window_start FROM rate_limits WHERE bucket = $1"))
                            .bind(bucket)
                            .fetch_one(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok::<_, sqlx::Error>(row)
                    }
                    .await;
                    match attempt {
                        Ok(row) => {
                            return Ok((
                                u32::try_from(get::<i64>(&row, "hits")?).unwrap_or(u32::MAX),
                                time_at(&row, "window_start")?,
                            ));
                        }
                        Err(sqlx::Error::Database(db))
                            if db.is_unique_violation()
                                || matches!(db.code().as_deref(), Some("40001" | "40P01")) => {}
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
                        let mut tx = self.pool.begin().await?;
                        let counted = sqlx::query(&q("UPDATE attempt_backoffs
                             SET failures = CASE WHEN last_attempt_at <= $1 THEN 1 ELSE failures + 1 END,
                                 last_attempt_at = $2
                             WHERE bucket = $3 AND next_allowed_at <= $4"))
                        .bind(to_millis(forget_before))
                        .bind(to_millis(now))
                        .bind(bucket)
                        .bind(to_millis(now))
                        .execute(&mut *tx)
                        .await?;
                        if counted.rows_affected() == 0 {
                            let waiting = sqlx::query(&q("SELECT next_allowed_at FROM attempt_backoffs WHERE bucket = $1"))
                                .bind(bucket)
                                .fetch_optional(&mut *tx)
                                .await?;
                            if let Some(row) = waiting {
                                tx.rollback().await?;
                                let until: i64 = row.try_get("next_allowed_at")?;
                                // Created by a concurrent first attempt after the update
                                // looked: count again rather than wait for nothing.
                                return Ok(if until > to_millis(now) { Err(Some(until)) } else { Err(None) });
                            }
                            sqlx::query(&q("INSERT INTO attempt_backoffs (bucket, failures, last_attempt_at, next_allowed_at)
                                 VALUES ($1, $2, $3, $4)"))
                            .bind(bucket)
                            .bind(1_i64)
                            .bind(to_millis(now))
                            .bind(to_millis(now))
                            .execute(&mut *tx)
                            .await?;
                        }
                        let row = sqlx::query(&q("SELECT failures FROM attempt_backoffs WHERE bucket = $1"))
                            .bind(bucket)
                            .fetch_one(&mut *tx)
                            .await?;
                        let failures: i64 = row.try_get("failures")?;
                        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
                        sqlx::query(&q("UPDATE attempt_backoffs SET next_allowed_at = $1 WHERE bucket = $2"))
                            .bind(to_millis(now + delay_after(failures)))
                            .bind(bucket)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok::<_, sqlx::Error>(Ok(failures))
                    }
                    .await;
                    match attempt {
                        Ok(Ok(failures)) => return Ok(AttemptVerdict::Counted(failures)),
                        Ok(Err(Some(until))) => return Ok(AttemptVerdict::Wait(from_millis(until))),
                        Ok(Err(None)) => {}
                        Err(sqlx::Error::Database(db))
                            if db.is_unique_violation()
                                || matches!(db.code().as_deref(), Some("40001" | "40P01")) => {}
                        Err(other) => return Err(map_err(other)),
                    }
                }
                Err(StoreError::Other("attempt counter contention".to_owned()))
            }

            async fn clear_attempts(&self, bucket: &str) -> Result<(), StoreError> {
                sqlx::query(&q("DELETE FROM attempt_backoffs WHERE bucket = $1"))
                    .bind(bucket)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn purge_counters(
                &self,
                windows_before: OffsetDateTime,
                attempts_before: OffsetDateTime,
            ) -> Result<u64, StoreError> {
                let windows = sqlx::query(&q("DELETE FROM rate_limits WHERE window_start < $1"))
                    .bind(to_millis(windows_before))
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                let attempts = sqlx::query(&q("DELETE FROM attempt_backoffs
                     WHERE last_attempt_at < $1 AND next_allowed_at < $2"))
                    .bind(to_millis(attempts_before))
                    .bind(to_millis(attempts_before))
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(windows.rows_affected() + attempts.rows_affected())
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
                for _ in 0..8 {
                    let attempt = async {
                        let mut tx = self.pool.begin().await?;
                        // Serialise on the user's row first: a second removal waits here and
                        // then counts what the first one left.
                        sqlx::query(&q("UPDATE users SET updated_at = updated_at WHERE id = $1"))
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await?;
                        let owned = sqlx::query(&q(&format!(
                            "SELECT 1 AS one FROM {table} WHERE id = $1 AND user_id = $2"
                        )))
                        .bind(id)
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if owned.is_none() {
                            tx.rollback().await?;
                            return Ok(MethodRemoval::NotFound);
                        }
                        let row = sqlx::query(&q("SELECT
                               (SELECT COUNT(*) FROM passwords WHERE user_id = $1)
                             + (SELECT COUNT(*) FROM oauth_identities WHERE user_id = $2)
                             + (SELECT COUNT(*) FROM passkeys WHERE user_id = $3) AS n"))
                        .bind(user_id)
                        .bind(user_id)
                        .bind(user_id)
                        .fetch_one(&mut *tx)
                        .await?;
                        let methods: i64 = row.try_get("n")?;
                        if methods <= 1 {
                            tx.rollback().await?;
                            return Ok(MethodRemoval::LastMethod);
                        }
                        sqlx::query(&q(&format!("DELETE FROM {table} WHERE id = $1 AND user_id = $2")))
                            .bind(id)
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok::<_, sqlx::Error>(MethodRemoval::Removed)
                    }
                    .await;
                    match attempt {
                        Ok(done) => return Ok(done),
                        Err(sqlx::Error::Database(db))
                            if matches!(db.code().as_deref(), Some("40001" | "40P01")) => {}
                        Err(other) => return Err(map_err(other)),
                    }
                }
                Err(StoreError::Other("sign-in method removal contention".to_owned()))
            }

            async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
                sqlx::query(&q("DELETE FROM users WHERE id = $1"))
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
                let row = sqlx::query(&q("SELECT hash FROM passwords WHERE user_id = $1"))
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                row.map(|row| text(&row, "hash")).transpose()
            }

            async fn insert_sign_up(&self, s: &SignUpRecord) -> Result<(), StoreError> {
                sqlx::query(&q("INSERT INTO sign_ups (id, environment_id, email, email_canonical, name, password_hash,
                        legal_accepted_at, code_hash, code_expires_at, attempts, resend_available_at, created_at,
                        legal_version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"),
                )
                .bind(&s.id)
                .bind(&s.environment_id)
                .bind(&s.email)
                .bind(&s.email_canonical)
                .bind(&s.name)
                .bind(&s.password_hash)
                .bind(s.legal_accepted_at.map(to_millis))
                .bind(&s.code_hash)
                .bind(to_millis(s.code_expires_at))
                .bind(i64::from(s.attempts))
                .bind(to_millis(s.resend_available_at))
                .bind(to_millis(s.created_at))
                .bind(&s.legal_version)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn get_sign_up(
                &self,
                environment_id: &str,
                id: &str,
            ) -> Result<Option<SignUpRecord>, StoreError> {
                let row = sqlx::query(&q("SELECT * FROM sign_ups WHERE id = $1 AND environment_id = $2"))
                    .bind(id)
                    .bind(environment_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                row.map(|row| sign_up_from(&row)).transpose()
            }

            async fn reserve_sign_up_attempt(
                &self,
                id: &str,
                max_attempts: u32,
                now: OffsetDateTime,
            ) -> Result<AttemptReservation, StoreError> {
                let updated = sqlx::query(&q("UPDATE sign_ups SET attempts = attempts + 1
                     WHERE id = $1 AND attempts < $2 AND code_expires_at > $3"),
                )
                .bind(id)
                .bind(i64::from(max_attempts))
                .bind(to_millis(now))
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                let row = sqlx::query(&q("SELECT attempts FROM sign_ups WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                reservation(updated.rows_affected(), row.as_ref(), max_attempts)
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
                let updated = sqlx::query(&q("UPDATE sign_ups SET code_hash = $1, code_expires_at = $2,
                        resend_available_at = $3
                     WHERE id = $4 AND resend_available_at <= $5 AND attempts < $6"),
                )
                .bind(code_hash)
                .bind(to_millis(code_expires_at))
                .bind(to_millis(resend_available_at))
                .bind(id)
                .bind(to_millis(now))
                .bind(i64::from(max_attempts))
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                if updated.rows_affected() == 1 {
                    return Ok(CodeSend::Sent);
                }
                let row = sqlx::query(&q("SELECT attempts, resend_available_at FROM sign_ups WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                let Some(row) = row else {
                    return Ok(CodeSend::NotFound);
                };
                let attempts = u32::try_from(get::<i64>(&row, "attempts")?).unwrap_or(u32::MAX);
                Ok(if attempts >= max_attempts {
                    CodeSend::Exhausted
                } else {
                    CodeSend::Cooldown(time_at(&row, "resend_available_at")?)
                })
            }

            async fn complete_sign_up(
                &self,
                sign_up_id: &str,
                user: &UserRecord,
                password_hash: Option<&str>,
                session: &SessionRecord,
            ) -> Result<CompleteSignUp, StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                let consumed = sqlx::query(&q("DELETE FROM sign_ups WHERE id = $1"))
                    .bind(sign_up_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if consumed.rows_affected() != 1 {
                    return Ok(CompleteSignUp::AlreadyConsumed);
                }
                let inserted = insert_user(&mut tx, user).await;
                match inserted {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => return Ok(CompleteSignUp::EmailTaken),
                    Err(other) => return Err(other),
                }
                if let Some(hash) = password_hash {
                    sqlx::query(&q("INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)"))
                        .bind(&user.id)
                        .bind(hash)
                        .bind(to_millis(user.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                insert_session(&mut tx, session).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(CompleteSignUp::Created(user.clone()))
            }

            async fn purge_sign_ups(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                sqlx::query(&q("DELETE FROM sign_ups WHERE created_at < $1"))
                    .bind(to_millis(before))
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(map_err)
            }

            async fn find_oauth_identity(
                &self,
                environment_id: &str,
                provider: &str,
                subject: &str,
            ) -> Result<Option<OAuthIdentityRecord>, StoreError> {
                let row = sqlx::query(&q("SELECT id, user_id, environment_id, provider, subject, email, created_at
                     FROM oauth_identities
                     WHERE environment_id = $1 AND provider = $2 AND subject = $3"))
                .bind(environment_id)
                .bind(provider)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                row.map(|row| identity_from(&row)).transpose()
            }

            async fn list_oauth_identities(
                &self,
                user_id: &str,
            ) -> Result<Vec<OAuthIdentityRecord>, StoreError> {
                let rows = sqlx::query(&q("SELECT id, user_id, environment_id, provider, subject, email, created_at
                     FROM oauth_identities WHERE user_id = $1 ORDER BY created_at, id"))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                rows.iter().map(identity_from).collect()
            }

            async fn insert_oauth_identity(
                &self,
                identity: &OAuthIdentityRecord,
            ) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_err)?;
                insert_identity(&mut conn, identity).await
            }

            async fn create_oauth_user(
                &self,
                user: &UserRecord,
                identity: &OAuthIdentityRecord,
                session: &SessionRecord,
            ) -> Result<CreateOAuthUser, StoreError> {
                let mut tx = self.pool.begin().await.map_err(map_err)?;
                match insert_user(&mut tx, user).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => return Ok(CreateOAuthUser::EmailTaken),
                    Err(other) => return Err(other),
                }
                match insert_identity(&mut tx, identity).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => return Ok(CreateOAuthUser::IdentityTaken),
                    Err(other) => return Err(other),
                }
                insert_session(&mut tx, session).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(CreateOAuthUser::Created)
            }

            async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await.map_err(map_err)?;
                insert_session(&mut conn, session).await
            }

            async fn session_by_token_hash(
                &self,
                token_hash: &str,
            ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
                // One lookup for every caller; the gate flag is a cheap indexed probe.
                Ok(self
                    .session_for_request(token_hash)
                    .await?
                    .map(|(session, user, _)| (session, user)))
            }

            async fn session_for_request(
                &self,
                token_hash: &str,
            ) -> Result<Option<(SessionRecord, UserRecord, bool)>, StoreError> {
                Ok(self
                    .sessions_for_requests(&[token_hash.to_owned()])
                    .await?
                    .pop())
            }

            async fn sessions_for_requests(
                &self,
                token_hashes: &[String],
            ) -> Result<Vec<(SessionRecord, UserRecord, bool)>, StoreError> {
                static STATEMENTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
                let statements = STATEMENTS.get_or_init(|| {
                    LOOKUP_BATCH_SIZES
                        .iter()
                        .map(|&size| q(&session_lookup_sql(size)).into_owned())
                        .collect()
                });
                let mut found = Vec::with_capacity(token_hashes.len());
                for chunk in token_hashes.chunks(MAX_LOOKUP_BATCH) {
                    // The list is padded (with its last hash) to one of a few sizes, so that a
                    // handful of prepared statements serve every batch.
                    let slot = LOOKUP_BATCH_SIZES
                        .iter()
                        .position(|&size| size >= chunk.len())
                        .unwrap_or(LOOKUP_BATCH_SIZES.len() - 1);
                    let mut query = sqlx::query(&statements[slot]);
                    for i in 0..LOOKUP_BATCH_SIZES[slot] {
                        query = query.bind(&chunk[i.min(chunk.len() - 1)]);
                    }
                    let rows = query.fetch_all(&self.pool).await.map_err(map_err)?;
                    for row in rows {
                        let has_gates = get::<i32>(&row, "has_gates").map_or_else(
                            |_| get::<i64>(&row, "has_gates").map(|n| n != 0),
                            |n| Ok(n != 0),
                        )?;
                        found.push((session_from(&row, "s_")?, user_from(&row, "u_")?, has_gates));
                    }
                }
                Ok(found)
            }

            async fn touch_session(
                &self,
                session_id: &str,
                now: OffsetDateTime,
                stale_before: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query(&q("UPDATE sessions SET last_active_at = $1 WHERE id = $2 AND last_active_at < $3"))
                    .bind(to_millis(now))
                    .bind(session_id)
                    .bind(to_millis(stale_before))
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn get_session(
                &self,
                session_id: &str,
            ) -> Result<Option<SessionRecord>, StoreError> {
                let row = sqlx::query(&q(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1")))
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                row.map(|row| session_from(&row, "")).transpose()
            }

            async fn require_gate(
                &self,
                target: GateTarget<'_>,
                key: &str,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                let (sql, id) = match target {
                    GateTarget::User(id) => (
                        "INSERT INTO user_gates (user_id, gate_key, created_at) VALUES ($1, $2, $3)",
                        id,
                    ),
                    GateTarget::Session(id) => (
                        "INSERT INTO session_gates (session_id, gate_key, created_at) VALUES ($1, $2, $3)",
                        id,
                    ),
                };
                let inserted = sqlx::query(&q(sql))
                    .bind(id)
                    .bind(key)
                    .bind(to_millis(now))
                    .execute(&self.pool)
                    .await
                    .map_err(map_err);
                match inserted {
                    // Already required: idempotent, and the original order is kept.
                    Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
                    Err(other) => Err(other),
                }
            }

            async fn clear_gate(&self, target: GateTarget<'_>, key: &str) -> Result<bool, StoreError> {
                let (sql, id) = match target {
                    GateTarget::User(id) => ("DELETE FROM user_gates WHERE user_id = $1 AND gate_key = $2", id),
                    GateTarget::Session(id) => {
                        ("DELETE FROM session_gates WHERE session_id = $1 AND gate_key = $2", id)
                    }
                };
                sqlx::query(&q(sql))
                    .bind(id)
                    .bind(key)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn gates(
                &self,
                user_id: &str,
                session_id: &str,
            ) -> Result<Vec<GateRecord>, StoreError> {
                let rows = sqlx::query(&q("SELECT gate_key, created_at FROM user_gates WHERE user_id = $1
                     UNION ALL
                     SELECT gate_key, created_at FROM session_gates WHERE session_id = $2"))
                .bind(user_id)
                .bind(session_id)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok(GateRecord {
                            key: text(row, "gate_key")?,
                            created_at: time_at(row, "created_at")?,
                        })
                    })
                    .collect()
            }

            async fn insert_passkey(&self, p: &PasskeyRecord) -> Result<(), StoreError> {
                sqlx::query(&q("INSERT INTO passkeys (id, user_id, environment_id, credential_id, credential,
                        sign_count, name, created_at, last_used_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
                .bind(&p.id)
                .bind(&p.user_id)
                .bind(&p.environment_id)
                .bind(&p.credential_id)
                .bind(&p.credential)
                .bind(i64::from(p.sign_count))
                .bind(&p.name)
                .bind(to_millis(p.created_at))
                .bind(p.last_used_at.map(to_millis))
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(map_err)
            }

            async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, StoreError> {
                let rows = sqlx::query(&q("SELECT id, user_id, environment_id, credential_id, credential, sign_count,
                        name, created_at, last_used_at
                     FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                rows.iter().map(passkey_from).collect()
            }

            async fn count_passkeys(&self, user_id: &str) -> Result<u64, StoreError> {
                let row = sqlx::query(&q("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1"))
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(u64::try_from(get::<i64>(&row, "n")?).unwrap_or(0))
            }

            async fn find_passkey_by_credential_id(
                &self,
                environment_id: &str,
                credential_id: &str,
            ) -> Result<Option<PasskeyRecord>, StoreError> {
                let row = sqlx::query(&q("SELECT id, user_id, environment_id, credential_id, credential, sign_count,
                        name, created_at, last_used_at
                     FROM passkeys WHERE credential_id = $1 AND environment_id = $2"))
                .bind(credential_id)
                .bind(environment_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                row.map(|row| passkey_from(&row)).transpose()
            }

            async fn record_passkey_use(
                &self,
                id: &str,
                credential: &str,
                sign_count: u32,
                now: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                let count = i64::from(sign_count);
                let updated = sqlx::query(&q("UPDATE passkeys SET credential = $1, sign_count = $2, last_used_at = $3
                     WHERE id = $4 AND (sign_count < $5 OR (sign_count = 0 AND $6 = 0))"))
                .bind(credential)
                .bind(count)
                .bind(to_millis(now))
                .bind(id)
                .bind(count)
                .bind(count)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(updated.rows_affected() == 1)
            }

            async fn rename_passkey(
                &self,
                user_id: &str,
                id: &str,
                name: &str,
            ) -> Result<bool, StoreError> {
                // Selected first: MySQL counts an update to the same value as no row affected.
                let exists = sqlx::query(&q("SELECT id FROM passkeys WHERE id = $1 AND user_id = $2"))
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                if exists.is_none() {
                    return Ok(false);
                }
                sqlx::query(&q("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3"))
                    .bind(name)
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|_| true)
                    .map_err(map_err)
            }

            async fn delete_session(&self, session_id: &str) -> Result<bool, StoreError> {
                sqlx::query(&q("DELETE FROM sessions WHERE id = $1"))
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn list_user_sessions(
                &self,
                user_id: &str,
            ) -> Result<Vec<SessionRecord>, StoreError> {
                let rows = sqlx::query(&q(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1
                     ORDER BY last_active_at DESC, id"
                )))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                rows.iter().map(|row| session_from(row, "")).collect()
            }

            async fn delete_user_session(
                &self,
                user_id: &str,
                session_id: &str,
            ) -> Result<bool, StoreError> {
                sqlx::query(&q("DELETE FROM sessions WHERE id = $1 AND user_id = $2"))
                    .bind(session_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn delete_other_sessions(
                &self,
                user_id: &str,
                keep: &str,
            ) -> Result<u64, StoreError> {
                sqlx::query(&q("DELETE FROM sessions WHERE user_id = $1 AND id <> $2"))
                    .bind(user_id)
                    .bind(keep)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(map_err)
            }

            async fn reauthenticate_session(
                &self,
                session_id: &str,
                at: OffsetDateTime,
                token_hash: &str,
            ) -> Result<bool, StoreError> {
                sqlx::query(&q("UPDATE sessions SET authenticated_at = $1, token_hash = $2 WHERE id = $3"))
                    .bind(to_millis(at))
                    .bind(token_hash)
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn set_session_authenticated(
                &self,
                session_id: &str,
                at: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                sqlx::query(&q("UPDATE sessions SET authenticated_at = $1 WHERE id = $2"))
                    .bind(to_millis(at))
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected() == 1)
                    .map_err(map_err)
            }

            async fn set_user_name(
                &self,
                user_id: &str,
                name: Option<&str>,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query(&q("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3"))
                    .bind(name)
                    .bind(to_millis(now))
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(map_err)
            }

            async fn set_user_email(
                &self,
                user_id: &str,
                email: &str,
                email_canonical: &str,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query(&q("UPDATE users SET email = $1, email_canonical = $2, email_verified = $3,
                        updated_at = $4
                     WHERE id = $5"))
                .bind(email)
                .bind(email_canonical)
                .bind(true)
                .bind(to_millis(now))
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(map_err)
            }
        }

        async fn insert_user(conn: &mut $conn, user: &UserRecord) -> Result<(), StoreError> {
            sqlx::query(&q("INSERT INTO users (id, environment_id, email, email_canonical, name, email_verified,
                    legal_version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(&user.id)
            .bind(&user.environment_id)
            .bind(&user.email)
            .bind(&user.email_canonical)
            .bind(&user.name)
            .bind(user.email_verified)
            .bind(&user.legal_version)
            .bind(to_millis(user.created_at))
            .bind(to_millis(user.updated_at))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(map_err)
        }

        async fn insert_identity(
            conn: &mut $conn,
            identity: &OAuthIdentityRecord,
        ) -> Result<(), StoreError> {
            sqlx::query(&q("INSERT INTO oauth_identities (id, user_id, environment_id, provider, subject,
                    email, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"))
            .bind(&identity.id)
            .bind(&identity.user_id)
            .bind(&identity.environment_id)
            .bind(&identity.provider)
            .bind(&identity.subject)
            .bind(&identity.email)
            .bind(to_millis(identity.created_at))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(map_err)
        }

        async fn insert_session(
            conn: &mut $conn,
            s: &SessionRecord,
        ) -> Result<(), StoreError> {
            sqlx::query(&q("INSERT INTO sessions (id, environment_id, user_id, token_hash, created_at, expires_at,
                    last_active_at, user_agent, ip, authenticated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            )
            .bind(&s.id)
            .bind(&s.environment_id)
            .bind(&s.user_id)
            .bind(&s.token_hash)
            .bind(to_millis(s.created_at))
            .bind(to_millis(s.expires_at))
            .bind(to_millis(s.last_active_at))
            .bind(&s.user_agent)
            .bind(&s.ip)
            .bind(to_millis(s.authenticated_at))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(map_err)
        }
        };
    };
}

sql_store!(
    /// A [`Store`] on SQLite: one file, WAL mode so readers never wait for the writer, a busy
    /// timeout so concurrent writers queue instead of failing.
    SqliteStore, sqlx::Sqlite, SqlitePool, sqlx::SqliteConnection, sqlx::sqlite::SqliteRow,
    SQLITE_MIGRATOR, dollar
);
sql_store!(
    /// A [`Store`] on PostgreSQL: the way to scale out, any number of server nodes on one
    /// database.
    PostgresStore, sqlx::Postgres, PgPool, sqlx::PgConnection, sqlx::postgres::PgRow,
    POSTGRES_MIGRATOR, dollar
);
sql_store!(
    /// A [`Store`] on MySQL or MariaDB (InnoDB).
    MySqlStore, sqlx::MySql, MySqlPool, sqlx::MySqlConnection, sqlx::mysql::MySqlRow,
    MYSQL_MIGRATOR, question
);

fn invalid_url(kind: &str, error: &sqlx::Error) -> StoreError {
    StoreError::Other(format!("invalid {kind} URL: {error}"))
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` (`sqlite://path`). Does not
    /// migrate; call [`Store::migrate`].
    ///
    /// # Errors
    /// A malformed URL or an unopenable file.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| invalid_url("SQLite", &e))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Reads through a memory map instead of a read() into each connection's own page
            // cache: the session lookup of every request then costs no system call.
            .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before each use on the /me hot path: a dead connection fails its query
            // (503 `store_unavailable`) and is replaced on the next acquire.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    /// Connects lazily to `postgres://…`: the server starts even while the database is down,
    /// answers 503 meanwhile, and recovers by itself when it returns.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| invalid_url("PostgreSQL", &e))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before each use on the /me hot path: a dead connection fails its query
            // (503 `store_unavailable`) and is replaced on the next acquire.
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

impl MySqlStore {
    /// Connects lazily to `mysql://…` (MariaDB too), like [`PostgresStore::connect_lazy`].
    ///
    /// # Errors
    /// A malformed URL.
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = MySqlConnectOptions::from_str(url).map_err(|e| invalid_url("MySQL", &e))?;
        let pool = MySqlPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before each use on the /me hot path: a dead connection fails its query
            // (503 `store_unavailable`) and is replaced on the next acquire.
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_mysql() {
        assert_eq!(
            question("UPDATE t SET a = $1 WHERE b = $2 AND c < $10"),
            "UPDATE t SET a = ? WHERE b = ? AND c < ?"
        );
        assert_eq!(question("SELECT '$' || x"), "SELECT '$' || x");
    }
}
