//! The background worker's entry points: `curtain worker` and the worker inside `serve` run the
//! job loop; `run_once` runs the periodic duties at once (used by tests and by operators).

use crate::{app::AppState, jobs::periodic};

pub use crate::jobs::runner::run;

/// Runs the hold-expiry and completion sweeps now, outside the schedule.
pub async fn run_once(state: &AppState) {
    if let Err(err) = periodic::expire_holds(state).await {
        tracing::error!(error = %err.message, "hold expiry sweep failed");
    }
    if let Err(err) = periodic::complete_bookings(state).await {
        tracing::error!(error = %err.message, "completion sweep failed");
    }
}
