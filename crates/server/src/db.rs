//! Database connections for both backends, migrations under a lock, and write transactions.
//!
//! SQLite gets its options set by hand (WAL, busy timeout, foreign keys, `synchronous=NORMAL`):
//! `Database::connect("sqlite:…")` would give a pool of one connection with none of them.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, bail};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult,
    SqliteTransactionMode, SqlxPostgresConnector, SqlxSqliteConnector, Statement, TransactionOptions,
    TransactionTrait,
    sqlx::{
        Connection,
        postgres::{PgConnectOptions, PgConnection, PgPoolOptions},
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    },
};

/// Arbitrary but fixed: the PostgreSQL advisory lock that serializes migrations across instances.
const MIGRATION_LOCK_KEY: i64 = 0x00C0_FFEE_7E47;

/// The handle reads go through. Its connections refuse writes at the database itself
/// (SQLite `query_only`, PostgreSQL `default_transaction_read_only`) and it is a different type
/// from [`Writer`]: a service that writes takes a `&Writer` (or a transaction begun on one), so
/// passing the read handle to it does not compile, and a statement that writes through the read
/// handle fails in the first test that runs it instead of queueing in SQLite's busy handler.
#[derive(Clone, Debug)]
pub struct Reader(DatabaseConnection);

/// The handle every write goes through. On SQLite, one connection: writers queue in the pool
/// (first come, first served) instead of spinning in SQLite's busy handler, which makes latency
/// under contention both lower and steadier, while readers keep their own pool (WAL lets them read
/// while the writer writes). On PostgreSQL, a pool of its own beside the read pool.
#[derive(Clone, Debug)]
pub struct Writer(DatabaseConnection);

impl Reader {
    /// The underlying connection, for what needs the raw pool (LISTEN).
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.0
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.0.close().await
    }
}

impl Writer {
    /// Begins a write transaction (IMMEDIATE on SQLite).
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        begin_write(&self.0).await
    }

    /// The underlying connection, for what needs the raw pool (LISTEN, migrations).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.0
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.0.close().await
    }
}

/// What a statement that writes may run on: the writer or a transaction (begun on the writer,
/// the only handle that begins them). The read handle is not one: helpers that write take
/// `&impl Writes`, so handing them the read handle does not compile.
pub trait Writes: ConnectionTrait {}
impl Writes for Writer {}
impl Writes for DatabaseTransaction {}

/// Both handles delegate to their connection; only the type (and, for the reader, the database's
/// own read-only mode) tells them apart.
macro_rules! delegate_connection {
    ($handle:ty) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $handle {
            fn get_database_backend(&self) -> DbBackend {
                self.0.get_database_backend()
            }
            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                self.0.execute_raw(stmt).await
            }
            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                self.0.execute_unprepared(sql).await
            }
            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                self.0.query_one_raw(stmt).await
            }
            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                self.0.query_all_raw(stmt).await
            }
            fn support_returning(&self) -> bool {
                self.0.support_returning()
            }
        }
    };
}
delegate_connection!(Reader);
delegate_connection!(Writer);

/// Opens the write handle to `DATABASE_URL` (creating the SQLite file if needed); an unknown
/// scheme or an unreachable server is a one-line error.
pub async fn connect_writer(url: &str) -> anyhow::Result<Writer> {
    match backend_of(url)? {
        DbBackend::Sqlite => {
            ensure_sqlite_dir(url)?;
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(sqlite_options(url)?)
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
            Ok(Writer(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)))
        }
        _ => Ok(Writer(connect_postgres(url, false).await?)),
    }
}

/// Opens the read handle (open the writer first: it creates the file and migrates).
pub async fn connect_reader(url: &str) -> anyhow::Result<Reader> {
    match backend_of(url)? {
        DbBackend::Sqlite => {
            // A local file cannot drop a connection: no ping before every statement.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(sqlite_options(url)?.pragma("query_only", "ON"))
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
            Ok(Reader(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)))
        }
        _ => Ok(Reader(connect_postgres(url, true).await?)),
    }
}

fn backend_of(url: &str) -> anyhow::Result<DbBackend> {
    if url.starts_with("sqlite:") {
        Ok(DbBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DbBackend::Postgres)
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        bail!("DATABASE_URL scheme {scheme:?} is not supported: use sqlite://… or postgres://…")
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

fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let options = sqlite_options(url)?;
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    Ok(())
}

async fn connect_postgres(url: &str, read_only: bool) -> anyhow::Result<DatabaseConnection> {
    let mut options =
        PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
    if read_only {
        options = options.options([("default_transaction_read_only", "on")]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(if read_only { 12 } else { 16 })
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
pub async fn migrate(writer: &Writer, url: &str) -> anyhow::Result<()> {
    let db = writer.connection();
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
async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// True for errors worth retrying: 40P01 (deadlock), 40001 (serialization), SQLite BUSY/LOCKED.
pub fn is_transient(err: &DbErr) -> bool {
    let runtime = match err {
        // Every connection of the pool busy for the whole acquire timeout (the one SQLite writer
        // under a long queue): the same "try again shortly" as a busy database.
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Exec(e) | DbErr::Query(e) | DbErr::Conn(e) => e,
        _ => return false,
    };
    let sea_orm::RuntimeErr::SqlxError(sqlx_err) = runtime else { return false };
    match sqlx_err.as_database_error() {
        Some(db) => {
            let code = db.code().unwrap_or_default();
            matches!(code.as_ref(), "40P01" | "40001" | "5" | "6" | "517" | "261" | "262")
        }
        None => false,
    }
}

/// Answers whether the database responds.
pub async fn ping(db: &Reader) -> bool {
    let select_one = Statement::from_string(db.get_database_backend(), "SELECT 1");
    db.query_one_raw(select_one).await.is_ok()
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::sqlite::SqliteConnection;

    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:pw@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact("sqlite://./data/curtain.db"), "sqlite://./data/curtain.db");
    }

    /// A database busy beyond its timeout is a 503 the client may retry, never a 500.
    #[tokio::test]
    async fn a_busy_database_answers_503_not_500() {
        use axum::response::IntoResponse;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/busy.db", dir.path().display());
        let mut holder = SqliteConnection::connect_with(&sqlite_options(&url).unwrap()).await.unwrap();
        sea_orm::sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
        let impatient = sqlite_options(&url).unwrap().busy_timeout(Duration::ZERO);
        let mut waiter = SqliteConnection::connect_with(&impatient).await.unwrap();
        let busy = sea_orm::sqlx::query("BEGIN IMMEDIATE").execute(&mut waiter).await.unwrap_err();
        let err = DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(busy)));
        assert!(is_transient(&err));
        let response = crate::error::AppError::from(err).into_response();
        assert_eq!(response.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(axum::http::header::RETRY_AFTER));
    }

    /// The writer's only connection busy beyond the acquire timeout is a 503 too.
    #[tokio::test]
    async fn a_writer_queue_that_times_out_answers_503_not_500() {
        use axum::response::IntoResponse;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/queue.db", dir.path().display());
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_millis(100))
            .connect_with(sqlite_options(&url).unwrap())
            .await
            .unwrap();
        let writer = Writer(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool));
        let busy = writer.begin().await.unwrap();
        let err = writer.begin().await.unwrap_err();
        assert!(matches!(err, DbErr::ConnectionAcquire(_)), "{err:?}");
        let response = crate::error::AppError::from(err).into_response();
        assert_eq!(response.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        busy.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused_in_one_line() {
        let err = connect_writer("mysql://root@localhost/x").await.unwrap_err().to_string();
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(!err.contains('\n'));
    }
}
