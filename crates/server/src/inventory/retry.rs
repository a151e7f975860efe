//! Retrying a transaction that lost a race the database detected (PostgreSQL deadlock or
//! serialization failure, SQLite busy). A buyer never sees a 500 for a race: after the last
//! attempt the answer is 503 `service_unavailable`.

use std::future::Future;

use sea_orm::DbErr;

use crate::error::{AppError, AppResult};

const ATTEMPTS: usize = 4;

pub use crate::db::is_transient;

fn transient(err: &AppError) -> bool {
    match err {
        AppError::Internal(e) => e.downcast_ref::<DbErr>().is_some_and(is_transient),
        _ => false,
    }
}

/// Runs `attempt` until it succeeds, fails for a reason other than a race, or runs out of tries.
pub async fn with_retry<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    for n in 1..=ATTEMPTS {
        match attempt().await {
            Err(err) if transient(&err) => {
                tracing::debug!(attempt = n, error = ?err, "transaction lost a race; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(5 * n as u64)).await;
            }
            other => return other,
        }
    }
    Err(AppError::Unavailable("the seat inventory is busy; retries exhausted".into()))
}
