//! The emails about a booking share one set of fields (buyer, performance, venue, seats); this
//! builds them so every template reads the same names. Also the fan-out that tells every ticket
//! holder of a performance that it moved.

use chrono::{DateTime, Utc};
use entity::{bookings, events, users, venues};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{queries, status::BookingStatus};
use crate::{
    app::AppState,
    error::AppResult,
    jobs::{
        email::{self, EmailJob},
        periodic::local_time,
    },
    mail::templates::{Locale, Template, money},
};

/// The email `template` about `booking` for its buyer, with `extra` fields (made in the buyer's
/// language) merged in; `None`
/// when the buyer's account is gone (deleted or deactivated accounts get no mail).
pub async fn booking_email<C: ConnectionTrait>(
    db: &C,
    booking: &bookings::Model,
    template: Template,
    extra: impl FnOnce(Locale) -> Value,
) -> AppResult<Option<EmailJob>> {
    let Some(user) = users::Entity::find_by_id(booking.user_id).one(db).await? else { return Ok(None) };
    if !user.is_active || user.deleted_at.is_some() {
        return Ok(None);
    }
    let locale = Locale::parse(&user.locale);
    let event = events::Entity::find_by_id(booking.event_id).one(db).await?;
    let venue = match &event {
        Some(e) => venues::Entity::find_by_id(e.venue_id).one(db).await?,
        None => None,
    };
    let shaped = queries::one(db, booking.clone()).await?;
    let (venue_name, address, tz) = venue
        .as_ref()
        .map(|v| (v.name.clone(), format!("{}, {}", v.address, v.city), v.time_zone.clone()))
        .unwrap_or_default();
    let mut data = json!({
        "name": user.full_name,
        "reference": booking.reference,
        "event_title": event.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
        "venue_name": venue_name,
        "venue_address": address,
        "starts": event.as_ref().map(|e| local_time(e.start_time, &tz, locale)).unwrap_or_default(),
        "seats": shaped.seats.iter().map(|s| json!({"section": s.section_name, "row": s.row, "number": s.number, "price": money(s.price, locale)})).collect::<Vec<_>>(),
        "total": money(booking.total, locale),
    });
    if let (Some(fields), Value::Object(more)) = (data.as_object_mut(), extra(locale)) {
        fields.extend(more);
    }
    Ok(Some(EmailJob { template, locale, to: user.email, data, booking_documents: None }))
}

/// The payload of the `event_changed` job: a published performance moved. What it was before
/// travels with the job; what it is now is read when the mails are made.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct EventChanged {
    pub event_id: i64,
    /// The start before the change, when the start moved.
    pub previous_start: Option<DateTime<Utc>>,
    /// The venue before the change, when the venue changed.
    pub previous_venue_id: Option<i64>,
}

/// Ticket holders mailed per transaction.
const FAN_OUT_PAGE: u64 = 200;

/// Queues an `event_changed` mail (in the buyer's language) for every confirmed booking of the
/// performance, a page of bookings per transaction. Each mail is keyed by this job and the
/// booking, so a retried job mails nobody twice. A performance cancelled or deleted since says
/// so in its own mails: nothing is sent. Returns how many mails were queued.
pub async fn tell_ticket_holders(state: &AppState, job_id: i64, change: EventChanged) -> AppResult<usize> {
    let Some(event) = events::Entity::find_by_id(change.event_id).one(&state.db).await? else { return Ok(0) };
    if !event.is_active || event.status != crate::events::service::PUBLISHED {
        return Ok(0);
    }
    let previous_venue = match change.previous_venue_id {
        Some(id) => venues::Entity::find_by_id(id).one(&state.db).await?,
        None => None,
    };
    let tz = match &previous_venue {
        Some(venue) => venue.time_zone.clone(),
        None => venues::Entity::find_by_id(event.venue_id)
            .one(&state.db)
            .await?
            .map(|v| v.time_zone)
            .unwrap_or_default(),
    };
    let previous_place = previous_venue.as_ref().map(|v| format!("{}, {}", v.name, v.address));
    let mut after = 0;
    let mut queued = 0;
    loop {
        let page = bookings::Entity::find()
            .filter(bookings::Column::EventId.eq(event.id))
            .filter(bookings::Column::Status.eq(BookingStatus::Confirmed.as_str()))
            .filter(bookings::Column::Id.gt(after))
            .order_by_asc(bookings::Column::Id)
            .limit(FAN_OUT_PAGE)
            .all(&state.db)
            .await?;
        let Some(last) = page.last() else { return Ok(queued) };
        after = last.id;
        let mut mails = Vec::with_capacity(page.len());
        for booking in &page {
            let mail = booking_email(&state.db, booking, Template::EventChanged, |locale| {
                json!({
                    "previous_starts": change.previous_start.map(|t| local_time(t, &tz, locale)),
                    "previous_venue": previous_place,
                })
            })
            .await?;
            if let Some(mail) = mail {
                mails.push((booking.id, mail));
            }
        }
        let now = state.clock.now();
        let txn = state.begin_write().await?;
        for (booking_id, mail) in &mails {
            if email::enqueue_once(&txn, mail, format!("event-changed:{job_id}:{booking_id}"), now).await? {
                queued += 1;
            }
        }
        txn.commit().await?;
    }
}
