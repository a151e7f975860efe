//! The built-in VNPAY simulator (SPEC §5), served exactly when `VNPAY_PAYMENT_URL` is unset: a
//! payment page (choose a bank; pay, decline or cancel) that sends the buyer back to the return
//! URL and calls the IPN over HTTP, and the `querydr`/`refund` API. It signs and checks with the
//! same code as the real client, so a whole purchase runs on one machine, and a test can play
//! VNPAY's part with a known secret.
//!
//! Its ledger of transactions lives in memory: it is a stand-in for a remote system, not part of
//! Curtain's data.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use axum::{
    Form, Json, Router,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    callback::{Params, amount_vnd},
    gateway::{Gateway, SIMULATOR_API_PATH, SIMULATOR_PAY_PATH},
    vnpay::{
        api::{ApiResponse, QueryRequest, RefundRequest},
        sign::{api_hash, hmac_hex, signed_query, verify},
        url::vnpay_time,
    },
};
use crate::{
    app::AppState,
    mail::templates::{Locale, money},
};

/// One transaction as the simulated gateway remembers it.
#[derive(Clone, Debug)]
struct SimTxn {
    amount_vnd: i64,
    transaction_no: String,
    bank_code: String,
    pay_date: String,
    transaction_status: String,
    order_info: String,
    refunded_vnd: i64,
    refund_requests: HashSet<String>,
}

#[derive(Default)]
pub struct Ledger(Mutex<HashMap<String, SimTxn>>);

impl Ledger {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, SimTxn>) -> T) -> T {
        let mut map = match self.0.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut map)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(SIMULATOR_PAY_PATH, get(page).post(decide))
        .route(SIMULATOR_API_PATH, axum::routing::post(api))
}

const BANKS: &[(&str, &str)] = &[
    ("NCB", "NCB — Ngân hàng Quốc Dân"),
    ("VCB", "Vietcombank"),
    ("TCB", "Techcombank"),
    ("BIDV", "BIDV"),
    ("VNPAYQR", "VNPAY-QR"),
    ("INTCARD", "International card / Thẻ quốc tế"),
];

fn render(ctx: Value) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("pay.html", include_str!("../../templates/sandbox/pay.html"))?;
    env.get_template("pay.html")?.render(minijinja::value::Serde(&ctx))
}

fn page_response(status: StatusCode, ctx: Value) -> Response {
    match render(ctx) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "simulator page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn error_page(message: &str) -> Response {
    page_response(StatusCode::BAD_REQUEST, json!({"title": "VNPAY", "error": message}))
}

/// The signed request, checked as VNPAY checks it.
/// The signed request, checked as VNPAY checks it; the error is the page's message.
fn checked(gateway: &Gateway, query: &str) -> Result<Params, &'static str> {
    let params = Params::parse(query);
    if !verify(gateway.secret.expose(), params.pairs()) {
        return Err("Sai chữ ký / Invalid signature (97)");
    }
    if params.get("vnp_TmnCode") != Some(gateway.tmn_code.as_str()) {
        return Err("Website chưa được phê duyệt / Unknown merchant (02)");
    }
    if params.get("vnp_TxnRef").is_none_or(str::is_empty) || amount_vnd(params.get("vnp_Amount")).is_none() {
        return Err("Dữ liệu không hợp lệ / Malformed request (03)");
    }
    Ok(params)
}

/// With the real gateway configured, the simulator does not exist.
fn disabled(state: &AppState) -> Option<Response> {
    (!state.gateway.simulated).then(|| StatusCode::NOT_FOUND.into_response())
}

async fn page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    if let Some(off) = disabled(&state) {
        return off;
    }
    let query = query.unwrap_or_default();
    let params = match checked(&state.gateway, &query) {
        Ok(params) => params,
        Err(message) => return error_page(message),
    };
    tracing::warn!(
        txn_ref = params.get("vnp_TxnRef").unwrap_or_default(),
        "VNPAY SIMULATOR: payment page shown (no real payment)"
    );
    let banks: Vec<Value> = BANKS.iter().map(|(code, name)| json!({"code": code, "name": name})).collect();
    let expires = params
        .get("vnp_ExpireDate")
        .and_then(super::callback::parse_vnpay_time)
        .map(|t| crate::jobs::periodic::local_time(t, "Asia/Ho_Chi_Minh", Locale::Vi))
        .unwrap_or_default();
    page_response(
        StatusCode::OK,
        json!({
            "title": "Thanh toán / Payment",
            "tmn_code": state.gateway.tmn_code,
            "order_info": params.get("vnp_OrderInfo"),
            "txn_ref": params.get("vnp_TxnRef"),
            "amount": money(amount_vnd(params.get("vnp_Amount")).unwrap_or_default(), Locale::Vi),
            "expires": expires,
            "query": query,
            "action": SIMULATOR_PAY_PATH,
            "banks": banks,
            "chosen": params.get("vnp_BankCode").unwrap_or("NCB"),
        }),
    )
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    /// The signed query string of the payment request, as received.
    q: String,
    /// `pay`, `decline` or `cancel`.
    action: String,
    bank: Option<String>,
    /// Present when the IPN should be sent.
    ipn: Option<String>,
}

async fn decide(State(state): State<AppState>, Form(decision): Form<Decision>) -> Response {
    if let Some(off) = disabled(&state) {
        return off;
    }
    let gateway = &state.gateway;
    let params = match checked(gateway, &decision.q) {
        Ok(params) => params,
        Err(message) => return error_page(message),
    };
    let (response_code, transaction_status) = match decision.action.as_str() {
        "pay" => ("00", "00"),
        "decline" => ("51", "02"),
        "cancel" => ("24", "02"),
        _ => return error_page("Unknown action"),
    };
    let now = state.clock.now();
    if params.get("vnp_ExpireDate").and_then(super::callback::parse_vnpay_time).is_some_and(|t| t < now) {
        return error_page("Giao dịch đã quá thời gian chờ thanh toán / The payment has expired (11)");
    }
    let txn_ref = params.get("vnp_TxnRef").unwrap_or_default().to_owned();
    let amount = amount_vnd(params.get("vnp_Amount")).unwrap_or_default();
    let bank = decision
        .bank
        .filter(|b| BANKS.iter().any(|(code, _)| code == b))
        .unwrap_or_else(|| params.get("vnp_BankCode").unwrap_or("NCB").to_owned());
    let transaction_no = if response_code == "24" {
        "0".to_owned()
    } else {
        rand::rng().random_range(10_000_000..100_000_000u32).to_string()
    };
    let pay_date = vnpay_time(now);
    let order_info = params.get("vnp_OrderInfo").unwrap_or_default().to_owned();
    let fresh = SimTxn {
        amount_vnd: amount,
        transaction_no: transaction_no.clone(),
        bank_code: bank.clone(),
        pay_date: pay_date.clone(),
        transaction_status: transaction_status.to_owned(),
        order_info: order_info.clone(),
        refunded_vnd: 0,
        refund_requests: HashSet::new(),
    };
    let first = state.simulator.with(|ledger| {
        // A result is final, as at VNPAY: a reference is decided once.
        if ledger.contains_key(&txn_ref) {
            return false;
        }
        ledger.insert(txn_ref.clone(), fresh);
        true
    });
    if !first {
        return error_page("Giao dịch đã được xử lý / This order has already been processed (02)");
    }
    let amount_field = params.get("vnp_Amount").unwrap_or_default().to_owned();
    let card_type = if bank == "VNPAYQR" { "QRCODE" } else { "ATM" };
    let bank_tran_no = format!("VNP{transaction_no}");
    let mut fields: Vec<(&str, &str)> = vec![
        ("vnp_Amount", &amount_field),
        ("vnp_BankCode", &bank),
        ("vnp_CardType", card_type),
        ("vnp_OrderInfo", &order_info),
        ("vnp_PayDate", &pay_date),
        ("vnp_ResponseCode", response_code),
        ("vnp_TmnCode", &gateway.tmn_code),
        ("vnp_TransactionNo", &transaction_no),
        ("vnp_TransactionStatus", transaction_status),
        ("vnp_TxnRef", &txn_ref),
    ];
    if response_code == "00" {
        fields.push(("vnp_BankTranNo", &bank_tran_no));
    }
    let query = signed_query(fields);
    let hash = match hmac_hex(gateway.secret.expose(), &query) {
        Ok(hash) => hash,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let signed = format!("{query}&vnp_SecureHash={hash}");
    tracing::warn!(%txn_ref, action = %decision.action, "VNPAY SIMULATOR: payment decided (no real payment)");
    if decision.ipn.is_some() {
        let url = format!("{}?{signed}", Gateway::ipn_url(&state.config));
        match gateway.deliver_ipn(&url).await {
            Ok(answer) => {
                tracing::info!(%txn_ref, rsp_code = %answer["RspCode"], "VNPAY SIMULATOR: IPN delivered")
            }
            Err(err) => {
                tracing::warn!(%txn_ref, error = %format!("{err:#}"), "VNPAY SIMULATOR: IPN delivery failed")
            }
        }
    }
    let return_url = params.get("vnp_ReturnUrl").unwrap_or("/");
    let sep = if return_url.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{return_url}{sep}{signed}")).into_response()
}

fn answer(
    state: &AppState,
    command: &str,
    request_id: &str,
    code: &str,
    message: &str,
    extra: Value,
) -> Json<Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("vnp_ResponseId".into(), json!(format!("S{request_id}")));
    fields.insert("vnp_Command".into(), json!(command));
    fields.insert("vnp_ResponseCode".into(), json!(code));
    fields.insert("vnp_Message".into(), json!(message));
    fields.insert("vnp_TmnCode".into(), json!(state.gateway.tmn_code));
    if let Value::Object(extra) = extra {
        fields.extend(extra);
    }
    let mut response = ApiResponse(fields);
    if response.sign(state.gateway.secret.expose()).is_err() {
        tracing::error!("VNPAY SIMULATOR: signing an API answer failed");
    }
    Json(Value::Object(response.0))
}

async fn api(State(state): State<AppState>, body: Option<Json<Value>>) -> Response {
    if let Some(off) = disabled(&state) {
        return off;
    }
    let Some(Json(body)) = body else {
        return answer(&state, "", "", "03", "Invalid request format", json!({})).into_response();
    };
    let command = body.get("vnp_Command").and_then(Value::as_str).unwrap_or_default().to_owned();
    match command.as_str() {
        "querydr" => query(&state, body).into_response(),
        "refund" => refund(&state, body).into_response(),
        _ => answer(&state, &command, "", "03", "Invalid request format", json!({})).into_response(),
    }
}

fn txn_fields(txn_ref: &str, txn: &SimTxn, transaction_type: &str) -> Value {
    json!({
        "vnp_TxnRef": txn_ref,
        "vnp_Amount": (txn.amount_vnd * 100).to_string(),
        "vnp_BankCode": txn.bank_code,
        "vnp_PayDate": txn.pay_date,
        "vnp_TransactionNo": txn.transaction_no,
        "vnp_TransactionType": transaction_type,
        "vnp_TransactionStatus": txn.transaction_status,
        "vnp_OrderInfo": txn.order_info,
    })
}

fn query(state: &AppState, body: Value) -> Json<Value> {
    let Ok(request) = serde_json::from_value::<QueryRequest>(body) else {
        return answer(state, "querydr", "", "03", "Invalid request format", json!({}));
    };
    let id = request.vnp_RequestId.clone();
    let expected = api_hash(state.gateway.secret.expose(), &request.checksum_fields()).unwrap_or_default();
    if !expected.eq_ignore_ascii_case(&request.vnp_SecureHash) {
        return answer(state, "querydr", &id, "97", "Invalid Checksum", json!({}));
    }
    if request.vnp_TmnCode != state.gateway.tmn_code {
        return answer(state, "querydr", &id, "02", "Merchant is not valid", json!({}));
    }
    let found = state.simulator.with(|ledger| ledger.get(&request.vnp_TxnRef).cloned());
    match found {
        Some(txn) => answer(
            state,
            "querydr",
            &id,
            "00",
            "QueryDR Success",
            txn_fields(&request.vnp_TxnRef, &txn, "01"),
        ),
        None => answer(
            state,
            "querydr",
            &id,
            "91",
            "Transaction not found",
            json!({"vnp_TxnRef": request.vnp_TxnRef}),
        ),
    }
}

fn refund(state: &AppState, body: Value) -> Json<Value> {
    let Ok(request) = serde_json::from_value::<RefundRequest>(body) else {
        return answer(state, "refund", "", "03", "Invalid request format", json!({}));
    };
    let id = request.vnp_RequestId.clone();
    let expected = api_hash(state.gateway.secret.expose(), &request.checksum_fields()).unwrap_or_default();
    if !expected.eq_ignore_ascii_case(&request.vnp_SecureHash) {
        return answer(state, "refund", &id, "97", "Invalid Checksum", json!({}));
    }
    if request.vnp_TmnCode != state.gateway.tmn_code {
        return answer(state, "refund", &id, "02", "Merchant is not valid", json!({}));
    }
    let Some(amount) = amount_vnd(Some(&request.vnp_Amount)).filter(|a| *a > 0) else {
        return answer(state, "refund", &id, "03", "Invalid amount", json!({}));
    };
    let result = state.simulator.with(|ledger| {
        let Some(txn) = ledger.get_mut(&request.vnp_TxnRef) else {
            return Err(("91", "Transaction not found"));
        };
        if txn.transaction_status != "00" && txn.refunded_vnd == 0 {
            return Err(("95", "Transaction is not successful; refund refused"));
        }
        if txn.refund_requests.contains(&request.vnp_RequestId) {
            return Ok(txn.clone());
        }
        if amount > txn.amount_vnd - txn.refunded_vnd {
            return Err(("03", "Refund amount exceeds what is left"));
        }
        txn.refunded_vnd += amount;
        txn.refund_requests.insert(request.vnp_RequestId.clone());
        Ok(txn.clone())
    });
    match result {
        Ok(txn) => {
            tracing::warn!(txn_ref = %request.vnp_TxnRef, amount, "VNPAY SIMULATOR: refund accepted (no real money)");
            let mut fields = txn_fields(&request.vnp_TxnRef, &txn, &request.vnp_TransactionType);
            fields["vnp_Amount"] = json!(request.vnp_Amount);
            fields["vnp_TransactionStatus"] = json!("05");
            answer(state, "refund", &id, "00", "Refund Success", fields)
        }
        Err((code, message)) => {
            answer(state, "refund", &id, code, message, json!({"vnp_TxnRef": request.vnp_TxnRef}))
        }
    }
}
