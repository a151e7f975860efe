//! Booking rules (SPEC §4): create with an atomic hold, modify a pending booking, cancel.
//!
//! Every write runs in one transaction that first bumps the performance's seat-map version
//! (locking the event row), then moves seats with conditional updates, then records history.
//! A race lost to another buyer is a clean 409 with the seats that were taken; a race the
//! database detects (deadlock, serialization) is retried.

use std::{collections::HashSet, net::IpAddr};

use chrono::{DateTime, Duration, Utc};
use entity::{booking_seats, bookings, event_seats, events, seats};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use serde_json::json;

use super::{
    notify,
    queries::{self, BookingOut},
    reference::{insert_with_fresh_reference, new_reference},
    status::{self, Actor, BookingStatus},
};
use crate::{
    accounts::extract::CurrentUser,
    app::AppState,
    error::{AppError, AppResult, ErrorItem},
    inventory::{
        best::{Candidate, Pick, best_available},
        blocking::seat_unavailable,
        hold::{self, next_version},
        retry::with_retry,
    },
    jobs::email,
    mail::templates::{Template, money},
    payments::refunds,
};

/// Seats in one booking (a group booking at most).
pub const MAX_SEATS: usize = 10;
/// Pending bookings one user may have for one performance at a time.
pub const MAX_PENDING_PER_EVENT: u64 = 2;

/// What a buyer asks for.
#[derive(Clone, Debug)]
pub enum SeatRequest {
    /// These seats (ids of `seats`, as the seat map shows them).
    Explicit(Vec<i64>),
    /// The best N adjacent seats of a section.
    Best { section_id: i64, quantity: usize, accessible: bool },
}

fn check_seat_list(field: &str, ids: &[i64], allow_empty: bool) -> AppResult<()> {
    if ids.is_empty() && !allow_empty {
        return Err(AppError::invalid(field, format!("choose 1 to {MAX_SEATS} seats")));
    }
    if ids.len() > MAX_SEATS {
        return Err(AppError::invalid(field, format!("at most {MAX_SEATS} seats per booking")));
    }
    let unique: HashSet<i64> = ids.iter().copied().collect();
    if unique.len() != ids.len() {
        return Err(AppError::invalid(field, "lists a seat twice"));
    }
    Ok(())
}

/// Refuses sales outside what SPEC §4 allows: only published, active, upcoming performances,
/// inside their sales window.
fn check_on_sale(event: &events::Model, now: DateTime<Utc>) -> AppResult<()> {
    let closed = |why: &str| Err(AppError::conflict("sales_closed", why.to_owned()));
    if !event.is_active || event.status == "draft" {
        return Err(AppError::NotFound);
    }
    if event.status == "cancelled" {
        return closed("This performance was cancelled.");
    }
    if event.start_time <= now {
        return closed("This performance has already started.");
    }
    if event.sales_start.is_some_and(|start| now < start) {
        return closed("Sales for this performance have not opened yet.");
    }
    if event.sales_end.is_some_and(|end| now >= end) {
        return closed("Sales for this performance have closed.");
    }
    Ok(())
}

/// Seat ids of the request that are not seats of this performance.
async fn foreign_seats<C: ConnectionTrait>(db: &C, event_id: i64, ids: &[i64]) -> AppResult<Vec<i64>> {
    let known: HashSet<i64> = event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::SeatId.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.seat_id)
        .collect();
    Ok(ids.iter().copied().filter(|id| !known.contains(id)).collect())
}

fn not_in_event(field: &str, ids: Vec<i64>) -> AppError {
    AppError::Validation(vec![
        ErrorItem::field(field, "these seats are not part of this performance").with_detail("seat_ids", ids),
    ])
}

/// Refuses to hold `adding` more seats of the performance for the client address `ip` when that
/// would take its seats held at once past `CURTAIN_MAX_HELD_SEATS_PER_IP` (free accounts cost
/// nothing, so a per-user cap alone does not stop one client from hoarding a house). Runs in the
/// hold's transaction, after `next_version` locked the performance, so concurrent holds from one
/// address are counted one after the other.
async fn check_address_cap(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    event_id: i64,
    ip: &str,
    adding: usize,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let limit = state.config.max_held_seats_per_ip;
    let held = hold::held_from_address(txn, event_id, ip, now).await?;
    if held + adding as u64 > limit {
        return Err(AppError::TooMany(
            ErrorItem::new(
                "held_seats_limit",
                format!(
                    "Your network already holds {held} seats for this performance and at most {limit} may be \
                     held at once; pay for or cancel a booking first."
                ),
            )
            .with_detail("held", held)
            .with_detail("limit", limit),
        ));
    }
    Ok(())
}

/// Creates a pending booking holding the seats until now + the hold time. `client` is the
/// buyer's address (behind trusted proxies), recorded for the per-address cap on held seats.
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    client: IpAddr,
    event_id: i64,
    request: SeatRequest,
) -> AppResult<BookingOut> {
    match &request {
        SeatRequest::Explicit(ids) => check_seat_list("seat_ids", ids, false)?,
        SeatRequest::Best { quantity, .. } if !(1..=MAX_SEATS).contains(quantity) => {
            return Err(AppError::invalid("quantity", format!("must be between 1 and {MAX_SEATS}")));
        }
        SeatRequest::Best { .. } => {}
    }
    let event = events::Entity::find_by_id(event_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    check_on_sale(&event, state.clock.now())?;
    state.limits.hit("booking", &user.id().to_string(), state.limits.settings.booking).await?;

    match request {
        SeatRequest::Explicit(ids) => {
            let foreign = foreign_seats(&state.db, event_id, &ids).await?;
            if !foreign.is_empty() {
                return Err(not_in_event("seat_ids", foreign));
            }
            hold_new(state, user, client, event_id, &ids).await
        }
        SeatRequest::Best { section_id, quantity, accessible } => {
            // The pick reads a snapshot; if another buyer takes a picked seat first, pick again.
            let mut last_taken = Vec::new();
            for _ in 0..3 {
                let seats = match pick_best(state, event_id, section_id, quantity, accessible).await? {
                    Pick::Seats(seats) => seats,
                    Pick::NotEnough { free } => {
                        return Err(AppError::Conflict(
                            ErrorItem::new(
                                "not_enough_seats",
                                format!("Only {free} suitable seats are left in this section."),
                            )
                            .with_detail("available", free as u64),
                        ));
                    }
                    Pick::NoAdjacentBlock => {
                        return Err(AppError::conflict(
                            "no_adjacent_seats",
                            format!(
                                "No row of this section has {quantity} seats together; pick seats on the map instead."
                            ),
                        ));
                    }
                };
                match hold_new(state, user, client, event_id, &seats).await {
                    Err(AppError::Conflict(item)) if item.code == "seat_unavailable" => last_taken = seats,
                    other => return other,
                }
            }
            Err(seat_unavailable(last_taken))
        }
    }
}

async fn pick_best(
    state: &AppState,
    event_id: i64,
    section_id: i64,
    quantity: usize,
    accessible: bool,
) -> AppResult<Pick> {
    let now = state.clock.now();
    let rows = event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event_id))
        .filter(event_seats::Column::SectionId.eq(section_id))
        .find_also_related(seats::Entity)
        .all(&state.db)
        .await?;
    if rows.is_empty() {
        return Err(AppError::invalid("section_id", "is not a section of this performance"));
    }
    let candidates: Vec<Candidate> = rows
        .into_iter()
        .filter_map(|(es, seat)| {
            let seat = seat?;
            let free =
                es.status == "available" || (es.status == "held" && es.held_until.is_some_and(|t| t <= now));
            Some(Candidate {
                seat_id: seat.id,
                row_index: seat.row_index,
                position: seat.position,
                kind: seat.kind,
                free,
            })
        })
        .collect();
    Ok(best_available(&candidates, quantity, accessible))
}

/// The transaction of a new booking: lock and version the performance, check the rules on the
/// locked row, insert the booking, hold every seat or none, record history.
async fn hold_new(
    state: &AppState,
    user: &CurrentUser,
    client: IpAddr,
    event_id: i64,
    seat_ids: &[i64],
) -> AppResult<BookingOut> {
    let hold_for = Duration::minutes(state.config.hold_minutes);
    let client = client.to_string();
    let client = client.as_str();
    let (out, version) = with_retry(|| async move {
        let now = state.clock.now();
        let txn = state.begin_write().await?;
        let event = next_version(&txn, event_id, now).await?.ok_or(AppError::NotFound)?;
        check_on_sale(&event, now)?;
        let pending = bookings::Entity::find()
            .filter(bookings::Column::UserId.eq(user.id()))
            .filter(bookings::Column::EventId.eq(event_id))
            .filter(bookings::Column::Status.eq(BookingStatus::Pending.as_str()))
            .filter(bookings::Column::ExpiresAt.gt(now))
            .count(&txn)
            .await?;
        if pending >= MAX_PENDING_PER_EVENT {
            return Err(AppError::conflict(
                "booking_limit",
                format!("You already have {pending} bookings waiting for payment for this performance."),
            ));
        }
        check_address_cap(&txn, state, event_id, client, seat_ids.len(), now).await?;
        let expires_at = now + hold_for;
        let booking = bookings::ActiveModel {
            user_id: Set(user.id()),
            event_id: Set(event_id),
            status: Set(BookingStatus::Pending.as_str().to_owned()),
            total: Set(0),
            currency: Set("VND".into()),
            expires_at: Set(Some(expires_at)),
            client_ip: Set(Some(client.to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let booking = insert_with_fresh_reference(&txn, booking, new_reference).await?;
        let held =
            match hold::hold(&txn, event_id, seat_ids, booking.id, expires_at, event.seats_version, now)
                .await?
            {
                Ok(held) => held,
                Err(taken) => {
                    txn.rollback().await?;
                    metrics::counter!("curtain_holds_total", "result" => "conflict").increment(1);
                    return Err(seat_unavailable(taken));
                }
            };
        metrics::counter!("curtain_holds_total", "result" => "held").increment(1);
        let total = attach_seats(&txn, booking.id, &held, now).await?;
        let booking = set_total(&txn, booking, total, now).await?;
        status::record(&txn, booking.id, None, BookingStatus::Pending, Actor(Some(user.id())), None, now)
            .await?;
        txn.commit().await?;
        Ok((booking, event.seats_version))
    })
    .await?;
    state.hub.seats(event_id, version, seat_ids, "held").await;
    // Shaped after the commit, on the read pool: the writer is not held for it.
    queries::one(&state.db, out).await
}

async fn attach_seats<C: crate::db::Writes>(
    db: &C,
    booking_id: i64,
    held: &[event_seats::Model],
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if held.is_empty() {
        return Ok(0);
    }
    let rows = held.iter().map(|s| booking_seats::ActiveModel {
        booking_id: Set(booking_id),
        event_seat_id: Set(s.id),
        seat_id: Set(s.seat_id),
        price: Set(s.price),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    booking_seats::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(held.iter().map(|s| s.price).sum())
}

async fn set_total<C: crate::db::Writes>(
    db: &C,
    booking: bookings::Model,
    total: i64,
    now: DateTime<Utc>,
) -> AppResult<bookings::Model> {
    let mut active: bookings::ActiveModel = booking.into();
    active.total = Set(total);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// Adds and releases seats of a pending booking in one step; the kept seats stay held.
pub async fn modify(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    add: Vec<i64>,
    remove: Vec<i64>,
) -> AppResult<BookingOut> {
    check_seat_list("add_seat_ids", &add, true)?;
    check_seat_list("remove_seat_ids", &remove, true)?;
    if add.is_empty() && remove.is_empty() {
        return Err(AppError::invalid("add_seat_ids", "give seats to add or to remove"));
    }
    if add.iter().any(|a| remove.contains(a)) {
        return Err(AppError::invalid("add_seat_ids", "a seat cannot be added and removed at once"));
    }
    let booking = queries::visible(&state.db, user, id).await?;
    if !add.is_empty() {
        let foreign = foreign_seats(&state.db, booking.event_id, &add).await?;
        if !foreign.is_empty() {
            return Err(not_in_event("add_seat_ids", foreign));
        }
    }
    let event_id = booking.event_id;
    let changed = with_retry(|| {
        let (add, remove) = (add.clone(), remove.clone());
        async move {
            let now = state.clock.now();
            let txn = state.begin_write().await?;
            let event = next_version(&txn, event_id, now).await?.ok_or(AppError::NotFound)?;
            let booking = bookings::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound)?;
            ensure_live_hold(&booking, now)?;
            ensure_no_payment_under_way(&txn, id, now).await?;
            let current: Vec<i64> = booking_seats::Entity::find()
                .filter(booking_seats::Column::BookingId.eq(id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|s| s.seat_id)
                .collect();
            let not_mine: Vec<i64> = remove.iter().copied().filter(|s| !current.contains(s)).collect();
            if !not_mine.is_empty() {
                return Err(AppError::Validation(vec![
                    ErrorItem::field("remove_seat_ids", "these seats are not in this booking")
                        .with_detail("seat_ids", not_mine),
                ]));
            }
            let already: Vec<i64> = add.iter().copied().filter(|s| current.contains(s)).collect();
            if !already.is_empty() {
                return Err(AppError::Validation(vec![
                    ErrorItem::field("add_seat_ids", "these seats are already in this booking")
                        .with_detail("seat_ids", already),
                ]));
            }
            let remaining = current.len() + add.len() - remove.len();
            if remaining == 0 {
                return Err(AppError::invalid(
                    "remove_seat_ids",
                    "a booking keeps at least one seat; cancel it instead",
                ));
            }
            if remaining > MAX_SEATS {
                return Err(AppError::invalid(
                    "add_seat_ids",
                    format!("at most {MAX_SEATS} seats per booking"),
                ));
            }
            // Added seats count against the address the booking was made from; the removed ones
            // (held now, counted in what the address holds) are given back in the same change.
            let growth = add.len().saturating_sub(remove.len());
            if growth > 0
                && let Some(client) = booking.client_ip.as_deref()
            {
                check_address_cap(&txn, state, event_id, client, growth, now).await?;
            }
            let until = booking.expires_at.unwrap_or(now);
            let held = if add.is_empty() {
                Vec::new()
            } else {
                match hold::hold(&txn, event_id, &add, id, until, event.seats_version, now).await? {
                    Ok(held) => held,
                    Err(taken) => {
                        txn.rollback().await?;
                        return Err(seat_unavailable(taken));
                    }
                }
            };
            if !remove.is_empty() {
                hold::release(&txn, id, Some(&remove), event.seats_version, now).await?;
                booking_seats::Entity::delete_many()
                    .filter(booking_seats::Column::BookingId.eq(id))
                    .filter(booking_seats::Column::SeatId.is_in(remove.iter().copied()))
                    .exec(&txn)
                    .await?;
            }
            attach_seats(&txn, id, &held, now).await?;
            let total: i64 = booking_seats::Entity::find()
                .filter(booking_seats::Column::BookingId.eq(id))
                .all(&txn)
                .await?
                .iter()
                .map(|s| s.price)
                .sum();
            let booking = set_total(&txn, booking, total, now).await?;
            let reason = format!("seats changed: added {add:?}, released {remove:?}");
            status::record(
                &txn,
                id,
                Some(BookingStatus::Pending),
                BookingStatus::Pending,
                Actor(Some(user.id())),
                Some(reason),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok((booking, event.seats_version, add, remove))
        }
    })
    .await?;
    let (booking, version, added, released) = changed;
    state.hub.seats(event_id, version, &added, "held").await;
    state.hub.seats(event_id, version, &released, "available").await;
    queries::one(&state.db, booking).await
}

/// A pending booking whose hold still runs; otherwise 409 `hold_expired` or `invalid_transition`.
fn ensure_live_hold(booking: &bookings::Model, now: DateTime<Utc>) -> AppResult<()> {
    let current = status::status_of(booking)?;
    match current {
        BookingStatus::Pending if booking.expires_at.is_some_and(|t| t > now) => Ok(()),
        BookingStatus::Pending | BookingStatus::Expired => {
            Err(AppError::conflict("hold_expired", "The hold on these seats ran out; start a new booking."))
        }
        other => Err(AppError::Conflict(
            ErrorItem::new("invalid_transition", format!("A {other} booking cannot be changed."))
                .with_detail("status", other.as_str()),
        )),
    }
}

/// Cancels a booking by its buyer: a pending one releases its seats at once; a paid one also
/// frees its seats, voids its tickets and is refunded as the refund policy says (`cancel_paid`).
pub async fn cancel(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    reason: Option<String>,
) -> AppResult<BookingOut> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(AppError::invalid("reason", "must be at most 500 characters"));
    }
    let event_id = queries::visible(&state.db, user, id).await?.event_id;
    let cancelled = with_retry(|| {
        let reason = reason.clone();
        async move {
            let now = state.clock.now();
            let txn = state.begin_write().await?;
            let event = next_version(&txn, event_id, now).await?.ok_or(AppError::NotFound)?;
            let booking = bookings::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound)?;
            let current = status::status_of(&booking)?;
            let actor = Actor(Some(user.id()));
            let released = match current {
                BookingStatus::Pending => {
                    let reason = reason
                        .filter(|r| !r.trim().is_empty())
                        .unwrap_or_else(|| "cancelled by the buyer".into());
                    cancel_pending(&txn, &booking, event.seats_version, actor, reason, now).await?
                }
                BookingStatus::Confirmed => {
                    let refundable =
                        now <= event.start_time - Duration::hours(state.config.refund_cutoff_hours);
                    let reason = reason
                        .filter(|r| !r.trim().is_empty())
                        .unwrap_or_else(|| "cancelled by the buyer".into());
                    cancel_paid(&txn, &booking, event.seats_version, actor, reason, refundable, now).await?
                }
                other => return Err(status::invalid_transition(other, BookingStatus::Cancelled)),
            };
            let fresh = bookings::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound)?;
            txn.commit().await?;
            Ok((fresh, event.seats_version, released))
        }
    })
    .await?;
    let (booking, version, released) = cancelled;
    state.hub.seats(event_id, version, &released, "available").await;
    state.hub.booking(id, BookingStatus::Cancelled.as_str()).await;
    queries::one(&state.db, booking).await
}

/// Cancels a pending booking: its held seats are released at once (the caller holds the
/// performance's lock and passes its new `version`). Returns the freed seat ids.
async fn cancel_pending(
    txn: &sea_orm::DatabaseTransaction,
    booking: &bookings::Model,
    version: i64,
    actor: Actor,
    reason: String,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let freed = hold::release(txn, booking.id, None, version, now).await?;
    status::transition(txn, booking, BookingStatus::Cancelled, actor, Some(reason), now).await?;
    bookings::Entity::update_many()
        .col_expr(bookings::Column::ExpiresAt, Expr::val(None::<DateTime<Utc>>))
        .filter(bookings::Column::Id.eq(booking.id))
        .exec(txn)
        .await?;
    Ok(freed)
}

/// Cancels a paid booking: the seats go back on sale, the tickets stop admitting, and when
/// `refund` says so everything paid goes back (buyers: until `CURTAIN_REFUND_CUTOFF_HOURS` before
/// the start; a cancelled performance: always). The refund itself runs after the commit (a job).
async fn cancel_paid(
    txn: &sea_orm::DatabaseTransaction,
    booking: &bookings::Model,
    version: i64,
    actor: Actor,
    reason: String,
    refund: bool,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let freed = refunds::end_paid_booking(
        txn,
        booking,
        BookingStatus::Cancelled,
        actor,
        Some(reason.clone()),
        version,
        now,
    )
    .await?;
    let refund =
        if refund { refunds::refund_booking(txn, booking.id, &reason, actor.0, now).await? } else { 0 };
    let mail = notify::booking_email(
        txn,
        booking,
        Template::BookingCancelled,
        |locale| json!({"reason": reason, "refund": (refund > 0).then(|| money(refund, locale))}),
    )
    .await?;
    if let Some(mail) = mail {
        email::enqueue(txn, &mail, now).await?;
    }
    Ok(freed)
}

/// A booking whose payment is under way keeps its seats as they are: the amount sent to the
/// gateway must stay the amount owed.
async fn ensure_no_payment_under_way<C: ConnectionTrait>(
    db: &C,
    booking_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let open = entity::payments::Entity::find()
        .filter(entity::payments::Column::BookingId.eq(booking_id))
        .filter(entity::payments::Column::Status.eq("initiated"))
        .filter(entity::payments::Column::ExpiresAt.gt(now))
        .count(db)
        .await?;
    if open > 0 {
        return Err(AppError::conflict(
            "payment_in_progress",
            "A payment for this booking is under way; its seats cannot change.",
        ));
    }
    Ok(())
}

/// What one batch of a performance's cancellation did to its bookings, to broadcast after the
/// commit.
#[derive(Debug, Default)]
pub struct EventCancelled {
    pub version: i64,
    pub freed: Vec<i64>,
    pub bookings: Vec<i64>,
}

/// Live bookings one cancellation transaction ends at most. A paid booking costs about twenty
/// statements (seats, tickets, history, refund, mail); bounded batches keep each write
/// transaction short, so sales of other performances go on meanwhile (SQLite has one writer).
pub const CANCEL_BATCH: u64 = 20;

/// The payload of the `cancel_event_bookings` job: finishes a performance's cancellation.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct CancelEventBookings {
    pub event_id: i64,
    /// The staff member who cancelled, recorded in each booking's history.
    pub actor: Option<i64>,
}

/// Cancels up to `limit` live bookings (pending or confirmed, lowest ids first) of a cancelled
/// performance in one transaction: holds are released, paid bookings refunded in full, buyers
/// told. Each batch stands alone (it reads the bookings still live under the performance's
/// lock), so batches may run from the request, a job or both, and a crash between two batches
/// loses nothing: the next batch takes up the rest.
pub async fn cancel_batch_of_event(
    writer: &crate::db::Writer,
    event_id: i64,
    actor: Actor,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<EventCancelled> {
    with_retry(|| async move {
        let txn = writer.begin().await?;
        let event = next_version(&txn, event_id, now).await?.ok_or(AppError::NotFound)?;
        if event.status != crate::events::service::CANCELLED {
            return Err(AppError::Internal(anyhow::anyhow!("event {event_id} is not cancelled")));
        }
        let live = bookings::Entity::find()
            .filter(bookings::Column::EventId.eq(event_id))
            .filter(
                bookings::Column::Status
                    .is_in([BookingStatus::Pending.as_str(), BookingStatus::Confirmed.as_str()]),
            )
            .order_by_asc(bookings::Column::Id)
            .limit(limit)
            .all(&txn)
            .await?;
        let mut done = EventCancelled { version: event.seats_version, ..Default::default() };
        let reason = format!("performance cancelled: {}", event.cancel_reason.unwrap_or_default());
        for booking in live {
            let freed = match status::status_of(&booking)? {
                BookingStatus::Pending => {
                    cancel_pending(&txn, &booking, event.seats_version, actor, reason.clone(), now).await?
                }
                _ => {
                    cancel_paid(&txn, &booking, event.seats_version, actor, reason.clone(), true, now).await?
                }
            };
            done.freed.extend(freed);
            done.bookings.push(booking.id);
        }
        txn.commit().await?;
        Ok(done)
    })
    .await
}

/// Ends the live bookings of a cancelled performance, batch after batch (at most `max_batches`),
/// telling the seat map and each booking's watchers after every commit. Returns how many
/// bookings it ended.
pub async fn finish_cancelled_event(
    state: &AppState,
    job: CancelEventBookings,
    max_batches: usize,
) -> AppResult<usize> {
    let mut ended = 0;
    for _ in 0..max_batches {
        let batch = cancel_batch_of_event(
            &state.writer,
            job.event_id,
            Actor(job.actor),
            CANCEL_BATCH,
            state.clock.now(),
        )
        .await?;
        state.hub.seats(job.event_id, batch.version, &batch.freed, "available").await;
        for booking in &batch.bookings {
            state.hub.booking(*booking, BookingStatus::Cancelled.as_str()).await;
        }
        ended += batch.bookings.len();
        if (batch.bookings.len() as u64) < CANCEL_BATCH {
            break;
        }
    }
    Ok(ended)
}
