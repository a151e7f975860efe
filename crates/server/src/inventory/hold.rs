//! The statements that move seats between available, held, sold and blocked.
//!
//! Each is one conditional `UPDATE … RETURNING` on the EventSeat rows: the database, not the
//! application, decides who gets a seat, so it holds with any number of instances. Every
//! transaction that changes a performance's seats first bumps the performance's seat-map version
//! (`next_version`); that also locks the event row, so on PostgreSQL concurrent changes of one
//! performance queue there instead of deadlocking on seat rows.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{event_seats, events};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Condition, Expr, ExprTrait},
};

use crate::error::{AppError, AppResult};

/// Increments the performance's seat-map version and returns the event row as it now stands
/// (locked until the transaction ends). `None` if there is no such event.
pub async fn next_version<C: ConnectionTrait>(
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

/// Holds `seat_ids` of the performance for `booking_id` until `until`. All or nothing: when some
/// are not takeable, returns `Err` with exactly those seat ids and the caller rolls back.
pub async fn hold<C: ConnectionTrait>(
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
        .col_expr(event_seats::Column::HoldId, Expr::val(booking_id))
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
pub async fn release<C: ConnectionTrait>(
    db: &C,
    booking_id: i64,
    only: Option<&[i64]>,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let mut update = event_seats::Entity::update_many()
        .col_expr(event_seats::Column::Status, Expr::val("available"))
        .col_expr(event_seats::Column::HoldId, Expr::val(None::<i64>))
        .col_expr(event_seats::Column::BookingId, Expr::val(None::<i64>))
        .col_expr(event_seats::Column::HeldUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(event_seats::Column::Version, Expr::val(version))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(event_seats::Column::HoldId.eq(booking_id))
        .filter(event_seats::Column::Status.eq("held"));
    if let Some(ids) = only {
        update = update.filter(event_seats::Column::SeatId.is_in(ids.iter().copied()));
    }
    Ok(update.exec_with_returning(db).await?.into_iter().map(|s| s.seat_id).collect())
}

/// Extends the hold of every seat `booking_id` still holds (payment started with little time left).
pub async fn extend<C: ConnectionTrait>(
    db: &C,
    booking_id: i64,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(event_seats::Entity::update_many()
        .col_expr(event_seats::Column::HeldUntil, Expr::val(until))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(event_seats::Column::HoldId.eq(booking_id))
        .filter(event_seats::Column::Status.eq("held"))
        .exec(db)
        .await?
        .rows_affected)
}

/// Turns every seat `booking_id` holds into sold; `expected` seats must all still be held by it.
pub async fn sell<C: ConnectionTrait>(
    db: &C,
    booking_id: i64,
    expected: usize,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<event_seats::Model>> {
    let sold = event_seats::Entity::update_many()
        .col_expr(event_seats::Column::Status, Expr::val("sold"))
        .col_expr(event_seats::Column::HeldUntil, Expr::val(None::<DateTime<Utc>>))
        .col_expr(event_seats::Column::Version, Expr::val(version))
        .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
        .filter(event_seats::Column::HoldId.eq(booking_id))
        .filter(event_seats::Column::Status.eq("held"))
        .exec_with_returning(db)
        .await?;
    if sold.len() != expected {
        return Err(AppError::Internal(anyhow::anyhow!(
            "booking {booking_id}: {} of {expected} seats were still held at sale",
            sold.len()
        )));
    }
    Ok(sold)
}
