//! The history store: a SQLite file or a PostgreSQL database behind one
//! interface (sqlx pools): opening, migrating and health here; its row
//! types in `rows.rs`, writes in `write.rs`, reads in `read.rs`. The SQL is
//! written once: both backends read `$n` placeholders, and the `on_pool!`
//! macro runs the same code on whichever pool is open.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use classification_model::schema::{FIELDS, Kind};
use futures_util::{Stream, StreamExt};
use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row};

use crate::config::HistoryStore;
use crate::errors::StoreError;

/// Most rows in one INSERT statement (SQLite allows 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// How long a query may wait for a pooled connection before the store
/// counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long SQLite waits on a lock held by another connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// The open pool.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the open pool and `$db` to its
/// database type.
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $db:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$conn` bound to the held connection and `$db` to its
/// database type.
macro_rules! on_held {
    ($held:expr, |$conn:ident, $db:ident| $body:expr) => {
        match $held {
            Held::Sqlite($conn) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            Held::Postgres($conn) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}

/// A pooled connection a writer keeps between groups: SQLite's page cache
/// stays warm (another connection's write would void it), and no group
/// waits for the pool.
#[derive(Debug)]
pub enum Held {
    /// SQLite.
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    /// PostgreSQL.
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// The history database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// Appends the filter's conditions (each after `AND`).
macro_rules! push_filter {
    ($qb:expr, $f:expr) => {{
        let (qb, f) = (&mut $qb, $f);
        if let Some(t) = f.since {
            qb.push(" AND time_us >= ").push_bind(t);
        }
        if let Some(t) = f.until {
            qb.push(" AND time_us < ").push_bind(t);
        }
        if let Some(v) = &f.version {
            qb.push(" AND version = ").push_bind(v.clone());
        }
        if let Some(p) = f.prediction {
            qb.push(" AND prediction = ").push_bind(p);
        }
        match f.has_feedback {
            Some(true) => {
                qb.push(" AND survived IS NOT NULL");
            }
            Some(false) => {
                qb.push(" AND survived IS NULL");
            }
            None => {}
        }
    }};
}

/// Reads a [`StoredRow`] from any backend's row.
macro_rules! stored_row {
    ($row:expr) => {{
        let row = &$row;
        let mut inputs: [Input; classification_model::schema::N_FIELDS] = Default::default();
        for (i, f) in FIELDS.iter().enumerate() {
            inputs[i] = match f.kind {
                Kind::Integer { .. } => row
                    .try_get::<Option<i64>, _>(f.name)?
                    .map_or(Input::Null, Input::Integer),
                Kind::Number { .. } => row
                    .try_get::<Option<f64>, _>(f.name)?
                    .map_or(Input::Null, Input::Number),
                Kind::Choice(_) | Kind::Text => row
                    .try_get::<Option<String>, _>(f.name)?
                    .map_or(Input::Null, Input::Text),
            };
        }
        StoredRow {
            id: row.try_get("id")?,
            request_id: row.try_get("request_id")?,
            time_us: row.try_get("time_us")?,
            version: row.try_get("version")?,
            inputs,
            probability: row.try_get("probability")?,
            prediction: row.try_get("prediction")?,
            survived: row.try_get("survived")?,
            feedback_time_us: row.try_get("feedback_time_us")?,
        }
    }};
}

mod read;
mod rows;
mod write;

pub use rows::*;

impl Store {
    /// Opens (creating if need be) and migrates the store; `None` for
    /// `HISTORY=off`.
    pub async fn open(config: &HistoryStore) -> Result<Option<Store>, StoreError> {
        let store = match config {
            HistoryStore::Off => return Ok(None),
            HistoryStore::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| StoreError::Create {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // WAL with NORMAL: a commit survives the process being
                    // killed; only a power cut can lose the last ones
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    // a local file's connection does not break: no ping
                    // (a round trip to its worker thread) before each use
                    .test_before_acquire(false)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(|e| StoreError::Create {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                Store {
                    pool: Pool::Sqlite(pool),
                }
            }
            HistoryStore::Postgres(url) => {
                let options =
                    PgConnectOptions::from_str(&url.0).map_err(|e| unavailable("postgres", &e))?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .min_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(|e| unavailable("postgres", &e))?;
                Store {
                    pool: Pool::Postgres(pool),
                }
            }
        };
        store.migrate().await?;
        Ok(Some(store))
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Applies the embedded migrations; refuses a database migrated by a
    /// newer build.
    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = crate::history::migrations::migrator(matches!(self.pool, Pool::Postgres(_)))
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let result = match &self.pool {
            Pool::Sqlite(p) => migrator.run(p).await,
            Pool::Postgres(p) => migrator.run(p).await,
        };
        let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        match result {
            Ok(()) => Ok(()),
            Err(MigrateError::VersionMissing(found)) => {
                Err(StoreError::NewerSchema { found, known })
            }
            Err(e) => Err(StoreError::Migration(e.to_string())),
        }
    }

    /// The error a failed query means for callers.
    pub fn unavailable(&self, e: &sqlx::Error) -> StoreError {
        unavailable(self.backend(), e)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool, Db| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
    }

    /// A connection for a writer to keep between groups.
    pub async fn hold(&self) -> Result<Held, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Held::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Held::Postgres(p.acquire().await?),
        })
    }

    /// Waits for every pending query and closes the connections.
    pub async fn close(&self) {
        on_pool!(self, |pool, Db| pool.close().await)
    }
}

fn unavailable(backend: &'static str, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        backend,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_its_column_in_both_schemas() {
        for dir in ["sqlite", "postgres"] {
            let sql: String =
                std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap()
                    .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                    .collect();
            for f in &FIELDS {
                let ty = match (dir, f.kind) {
                    ("sqlite", Kind::Integer { .. }) => "INTEGER",
                    ("postgres", Kind::Integer { .. }) => "BIGINT",
                    ("sqlite", Kind::Number { .. }) => "REAL",
                    (_, Kind::Number { .. }) => "DOUBLE PRECISION",
                    _ => "TEXT",
                };
                assert!(
                    sql.contains(&format!("    {} {ty},", f.name)),
                    "{dir}: {} {ty}",
                    f.name
                );
            }
        }
    }

    #[test]
    fn columns_follow_the_field_table() {
        assert!(columns().contains("pclass, name, sex, age, sibsp, parch, fare, cabin, embarked"));
    }

    #[allow(dead_code)]
    fn streams_are_send(s: &Store) -> impl Send {
        futures_util::TryStreamExt::try_collect::<Vec<_>>(s.stream(Filter::default()))
    }
}
