//! The history's schema migrations, embedded from `migrations/` and read
//! as `sqlx migrate` reads a directory (`0001_predictions.sql` is version 1,
//! "predictions"), without sqlx's `migrate!` macro and the compile-time
//! database drivers it builds.

use std::borrow::Cow;

use include_dir::{Dir, include_dir};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

static SQLITE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/migrations/sqlite");
static POSTGRES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/migrations/postgres");

type Resolved = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>,
>;

/// One backend's embedded migrations.
#[derive(Debug, Clone, Copy)]
struct Embedded(&'static Dir<'static>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> Resolved {
        Box::pin(async move { migrations(self.0) })
    }
}

fn migrations(dir: &'static Dir<'static>) -> Result<Vec<Migration>, BoxDynError> {
    let mut out = Vec::new();
    for file in dir.files() {
        let name = file.path().to_string_lossy();
        let Some((version, rest)) = name.split_once('_') else {
            return Err(format!("migration {name}: expected NNNN_description.sql").into());
        };
        let Some(description) = rest.strip_suffix(".sql") else {
            return Err(format!("migration {name}: expected NNNN_description.sql").into());
        };
        let version: i64 = version
            .parse()
            .map_err(|_| format!("migration {name}: the version is not a number"))?;
        let sql = file
            .contents_utf8()
            .ok_or_else(|| format!("migration {name} is not UTF-8"))?;
        out.push(Migration::new(
            version,
            Cow::Owned(description.replace('_', " ")),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            sql.starts_with("-- no-transaction"),
        ));
    }
    out.sort_by_key(|m| m.version);
    Ok(out)
}

/// The migrator of the SQLite (`postgres == false`) or PostgreSQL schema.
pub async fn migrator(postgres: bool) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(if postgres { &POSTGRES } else { &SQLITE })).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn both_backends_have_the_same_versions_and_descriptions() {
        let (a, b) = (
            migrator(false).await.unwrap(),
            migrator(true).await.unwrap(),
        );
        let names = |m: &Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        assert_eq!(names(&a)[0], (1, "predictions".to_owned()));
        assert_eq!(a.iter().count(), 3);
    }
}
