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
        ref unreachable if is_unreachable(unreachable) => {
            StoreError::Unavailable(unreachable.to_string())
        }
        sqlx::Error::Database(ref db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or_else(|| db.message()).to_owned())
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// Whether `error` says the database cannot be reached right now (refused, reset, shutting
/// down, out of connections, locked past the busy timeout, its file unopenable) rather than
/// that the statement or the data is wrong: the former answers `503 store_unavailable`, and
/// the same request may succeed once the database is back.
fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                postgres_unreachable(pg.code())
            } else if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                mysql_unreachable(my.number(), my.code())
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite's code is its extended result code, in decimal.
                db.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(sqlite_unreachable)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs of a database that is not there for us: class 08 (connection
/// exception), class 53 (insufficient resources: `too_many_connections`, out of memory or
/// disk), the operator interventions that end connections (`admin_shutdown` when the server
/// stops, `crash_shutdown`, `cannot_connect_now` while it starts or stops,
/// `idle_session_timeout`) and `io_error`.
fn postgres_unreachable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08")
        || sqlstate.starts_with("53")
        || matches!(sqlstate, "57P01" | "57P02" | "57P03" | "57P05" | "58030")
}

/// MySQL/MariaDB errors of a server that is not there for us: SQLSTATE class 08
/// (communication link failure and the like), and by number the shutdown, connection-limit,
/// network and killed-connection errors (server and client ranges).
fn mysql_unreachable(number: u16, sqlstate: Option<&str>) -> bool {
    sqlstate.is_some_and(|state| state.starts_with("08"))
        || matches!(
            number,
            1040 // ER_CON_COUNT_ERROR: too many connections
                | 1053 // ER_SERVER_SHUTDOWN: shutdown in progress
                | 1077..=1081 // normal shutdown, got signal, shutdown complete, forcing close, socket
                | 1152 // ER_ABORTING_CONNECTION
                | 1158..=1161 // network read/write errors and interruptions
                | 1184 // ER_NEW_ABORTING_CONNECTION
                | 1203 // ER_TOO_MANY_USER_CONNECTIONS
                | 1927 // ER_CONNECTION_KILLED (MariaDB): KILL CONNECTION, or a stop
                | 2002 // CR_CONNECTION_ERROR
                | 2003 // CR_CONN_HOST_ERROR
                | 2006 // CR_SERVER_GONE_ERROR
                | 2013 // CR_SERVER_LOST
                | 2055 // CR_SERVER_LOST_EXTENDED
                | 4031 // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
        )
}

/// SQLite result codes (by their primary code, the low byte of the extended one) of a file
/// that cannot be used now: busy or locked past the busy timeout, I/O errors, a full disk, a
/// file that cannot be opened, is read-only or may not be accessed, a locking-protocol error.
fn sqlite_unreachable(extended: i32) -> bool {
    const PERM: i32 = 3;
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const READONLY: i32 = 8;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    const PROTOCOL: i32 = 15;
    matches!(
        extended & 0xff,
        PERM | BUSY | LOCKED | READONLY | IOERR | FULL | CANTOPEN | PROTOCOL
    )
}

fn migrate_error(error: &sqlx::migrate::MigrateError) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::Other(format!(
            "the database was migrated by a newer version of Torii (migration {version} is \
             unknown to this one); refusing to start"
        )),
        sqlx::migrate::MigrateError::Execute(cause) if is_unreachable(cause) => {
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

    fn connections(&self) -> Option<(u32, u32)> {
        let (open, idle) = match &self.db {
            SqlPool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            SqlPool::Postgres(pool) => (pool.size(), pool.num_idle()),
            SqlPool::MySql(pool) => (pool.size(), pool.num_idle()),
        };
        Some((open, u32::try_from(idle).unwrap_or(u32::MAX)))
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
    use super::{StoreError, map_err};
    use sqlx::Connection as _;
    use std::time::{Duration, Instant};

    fn postgres_url() -> String {
        std::env::var("TORII_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
    }

    fn mysql_url() -> String {
        std::env::var("TORII_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
    }

    fn assert_unavailable(error: sqlx::Error) {
        let shown = error.to_string();
        assert!(
            matches!(map_err(error), StoreError::Unavailable(_)),
            "not classified as unavailable: {shown}"
        );
    }

    fn assert_other(error: sqlx::Error) {
        let shown = error.to_string();
        assert!(
            matches!(map_err(error), StoreError::Other(_)),
            "not classified as another failure: {shown}"
        );
    }

    #[tokio::test]
    async fn postgres_shutdown_and_connection_errors_are_unavailable() {
        let mut victim = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
        let mut admin = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
        // What a stop does to every live connection: FATAL 57P01 admin_shutdown.
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut victim)
            .await
            .unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(&mut admin)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap()
            > 0
        {
            assert!(Instant::now() < deadline, "the backend was not terminated");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let terminated = sqlx::query("SELECT 1")
            .execute(&mut victim)
            .await
            .unwrap_err();
        assert_eq!(
            terminated
                .as_database_error()
                .and_then(|e| e.code())
                .as_deref(),
            Some("57P01"),
            "{terminated:?}"
        );
        assert_unavailable(terminated);
        // The same SQLSTATEs raised by the real server through the real driver.
        for sqlstate in [
            "08000", "08003", "08006", "08P01", "53000", "53100", "53200", "53300", "57P01",
            "57P02", "57P03", "58030",
        ] {
            let raised = sqlx::query(&format!(
                "DO $$ BEGIN RAISE EXCEPTION 'outage' USING ERRCODE = '{sqlstate}'; END $$"
            ))
            .execute(&mut admin)
            .await
            .unwrap_err();
            assert_eq!(
                raised.as_database_error().and_then(|e| e.code()).as_deref(),
                Some(sqlstate)
            );
            assert_unavailable(raised);
        }
        // Faults of the statement or of the data are not outages.
        for sqlstate in ["40001", "42501", "22001", "57014", "P0001"] {
            let raised = sqlx::query(&format!(
                "DO $$ BEGIN RAISE EXCEPTION 'fault' USING ERRCODE = '{sqlstate}'; END $$"
            ))
            .execute(&mut admin)
            .await
            .unwrap_err();
            assert_other(raised);
        }
        let missing = sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut admin)
            .await
            .unwrap_err();
        assert_other(missing);
        // Nothing listens there: refused.
        let refused = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:1/postgres")
            .await
            .unwrap_err();
        assert_unavailable(refused);
    }

    #[tokio::test]
    async fn mysql_shutdown_and_connection_errors_are_unavailable() {
        let mut victim = sqlx::MySqlConnection::connect(&mysql_url()).await.unwrap();
        let mut admin = sqlx::MySqlConnection::connect(&mysql_url()).await.unwrap();
        let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
            .fetch_one(&mut victim)
            .await
            .unwrap();
        sqlx::query(&format!("KILL CONNECTION {id}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let killed = sqlx::query("SELECT 1")
            .execute(&mut victim)
            .await
            .unwrap_err();
        // MariaDB closes a killed connection without a word: the driver reads end of file.
        assert!(matches!(killed, sqlx::Error::Io(_)), "{killed:?}");
        assert_unavailable(killed);
        // The server's own errors, with their real numbers and SQLSTATEs, through the driver.
        for (number, sqlstate) in [
            (1040, "08004"),
            (1053, "08S01"),
            (1077, "HY000"),
            (1152, "08S01"),
            (1158, "08S01"),
            (1161, "08S01"),
            (1203, "42000"),
            (1927, "70100"),
            (2006, "HY000"),
            (2013, "HY000"),
        ] {
            let raised = sqlx::query(&format!(
                "SIGNAL SQLSTATE '{sqlstate}' SET MYSQL_ERRNO = {number}, MESSAGE_TEXT = 'outage'"
            ))
            .execute(&mut admin)
            .await
            .unwrap_err();
            assert_unavailable(raised);
        }
        for (number, sqlstate) in [(1205, "HY000"), (1213, "40001"), (1317, "70100")] {
            let raised = sqlx::query(&format!(
                "SIGNAL SQLSTATE '{sqlstate}' SET MYSQL_ERRNO = {number}, MESSAGE_TEXT = 'fault'"
            ))
            .execute(&mut admin)
            .await
            .unwrap_err();
            assert_other(raised);
        }
        let missing = sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut admin)
            .await
            .unwrap_err();
        assert_other(missing);
        let refused = sqlx::MySqlConnection::connect("mysql://root@127.0.0.1:1/test")
            .await
            .unwrap_err();
        assert_unavailable(refused);
    }

    #[tokio::test]
    async fn sqlite_busy_and_unopenable_files_are_unavailable() {
        use sqlx::sqlite::SqliteConnectOptions;
        use std::str::FromStr as _;
        let dir = std::env::temp_dir().join(crate::session::new_id("torii_classify"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("busy.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))
            .unwrap()
            .create_if_missing(true)
            .busy_timeout(Duration::from_millis(50));
        let mut holder = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let mut other = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut holder)
            .await
            .unwrap();
        let busy = sqlx::query("SELECT * FROM t")
            .execute(&mut other)
            .await
            .unwrap_err();
        assert_eq!(
            busy.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("5")
        );
        assert_unavailable(busy);
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
        let syntax = sqlx::query("SELEC 1")
            .execute(&mut other)
            .await
            .unwrap_err();
        assert_other(syntax);
        let unopenable = SqliteConnectOptions::from_str(&format!(
            "sqlite://{}",
            dir.join("none/x.db").display()
        ))
        .unwrap()
        .create_if_missing(true);
        let cannot_open = sqlx::SqliteConnection::connect_with(&unopenable)
            .await
            .unwrap_err();
        assert_eq!(
            cannot_open
                .as_database_error()
                .and_then(|e| e.code())
                .as_deref(),
            Some("14"),
            "{cannot_open:?}"
        );
        assert_unavailable(cannot_open);
        drop((holder, other));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn placeholders_are_rewritten_for_mysql() {
        assert_eq!(
            question("UPDATE t SET a = $1 WHERE b = $2 AND c < $10"),
            "UPDATE t SET a = ? WHERE b = ? AND c < ?"
        );
        assert_eq!(question("SELECT '$' || x"), "SELECT '$' || x");
    }
}
