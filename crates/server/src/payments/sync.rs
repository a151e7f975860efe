//! The `sync_payments` periodic job: asks the gateway (`querydr`) about payments still
//! `initiated` after their deadline, so a lost IPN still confirms or fails the booking.

use chrono::Duration;
use entity::payments;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};

use super::{
    callback::{self, Outcome},
    settle::{GAVE_UP, settle},
    vnpay::api::ApiResponse,
};
use crate::{app::AppState, jobs::JobError};

/// How long after its deadline a payment is first asked about (the IPN usually comes first).
pub const ASK_AFTER: Duration = Duration::minutes(1);
/// How long after its deadline a payment the gateway has not completed is given up as failed.
pub const GIVE_UP_AFTER: Duration = Duration::minutes(15);
const BATCH: u64 = 50;

pub async fn sync_payments(state: &AppState) -> Result<(), JobError> {
    let now = state.clock.now();
    let stale = payments::Entity::find()
        .filter(payments::Column::Status.eq("initiated"))
        .filter(payments::Column::ExpiresAt.lt(now - ASK_AFTER))
        // Least recently asked first, so payments the gateway cannot settle yet never starve the rest.
        .order_by_asc(payments::Column::UpdatedAt)
        .order_by_asc(payments::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for payment in stale {
        let answer = match state
            .gateway
            .query(&payment.txn_ref, payment.create_date.as_deref().unwrap_or_default(), now)
            .await
        {
            Ok(answer) => answer,
            Err(err) => {
                tracing::warn!(payment_id = payment.id, error = %format!("{err:#}"), "querydr failed; asking again next time");
                touch(state, payment.id).await?;
                continue;
            }
        };
        let overdue = payment.expires_at.is_some_and(|at| now > at + GIVE_UP_AFTER);
        let Some(outcome) = outcome_of(&payment, &answer, overdue) else {
            touch(state, payment.id).await?;
            continue;
        };
        match settle(state, payment.id, &outcome).await {
            Ok(settled) => tracing::info!(payment_id = payment.id, ?settled, "querydr settled a payment"),
            Err(err) => {
                tracing::error!(payment_id = payment.id, error = ?err, "settling after querydr failed")
            }
        }
    }
    Ok(())
}

/// Notes that the payment was asked about (it moves to the back of the queue).
async fn touch(state: &AppState, payment_id: i64) -> Result<(), JobError> {
    payments::Entity::update_many()
        .col_expr(payments::Column::UpdatedAt, Expr::val(state.clock.now()))
        .filter(payments::Column::Id.eq(payment_id))
        .filter(payments::Column::Status.eq("initiated"))
        .exec(&state.writer)
        .await?;
    Ok(())
}

/// What the answer settles, if anything: paid; failed at the gateway; or never completed and
/// overdue. An answer for another amount settles nothing (and is logged).
fn outcome_of(payment: &payments::Model, answer: &ApiResponse, overdue: bool) -> Option<Outcome> {
    let code = answer.response_code();
    let status = answer.get("vnp_TransactionStatus");
    let raw = serde_json::Value::Object(answer.0.clone());
    let failed = |response_code: &str, transaction_status: &str| Outcome {
        paid: false,
        response_code: response_code.to_owned(),
        transaction_status: transaction_status.to_owned(),
        transaction_no: None,
        bank_code: None,
        paid_at: None,
        raw: raw.clone(),
    };
    match code {
        "00" if callback::amount_vnd(Some(answer.get("vnp_Amount"))) != Some(payment.amount) => {
            tracing::error!(
                payment_id = payment.id,
                amount = answer.get("vnp_Amount"),
                "querydr reports another amount"
            );
            None
        }
        "00" if status == "00" => Some(Outcome {
            paid: true,
            response_code: "00".into(),
            transaction_status: "00".into(),
            transaction_no: Some(answer.get("vnp_TransactionNo").to_owned())
                .filter(|n| !n.is_empty() && n != "0"),
            bank_code: Some(answer.get("vnp_BankCode").to_owned()).filter(|b| !b.is_empty()),
            paid_at: callback::parse_vnpay_time(answer.get("vnp_PayDate")),
            raw: raw.clone(),
        }),
        // Not completed (yet): give the buyer's bank its time, then give up.
        "00" if status == "01" => overdue.then(|| failed(GAVE_UP, status)),
        "00" => Some(failed(if status == "02" { "99" } else { status }, status)),
        // The gateway never saw it: the buyer did not get as far as paying.
        "91" => overdue.then(|| failed(GAVE_UP, "91")),
        other => {
            tracing::warn!(
                payment_id = payment.id,
                code = other,
                message = answer.get("vnp_Message"),
                "querydr answered an error"
            );
            None
        }
    }
}
