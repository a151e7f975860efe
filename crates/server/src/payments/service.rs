//! Starting a payment, answering VNPAY's callbacks, and listing payments.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::{bookings, payments, refunds};
use rand::{Rng, distr::Alphanumeric};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    callback::{self, Params, Refusal},
    settle::{self, Settled},
    vnpay::{
        sign,
        url::{PaymentRequest, payment_url, vnpay_time},
    },
};
use crate::{
    accounts::extract::CurrentUser,
    app::AppState,
    bookings::{
        queries,
        status::{self, BookingStatus},
    },
    error::{AppError, AppResult, ErrorItem},
    http::{Page, PageRequest},
    inventory::{
        hold::{self, next_version},
        retry::with_retry,
    },
};

/// Starting a payment with less hold than this left extends the hold, once, to this.
pub const MIN_PAYMENT_WINDOW: Duration = Duration::minutes(5);

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStarted {
    pub payment_id: i64,
    /// Send the buyer's browser here.
    pub payment_url: String,
    /// When the hold (and so this payment) runs out.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundOut {
    pub id: i64,
    pub amount: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub reason: String,
    pub gateway_reference: Option<String>,
    pub requested_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<refunds::Model> for RefundOut {
    fn from(r: refunds::Model) -> Self {
        Self {
            id: r.id,
            amount: r.amount,
            status: r.status,
            reason: r.reason,
            gateway_reference: r.gateway_reference,
            requested_by: r.requested_by,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    pub id: i64,
    pub booking_id: i64,
    pub gateway: String,
    pub txn_ref: String,
    pub amount: i64,
    pub currency: String,
    /// `initiated`, `succeeded`, `failed`, `refunded` or `partially_refunded`.
    pub status: String,
    pub refunded_amount: i64,
    pub transaction_no: Option<String>,
    pub bank_code: Option<String>,
    pub response_code: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub refunds: Vec<RefundOut>,
}

pub struct StartRequest {
    pub booking_id: i64,
    pub bank_code: Option<String>,
    /// `vn` or `en`.
    pub locale: &'static str,
    pub ip: IpAddr,
}

fn new_txn_ref(booking_id: i64) -> String {
    let random: String =
        rand::rng().sample_iter(&Alphanumeric).take(10).map(|b| char::from(b).to_ascii_uppercase()).collect();
    format!("{booking_id}X{random}")
}

/// Opens a payment attempt for a pending booking: a new `vnp_TxnRef`, the amount fixed now,
/// the gateway's deadline set to the hold's expiry (extended once to 5 minutes if less is left).
pub async fn start(state: &AppState, user: &CurrentUser, request: StartRequest) -> AppResult<PaymentStarted> {
    let booking = queries::visible(&state.db, user, request.booking_id).await?;
    let created = with_retry(|| {
        let bank_code = request.bank_code.clone();
        async move {
            let now = state.clock.now();
            let txn = state.begin_write().await?;
            next_version(&txn, booking.event_id, now).await?.ok_or(AppError::NotFound)?;
            let booking =
                bookings::Entity::find_by_id(booking.id).one(&txn).await?.ok_or(AppError::NotFound)?;
            let current = status::status_of(&booking)?;
            if current != BookingStatus::Pending {
                return Err(AppError::Conflict(
                    ErrorItem::new("invalid_transition", format!("A {current} booking cannot be paid."))
                        .with_detail("status", current.as_str()),
                ));
            }
            let mut expires =
                booking.expires_at.ok_or_else(|| anyhow::anyhow!("pending booking without expiry"))?;
            if expires <= now {
                return Err(AppError::conflict(
                    "hold_expired",
                    "The hold on these seats has run out; book again.",
                ));
            }
            let original = booking.created_at + Duration::minutes(state.config.hold_minutes);
            if expires - now < MIN_PAYMENT_WINDOW && expires <= original {
                expires = now + MIN_PAYMENT_WINDOW;
                hold::extend(&txn, booking.id, expires, now).await?;
                bookings::Entity::update_many()
                    .col_expr(bookings::Column::ExpiresAt, Expr::val(Some(expires)))
                    .filter(bookings::Column::Id.eq(booking.id))
                    .exec(&txn)
                    .await?;
            }
            let payment = payments::ActiveModel {
                booking_id: Set(booking.id),
                gateway: Set("vnpay".into()),
                txn_ref: Set(new_txn_ref(booking.id)),
                amount: Set(booking.total),
                currency: Set(booking.currency.clone()),
                status: Set("initiated".into()),
                refunded_amount: Set(0),
                bank_code: Set(bank_code),
                create_date: Set(Some(vnpay_time(now))),
                expires_at: Set(Some(expires)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            txn.commit().await?;
            Ok((payment, booking.reference, now))
        }
    })
    .await?;
    let (payment, reference, now) = created;
    let gateway = &state.gateway;
    let expires = payment.expires_at.unwrap_or(now);
    let url = payment_url(
        &gateway.pay_url,
        gateway.secret.expose(),
        &PaymentRequest {
            tmn_code: gateway.tmn_code.clone(),
            amount_vnd: payment.amount,
            txn_ref: payment.txn_ref.clone(),
            order_info: format!("Thanh toan ve {reference}"),
            locale: request.locale,
            return_url: gateway.return_url.clone(),
            ip_addr: request.ip.to_string(),
            created: now,
            expires,
            bank_code: payment.bank_code.clone(),
        },
    )
    .map_err(|e| anyhow::anyhow!("signing the payment URL: {e}"))?;
    metrics::counter!("curtain_payments_started_total").increment(1);
    tracing::info!(
        payment_id = payment.id,
        booking_id = payment.booking_id,
        simulated = gateway.simulated,
        "payment started"
    );
    Ok(PaymentStarted { payment_id: payment.id, payment_url: url, expires_at: expires })
}

/// Checks a callback in SPEC §5's order: signature, known reference, amount. Returns the
/// payment it is about.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    params: &Params,
) -> Result<payments::Model, Refusal> {
    if !sign::verify(secret, params.pairs()) {
        return Err(Refusal::Signature);
    }
    let txn_ref =
        params.get("vnp_TxnRef").filter(|r| !r.is_empty() && r.len() <= 100).ok_or(Refusal::NotFound)?;
    let payment = payments::Entity::find()
        .filter(payments::Column::TxnRef.eq(txn_ref))
        .one(db)
        .await
        .map_err(|_| Refusal::Malformed)?
        .ok_or(Refusal::NotFound)?;
    if callback::amount_vnd(params.get("vnp_Amount")) != Some(payment.amount) {
        return Err(Refusal::Amount);
    }
    Ok(payment)
}

/// The IPN: VNPAY's server telling us the result. The answer is the `(RspCode, Message)` pair.
pub async fn ipn(state: &AppState, params: &Params) -> (&'static str, &'static str) {
    let answer = async {
        let payment = check(&state.db, state.gateway.secret.expose(), params).await?;
        let outcome = callback::outcome(params)?;
        if !settle::open_for(&payment, outcome.paid) {
            return Err(Refusal::AlreadySettled);
        }
        match settle::settle(state, payment.id, &outcome).await {
            Ok(Settled::AlreadySettled) => Err(Refusal::AlreadySettled),
            Ok(settled) => {
                tracing::info!(payment_id = payment.id, ?settled, response_code = %outcome.response_code, "IPN settled a payment");
                Ok(())
            }
            Err(err) => {
                tracing::error!(payment_id = payment.id, error = ?err, "IPN could not be recorded");
                Err(Refusal::Malformed)
            }
        }
    }
    .await;
    match answer {
        Ok(()) => ("00", "Confirm Success"),
        Err(refusal) => {
            tracing::warn!(?refusal, txn_ref = params.get("vnp_TxnRef").unwrap_or_default(), "IPN refused");
            refusal.rsp_code()
        }
    }
}

/// The payments the caller may see (their own; staff: all), newest first.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    booking: Option<i64>,
    status: Option<String>,
    page: PageRequest,
) -> AppResult<Page<PaymentOut>> {
    let mut query = payments::Entity::find().order_by_desc(payments::Column::Id);
    if !user.is_staff() {
        let own: Vec<i64> = bookings::Entity::find()
            .filter(bookings::Column::UserId.eq(user.id()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|b| b.id)
            .collect();
        query = query.filter(payments::Column::BookingId.is_in(own));
    }
    if let Some(booking) = booking {
        query = query.filter(payments::Column::BookingId.eq(booking));
    }
    if let Some(status) = status {
        query = query.filter(payments::Column::Status.eq(status));
    }
    let paginator = query.paginate(&state.db, page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let all_refunds = refunds::Entity::find()
        .filter(refunds::Column::PaymentId.is_in(ids))
        .order_by_asc(refunds::Column::Id)
        .all(&state.db)
        .await?;
    let items = rows
        .into_iter()
        .map(|p| PaymentOut {
            refunds: all_refunds
                .iter()
                .filter(|r| r.payment_id == p.id)
                .map(|r| RefundOut::from(r.clone()))
                .collect(),
            id: p.id,
            booking_id: p.booking_id,
            gateway: p.gateway,
            txn_ref: p.txn_ref,
            amount: p.amount,
            currency: p.currency,
            status: p.status,
            refunded_amount: p.refunded_amount,
            transaction_no: p.gateway_transaction_no,
            bank_code: p.bank_code,
            response_code: p.response_code,
            expires_at: p.expires_at,
            paid_at: p.paid_at,
            created_at: p.created_at,
        })
        .collect();
    Ok(page.of(items, total))
}
