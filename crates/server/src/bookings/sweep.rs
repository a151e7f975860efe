//! The periodic sweeps of SPEC §4: pending bookings whose hold ran out become `expired` and their
//! seats are freed (buyers could already take them lazily); confirmed bookings become `completed`
//! once their performance has ended.

use crate::db::Writer;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{bookings, events};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Query};

use super::status::{self, Actor, BookingStatus};
use crate::{
    error::{AppError, AppResult},
    inventory::{hold, retry::with_retry},
};

/// Bookings handled per sweep round; the next round picks up the rest.
const BATCH: u64 = 500;

/// Seats a sweep freed in one performance, for live updates.
#[derive(Debug, Clone, PartialEq)]
pub struct Freed {
    pub event_id: i64,
    pub version: i64,
    pub seat_ids: Vec<i64>,
    pub booking_ids: Vec<i64>,
}

/// Expires every pending booking whose hold ran out before `now`, one transaction per
/// performance (performances in ascending id order, so sweeps on several workers cannot deadlock).
pub async fn release_expired_holds(db: &Writer, now: DateTime<Utc>) -> AppResult<Vec<Freed>> {
    let due = bookings::Entity::find()
        .filter(bookings::Column::Status.eq(BookingStatus::Pending.as_str()))
        .filter(bookings::Column::ExpiresAt.lte(now))
        .order_by_asc(bookings::Column::EventId)
        .order_by_asc(bookings::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut by_event: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for b in due {
        by_event.entry(b.event_id).or_default().push(b.id);
    }
    let mut out = Vec::new();
    for (event_id, ids) in by_event {
        let freed = with_retry(|| {
            let ids = ids.clone();
            async move {
                let txn = db.begin().await?;
                let event = hold::next_version(&txn, event_id, now).await?.ok_or(AppError::NotFound)?;
                let mut freed = Freed {
                    event_id,
                    version: event.seats_version,
                    seat_ids: Vec::new(),
                    booking_ids: Vec::new(),
                };
                for id in ids {
                    // Re-read under the lock: a payment or a cancellation may have won meanwhile.
                    let Some(booking) = bookings::Entity::find_by_id(id).one(&txn).await? else { continue };
                    if booking.status != BookingStatus::Pending.as_str()
                        || booking.expires_at.is_none_or(|t| t > now)
                    {
                        continue;
                    }
                    freed.seat_ids.extend(hold::release(&txn, id, None, event.seats_version, now).await?);
                    status::transition(
                        &txn,
                        &booking,
                        BookingStatus::Expired,
                        Actor(None),
                        Some("hold expired".into()),
                        now,
                    )
                    .await?;
                    freed.booking_ids.push(id);
                }
                txn.commit().await?;
                Ok(freed)
            }
        })
        .await?;
        if !freed.booking_ids.is_empty() {
            out.push(freed);
        }
    }
    Ok(out)
}

/// Marks confirmed bookings of performances that have ended as completed. Returns their ids.
pub async fn complete_past_bookings(db: &Writer, now: DateTime<Utc>) -> AppResult<Vec<i64>> {
    let due = bookings::Entity::find()
        .filter(bookings::Column::Status.eq(BookingStatus::Confirmed.as_str()))
        .filter(
            bookings::Column::EventId.in_subquery(
                Query::select()
                    .column(events::Column::Id)
                    .from(events::Entity)
                    .and_where(events::Column::EndTime.lte(now))
                    .to_owned(),
            ),
        )
        .order_by_asc(bookings::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut done = Vec::new();
    for booking in due {
        let txn = db.begin().await?;
        match status::transition(
            &txn,
            &booking,
            BookingStatus::Completed,
            Actor(None),
            Some("performance ended".into()),
            now,
        )
        .await
        {
            Ok(()) => {
                txn.commit().await?;
                done.push(booking.id);
            }
            // Changed meanwhile (refunded, say): nothing to do.
            Err(AppError::Conflict(_)) => txn.rollback().await?,
            Err(other) => return Err(other),
        }
    }
    Ok(done)
}
