//! The statements that move seats between available, held, sold and blocked.
//!
//! Each is one conditional `UPDATE … RETURNING` on the EventSeat rows: the database, not the
//! application, decides who gets a seat, so it holds with any number of instances. Every
//! transaction that changes a performance's seats first bumps the performance's seat-map version
//! (`next_version`); that also locks the event row, so on PostgreSQL concurrent changes of one
//! performance queue there instead of deadlocking on seat rows.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{bookings, event_seats, events};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Condition, Expr, ExprTrait},
};

use crate::error::{AppError, AppResult};

/// Increments the performance's seat-map version and returns the event row as it now stands
/// (locked until the transaction ends). `None` if there is no such event.
pub async fn next_version<C: crate::db::Writes>(
    db: &C,
    event_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<events::Model>> {
    let mut rows = events::Entity::update_many()
        .col_expr(events::Column::SeatsVersion, Expr::col(events::Column::SeatsVersion).add(1))
        .col_expr(events::Column::UpdatedAt, Expr::val(now))
        .filter(events::Column::Id.eq(event_id))
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop())
}

/// A seat that can be taken at `now`: available, or held by a hold that has run out.
pub fn takeable(now: DateTime<Utc>) -> Condition {
    Condition::any().add(event_seats::Column::Status.eq("available")).add(
        Condition::all()
            .add(event_seats::Column::Status.eq("held"))
            .add(event_seats::Column::HeldUntil.lte(now)),
    )
}

/// Seats of the performance held at `now` by pending bookings made from the client address `ip`
/// (the per-address cap). Uses the `(event_id, client_ip)` index of bookings.
pub async fn held_from_address<C: ConnectionTrait>(
    db: &C,
    event_id: i64,
    ip: &str,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let bookings_from_ip = bookings::Entity::find()
        .select_only()
        .column(bookings::Column::Id)
        .filter(bookings::Column::EventId.eq(event_id))
        .filter(bookings::Column::ClientIp.eq(ip))
        .filter(bookings::Column::Status.eq("pending"))
        .into_query();
    Ok(event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::Status.eq("held"))
        .filter(event_seats::Column::HeldUntil.gt(now))
        .filter(event_seats::Column::BookingId.in_subquery(bookings_from_ip))
        .count(db)
        .await?)
}

/// Holds `seat_ids` of the performance for `booking_id` until `until`. All or nothing: when some
/// are not takeable, returns `Err` with exactly those seat ids and the caller rolls back.
pub async fn hold<C: crate::db::Writes>(
    db: &C,
    event_id: i64,
    seat_ids: &[i64],
    booking_id: i64,
    until: DateTime<Utc>,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Result<Vec<event_seats::Model>, Vec<i64>>> {
    let held = event_seats::Entity::update_many()
        .col_expr(event_seats::Column::Status, Expr::val("held"))
        .col_expr(event_seats::Column::BookingId, Expr::val(booking_id))
        .col_expr(event_seats::Column::HeldUntil, Expr::val(until))
        .col_expr(event_seats::Column::Version, Expr::val(version))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::SeatId.is_in(seat_ids.iter().copied()))
        .filter(takeable(now))
        .exec_with_returning(db)
        .await?;
    if held.len() == seat_ids.len() {
        return Ok(Ok(held));
    }
    let got: HashSet<i64> = held.iter().map(|s| s.seat_id).collect();
    Ok(Err(seat_ids.iter().copied().filter(|id| !got.contains(id)).collect()))
}

/// Frees seats held by `booking_id` (all of them, or only `only`). Seats another booking took
/// over after this hold expired are left alone. Returns the freed seat ids.
pub async fn release<C: crate::db::Writes>(
    db: &C,
    booking_id: i64,
    only: Option<&[i64]>,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let mut which = Condition::all()
        .add(event_seats::Column::BookingId.eq(booking_id))
        .add(event_seats::Column::Status.eq("held"));
    if let Some(ids) = only {
        which = which.add(event_seats::Column::SeatId.is_in(ids.iter().copied()));
    }
    make_available(db, which, version, now).await
}

/// Puts the seats sold to `booking_id` back on sale (a paid booking cancelled or refunded).
/// Returns the freed seat ids.
pub async fn release_sold<C: crate::db::Writes>(
    db: &C,
    booking_id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let which = Condition::all()
        .add(event_seats::Column::BookingId.eq(booking_id))
        .add(event_seats::Column::Status.eq("sold"));
    make_available(db, which, version, now).await
}

async fn make_available<C: crate::db::Writes>(
    db: &C,
    which: Condition,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    Ok(event_seats::Entity::update_many()
        .col_expr(event_seats::Column::Status, Expr::val("available"))
        .col_expr(event_seats::Column::BookingId, Expr::val(None::<i64>))
        .col_expr(event_seats::Column::HeldUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(event_seats::Column::Version, Expr::val(version))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(which)
        .exec_with_returning(db)
        .await?
        .into_iter()
        .map(|s| s.seat_id)
        .collect())
}

/// Extends the hold of every seat `booking_id` still holds (payment started with little time left).
pub async fn extend<C: crate::db::Writes>(
    db: &C,
    booking_id: i64,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(event_seats::Entity::update_many()
        .col_expr(event_seats::Column::HeldUntil, Expr::val(until))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(event_seats::Column::BookingId.eq(booking_id))
        .filter(event_seats::Column::Status.eq("held"))
        .exec(db)
        .await?
        .rows_affected)
}

/// A seat a paid booking may take: still held by it, or takeable by anyone (its hold lapsed and
/// nobody else took the seat, or it was released and is free).
fn sellable(booking_id: i64, now: DateTime<Utc>) -> Condition {
    Condition::any().add(takeable(now)).add(
        Condition::all()
            .add(event_seats::Column::Status.eq("held"))
            .add(event_seats::Column::BookingId.eq(booking_id)),
    )
}

/// Sells `seat_ids` of the performance to `booking_id` if every one is still its own or free:
/// all or nothing. The caller holds the performance's lock (`next_version`), so the seats counted
/// are the seats updated. Returns false, changing nothing, when any went to someone else.
pub async fn sell<C: crate::db::Writes>(
    db: &C,
    event_id: i64,
    seat_ids: &[i64],
    booking_id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let free = event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::SeatId.is_in(seat_ids.iter().copied()))
        .filter(sellable(booking_id, now))
        .count(db)
        .await?;
    if seat_ids.is_empty() || free as usize != seat_ids.len() {
        return Ok(false);
    }
    let sold = event_seats::Entity::update_many()
        .col_expr(event_seats::Column::Status, Expr::val("sold"))
        .col_expr(event_seats::Column::BookingId, Expr::val(booking_id))
        .col_expr(event_seats::Column::HeldUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(event_seats::Column::Version, Expr::val(version))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::SeatId.is_in(seat_ids.iter().copied()))
        .filter(sellable(booking_id, now))
        .exec(db)
        .await?
        .rows_affected;
    if sold as usize != seat_ids.len() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "booking {booking_id}: seats changed under the lock"
        )));
    }
    Ok(true)
}
