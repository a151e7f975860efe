//! The `send_email` job: render a template and send it, at most once per job.
//!
//! The send is recorded in `sent_mails` right after it succeeds, before the job is acknowledged;
//! a job retried after a crash finds the record and does not mail again.

use chrono::{DateTime, Utc};
use entity::{bookings, sent_mails};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{JobError, kind, queue};
use crate::{
    app::AppState,
    error::AppResult,
    mail::{
        Attachment,
        templates::{Locale, Template, render},
    },
    tickets::documents,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailJob {
    pub template: Template,
    pub locale: Locale,
    pub to: String,
    /// The template's fields.
    pub data: Value,
    /// Attach this booking's e-tickets and receipt (rendered when the mail is sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_documents: Option<i64>,
}

/// Queues an email in the caller's transaction: it is sent only if that transaction commits.
pub async fn enqueue<C: crate::db::Writes>(db: &C, job: &EmailJob, now: DateTime<Utc>) -> AppResult<()> {
    queue::enqueue(db, kind::SEND_EMAIL, job, now, None, now).await.map(|_| ())
}

/// Like `enqueue`, once per `key` ever (reminders).
pub async fn enqueue_once<C: crate::db::Writes>(
    db: &C,
    job: &EmailJob,
    key: String,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    queue::enqueue(db, kind::SEND_EMAIL, job, now, Some(key), now).await
}

pub async fn handle(state: &AppState, job_id: i64, job: EmailJob) -> Result<(), JobError> {
    if already_sent(state, job_id).await? {
        return Ok(());
    }
    deliver(state, job_id, job).await
}

/// Whether an earlier attempt of job `job_id` sent its mail already.
pub async fn already_sent(state: &AppState, job_id: i64) -> Result<bool, JobError> {
    let already =
        sent_mails::Entity::find().filter(sent_mails::Column::JobId.eq(job_id)).one(&state.db).await?;
    if already.is_some() {
        tracing::info!(job_id, "email already sent by an earlier attempt; not sending again");
    }
    Ok(already.is_some())
}

/// Renders and sends `job` as job `job_id`'s mail, and records the send.
pub async fn deliver(state: &AppState, job_id: i64, job: EmailJob) -> Result<(), JobError> {
    let mut email = render(job.template, job.locale, &job.to, &job.data).map_err(JobError::permanent)?;
    if let Some(booking_id) = job.booking_documents {
        email.attachments = booking_documents(state, booking_id).await?;
    }
    state.mailer.send(&email).await.map_err(|e| JobError::retry(format!("{e:#}")))?;
    let now = state.clock.now();
    let record = sent_mails::ActiveModel {
        job_id: Set(job_id),
        recipient: Set(email.to.clone()),
        subject: Set(email.subject.clone()),
        sent_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    sent_mails::Entity::insert(record)
        .on_conflict(OnConflict::column(sent_mails::Column::JobId).do_nothing().to_owned())
        .exec_without_returning(&state.writer)
        .await?;
    Ok(())
}

/// The booking's e-tickets and receipt, rendered now (a booking cancelled since has none).
async fn booking_documents(state: &AppState, booking_id: i64) -> Result<Vec<Attachment>, JobError> {
    let Some(booking) = bookings::Entity::find_by_id(booking_id).one(&state.db).await? else {
        return Ok(Vec::new());
    };
    let reference = booking.reference.clone();
    let mut files = Vec::new();
    if let Some(bytes) = documents::tickets_pdf(&state.db, booking.clone()).await? {
        files.push(Attachment {
            filename: format!("tickets-{reference}.pdf"),
            content_type: "application/pdf".into(),
            bytes,
        });
    }
    if let Some(bytes) = documents::invoice_pdf(&state.db, booking).await? {
        files.push(Attachment {
            filename: format!("invoice-{reference}.pdf"),
            content_type: "application/pdf".into(),
            bytes,
        });
    }
    Ok(files)
}
