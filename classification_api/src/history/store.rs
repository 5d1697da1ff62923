//! The history store: a SQLite file or a PostgreSQL database behind one
//! interface (sqlx pools), its embedded migrations, and every query. The SQL
//! is written once: both backends read `$n` placeholders, and the
//! `on_pool!` macro runs the same code on whichever pool is open.

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

/// A record to store: who asked, what was asked (validated, names minimised)
/// and what was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// The record's id (the caller's, or made by the server).
    pub id: String,
    /// Whether the caller chose the id (only those can collide).
    pub client_id: bool,
    /// The request's `X-Request-Id`.
    pub request_id: String,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
    /// The model version that answered.
    pub version: String,
    /// The validated inputs, in [`FIELDS`] order.
    pub inputs: [Input; classification_model::schema::N_FIELDS],
    /// `P(survived = 1)`.
    pub probability: f64,
    /// 0 or 1.
    pub prediction: i64,
    /// The packed drift bins (see `monitoring::pack`).
    pub bins: i64,
}

/// One validated input value, as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Input {
    /// Missing.
    #[default]
    Null,
    /// A whole number (integer fields).
    Integer(i64),
    /// A number.
    Number(f64),
    /// A label or text.
    Text(String),
}

/// What the shadow version answered for a served record.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowRow {
    /// The served record's id.
    pub id: String,
    /// The shadow version.
    pub version: String,
    /// Its `P(survived = 1)`.
    pub probability: f64,
    /// Its prediction, 0 or 1.
    pub prediction: i64,
    /// The served record's time (microseconds since the Unix epoch).
    pub time_us: i64,
}

/// How a shadow version's answers compare with the served ones, over the
/// records both answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowSums {
    /// The shadow version.
    pub version: String,
    /// Records it answered.
    pub records: i64,
    /// Of those, how many got the same prediction.
    pub agreements: i64,
    /// Sum of |served probability - shadow probability|.
    pub sum_abs_difference: f64,
    /// Largest |served probability - shadow probability|.
    pub max_abs_difference: f64,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    /// Its id.
    pub id: String,
    /// The request's id.
    pub request_id: String,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
    /// The model version.
    pub version: String,
    /// The inputs, in [`FIELDS`] order.
    pub inputs: [Input; classification_model::schema::N_FIELDS],
    /// `P(survived = 1)`.
    pub probability: f64,
    /// 0 or 1.
    pub prediction: i64,
    /// The ground truth, once sent.
    pub survived: Option<i64>,
    /// When it was sent (microseconds since the Unix epoch).
    pub feedback_time_us: Option<i64>,
}

/// Which rows a query covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// From this time on (microseconds since the epoch, inclusive).
    pub since: Option<i64>,
    /// Before this time (exclusive).
    pub until: Option<i64>,
    /// Only this model version.
    pub version: Option<String>,
    /// Only this prediction.
    pub prediction: Option<i64>,
    /// Only rows with (true) or without (false) feedback.
    pub has_feedback: Option<bool>,
}

/// Where a page starts: after the row with this time and id.
pub type Cursor = (i64, String);

/// A feedback item that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackProblem {
    /// No record has this id.
    Unknown,
    /// The record already has the other value.
    Conflict(i64),
}

/// The columns every read selects, in [`StoredRow`] order.
/// `INSERT INTO predictions ... VALUES ...` for `rows` (at most
/// [`ROWS_PER_STATEMENT`]).
fn insert_statement<'a, Db>(rows: &[&'a NewRow]) -> QueryBuilder<'a, Db>
where
    Db: sqlx::Database,
    i64: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    f64: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    &'a str: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    Option<i64>: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    Option<f64>: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    Option<&'a str>: sqlx::Encode<'a, Db> + sqlx::Type<Db>,
{
    let mut qb = QueryBuilder::<Db>::new(format!(
        "INSERT INTO predictions (id, request_id, time_us, version, {}, probability, prediction, bins) ",
        FIELDS.map(|f| f.name).join(", ")
    ));
    qb.push_values(rows, |mut b, r| {
        b.push_bind(r.id.as_str())
            .push_bind(r.request_id.as_str())
            .push_bind(r.time_us)
            .push_bind(r.version.as_str());
        for (value, field) in r.inputs.iter().zip(&FIELDS) {
            match (value, field.kind) {
                (Input::Integer(v), _) => b.push_bind(*v),
                (Input::Number(v), _) => b.push_bind(*v),
                (Input::Text(v), _) => b.push_bind(v.as_str()),
                (Input::Null, Kind::Integer { .. }) => b.push_bind(None::<i64>),
                (Input::Null, Kind::Number { .. }) => b.push_bind(None::<f64>),
                (Input::Null, _) => b.push_bind(None::<&str>),
            };
        }
        b.push_bind(r.probability)
            .push_bind(r.prediction)
            .push_bind(r.bins);
    });
    qb
}

fn columns() -> String {
    let mut c = String::from("id, request_id, time_us, version");
    for f in &FIELDS {
        c.push_str(", ");
        c.push_str(f.name);
    }
    c.push_str(", probability, prediction, survived, feedback_time_us");
    c
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

    /// Stores a group of jobs' rows atomically (one statement, or one
    /// transaction) on `held`. A job none of whose rows carries a
    /// caller-chosen id that is already stored (or repeated earlier in the
    /// group) is stored whole; any other job is not stored at all, and its
    /// entry lists the rows whose ids are taken.
    pub async fn insert(
        &self,
        held: &mut Held,
        jobs: &[&[NewRow]],
    ) -> Result<Vec<Vec<usize>>, sqlx::Error> {
        let all = || jobs.iter().flat_map(|rows| rows.iter());
        let chosen = all().any(|r| r.client_id);
        on_held!(held, |pool, Db| {
            // One statement with no ids to check is atomic by itself: one
            // round trip, instead of BEGIN, INSERT and COMMIT.
            if !chosen && all().nth(ROWS_PER_STATEMENT).is_none() {
                let rows: Vec<&NewRow> = all().collect();
                insert_statement::<Db>(&rows)
                    .build()
                    .execute(&mut **pool)
                    .await?;
                return Ok(vec![Vec::new(); jobs.len()]);
            }
            let mut tx = sqlx::Connection::begin(&mut **pool).await?;
            let mut taken = vec![Vec::new(); jobs.len()];
            let chosen: Vec<(usize, usize, &str)> = jobs
                .iter()
                .enumerate()
                .flat_map(|(j, rows)| {
                    rows.iter()
                        .enumerate()
                        .filter(|(_, r)| r.client_id)
                        .map(move |(i, r)| (j, i, r.id.as_str()))
                })
                .collect();
            if !chosen.is_empty() {
                let mut stored = HashSet::new();
                for chunk in chosen.chunks(ROWS_PER_STATEMENT) {
                    let mut qb =
                        QueryBuilder::<Db>::new("SELECT id FROM predictions WHERE id IN (");
                    let mut list = qb.separated(", ");
                    for (_, _, id) in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    let found: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                    stored.extend(found);
                }
                let mut seen = HashSet::new();
                for (j, i, id) in &chosen {
                    if stored.contains(*id) || !seen.insert(*id) {
                        taken[*j].push(*i);
                    }
                }
            }
            let keep: Vec<&NewRow> = jobs
                .iter()
                .zip(&taken)
                .filter(|(_, t)| t.is_empty())
                .flat_map(|(rows, _)| rows.iter())
                .collect();
            for chunk in keep.chunks(ROWS_PER_STATEMENT) {
                insert_statement::<Db>(chunk)
                    .build()
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(taken)
        })
    }

    /// One page, newest first, after `cursor`.
    pub async fn page(
        &self,
        filter: &Filter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<StoredRow>, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {} FROM predictions WHERE 1 = 1",
                columns()
            ));
            push_filter!(qb, filter);
            if let Some((time, id)) = cursor {
                // `time_us <= t` on its own, so that the planner seeks the
                // index there; `(time_us < t OR (time_us = t AND id < i))`
                // made SQLite scan it from the top (50 ms halfway down 1M rows)
                qb.push(" AND time_us <= ")
                    .push_bind(*time)
                    .push(" AND (time_us < ")
                    .push_bind(*time)
                    .push(" OR id < ")
                    .push_bind(id.clone())
                    .push(")");
            }
            qb.push(" ORDER BY time_us DESC, id DESC LIMIT ")
                .push_bind(limit as i64);
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok(stored_row!(row)))
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })
    }

    /// Every matching row, newest first, as a stream (one query, rows read
    /// as they are sent).
    pub fn stream(
        &self,
        filter: Filter,
    ) -> impl Stream<Item = Result<StoredRow, sqlx::Error>> + Send + 'static {
        let store = self.clone();
        async_stream(move |tx| async move {
            on_pool!(store, |pool, Db| {
                let mut qb = QueryBuilder::<Db>::new(format!(
                    "SELECT {} FROM predictions WHERE 1 = 1",
                    columns()
                ));
                push_filter!(qb, &filter);
                qb.push(" ORDER BY time_us DESC, id DESC");
                let mut rows = qb.build().fetch(pool);
                while let Some(row) = rows.next().await {
                    let item = row.and_then(|row| Ok(stored_row!(row)));
                    let failed = item.is_err();
                    if tx.send(item).await.is_err() || failed {
                        break;
                    }
                }
            })
        })
    }

    /// One record.
    pub async fn get(&self, id: &str) -> Result<Option<StoredRow>, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            let row = sqlx::query(&format!(
                "SELECT {} FROM predictions WHERE id = $1",
                columns()
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => Ok(Some(stored_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Applies feedback all or nothing: if any item is unknown or conflicts
    /// with a stored value, nothing is written and every problem is
    /// returned (by index into `items`).
    pub async fn feedback(
        &self,
        items: &[(String, i64)],
        time_us: i64,
    ) -> Result<Vec<(usize, FeedbackProblem)>, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            let mut tx = pool.begin().await?;
            let mut problems = Vec::new();
            let mut stored: std::collections::HashMap<String, Option<i64>> = Default::default();
            for chunk in items.chunks(ROWS_PER_STATEMENT) {
                let mut qb =
                    QueryBuilder::<Db>::new("SELECT id, survived FROM predictions WHERE id IN (");
                let mut list = qb.separated(", ");
                for (id, _) in chunk {
                    list.push_bind(id.as_str());
                }
                qb.push(")");
                // PostgreSQL: lock the rows so that a concurrent feedback waits
                if matches!(self.pool, Pool::Postgres(_)) {
                    qb.push(" FOR UPDATE");
                }
                for row in qb.build().fetch_all(&mut *tx).await? {
                    stored.insert(row.try_get("id")?, row.try_get("survived")?);
                }
            }
            let mut given: std::collections::HashMap<&str, i64> = Default::default();
            for (i, (id, value)) in items.iter().enumerate() {
                match stored.get(id) {
                    None => problems.push((i, FeedbackProblem::Unknown)),
                    Some(Some(old)) if old != value => {
                        problems.push((i, FeedbackProblem::Conflict(*old)))
                    }
                    _ => match given.insert(id.as_str(), *value) {
                        Some(first) if first != *value => {
                            problems.push((i, FeedbackProblem::Conflict(first)))
                        }
                        _ => {}
                    },
                }
            }
            if !problems.is_empty() {
                tx.rollback().await?;
                return Ok(problems);
            }
            for (id, value) in given {
                sqlx::query(
                    "UPDATE predictions SET survived = $1, feedback_time_us = $2 \
                     WHERE id = $3 AND survived IS NULL",
                )
                .bind(value)
                .bind(time_us)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(problems)
        })
    }

    /// Counts of the rows matching `filter` by packed bins (the database
    /// groups; the caller folds the groups as they arrive).
    pub fn bin_counts(
        &self,
        filter: Filter,
    ) -> impl Stream<Item = Result<(i64, i64), sqlx::Error>> + Send + 'static {
        let store = self.clone();
        async_stream(move |tx| async move {
            on_pool!(store, |pool, Db| {
                let mut qb =
                    QueryBuilder::<Db>::new("SELECT bins, COUNT(*) FROM predictions WHERE 1 = 1");
                push_filter!(qb, &filter);
                qb.push(" GROUP BY bins");
                let mut rows = qb.build_query_as::<(i64, i64)>().fetch(pool);
                while let Some(row) = rows.next().await {
                    let failed = row.is_err();
                    if tx.send(row).await.is_err() || failed {
                        break;
                    }
                }
            })
        })
    }

    /// (probability, survived) of the matching rows with feedback, by
    /// ascending probability.
    pub fn feedback_pairs(
        &self,
        mut filter: Filter,
    ) -> impl Stream<Item = Result<(f64, i64), sqlx::Error>> + Send + 'static {
        filter.has_feedback = Some(true);
        let store = self.clone();
        async_stream(move |tx| async move {
            on_pool!(store, |pool, Db| {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT probability, survived FROM predictions WHERE 1 = 1",
                );
                push_filter!(qb, &filter);
                qb.push(" ORDER BY probability");
                let mut rows = qb.build_query_as::<(f64, i64)>().fetch(pool);
                while let Some(row) = rows.next().await {
                    let failed = row.is_err();
                    if tx.send(row).await.is_err() || failed {
                        break;
                    }
                }
            })
        })
    }

    /// The first and last time (µs) of the rows matching `filter`; `None`
    /// when there are none.
    pub async fn span(&self, filter: &Filter) -> Result<Option<(i64, i64)>, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT MIN(time_us), MAX(time_us) FROM predictions WHERE 1 = 1",
            );
            push_filter!(qb, filter);
            let (first, last): (Option<i64>, Option<i64>) =
                qb.build_query_as().fetch_one(pool).await?;
            Ok(first.zip(last))
        })
    }

    /// The rows matching `filter` per bucket of `width` µs: (bucket number
    /// since the epoch, rows, rows predicted to survive), oldest first.
    pub async fn timeline(
        &self,
        filter: &Filter,
        width: i64,
    ) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            let mut qb = QueryBuilder::<Db>::new("SELECT time_us / ");
            qb.push_bind(width).push(
                " AS bucket, COUNT(*), SUM(CASE WHEN prediction = 1 THEN 1 ELSE 0 END) \
                 FROM predictions WHERE 1 = 1",
            );
            push_filter!(qb, filter);
            qb.push(" GROUP BY bucket ORDER BY bucket");
            qb.build_query_as().fetch_all(pool).await
        })
    }

    /// Deletes up to `batch` records older than `before`, and up to `batch`
    /// of their shadow answers; returns the most either statement deleted.
    pub async fn prune(&self, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            let served = sqlx::query(
                "DELETE FROM predictions WHERE id IN \
                 (SELECT id FROM predictions WHERE time_us < $1 ORDER BY time_us LIMIT $2)",
            )
            .bind(before)
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected();
            let shadow = sqlx::query(
                "DELETE FROM shadow_predictions WHERE id IN \
                 (SELECT id FROM shadow_predictions WHERE shadow_time_us < $1 \
                  ORDER BY shadow_time_us LIMIT $2)",
            )
            .bind(before)
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(served.max(shadow))
        })
    }

    /// Stores shadow answers (one statement per 500; an id already there
    /// keeps its first answer).
    pub async fn insert_shadow(&self, rows: &[ShadowRow]) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool, Db| {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO shadow_predictions \
                     (id, shadow_version, shadow_probability, shadow_prediction, shadow_time_us) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id.as_str())
                        .push_bind(r.version.as_str())
                        .push_bind(r.probability)
                        .push_bind(r.prediction)
                        .push_bind(r.time_us);
                });
                qb.push(" ON CONFLICT (id) DO NOTHING");
                qb.build().execute(pool).await?;
            }
            Ok(())
        })
    }

    /// Per shadow version, how its answers compare with the served ones on
    /// `filter`'s records.
    pub async fn shadow_sums(&self, filter: &Filter) -> Result<Vec<ShadowSums>, sqlx::Error> {
        on_pool!(self, |pool, Db| {
            // the filter's columns are the served record's: the shadow
            // table's all start with `shadow_` but for the joined `id`
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT s.shadow_version, COUNT(*), \
                 SUM(CASE WHEN s.shadow_prediction = p.prediction THEN 1 ELSE 0 END), \
                 SUM(ABS(s.shadow_probability - p.probability)), \
                 MAX(ABS(s.shadow_probability - p.probability)) \
                 FROM predictions p JOIN shadow_predictions s ON s.id = p.id WHERE 1 = 1",
            );
            push_filter!(qb, filter);
            qb.push(" GROUP BY s.shadow_version ORDER BY s.shadow_version");
            let rows: Vec<(String, i64, i64, f64, f64)> =
                qb.build_query_as().fetch_all(pool).await?;
            Ok(rows
                .into_iter()
                .map(|(version, records, agreements, sum, max)| ShadowSums {
                    version,
                    records,
                    agreements,
                    sum_abs_difference: sum,
                    max_abs_difference: max,
                })
                .collect())
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

/// A stream fed by a task that owns what it reads (so that the stream is
/// `'static` and a dropped stream stops the task at its next send).
fn async_stream<T, F, Fut>(f: F) -> impl Stream<Item = T> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(f(tx));
    tokio_stream_from(rx)
}

fn tokio_stream_from<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|t| (t, rx)) })
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
