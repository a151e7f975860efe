//! The outbox: jobs written in the same transaction as the change that causes them, claimed by
//! any number of workers, retried with exponential backoff and jitter, and parked as `dead` with
//! their last error after too many failures.
//!
//! Claiming: on PostgreSQL `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so workers
//! never wait on each other; on SQLite the same update inside an IMMEDIATE transaction (SQLite has
//! one writer at a time anyway). A claim is a lease: a job whose worker died is claimed again
//! once `locked_until` has passed.

use crate::db::Writer;
use chrono::{DateTime, Duration, Utc};
use entity::jobs;
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Statement,
    sea_query::{Expr, OnConflict},
};
use serde::Serialize;

use crate::error::AppResult;

/// How long a claimed job may run before another worker may take it over.
pub const LEASE: Duration = Duration::minutes(5);
pub const MAX_ATTEMPTS: i32 = 8;
/// The PostgreSQL channel that wakes workers when a job is committed.
pub const CHANNEL: &str = "curtain_jobs";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub const ALL: [Self; 4] = [Self::Queued, Self::Running, Self::Done, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

/// Writes a job in the caller's transaction; it runs only if that transaction commits. With a
/// `dedupe_key`, a second job with the same key is silently not created (periodic slots,
/// one-off reminders). Returns whether a job was created.
pub async fn enqueue<C: crate::db::Writes>(
    db: &C,
    kind: &str,
    payload: &impl Serialize,
    run_at: DateTime<Utc>,
    dedupe_key: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let payload =
        serde_json::to_value(payload).map_err(|e| anyhow::anyhow!("job payload for {kind}: {e}"))?;
    let row = jobs::ActiveModel {
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        run_at: Set(run_at),
        attempts: Set(0),
        max_attempts: Set(MAX_ATTEMPTS),
        dedupe_key: Set(dedupe_key),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let inserted = jobs::Entity::insert(row)
        .on_conflict(OnConflict::column(jobs::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted > 0 && db.get_database_backend() == DbBackend::Postgres {
        // Delivered when the transaction commits: workers wake at once instead of polling.
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(inserted > 0)
}

/// Claims up to `limit` due jobs for `worker` (queued and due, or running with a lapsed lease).
pub async fn claim(db: &Writer, worker: &str, limit: u64, now: DateTime<Utc>) -> AppResult<Vec<jobs::Model>> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id IN (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $3) \
                      OR (status = 'running' AND locked_until < $3) ORDER BY run_at, id LIMIT $4 {lock}) \
         RETURNING *"
    );
    let sql = if backend == DbBackend::Sqlite { sql.replace('$', "?") } else { sql };
    let values = [worker.into(), (now + LEASE).into(), now.into(), (limit as i64).into()];
    // SQLite reads `?1`…`?4` as the same numbered parameters.
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    let txn = db.begin().await?;
    let claimed = jobs::Model::find_by_statement(stmt).all(&txn).await?;
    txn.commit().await?;
    Ok(claimed)
}

/// Marks a job done (only if this worker still holds it).
pub async fn finish(db: &Writer, job: &jobs::Model, worker: &str, now: DateTime<Utc>) -> AppResult<()> {
    jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::val(JobStatus::Done.as_str()))
        .col_expr(jobs::Column::FinishedAt, Expr::val(now))
        .col_expr(jobs::Column::LockedBy, Expr::val(None::<String>))
        .col_expr(jobs::Column::LockedUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(jobs::Column::UpdatedAt, Expr::val(now))
        .filter(jobs::Column::Id.eq(job.id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failure: back to the queue after a backoff, or `dead` when attempts are used up or
/// retrying cannot help (`permanent`).
pub async fn fail(
    db: &Writer,
    job: &jobs::Model,
    worker: &str,
    error: &str,
    permanent: bool,
    now: DateTime<Utc>,
) -> AppResult<JobStatus> {
    let dead = permanent || job.attempts >= job.max_attempts;
    let status = if dead { JobStatus::Dead } else { JobStatus::Queued };
    let mut update = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::val(status.as_str()))
        .col_expr(jobs::Column::LastError, Expr::val(truncate(error, 2000)))
        .col_expr(jobs::Column::LockedBy, Expr::val(None::<String>))
        .col_expr(jobs::Column::LockedUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(jobs::Column::UpdatedAt, Expr::val(now))
        .filter(jobs::Column::Id.eq(job.id))
        .filter(jobs::Column::LockedBy.eq(worker));
    update = if dead {
        update.col_expr(jobs::Column::FinishedAt, Expr::val(now))
    } else {
        update.col_expr(jobs::Column::RunAt, Expr::val(now + backoff(job.attempts)))
    };
    update.exec(db).await?;
    Ok(status)
}

/// 2^attempt seconds (from 2 s, capped at an hour) plus up to 25% jitter, so a crowd of failing
/// jobs does not retry in lockstep.
pub fn backoff(attempts: i32) -> Duration {
    let base = 2i64.saturating_pow(attempts.clamp(1, 12) as u32).min(3600);
    let jitter_ms = rand::rng().random_range(0..=base * 250);
    Duration::seconds(base) + Duration::milliseconds(jitter_ms)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter() {
        for (attempt, base) in [(1, 2), (2, 4), (3, 8), (10, 1024), (12, 3600), (30, 3600)] {
            let d = backoff(attempt);
            assert!(d >= Duration::seconds(base), "{attempt}: {d}");
            assert!(d <= Duration::seconds(base) + Duration::milliseconds(base * 250), "{attempt}: {d}");
        }
    }
}
