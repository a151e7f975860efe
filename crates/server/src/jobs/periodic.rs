//! The schedule ("beat"): each periodic duty gets one job per time slot, whatever the number of
//! workers — every worker proposes the slot's job and the unique `dedupe_key` keeps one.

use crate::db::Writer;
use chrono::{DateTime, Duration, Utc};
use entity::{bookings, events, jobs, refresh_tokens, revoked_access_tokens, user_tokens};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use super::{JobError, email, kind, queue};
use crate::{
    app::AppState,
    bookings::{notify, status::BookingStatus, sweep},
    error::AppResult,
    mail::templates::{Locale, Template},
};

/// Every periodic duty and how often it runs.
pub const SCHEDULE: &[(&str, i64)] = &[
    (kind::EXPIRE_HOLDS, 15),
    (kind::COMPLETE_BOOKINGS, 600),
    (kind::SEND_REMINDERS, 900),
    (kind::CLEANUP, 3600),
    (kind::SYNC_PAYMENTS, 60),
];

/// Proposes the current slot's job of every periodic duty. Returns how many were new.
pub async fn tick(db: &Writer, now: DateTime<Utc>) -> AppResult<usize> {
    let mut created = 0;
    for (kind, every) in SCHEDULE {
        let slot = now.timestamp().div_euclid(*every);
        if queue::enqueue(db, kind, &json!({}), now, Some(format!("{kind}:{slot}")), now).await? {
            created += 1;
        }
    }
    Ok(created)
}

pub async fn expire_holds(state: &AppState) -> Result<(), JobError> {
    for freed in sweep::release_expired_holds(&state.writer, state.clock.now()).await? {
        tracing::info!(
            event_id = freed.event_id,
            bookings = freed.booking_ids.len(),
            seats = freed.seat_ids.len(),
            "expired holds released"
        );
        state.hub.seats(freed.event_id, freed.version, &freed.seat_ids, "available").await;
        for id in &freed.booking_ids {
            state.hub.booking(*id, "expired").await;
        }
    }
    Ok(())
}

pub async fn complete_bookings(state: &AppState) -> Result<(), JobError> {
    let done = sweep::complete_past_bookings(&state.writer, state.clock.now()).await?;
    for id in &done {
        state.hub.booking(*id, "completed").await;
    }
    if !done.is_empty() {
        tracing::info!(count = done.len(), "bookings completed after their performance");
    }
    Ok(())
}

/// Queues the day-before reminder of every confirmed booking whose performance starts within 24
/// hours; once per booking ever.
pub async fn send_reminders(state: &AppState) -> Result<(), JobError> {
    queue_reminders(state).await.map(|_| ())
}

/// The reminder duty; returns how many bookings it read. Only bookings not yet reminded are
/// read: each reminder is marked on its booking (`reminded_at`) in the transaction that queues
/// it, so a run every 15 minutes does not rebuild the mail of every ticket holder of tomorrow's
/// performances only for the queue's dedupe key to drop it.
pub async fn queue_reminders(state: &AppState) -> Result<usize, JobError> {
    let now = state.clock.now();
    let soon: Vec<events::Model> = events::Entity::find()
        .filter(events::Column::StartTime.gt(now))
        .filter(events::Column::StartTime.lte(now + Duration::hours(24)))
        .filter(events::Column::Status.eq("published"))
        .filter(events::Column::IsActive.eq(true))
        .all(&state.db)
        .await?;
    let mut read = 0;
    for event in soon {
        let due = bookings::Entity::find()
            .filter(bookings::Column::EventId.eq(event.id))
            .filter(bookings::Column::Status.eq(BookingStatus::Confirmed.as_str()))
            .filter(bookings::Column::RemindedAt.is_null())
            .all(&state.db)
            .await?;
        read += due.len();
        for booking in due {
            let job = notify::booking_email(&state.db, &booking, Template::Reminder, |_| json!({})).await?;
            let txn = state.begin_write().await?;
            // Conditional: a second worker running the same duty marks (and mails) it only once.
            let claimed = bookings::Entity::update_many()
                .col_expr(bookings::Column::RemindedAt, Expr::val(Some(now)))
                .filter(bookings::Column::Id.eq(booking.id))
                .filter(bookings::Column::RemindedAt.is_null())
                .exec(&txn)
                .await?
                .rows_affected;
            if claimed == 1
                && let Some(job) = job
            {
                email::enqueue_once(&txn, &job, format!("reminder:{}", booking.id), now).await?;
            }
            txn.commit().await?;
        }
    }
    Ok(read)
}

/// Deletes what nobody needs any more: expired tokens and old finished jobs.
pub async fn cleanup(state: &AppState) -> Result<(), JobError> {
    let now = state.clock.now();
    refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::ExpiresAt.lt(now - Duration::days(1)))
        .exec(&state.writer)
        .await?;
    revoked_access_tokens::Entity::delete_many()
        .filter(revoked_access_tokens::Column::ExpiresAt.lt(now))
        .exec(&state.writer)
        .await?;
    user_tokens::Entity::delete_many()
        .filter(user_tokens::Column::ExpiresAt.lt(now - Duration::days(7)))
        .exec(&state.writer)
        .await?;
    jobs::Entity::delete_many()
        .filter(jobs::Column::Status.eq(queue::JobStatus::Done.as_str()))
        .filter(jobs::Column::FinishedAt.lt(now - Duration::days(14)))
        .exec(&state.writer)
        .await?;
    Ok(())
}

/// A time as the venue's audience reads it: `19:30, 27/11/2026` (vi) or `Fri 27 Nov 2026, 19:30` (en).
pub fn local_time(at: DateTime<Utc>, time_zone: &str, locale: Locale) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let local = at.with_timezone(&tz);
    match locale {
        Locale::Vi => local.format("%H:%M, %d/%m/%Y").to_string(),
        Locale::En => local.format("%a %-d %b %Y, %H:%M").to_string(),
    }
}
