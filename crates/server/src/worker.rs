//! The background worker's periodic duties, run inside `serve` (unless `--no-worker`) or alone as
//! `curtain worker`: expire stale holds and complete past bookings. The durable job outbox and
//! its scheduler build on this loop.

use std::time::Duration;

use tokio::sync::watch;

use crate::{app::AppState, bookings::sweep};

/// How often the sweeps run.
pub const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Runs one round of every periodic duty; errors are logged and the next round tries again.
pub async fn run_once(state: &AppState) {
    let now = state.clock.now();
    match sweep::release_expired_holds(&state.db, now).await {
        Ok(freed) => {
            for f in &freed {
                tracing::info!(
                    event_id = f.event_id,
                    bookings = f.booking_ids.len(),
                    seats = f.seat_ids.len(),
                    "expired holds released"
                );
            }
        }
        Err(err) => tracing::error!(error = ?err, "hold expiry sweep failed"),
    }
    match sweep::complete_past_bookings(&state.db, now).await {
        Ok(done) if !done.is_empty() => {
            tracing::info!(count = done.len(), "bookings completed after their performance")
        }
        Ok(_) => {}
        Err(err) => tracing::error!(error = ?err, "completion sweep failed"),
    }
}

/// Loops until `stop` flips to true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    tracing::info!("background worker started");
    loop {
        run_once(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stop.changed() => break,
        }
    }
    tracing::info!("background worker stopped");
}
