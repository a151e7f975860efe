//! The worker: claims due jobs, runs their handlers, records the outcome; proposes the periodic
//! jobs; sleeps until woken by PostgreSQL's NOTIFY or a short poll.

use std::time::Duration;

use entity::jobs;
use sea_orm::DbBackend;
use tokio::sync::watch;

use super::{JobError, email, kind, periodic, queue};
use crate::app::AppState;

/// How long an idle worker waits before looking again (PostgreSQL also wakes it on commit).
pub const POLL: Duration = Duration::from_secs(1);
/// Jobs claimed at a time.
const BATCH: u64 = 16;

/// Runs one job's handler. A payload that does not parse (an older or corrupt job) is a
/// permanent failure: it goes straight to `dead` with the reason, never into a crash loop.
pub async fn dispatch(state: &AppState, job: &jobs::Model) -> Result<(), JobError> {
    let parse_error =
        |e: serde_json::Error| JobError::permanent(format!("payload of {} does not parse: {e}", job.kind));
    match job.kind.as_str() {
        kind::SEND_EMAIL => {
            email::handle(state, job.id, serde_json::from_value(job.payload.clone()).map_err(parse_error)?)
                .await
        }
        kind::SEND_LINK_EMAIL => {
            crate::accounts::recovery::send_link_email(
                state,
                job.id,
                serde_json::from_value(job.payload.clone()).map_err(parse_error)?,
            )
            .await
        }
        kind::EXPIRE_HOLDS => periodic::expire_holds(state).await,
        kind::COMPLETE_BOOKINGS => periodic::complete_bookings(state).await,
        kind::SEND_REMINDERS => periodic::send_reminders(state).await,
        kind::CLEANUP => periodic::cleanup(state).await,
        kind::SYNC_PAYMENTS => crate::payments::sync::sync_payments(state).await,
        kind::REFUND_PAYMENT => {
            crate::payments::refunds::run(
                state,
                serde_json::from_value(job.payload.clone()).map_err(parse_error)?,
            )
            .await
        }
        kind::CANCEL_EVENT_BOOKINGS => {
            let job = serde_json::from_value(job.payload.clone()).map_err(parse_error)?;
            crate::bookings::service::finish_cancelled_event(state, job, usize::MAX)
                .await
                .map(|_| ())
                .map_err(Into::into)
        }
        kind::EVENT_CHANGED => {
            let change = serde_json::from_value(job.payload.clone()).map_err(parse_error)?;
            crate::bookings::notify::tell_ticket_holders(state, job.id, change)
                .await
                .map(|_| ())
                .map_err(Into::into)
        }
        other => Err(JobError::permanent(format!("unknown job kind {other:?}"))),
    }
}

/// Claims and runs due jobs until none is left; returns how many ran.
pub async fn drain(state: &AppState, worker: &str) -> usize {
    let mut ran = 0;
    loop {
        let now = state.clock.now();
        let claimed = match queue::claim(&state.writer, worker, BATCH, now).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::error!(error = ?err, "claiming jobs failed");
                return ran;
            }
        };
        if claimed.is_empty() {
            return ran;
        }
        for job in claimed {
            ran += 1;
            let outcome = dispatch(state, &job).await;
            let result = if outcome.is_ok() { "done" } else { "failed" };
            metrics::counter!("curtain_jobs_processed_total", "kind" => job.kind.clone(), "result" => result)
                .increment(1);
            let now = state.clock.now();
            let recorded = match &outcome {
                Ok(()) => {
                    queue::finish(&state.writer, &job, worker, now).await.map(|()| queue::JobStatus::Done)
                }
                Err(err) => queue::fail(&state.writer, &job, worker, &err.message, err.permanent, now).await,
            };
            match (outcome, recorded) {
                (_, Err(err)) => {
                    tracing::error!(job_id = job.id, error = ?err, "recording a job's outcome failed")
                }
                (Ok(()), Ok(_)) => tracing::debug!(job_id = job.id, kind = %job.kind, "job done"),
                (Err(err), Ok(status)) => {
                    tracing::warn!(job_id = job.id, kind = %job.kind, attempt = job.attempts, status = status.as_str(), error = %err.message, "job failed")
                }
            }
        }
    }
}

/// The worker loop, until `stop` flips to true. Jobs claimed when the stop comes are finished
/// first; unclaimed ones stay queued for the next worker.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = format!("{}-{}", hostname(), std::process::id());
    tracing::info!(%worker, "background worker started");
    let mut listener = listen(&state).await;
    loop {
        if let Err(err) = periodic::tick(&state.writer, state.clock.now()).await {
            tracing::error!(error = ?err, "scheduling periodic jobs failed");
        }
        drain(&state, &worker).await;
        record_backlog(&state).await;
        let woken = async {
            match listener.as_mut() {
                Some(l) => {
                    let _ = tokio::time::timeout(POLL * 5, l.recv()).await;
                }
                None => tokio::time::sleep(POLL).await,
            }
        };
        tokio::select! {
            () = woken => {}
            _ = stop.changed() => break,
        }
    }
    tracing::info!(%worker, "background worker stopped");
}

async fn listen(state: &AppState) -> Option<sea_orm::sqlx::postgres::PgListener> {
    if state.db.connection().get_database_backend() != DbBackend::Postgres {
        return None;
    }
    let pool = state.db.connection().get_postgres_connection_pool();
    match sea_orm::sqlx::postgres::PgListener::connect_with(pool).await {
        Ok(mut listener) => match listener.listen(queue::CHANNEL).await {
            Ok(()) => Some(listener),
            Err(err) => {
                tracing::warn!(error = %err, "LISTEN failed; polling instead");
                None
            }
        },
        Err(err) => {
            tracing::warn!(error = %err, "no LISTEN connection; polling instead");
            None
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "worker".into())
}

/// Publishes the number of due jobs still queued (how far behind the workers are).
async fn record_backlog(state: &AppState) {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let due = jobs::Entity::find()
        .filter(jobs::Column::Status.eq(queue::JobStatus::Queued.as_str()))
        .filter(jobs::Column::RunAt.lte(state.clock.now()))
        .count(&state.db)
        .await;
    if let Ok(due) = due {
        metrics::gauge!("curtain_jobs_due").set(due as f64);
    }
}
