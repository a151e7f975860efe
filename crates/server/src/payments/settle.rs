//! Settling a payment: the one place a booking becomes confirmed. The IPN and the `querydr`
//! sync both end here; a conditional update on the payment's status makes replays and
//! out-of-order callbacks change nothing twice.
//!
//! A paid booking is confirmed only if every one of its seats can still be its own: still held
//! by it, or free again after its hold lapsed (then taken back atomically, under the
//! performance's lock). Otherwise the money goes back through the refund API — never a double
//! sale, never a silent loss of money.

use chrono::{DateTime, Utc};
use entity::{booking_seats, bookings, events, invoice_counters, invoices, payments, tickets, venues};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{Condition, Expr, ExprTrait, OnConflict},
};
use serde_json::json;

use super::{callback::Outcome, refunds};
use crate::{
    app::AppState,
    bookings::{
        notify,
        status::{self, Actor, BookingStatus},
    },
    error::{AppError, AppResult},
    inventory::{
        hold::{next_version, sell},
        retry::with_retry,
    },
    jobs::email,
    mail::templates::Template,
    tickets::codes::TicketSigner,
};

/// What settling did.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// The payment was already settled: nothing changed.
    AlreadySettled,
    /// Recorded as failed; the booking keeps its hold until it expires.
    Failed,
    /// Paid and the booking confirmed.
    Confirmed { booking_id: i64 },
    /// Paid, but the booking could not be confirmed: a refund is on its way.
    Refunding { booking_id: i64, refund_id: i64 },
}

/// The `response_code` Curtain records when it gives up on a payment the gateway never
/// completed (the `querydr` sync). Such a failure is Curtain's guess, not the gateway's word: a
/// success reported afterwards still settles the payment (confirmed, or refunded).
pub const GAVE_UP: &str = "gave_up";

/// Whether a callback with `paid` may still settle `payment`.
pub fn open_for(payment: &payments::Model, paid: bool) -> bool {
    payment.status == "initiated"
        || (paid && payment.status == "failed" && payment.response_code.as_deref() == Some(GAVE_UP))
}

/// Records `outcome` for the payment `payment_id` if it is still open (`open_for`).
pub async fn settle(state: &AppState, payment_id: i64, outcome: &Outcome) -> AppResult<Settled> {
    let settled = with_retry(|| async move {
        let now = state.clock.now();
        let txn = state.begin_write().await?;
        let payment = payments::Entity::find_by_id(payment_id).one(&txn).await?.ok_or(AppError::NotFound)?;
        let event_id =
            bookings::Entity::find_by_id(payment.booking_id).one(&txn).await?.ok_or(AppError::NotFound)?.event_id;
        // Lock the performance first (the order every seat change uses), then read the booking as
        // it stands under that lock and claim the payment.
        let event = next_version(&txn, event_id, now).await?.ok_or(AppError::NotFound)?;
        let booking = bookings::Entity::find_by_id(payment.booking_id).one(&txn).await?.ok_or(AppError::NotFound)?;
        let open = if outcome.paid {
            Condition::any().add(payments::Column::Status.eq("initiated")).add(
                Condition::all()
                    .add(payments::Column::Status.eq("failed"))
                    .add(payments::Column::ResponseCode.eq(GAVE_UP)),
            )
        } else {
            Condition::all().add(payments::Column::Status.eq("initiated"))
        };
        let status = if outcome.paid { "succeeded" } else { "failed" };
        let claimed = payments::Entity::update_many()
            .col_expr(payments::Column::Status, Expr::val(status))
            .col_expr(payments::Column::ResponseCode, Expr::val(outcome.response_code.clone()))
            .col_expr(payments::Column::TransactionStatus, Expr::val(outcome.transaction_status.clone()))
            .col_expr(payments::Column::GatewayTransactionNo, Expr::val(outcome.transaction_no.clone()))
            .col_expr(payments::Column::BankCode, Expr::val(outcome.bank_code.clone()))
            .col_expr(payments::Column::RawCallback, Expr::val(outcome.raw.clone()))
            .col_expr(payments::Column::PaidAt, Expr::val(outcome.paid.then(|| outcome.paid_at.unwrap_or(now))))
            .col_expr(payments::Column::SettledAt, Expr::val(now))
            .col_expr(payments::Column::UpdatedAt, Expr::val(now))
            .filter(payments::Column::Id.eq(payment.id))
            .filter(open)
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            return Ok((Settled::AlreadySettled, None));
        }
        if !outcome.paid {
            txn.commit().await?;
            return Ok((Settled::Failed, None));
        }
        let result = match take_seats(&txn, &booking, &event, &payment, now).await? {
            Ok(seat_ids) => {
                confirm(state, &txn, &booking, &payment, now).await?;
                (Settled::Confirmed { booking_id: booking.id }, Some((event.id, event.seats_version, seat_ids)))
            }
            Err(why) => {
                tracing::warn!(booking_id = booking.id, payment_id = payment.id, %why, "paid booking cannot be confirmed; refunding");
                let refund = refunds::request(&txn, &payment, payment.amount, &why, None, now).await?;
                (Settled::Refunding { booking_id: booking.id, refund_id: refund.id }, None)
            }
        };
        txn.commit().await?;
        Ok(result)
    })
    .await?;
    let (result, sold) = settled;
    if let Some((event_id, version, seat_ids)) = sold {
        state.hub.seats(event_id, version, &seat_ids, "sold").await;
    }
    match &result {
        Settled::Confirmed { booking_id } => {
            state.hub.booking(*booking_id, BookingStatus::Confirmed.as_str()).await
        }
        Settled::Refunding { .. } | Settled::Failed | Settled::AlreadySettled => {}
    }
    metrics::counter!("curtain_payments_settled_total", "result" => match result {
        Settled::AlreadySettled => "replay",
        Settled::Failed => "failed",
        Settled::Confirmed { .. } => "confirmed",
        Settled::Refunding { .. } => "refunded",
    })
    .increment(1);
    Ok(result)
}

/// Sells the booking's seats to it if every one is still its own or free; otherwise says why
/// not and changes nothing. Runs under the performance's lock (`next_version`).
async fn take_seats(
    txn: &DatabaseTransaction,
    booking: &bookings::Model,
    event: &events::Model,
    payment: &payments::Model,
    now: DateTime<Utc>,
) -> AppResult<Result<Vec<i64>, String>> {
    // The performance first: when it is gone, that is what the buyer needs to hear (its
    // bookings were cancelled with it). A deleted performance sells nothing any more, even to a
    // payment started before.
    if !event.is_active {
        return Ok(Err("the performance was deleted".into()));
    }
    if event.status != "published" {
        return Ok(Err("the performance was cancelled".into()));
    }
    let current = status::status_of(booking)?;
    if !matches!(current, BookingStatus::Pending | BookingStatus::Expired) {
        return Ok(Err(format!("the booking was already {current} when the payment arrived")));
    }
    if payment.amount != booking.total {
        return Ok(Err("the booking changed after the payment started".into()));
    }
    let seat_ids: Vec<i64> = booking_seats::Entity::find()
        .filter(booking_seats::Column::BookingId.eq(booking.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|s| s.seat_id)
        .collect();
    if !sell(txn, booking.event_id, &seat_ids, booking.id, event.seats_version, now).await? {
        return Ok(Err("some seats were sold to someone else after the hold expired".into()));
    }
    Ok(Ok(seat_ids))
}

/// Confirms the booking and issues what a paid booking has: tickets, the invoice number and the
/// confirmation email (with both PDFs), all in the caller's transaction.
async fn confirm(
    state: &AppState,
    txn: &DatabaseTransaction,
    booking: &bookings::Model,
    payment: &payments::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let reason = format!("paid through VNPAY ({})", payment.txn_ref);
    status::transition(txn, booking, BookingStatus::Confirmed, Actor(None), Some(reason), now).await?;
    bookings::Entity::update_many()
        .col_expr(bookings::Column::ExpiresAt, Expr::val(None::<DateTime<Utc>>))
        .filter(bookings::Column::Id.eq(booking.id))
        .exec(txn)
        .await?;
    issue_tickets(txn, &state.tickets, booking, now).await?;
    issue_invoice(txn, booking, now).await?;
    let mail = notify::booking_email(txn, booking, Template::BookingConfirmed, |_| json!({})).await?;
    if let Some(mut mail) = mail {
        mail.booking_documents = Some(booking.id);
        email::enqueue(txn, &mail, now).await?;
    }
    Ok(())
}

async fn issue_tickets(
    txn: &DatabaseTransaction,
    signer: &TicketSigner,
    booking: &bookings::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let seats = booking_seats::Entity::find()
        .filter(booking_seats::Column::BookingId.eq(booking.id))
        .all(txn)
        .await?;
    let rows = seats.into_iter().map(|seat| tickets::ActiveModel {
        booking_seat_id: Set(seat.id),
        booking_id: Set(booking.id),
        event_id: Set(booking.event_id),
        code: Set(signer.issue()),
        status: Set("valid".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    tickets::Entity::insert_many(rows).exec_without_returning(txn).await?;
    Ok(())
}

/// The next invoice number of the year, in the performance venue's time zone. The counter row
/// stays locked until the transaction ends and rolls back with it, so numbers have no gaps.
async fn issue_invoice(
    txn: &DatabaseTransaction,
    booking: &bookings::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let tz = match events::Entity::find_by_id(booking.event_id).one(txn).await? {
        Some(event) => venues::Entity::find_by_id(event.venue_id).one(txn).await?.map(|v| v.time_zone),
        None => None,
    };
    let tz: chrono_tz::Tz = tz.and_then(|t| t.parse().ok()).unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let year = chrono::Datelike::year(&now.with_timezone(&tz));
    let counter = invoice_counters::Entity::insert(invoice_counters::ActiveModel {
        year: Set(year),
        last_number: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(invoice_counters::Column::Year)
            .value(
                invoice_counters::Column::LastNumber,
                Expr::col((invoice_counters::Entity, invoice_counters::Column::LastNumber)).add(1),
            )
            .value(invoice_counters::Column::UpdatedAt, Expr::val(now))
            .to_owned(),
    )
    .exec_with_returning(txn)
    .await?;
    invoices::ActiveModel {
        booking_id: Set(booking.id),
        year: Set(year),
        seq: Set(counter.last_number),
        number: Set(format!("{year}-{:06}", counter.last_number)),
        issued_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The number a booking's invoice got, if any.
pub async fn invoice_of<C: ConnectionTrait>(db: &C, booking_id: i64) -> AppResult<Option<invoices::Model>> {
    Ok(invoices::Entity::find().filter(invoices::Column::BookingId.eq(booking_id)).one(db).await?)
}
