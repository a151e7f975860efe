//! Payment routes: start a payment, list payments, staff refunds, and VNPAY's two callbacks
//! (not enveloped: the IPN answers VNPAY's JSON, the return URL redirects the browser).

use std::{collections::HashMap, net::SocketAddr};

use axum::{
    Json,
    extract::{ConnectInfo, RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use entity::{bookings, payments};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    callback::{MAX_QUERY, Params, Refusal},
    refunds,
    service::{self, PaymentOut, PaymentStarted, RefundOut, StartRequest},
};
use crate::{
    accounts::extract::{CurrentUser, Staff},
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiPath, ApiResponse, PageRequest, Params as QueryParams,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
    limits::client_ip,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_payment, list_payments))
        .routes(routes!(refund_payment))
        .routes(routes!(vnpay_return))
        .routes(routes!(vnpay_ipn))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartPayment {
    #[schema(minimum = 1)]
    pub booking_id: i64,
    /// Skip the gateway's bank choice: `NCB`, `VNPAYQR`, `VNBANK`, `INTCARD`, …
    #[schema(max_length = 20, pattern = "^[A-Z0-9]*$")]
    pub bank_code: Option<String>,
    /// Language of the gateway's page: `vn` (or `vi`) or `en`; default `vn`.
    #[schema(pattern = "^(vn|vi|en)$")]
    pub locale: Option<String>,
}

/// Starts paying a pending booking: answers the VNPAY URL to send the buyer to. Each call is a
/// new attempt with its own `vnp_TxnRef`. With less than 5 minutes of hold left, the hold is
/// extended once to 5 minutes.
#[utoipa::path(post, path = "/api/payments", tag = "payments", request_body = StartPayment, security(("bearer" = [])),
    responses(
        (status = 201, body = Envelope<PaymentStarted>),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition` (not pending), `hold_expired`", body = ErrorEnvelope)))]
async fn start_payment(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    user: CurrentUser,
    ApiJson(body): ApiJson<StartPayment>,
) -> AppResult<ApiResponse<PaymentStarted>> {
    let bank_code = body.bank_code.filter(|b| !b.is_empty());
    if bank_code
        .as_ref()
        .is_some_and(|b| b.len() > 20 || !b.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    {
        return Err(AppError::invalid("bank_code", "upper-case letters and digits, at most 20"));
    }
    let locale = match body.locale.as_deref() {
        None | Some("vn" | "vi") => "vn",
        Some("en") => "en",
        Some(_) => return Err(AppError::invalid("locale", "vn or en")),
    };
    let ip = client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let request = StartRequest { booking_id: body.booking_id, bank_code, locale, ip };
    Ok(ApiResponse::created(service::start(&state, &user, request).await?))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct PaymentListQuery {
    #[param(minimum = 1)]
    booking: Option<i64>,
    /// `initiated`, `succeeded`, `failed`, `refunded`, `partially_refunded`.
    #[param(pattern = "^(initiated|succeeded|failed|refunded|partially_refunded)$")]
    status: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// The caller's payments (staff: everyone's), newest first, each with its refunds.
#[utoipa::path(get, path = "/api/payments", tag = "payments", params(PaymentListQuery), security(("bearer" = [])),
    responses((status = 200, body = Envelope<Vec<PaymentOut>>), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn list_payments(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<PaymentOut>>> {
    let mut params = QueryParams::new(raw);
    let booking = params.id("booking");
    let status =
        params.choice("status", &["initiated", "succeeded", "failed", "refunded", "partially_refunded"]);
    let page = PageRequest::read(&mut params);
    params.finish()?;
    Ok(ApiResponse::<PaymentOut>::page(
        service::list(&state, &user, booking, status.map(str::to_owned), page).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Whole dong; default: everything not yet refunded.
    #[schema(minimum = 1)]
    pub amount: Option<i64>,
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

/// Staff: refunds a payment, fully or partly, through the gateway's refund API (after the
/// commit, as a job; the refund starts `pending`). Refunding all that is left of a confirmed
/// booking ends it as `refunded` and puts its seats back on sale.
#[utoipa::path(post, path = "/api/payments/{id}/refund", tag = "payments", params(("id" = i64, Path)), request_body = RefundBody,
    security(("bearer" = ["staff"])),
    responses(
        (status = 201, body = Envelope<RefundOut>),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`not_refundable`, `refund_exceeds_payment` (with `remaining`)", body = ErrorEnvelope)))]
async fn refund_payment(
    State(state): State<AppState>,
    Staff(staff): Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RefundBody>,
) -> AppResult<ApiResponse<RefundOut>> {
    let r = refunds::staff_refund(&state, &staff, id, body.amount, body.reason).await?;
    Ok(ApiResponse::created(RefundOut::from(r)))
}

/// Where VNPAY sends the buyer's browser back. Verifies the signature and redirects to the
/// result page; it never confirms anything (the IPN does).
#[utoipa::path(get, path = "/api/payments/vnpay/return", tag = "payments",
    params(("vnp_TxnRef" = Option<String>, Query), ("vnp_SecureHash" = Option<String>, Query, description = "and every other `vnp_*` field VNPAY sends")),
    responses((status = 303, description = "To `/payments/result?ref=…` (or `?error=signature`)")))]
async fn vnpay_return(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY {
        return Redirect::to("/payments/result?error=invalid").into_response();
    }
    let params = Params::parse(&query);
    let target = match service::check(&state.db, state.gateway.secret.expose(), &params).await {
        Ok(payment) => format!("/payments/result?ref={}", payment.txn_ref),
        Err(Refusal::Signature) => "/payments/result?error=signature".to_owned(),
        Err(_) => "/payments/result?error=invalid".to_owned(),
    };
    Redirect::to(&target).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
#[allow(non_snake_case)] // VNPAY's field names.
pub struct IpnAnswer {
    /// `00` recorded, `02` already settled, `01` unknown order, `04` wrong amount, `97` bad signature, `99` error.
    pub RspCode: String,
    pub Message: String,
}

/// VNPAY's server-to-server notification: the authority on a payment. Checks, in order:
/// signature (97), order (01), amount (04), already settled (02); then records success or
/// failure (00). Always HTTP 200 with VNPAY's JSON.
#[utoipa::path(get, path = "/api/payments/vnpay/ipn", tag = "payments",
    params(("vnp_TxnRef" = Option<String>, Query), ("vnp_SecureHash" = Option<String>, Query, description = "and every other `vnp_*` field VNPAY sends")),
    responses((status = 200, body = IpnAnswer)))]
async fn vnpay_ipn(State(state): State<AppState>, RawQuery(query): RawQuery) -> Json<IpnAnswer> {
    let query = query.unwrap_or_default();
    let (code, message) = if query.len() > MAX_QUERY {
        Refusal::Signature.rsp_code()
    } else {
        service::ipn(&state, &Params::parse(&query)).await
    };
    Json(IpnAnswer { RspCode: code.to_owned(), Message: message.to_owned() })
}

/// What the result page shows for a payment attempt: the payment, its booking, and — when
/// Curtain itself is refunding it because it arrived for a booking it could not confirm — why.
pub async fn result_of(
    state: &AppState,
    txn_ref: &str,
) -> AppResult<Option<(payments::Model, bookings::Model, Option<String>)>> {
    let Some(payment) =
        payments::Entity::find().filter(payments::Column::TxnRef.eq(txn_ref)).one(&state.db).await?
    else {
        return Ok(None);
    };
    let booking =
        bookings::Entity::find_by_id(payment.booking_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    // Refunds nobody asked for are the ones settling decided on (staff and buyers are named).
    let not_confirmed = entity::refunds::Entity::find()
        .filter(entity::refunds::Column::PaymentId.eq(payment.id))
        .filter(entity::refunds::Column::RequestedBy.is_null())
        .one(&state.db)
        .await?
        .map(|refund| refund.reason);
    Ok(Some((payment, booking, not_confirmed)))
}
