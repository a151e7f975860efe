//! Database connections for both backends, migrations under a lock, and write transactions.
//!
//! SQLite gets its options set by hand (WAL, busy timeout, foreign keys, `synchronous=NORMAL`):
//! `Database::connect("sqlite:…")` would give a pool of one connection with none of them.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, bail};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    SqlxPostgresConnector, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
    sqlx::{
        Connection,
        postgres::{PgConnectOptions, PgConnection, PgPoolOptions},
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
};

/// Arbitrary but fixed: the PostgreSQL advisory lock that serializes migrations across instances.
const MIGRATION_LOCK_KEY: i64 = 0x00C0_FFEE_7E47;

/// Connects to `DATABASE_URL`; an unknown scheme or an unreachable server is a one-line error.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    if url.starts_with("sqlite:") {
        connect_sqlite(url).await
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        connect_postgres(url).await
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        bail!("DATABASE_URL scheme {scheme:?} is not supported: use sqlite://… or postgres://…")
    }
}

/// The connection write transactions use. On SQLite, one connection: writers queue in the pool
/// (first come, first served) instead of spinning in SQLite's busy handler, which makes
/// latency under contention both lower and steadier; readers keep the other pool (WAL lets them
/// read while the writer writes). On PostgreSQL, the same pool as everything else.
pub async fn connect_writer(url: &str, db: &DatabaseConnection) -> anyhow::Result<DatabaseConnection> {
    if db.get_database_backend() == DbBackend::Sqlite {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(sqlite_options(url)?)
            .await
            .with_context(|| format!("cannot open the SQLite database {url}"))?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else {
        Ok(db.clone())
    }
}

fn sqlite_options(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)
        .with_context(|| format!("DATABASE_URL {url:?} is not a valid SQLite URL"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

async fn connect_sqlite(url: &str) -> anyhow::Result<DatabaseConnection> {
    let options = sqlite_options(url)?;
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    // A local file cannot drop a connection: no ping before every statement.
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the SQLite database {url}"))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

async fn connect_postgres(url: &str) -> anyhow::Result<DatabaseConnection> {
    let options = PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|err| anyhow::anyhow!("cannot connect to PostgreSQL at {}: {err}", redact(url)))?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{user}@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Runs pending migrations. On PostgreSQL, instances starting together take turns through an
/// advisory lock held by a dedicated session (a pooled connection could change between the lock
/// and the unlock).
pub async fn migrate(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let mut lock = PgConnection::connect(url).await.context("migration lock connection")?;
            sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut lock)
                .await
                .context("taking the migration lock")?;
            let result = Migrator::up(db, None).await;
            // Closing the session releases the lock even if the unlock below fails.
            let _ = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut lock)
                .await;
            let _ = lock.close().await;
            result.context("running migrations")
        }
        _ => Migrator::up(db, None).await.context("running migrations"),
    }
}

/// Begins a transaction that will write. On SQLite it starts `IMMEDIATE`, taking the write lock
/// up front: a deferred transaction that reads first fails at once under contention whatever the
/// busy timeout. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Answers whether the database responds.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:pw@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact("sqlite://./data/curtain.db"), "sqlite://./data/curtain.db");
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused_in_one_line() {
        let err = connect("mysql://root@localhost/x").await.unwrap_err().to_string();
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(!err.contains('\n'));
    }
}
