//! Background work (SPEC §8): a durable outbox of jobs in the database, the handlers of each job
//! kind, the periodic schedule, the worker loop and the staff job monitor.

pub mod email;
pub mod periodic;
pub mod queue;
pub mod routes;
pub mod runner;

/// Job kinds. A job's `kind` column holds one of these.
pub mod kind {
    pub const SEND_EMAIL: &str = "send_email";
    /// A mail with a single-use link (verification, password reset); the payload names the token
    /// row only, the token itself is chosen at send time.
    pub const SEND_LINK_EMAIL: &str = "send_link_email";
    pub const EXPIRE_HOLDS: &str = "expire_holds";
    pub const COMPLETE_BOOKINGS: &str = "complete_bookings";
    pub const SEND_REMINDERS: &str = "send_reminders";
    pub const CLEANUP: &str = "cleanup";
    pub const REFUND_PAYMENT: &str = "refund_payment";
    pub const SYNC_PAYMENTS: &str = "sync_payments";
    pub const CANCEL_EVENT_BOOKINGS: &str = "cancel_event_bookings";
    pub const EVENT_CHANGED: &str = "event_changed";
}

/// Why a job failed, and whether trying again could help.
#[derive(Debug)]
pub struct JobError {
    pub message: String,
    pub permanent: bool,
}

impl JobError {
    pub fn retry(err: impl std::fmt::Display) -> Self {
        Self { message: err.to_string(), permanent: false }
    }

    pub fn permanent(err: impl std::fmt::Display) -> Self {
        Self { message: err.to_string(), permanent: true }
    }
}

impl From<crate::error::AppError> for JobError {
    fn from(err: crate::error::AppError) -> Self {
        Self::retry(format!("{err:?}"))
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::retry(err)
    }
}
