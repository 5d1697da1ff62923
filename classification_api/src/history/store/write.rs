//! Writing the history: group inserts, feedback, retention, shadow rows.

use super::*;

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

impl Store {
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
}
