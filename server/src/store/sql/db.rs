//! The dialect layer: the one place that knows the three backends apart. It owns the pool of
//! each, rewrites `$n` placeholders to `?` for MySQL, binds a statement's [`Param`]s and reads
//! columns out of a [`Row`], so that the statements of every aggregate are written once.

use super::map_err;
use crate::clock::{from_millis, to_millis};
use crate::store::{AttemptReservation, StoreError};
use sqlx::mysql::{MySql, MySqlConnection, MySqlPool, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Arguments as _, Database, Decode, Encode, Row as _, Transaction, Type};
use time::OffsetDateTime;

/// The connection pool of a [`super::SqlStore`], one variant per backend.
#[derive(Debug, Clone)]
pub enum SqlPool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL or MariaDB.
    MySql(MySqlPool),
}

/// One bound value of a statement.
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    /// A text value.
    Text(&'a str),
    /// A nullable text value.
    OptText(Option<&'a str>),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A point in time, stored as Unix milliseconds.
    Time(OffsetDateTime),
    /// A nullable point in time.
    OptTime(Option<OffsetDateTime>),
}

/// `$n` placeholders rewritten to `?` (MySQL). Statements use each parameter once, in order.
pub(super) fn question(sql: &str) -> String {
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
    out
}

/// The arguments of a statement for one backend; the only place values meet sqlx's encoders.
fn arguments<'q, DB>(params: &[Param<'q>]) -> Result<DB::Arguments<'q>, sqlx::Error>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    let mut args = DB::Arguments::<'q>::default();
    for param in params {
        match *param {
            Param::Text(value) => args.add(value),
            Param::OptText(value) => args.add(value),
            Param::Int(value) => args.add(value),
            Param::Bool(value) => args.add(value),
            Param::Time(value) => args.add(to_millis(value)),
            Param::OptTime(value) => args.add(value.map(to_millis)),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(args)
}

impl SqlPool {
    /// A pooled connection.
    pub(super) async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Conn::Sqlite(pool.acquire().await?),
            Self::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
            Self::MySql(pool) => Conn::MySql(pool.acquire().await?),
        })
    }

    /// A transaction; dropped without [`Tx::commit`], it rolls back.
    pub(super) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Self::MySql(pool) => Tx::MySql(pool.begin().await?),
        })
    }

    /// Runs a statement on a pooled connection; rows affected.
    pub(super) async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let mut conn = self.acquire().await.map_err(map_err)?;
        conn.exec().execute(sql, params).await.map_err(map_err)
    }

    /// Runs a statement whose count of rows does not matter.
    pub(super) async fn run(&self, sql: &str, params: &[Param<'_>]) -> Result<(), StoreError> {
        self.execute(sql, params).await.map(|_| ())
    }

    /// Counts one try on a code with `count` (parameters: the id, `max_attempts`, `now`) and
    /// reads the row's `attempts` back with `read` (parameter: the id).
    pub(super) async fn reserve_try(
        &self,
        count: &str,
        read: &str,
        id: &str,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<AttemptReservation, StoreError> {
        let updated = self
            .execute(
                count,
                &[
                    Param::Text(id),
                    Param::Int(i64::from(max_attempts)),
                    Param::Time(now),
                ],
            )
            .await?;
        let row = self.fetch_optional(read, &[Param::Text(id)]).await?;
        reservation(updated, row.as_ref(), max_attempts)
    }

    /// The row a query finds, if any.
    pub(super) async fn fetch_optional(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>, StoreError> {
        let mut conn = self.acquire().await.map_err(map_err)?;
        conn.exec()
            .fetch_optional(sql, params)
            .await
            .map_err(map_err)
    }

    /// The row a query finds, if any, read by `read`.
    pub(super) async fn find<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        read: impl FnOnce(&Row) -> Result<T, StoreError> + Send,
    ) -> Result<Option<T>, StoreError> {
        self.fetch_optional(sql, params)
            .await?
            .as_ref()
            .map(read)
            .transpose()
    }

    /// The one row a query returns.
    pub(super) async fn fetch_one(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Row, StoreError> {
        let mut conn = self.acquire().await.map_err(map_err)?;
        conn.exec().fetch_one(sql, params).await.map_err(map_err)
    }

    /// Every row a query returns, each read by `read`.
    pub(super) async fn fetch_all<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&Row) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        let mut conn = self.acquire().await.map_err(map_err)?;
        conn.exec().fetch_all(sql, params, read).await
    }
}

/// A connection taken from the pool.
pub(super) enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
    MySql(PoolConnection<MySql>),
}

impl Conn {
    /// Statements on this connection.
    pub(super) fn exec(&mut self) -> Exec<'_> {
        match self {
            Self::Sqlite(conn) => Exec::Sqlite(conn),
            Self::Postgres(conn) => Exec::Postgres(conn),
            Self::MySql(conn) => Exec::MySql(conn),
        }
    }
}

/// An open transaction.
pub(super) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    MySql(Transaction<'static, MySql>),
}

impl Tx {
    /// Statements inside the transaction.
    pub(super) fn exec(&mut self) -> Exec<'_> {
        match self {
            Self::Sqlite(tx) => Exec::Sqlite(tx),
            Self::Postgres(tx) => Exec::Postgres(tx),
            Self::MySql(tx) => Exec::MySql(tx),
        }
    }

    /// Commits.
    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
            Self::MySql(tx) => tx.commit().await,
        }
    }

    /// Rolls back.
    pub(super) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(tx) => tx.rollback().await,
            Self::Postgres(tx) => tx.rollback().await,
            Self::MySql(tx) => tx.rollback().await,
        }
    }
}

/// Where statements run: a pooled connection or a transaction's.
pub(super) enum Exec<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
    MySql(&'c mut MySqlConnection),
}

impl Exec<'_> {
    /// Runs a statement written with `$n` placeholders; rows affected.
    pub(super) async fn execute(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(conn) => sqlx::query_with(sql, arguments::<Sqlite>(params)?)
                .execute(&mut **conn)
                .await?
                .rows_affected(),
            Self::Postgres(conn) => sqlx::query_with(sql, arguments::<Postgres>(params)?)
                .execute(&mut **conn)
                .await?
                .rows_affected(),
            Self::MySql(conn) => sqlx::query_with(&question(sql), arguments::<MySql>(params)?)
                .execute(&mut **conn)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a statement whose count of rows does not matter.
    pub(super) async fn run(&mut self, sql: &str, params: &[Param<'_>]) -> Result<(), StoreError> {
        self.execute(sql, params).await.map(|_| ()).map_err(map_err)
    }

    /// The row a query finds, if any.
    pub(super) async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(conn) => sqlx::query_with(sql, arguments::<Sqlite>(params)?)
                .fetch_optional(&mut **conn)
                .await?
                .map(Row::Sqlite),
            Self::Postgres(conn) => sqlx::query_with(sql, arguments::<Postgres>(params)?)
                .fetch_optional(&mut **conn)
                .await?
                .map(Row::Postgres),
            Self::MySql(conn) => sqlx::query_with(&question(sql), arguments::<MySql>(params)?)
                .fetch_optional(&mut **conn)
                .await?
                .map(Row::MySql),
        })
    }

    /// The one row a query returns.
    pub(super) async fn fetch_one(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Row, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(conn) => Row::Sqlite(
                sqlx::query_with(sql, arguments::<Sqlite>(params)?)
                    .fetch_one(&mut **conn)
                    .await?,
            ),
            Self::Postgres(conn) => Row::Postgres(
                sqlx::query_with(sql, arguments::<Postgres>(params)?)
                    .fetch_one(&mut **conn)
                    .await?,
            ),
            Self::MySql(conn) => Row::MySql(
                sqlx::query_with(&question(sql), arguments::<MySql>(params)?)
                    .fetch_one(&mut **conn)
                    .await?,
            ),
        })
    }

    /// Every row a query returns, each read by `read`.
    pub(super) async fn fetch_all<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&Row) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Self::MySql(_) => self.fetch_all_native(&question(sql), params, read).await,
            _ => self.fetch_all_native(sql, params, read).await,
        }
    }

    /// [`Exec::fetch_all`] for a statement already in the backend's own placeholders.
    pub(super) async fn fetch_all_native<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        read: impl Fn(&Row) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Self::Sqlite(conn) => {
                sqlx::query_with(sql, arguments::<Sqlite>(params).map_err(map_err)?)
                    .fetch_all(&mut **conn)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(|row| read(&Row::Sqlite(row)))
                    .collect()
            }
            Self::Postgres(conn) => {
                sqlx::query_with(sql, arguments::<Postgres>(params).map_err(map_err)?)
                    .fetch_all(&mut **conn)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(|row| read(&Row::Postgres(row)))
                    .collect()
            }
            Self::MySql(conn) => {
                sqlx::query_with(sql, arguments::<MySql>(params).map_err(map_err)?)
                    .fetch_all(&mut **conn)
                    .await
                    .map_err(map_err)?
                    .into_iter()
                    .map(|row| read(&Row::MySql(row)))
                    .collect()
            }
        }
    }
}

/// A result row of any backend.
pub(super) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
    MySql(MySqlRow),
}

impl Row {
    /// A column decoded as `T`, on whichever backend.
    pub(super) fn try_get<T>(&self, column: &str) -> Result<T, sqlx::Error>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>
            + for<'r> Decode<'r, MySql>
            + Type<MySql>,
    {
        match self {
            Self::Sqlite(row) => row.try_get(column),
            Self::Postgres(row) => row.try_get(column),
            Self::MySql(row) => row.try_get(column),
        }
    }

    fn get<T>(&self, column: &str) -> Result<T, StoreError>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>
            + for<'r> Decode<'r, MySql>
            + Type<MySql>,
    {
        self.try_get(column).map_err(map_err)
    }

    /// A text column; MySQL reports binary-collated text as VARBINARY, so bytes are accepted
    /// too and checked as UTF-8.
    pub(super) fn text(&self, column: &str) -> Result<String, StoreError> {
        match self.try_get::<String>(column) {
            Ok(value) => Ok(value),
            Err(_) => String::from_utf8(self.get::<Vec<u8>>(column)?)
                .map_err(|e| StoreError::Other(format!("column {column}: {e}"))),
        }
    }

    /// A nullable text column, read like [`Row::text`].
    pub(super) fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match self.try_get::<Option<String>>(column) {
            Ok(value) => Ok(value),
            Err(_) => self
                .get::<Option<Vec<u8>>>(column)?
                .map(|bytes| {
                    String::from_utf8(bytes)
                        .map_err(|e| StoreError::Other(format!("column {column}: {e}")))
                })
                .transpose(),
        }
    }

    /// An integer column.
    pub(super) fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.get(column)
    }

    /// A count kept as an integer (tries, a signature counter), saturated to `u32`.
    pub(super) fn count(&self, column: &str) -> Result<u32, StoreError> {
        Ok(u32::try_from(self.int(column)?).unwrap_or(u32::MAX))
    }

    /// A boolean column.
    pub(super) fn bool(&self, column: &str) -> Result<bool, StoreError> {
        self.get(column)
    }

    /// A computed 0/1 column, whichever integer width the backend gives it.
    pub(super) fn flag(&self, column: &str) -> Result<bool, StoreError> {
        self.get::<i32>(column)
            .map_or_else(|_| self.int(column).map(|n| n != 0), |n| Ok(n != 0))
    }

    /// A point in time (Unix milliseconds).
    pub(super) fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError> {
        Ok(from_millis(self.int(column)?))
    }

    /// A nullable point in time.
    pub(super) fn opt_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(self.get::<Option<i64>>(column)?.map(from_millis))
    }
}

/// Reads a counted try: `updated` rows by the counting statement, then the row's `attempts` as
/// read back.
fn reservation(
    updated: u64,
    row: Option<&Row>,
    max_attempts: u32,
) -> Result<AttemptReservation, StoreError> {
    let Some(row) = row else {
        return Ok(AttemptReservation::NotFound);
    };
    let attempts = row.count("attempts")?;
    Ok(if updated > 0 {
        AttemptReservation::Reserved(attempts)
    } else if attempts >= max_attempts {
        AttemptReservation::Exhausted
    } else {
        AttemptReservation::Expired
    })
}
