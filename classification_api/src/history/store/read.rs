//! Reading the history: pages, one record, the export stream, and the
//! grouped counts monitoring folds.

use super::*;

impl Store {
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
