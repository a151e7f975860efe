//! Refunds: recorded as `pending` in the transaction that decides them, sent to the gateway's
//! refund API by a job after the commit, and recorded again with the gateway's answer. The
//! request id is derived from the refund's id, so a retried job repeats the same request (the
//! gateway can recognise it); only a `00` answer records a refund as done.

use chrono::{DateTime, Utc};
use entity::{bookings, payments, refunds, tickets};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    app::AppState,
    bookings::{
        notify,
        status::{self, Actor, BookingStatus},
    },
    error::{AppError, AppResult, ErrorItem},
    inventory::{
        hold::{next_version, release_sold},
        retry::with_retry,
    },
    jobs::{JobError, email, kind, queue},
    mail::templates::{Template, money},
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundJob {
    pub refund_id: i64,
}

/// Reads a payment and locks its row until the transaction ends (PostgreSQL; SQLite's IMMEDIATE
/// transaction already excludes other writers): every change of what was refunded goes through
/// this lock, so two refunds never both count the same money as left.
pub async fn locked(txn: &DatabaseTransaction, payment_id: i64) -> AppResult<payments::Model> {
    payments::Entity::find_by_id(payment_id).lock_exclusive().one(txn).await?.ok_or(AppError::NotFound)
}

/// What is left to refund of a payment (read under `locked`): paid, minus refunded, minus
/// refunds under way.
pub async fn remaining<C: ConnectionTrait>(db: &C, payment: &payments::Model) -> AppResult<i64> {
    if !matches!(payment.status.as_str(), "succeeded" | "partially_refunded") {
        return Ok(0);
    }
    let pending: i64 = refunds::Entity::find()
        .filter(refunds::Column::PaymentId.eq(payment.id))
        .filter(refunds::Column::Status.eq("pending"))
        .all(db)
        .await?
        .iter()
        .map(|r| r.amount)
        .sum();
    Ok(Ord::max(payment.amount - payment.refunded_amount - pending, 0))
}

/// Records a pending refund and queues its gateway call, in the caller's transaction.
pub async fn request(
    txn: &DatabaseTransaction,
    payment: &payments::Model,
    amount: i64,
    reason: &str,
    requested_by: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<refunds::Model> {
    let refund = refunds::ActiveModel {
        payment_id: Set(payment.id),
        amount: Set(amount),
        status: Set("pending".into()),
        reason: Set(reason.to_owned()),
        requested_by: Set(requested_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    queue::enqueue(txn, kind::REFUND_PAYMENT, &RefundJob { refund_id: refund.id }, now, None, now).await?;
    Ok(refund)
}

/// Refunds what is left of every paid payment of `booking` (cancellations, cancelled
/// performances); returns the total.
pub async fn refund_booking(
    txn: &DatabaseTransaction,
    booking_id: i64,
    reason: &str,
    requested_by: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let paid = payments::Entity::find()
        .filter(payments::Column::BookingId.eq(booking_id))
        .filter(payments::Column::Status.is_in(["succeeded", "partially_refunded"]))
        .all(txn)
        .await?;
    let mut total = 0;
    for payment in paid {
        let payment = locked(txn, payment.id).await?;
        let amount = remaining(txn, &payment).await?;
        if amount > 0 {
            request(txn, &payment, amount, reason, requested_by, now).await?;
            total += amount;
        }
    }
    Ok(total)
}

/// Ends a paid booking (`Cancelled` or `Refunded`): its seats go back on sale (the caller holds
/// the performance's lock and passes its new `version`) and its tickets stop admitting anyone.
/// Returns the freed seat ids.
#[allow(clippy::too_many_arguments)]
pub async fn end_paid_booking(
    txn: &DatabaseTransaction,
    booking: &bookings::Model,
    next: BookingStatus,
    actor: Actor,
    reason: Option<String>,
    version: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    status::transition(txn, booking, next, actor, reason, now).await?;
    let freed = release_sold(txn, booking.id, version, now).await?;
    tickets::Entity::update_many()
        .col_expr(tickets::Column::Status, Expr::val("void"))
        .col_expr(tickets::Column::UpdatedAt, Expr::val(now))
        .filter(tickets::Column::BookingId.eq(booking.id))
        .exec(txn)
        .await?;
    Ok(freed)
}

/// Gateway answers that will not change on a retry.
const REFUSED: &[&str] = &["02", "03", "91", "95", "97"];

/// The `refund_payment` job: asks the gateway, then records its answer.
pub async fn run(state: &AppState, job: RefundJob) -> Result<(), JobError> {
    let Some(refund) = refunds::Entity::find_by_id(job.refund_id).one(&state.db).await? else {
        return Err(JobError::permanent(format!("refund {} does not exist", job.refund_id)));
    };
    if refund.status != "pending" {
        return Ok(());
    }
    let Some(payment) = payments::Entity::find_by_id(refund.payment_id).one(&state.db).await? else {
        return Err(JobError::permanent(format!("payment {} does not exist", refund.payment_id)));
    };
    let created_by = match refund.requested_by {
        Some(user) => format!("staff-{user}"),
        None => "curtain".to_owned(),
    };
    let answer = state
        .gateway
        .refund(
            &format!("RF{}", refund.id),
            &payment.txn_ref,
            payment.create_date.as_deref().unwrap_or_default(),
            refund.amount,
            payment.amount,
            payment.gateway_transaction_no.as_deref(),
            &created_by,
            state.clock.now(),
        )
        .await
        .map_err(|e| JobError::retry(format!("{e:#}")))?;
    let code = answer.response_code().to_owned();
    // Anything else (94: another refund of this payment is being processed; 99; …) may change:
    // ask again later rather than record a refund that did not happen.
    let accepted = code == "00";
    if !accepted && !REFUSED.contains(&code.as_str()) {
        return Err(JobError::retry(format!("gateway answered {code}: {}", answer.get("vnp_Message"))));
    }
    let now = state.clock.now();
    let txn = state.begin_write().await?;
    let payment = locked(&txn, payment.id).await?;
    let updated = refunds::Entity::update_many()
        .col_expr(refunds::Column::Status, Expr::val(if accepted { "succeeded" } else { "failed" }))
        .col_expr(
            refunds::Column::GatewayReference,
            Expr::val(Some(answer.get("vnp_TransactionNo").to_owned()).filter(|s| !s.is_empty())),
        )
        .col_expr(refunds::Column::RawResponse, Expr::val(serde_json::Value::Object(answer.0.clone())))
        .col_expr(refunds::Column::UpdatedAt, Expr::val(now))
        .filter(refunds::Column::Id.eq(refund.id))
        .filter(refunds::Column::Status.eq("pending"))
        .exec(&txn)
        .await?
        .rows_affected;
    if updated == 1 && accepted {
        let refunded = payment.refunded_amount + refund.amount;
        payments::Entity::update_many()
            .col_expr(
                payments::Column::RefundedAmount,
                Expr::col(payments::Column::RefundedAmount).add(refund.amount),
            )
            .col_expr(
                payments::Column::Status,
                Expr::val(if refunded >= payment.amount { "refunded" } else { "partially_refunded" }),
            )
            .col_expr(payments::Column::UpdatedAt, Expr::val(now))
            .filter(payments::Column::Id.eq(payment.id))
            .exec(&txn)
            .await?;
        if let Some(booking) = bookings::Entity::find_by_id(payment.booking_id).one(&txn).await? {
            let reason = refund.reason.clone();
            let mail = notify::booking_email(
                &txn,
                &booking,
                Template::Refund,
                |locale| json!({"amount": money(refund.amount, locale), "reason": reason}),
            )
            .await?;
            if let Some(mail) = mail {
                email::enqueue(&txn, &mail, now).await?;
            }
        }
    }
    txn.commit().await?;
    if accepted {
        tracing::info!(
            refund_id = refund.id,
            payment_id = payment.id,
            amount = refund.amount,
            "refund accepted by the gateway"
        );
        Ok(())
    } else {
        Err(JobError::permanent(format!(
            "gateway refused refund {} with {code}: {}",
            refund.id,
            answer.get("vnp_Message")
        )))
    }
}

/// A staff refund of `amount` (default: everything left) of a payment. Refunding everything
/// left of a confirmed booking also ends it as `refunded` and puts its seats back on sale.
pub async fn staff_refund(
    state: &AppState,
    staff: &crate::accounts::extract::CurrentUser,
    payment_id: i64,
    amount: Option<i64>,
    reason: String,
) -> AppResult<refunds::Model> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "give a reason of 1 to 500 characters"));
    }
    if amount.is_some_and(|a| a < 1) {
        return Err(AppError::invalid("amount", "must be a positive whole amount"));
    }
    let payment = payments::Entity::find_by_id(payment_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let booking =
        bookings::Entity::find_by_id(payment.booking_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let done = with_retry(|| {
        let reason = reason.clone();
        async move {
            let now = state.clock.now();
            let txn = state.begin_write().await?;
            let event = next_version(&txn, booking.event_id, now).await?.ok_or(AppError::NotFound)?;
            let payment = locked(&txn, payment_id).await?;
            let left = remaining(&txn, &payment).await?;
            if left == 0 {
                return Err(AppError::Conflict(
                    ErrorItem::new("not_refundable", "Nothing is left to refund on this payment.")
                        .with_detail("status", payment.status.clone()),
                ));
            }
            let amount = amount.unwrap_or(left);
            if amount > left {
                return Err(AppError::Conflict(
                    ErrorItem::new(
                        "refund_exceeds_payment",
                        format!("At most {left} can still be refunded."),
                    )
                    .with_detail("remaining", left),
                ));
            }
            let booking = bookings::Entity::find_by_id(payment.booking_id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            let mut freed = Vec::new();
            let ends = amount == left
                && status::status_of(&booking)? == BookingStatus::Confirmed
                && left_on_other_payments(&txn, &payment).await? == 0;
            if ends {
                freed = end_paid_booking(
                    &txn,
                    &booking,
                    BookingStatus::Refunded,
                    Actor(Some(staff.id())),
                    Some(reason.clone()),
                    event.seats_version,
                    now,
                )
                .await?;
            }
            let refund = request(&txn, &payment, amount, &reason, Some(staff.id()), now).await?;
            txn.commit().await?;
            Ok((refund, ends.then_some((event.id, event.seats_version, freed))))
        }
    })
    .await?;
    let (refund, ended) = done;
    if let Some((event_id, version, freed)) = ended {
        state.hub.seats(event_id, version, &freed, "available").await;
        state.hub.booking(booking.id, BookingStatus::Refunded.as_str()).await;
    }
    tracing::info!(
        refund_id = refund.id,
        payment_id,
        amount = refund.amount,
        staff = staff.id(),
        "staff refund requested"
    );
    Ok(refund)
}

/// What is left to refund on the booking's other paid payments (a duplicate payment, say): while
/// any money remains there, refunding this one does not end the booking.
async fn left_on_other_payments(txn: &DatabaseTransaction, payment: &payments::Model) -> AppResult<i64> {
    let others = payments::Entity::find()
        .filter(payments::Column::BookingId.eq(payment.booking_id))
        .filter(payments::Column::Id.ne(payment.id))
        .filter(payments::Column::Status.is_in(["succeeded", "partially_refunded"]))
        .all(txn)
        .await?;
    let mut left = 0;
    for other in others {
        left += remaining(txn, &other).await?;
    }
    Ok(left)
}
