//! The SQL backends: SQLite (the embedded default), PostgreSQL and MySQL/MariaDB, all through
//! sqlx, behind one [`SqlStore`]. The dialect layer ([`db`]) owns the pool of each backend,
//! binds parameters and reads columns; each aggregate's statements are written once, with `$n`
//! placeholders (rewritten to `?` for MySQL), in a file of their own, so the three backends
//! cannot drift apart. Every single-use or counted operation is one conditional statement
//! checked by rows affected.

mod ceremonies;
mod codes;
mod db;
mod environments;
mod gates;
mod identities;
mod keys;
mod passkeys;
mod rate_limits;
mod records;
mod revocations;
mod second_factors;
mod sessions;
mod sign_ups;
mod users;

pub use db::SqlPool;
pub use revocations::REVOCATION_CHANNEL;
pub(crate) use sessions::MAX_LOOKUP_BATCH;

use super::{Store, StoreError};
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr as _;
use std::time::Duration;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL_MIGRATOR: Migrator = sqlx::migrate!("migrations/mysql");

/// How much of a SQLite database file is read through a memory map (shared by every
/// connection and process; only what is touched occupies memory).
const SQLITE_MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// How long a request waits for a pooled connection before answering "store unavailable".
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A [`Store`] on SQL: SQLite (one file, WAL mode so readers never wait for the writer, a
/// busy timeout so concurrent writers queue instead of failing), PostgreSQL (the way to scale
/// out, any number of server nodes on one database) or MySQL/MariaDB (InnoDB). Made by
/// [`SqliteStore::connect`], [`PostgresStore::connect_lazy`] or [`MySqlStore::connect_lazy`].
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: SqlPool,
    /// This process's observers of revoking writes, shared by every clone.
    observers: std::sync::Arc<revocations::Observers>,
}

impl SqlStore {
    fn new(db: SqlPool) -> Self {
        Self {
            db,
            observers: std::sync::Arc::default(),
        }
    }

    /// The connection pool, for applications that share it.
    #[must_use]
    pub fn pool(&self) -> &SqlPool {
        &self.db
    }
}

/// Opens a [`SqlStore`] on SQLite.
#[derive(Debug, Clone, Copy)]
pub struct SqliteStore;

/// Opens a [`SqlStore`] on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub struct PostgresStore;

/// Opens a [`SqlStore`] on MySQL or MariaDB.
#[derive(Debug, Clone, Copy)]
pub struct MySqlStore;

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

/// Whether a failed try of a retried transaction lost a race the database broke (a
/// serialization failure or a deadlock), so that trying again is right.
fn lost_race(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// [`lost_race`], or an insert that lost to a concurrent one.
fn lost_race_or_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation()) || lost_race(error)
}

#[async_trait]
impl Store for SqlStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            SqlPool::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await,
            SqlPool::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
            SqlPool::MySql(pool) => MYSQL_MIGRATOR.run(pool).await,
        }
        .map_err(|e| migrate_error(&e))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.run("SELECT 1", &[]).await
    }
}

fn invalid_url(kind: &str, error: &sqlx::Error) -> StoreError {
    StoreError::Other(format!("invalid {kind} URL: {error}"))
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` (`sqlite://path`). Does not
    /// migrate; call [`Store::migrate`].
    ///
    /// # Errors
    /// A malformed URL or an unopenable file.
    pub async fn connect(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
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
        Ok(SqlStore::new(SqlPool::Sqlite(pool)))
    }
}

impl PostgresStore {
    /// Connects lazily to `postgres://…`: the server starts even while the database is down,
    /// answers 503 meanwhile, and recovers by itself when it returns.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| invalid_url("PostgreSQL", &e))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before each use on the /me hot path: a dead connection fails its query
            // (503 `store_unavailable`) and is replaced on the next acquire.
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(SqlStore::new(SqlPool::Postgres(pool)))
    }
}

impl MySqlStore {
    /// Connects lazily to `mysql://…` (MariaDB too), like [`PostgresStore::connect_lazy`].
    ///
    /// # Errors
    /// A malformed URL.
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<SqlStore, StoreError> {
        let options = MySqlConnectOptions::from_str(url).map_err(|e| invalid_url("MySQL", &e))?;
        let pool = MySqlPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // No ping before each use on the /me hot path: a dead connection fails its query
            // (503 `store_unavailable`) and is replaced on the next acquire.
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(SqlStore::new(SqlPool::MySql(pool)))
    }
}

#[cfg(test)]
mod tests {
    use super::db::question;

    #[test]
    fn placeholders_are_rewritten_for_mysql() {
        assert_eq!(
            question("UPDATE t SET a = $1 WHERE b = $2 AND c < $10"),
            "UPDATE t SET a = ? WHERE b = ? AND c < ?"
        );
        assert_eq!(question("SELECT '$' || x"), "SELECT '$' || x");
    }
}
