//! Payments (SPEC §5): the whole purchase through the built-in VNPAY simulator over HTTP, the
//! IPN's answers in the SPEC's order, late payments, the querydr sync, refunds and cancellations.

use chrono::Duration;
use curtain::{
    accounts::roles::Role,
    payments::vnpay::{sign::secure_hash, url::vnpay_time},
};
use entity::{bookings, invoices, payments, refunds, tickets};
use reqwest::{StatusCode, redirect::Policy};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::TestApp;

pub const TMN: &str = "CURTAIN1";
pub const SECRET: &str = "test_secret";

/// A demo theater whose simulator signs with a known code and secret.
pub async fn app() -> TestApp {
    TestApp::builder()
        .demo()
        .env("VNPAY_SIMULATOR", "on")
        .env("VNPAY_TMN_CODE", TMN)
        .env("VNPAY_HASH_SECRET", SECRET)
        .spawn()
        .await
}

pub async fn book(app: &TestApp, token: &str, event: i64, seats: &[i64]) -> i64 {
    let res = app.post("/api/bookings/", &json!({"event_id": event, "seat_ids": seats}), Some(token)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.data()["id"].as_i64().unwrap()
}

pub async fn start(app: &TestApp, token: &str, booking: i64) -> (i64, String) {
    let res =
        app.post("/api/payments/", &json!({"booking_id": booking, "bank_code": "NCB"}), Some(token)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    (res.data()["payment_id"].as_i64().unwrap(), res.data()["payment_url"].as_str().unwrap().to_owned())
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// Plays the buyer on the simulator's page: opens it, presses `action`, follows the redirect
/// back to the return URL. Returns the signed query the gateway sent back (the same fields the
/// IPN carries) and where the return URL sent the browser.
pub async fn decide(payment_url: &str, action: &str, ipn: bool) -> (String, String) {
    let page = browser().get(payment_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("SIMULATOR"), "the page says it is a simulator");
    let (origin, query) = payment_url.split_once('?').unwrap();
    let mut form = vec![("q", query.to_owned()), ("action", action.to_owned()), ("bank", "NCB".to_owned())];
    if ipn {
        form.push(("ipn", "1".to_owned()));
    }
    let res = browser().post(origin).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("/api/payments/vnpay/return?"), "{back}");
    let res = browser().get(&back).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let result = res.headers()["location"].to_str().unwrap().to_owned();
    (back.split_once('?').unwrap().1.to_owned(), result)
}

/// Buys `seats` start to finish; returns the booking id.
pub async fn buy(app: &TestApp, token: &str, event: i64, seats: &[i64]) -> i64 {
    let booking = book(app, token, event, seats).await;
    let (_, url) = start(app, token, booking).await;
    decide(&url, "pay", true).await;
    booking
}

async fn status(app: &TestApp, id: i64) -> String {
    bookings::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap().status
}

async fn payment(app: &TestApp, id: i64) -> payments::Model {
    payments::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap()
}

/// The (one) payment of a booking.
async fn payment_of_booking(app: &TestApp, booking: i64) -> payments::Model {
    payments::Entity::find()
        .filter(payments::Column::BookingId.eq(booking))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

async fn ipn(app: &TestApp, query: &str) -> (String, String) {
    let res = app.client.get(app.url(&format!("/api/payments/vnpay/ipn?{query}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    (body["RspCode"].as_str().unwrap().to_owned(), body["Message"].as_str().unwrap().to_owned())
}

/// Signs `fields` as VNPAY would and makes them a query string.
fn signed(fields: &[(&str, &str)]) -> String {
    let hash = secure_hash(SECRET, fields.iter().copied()).unwrap();
    let mut pairs: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", curtain::payments::vnpay::sign::php_urlencode(v)))
        .collect();
    pairs.push(format!("vnp_SecureHash={hash}"));
    pairs.join("&")
}

#[tokio::test]
async fn a_full_purchase_through_the_simulator_confirms_sells_and_issues_everything() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..2]).await;
    let (payment_id, url) = start(&app, &token, booking).await;
    assert!(url.starts_with(&app.url("/sandbox/vnpay/pay?")), "{url}");
    assert!(url.contains("vnp_TmnCode=CURTAIN1") && url.contains("vnp_BankCode=NCB"), "{url}");

    let (_, result) = decide(&url, "pay", true).await;
    assert!(result.starts_with("/payments/result?ref="), "{result}");
    let page = app.get(&result).await;
    assert!(page.text.contains("Paid — booking confirmed"), "{}", page.text);

    assert_eq!(status(&app, booking).await, "confirmed");
    let paid = payment(&app, payment_id).await;
    assert_eq!((paid.status.as_str(), paid.response_code.as_deref()), ("succeeded", Some("00")));
    assert!(paid.gateway_transaction_no.is_some() && paid.paid_at.is_some());
    let map = app.seat_statuses(event).await;
    assert!(seats[..2].iter().all(|s| map[s] == "sold"), "both seats sold");
    let issued =
        tickets::Entity::find().filter(tickets::Column::BookingId.eq(booking)).all(app.db()).await.unwrap();
    assert_eq!(issued.len(), 2);
    assert!(issued.iter().all(|t| t.status == "valid" && app.state.tickets.verify(&t.code)));
    let invoice = invoices::Entity::find()
        .filter(invoices::Column::BookingId.eq(booking))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert!(invoice.number.ends_with("-000001"), "{}", invoice.number);

    let history: Vec<String> = app
        .get_as(&format!("/api/bookings/{booking}/history"), &token)
        .await
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history, ["pending", "confirmed"]);
    let listed = app.get_as("/api/payments/", &token).await;
    assert_eq!(listed.data()[0]["status"], "succeeded", "{}", listed.text);
    assert_eq!(listed.data()[0]["booking_id"], booking);

    // The confirmation mail carries both PDFs.
    let mails = app.mails().await;
    let mail = mails
        .iter()
        .find(|m| m.contains("Subject: ") && m.contains("tickets-CUR-"))
        .expect("confirmation mail");
    assert!(mail.contains("invoice-CUR-") && mail.contains("application/pdf"));
}

#[tokio::test]
async fn declined_and_cancelled_payments_leave_the_booking_pending_and_a_new_attempt_can_pay() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..1]).await;
    let mut refs = Vec::new();
    for action in ["decline", "cancel"] {
        let (payment_id, url) = start(&app, &token, booking).await;
        let (_, result) = decide(&url, action, true).await;
        let p = payment(&app, payment_id).await;
        assert_eq!(p.status, "failed", "{action}");
        assert_eq!(p.response_code.as_deref(), Some(if action == "decline" { "51" } else { "24" }));
        assert_eq!(status(&app, booking).await, "pending", "{action}");
        assert!(app.get(&result).await.text.contains("Payment not completed"));
        refs.push(p.txn_ref);
    }
    assert_eq!(app.seat_statuses(event).await[&seats[0]], "held");
    let (payment_id, url) = start(&app, &token, booking).await;
    decide(&url, "pay", true).await;
    let p = payment(&app, payment_id).await;
    assert!(!refs.contains(&p.txn_ref), "a new vnp_TxnRef per attempt");
    assert_eq!(status(&app, booking).await, "confirmed");
    // A declined booking that is never paid expires like any other hold.
    let other = book(&app, &token, event, &seats[5..6]).await;
    let (_, url) = start(&app, &token, other).await;
    decide(&url, "decline", true).await;
    app.clock.advance(Duration::minutes(11));
    curtain::worker::run_once(&app.state).await;
    assert_eq!(status(&app, other).await, "expired");
}

#[tokio::test]
async fn the_ipn_answers_in_the_spec_order_and_changes_nothing_twice() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..2]).await;
    let (payment_id, _) = start(&app, &token, booking).await;
    let p = payment(&app, payment_id).await;
    let amount = (p.amount * 100).to_string();
    let paid = |amount: &str, txn_ref: &str| -> Vec<(String, String)> {
        [
            ("vnp_Amount", amount),
            ("vnp_BankCode", "NCB"),
            ("vnp_CardType", "ATM"),
            ("vnp_OrderInfo", "Thanh toan ve"),
            ("vnp_PayDate", "20261126090000"),
            ("vnp_ResponseCode", "00"),
            ("vnp_TmnCode", TMN),
            ("vnp_TransactionNo", "14422574"),
            ("vnp_TransactionStatus", "00"),
            ("vnp_TxnRef", txn_ref),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let q = |fields: &[(String, String)]| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        signed(&borrowed)
    };
    let good = q(&paid(&amount, &p.txn_ref));

    // Refusals first: none changes anything.
    let tampered = good.replace(&format!("vnp_Amount={amount}"), &format!("vnp_Amount={}", p.amount * 200));
    assert_eq!(ipn(&app, &tampered).await.0, "97");
    let other_secret = good.replace("vnp_SecureHash=", "vnp_SecureHash=00");
    assert_eq!(ipn(&app, &other_secret).await.0, "97");
    assert_eq!(ipn(&app, "").await, ("97".into(), "Invalid signature".into()));
    assert_eq!(ipn(&app, good.split("&vnp_SecureHash").next().unwrap()).await.0, "97", "no hash");
    assert_eq!(
        ipn(&app, &format!("{good}&vnp_Extra=added")).await.0,
        "97",
        "an added vnp_ field breaks the hash"
    );
    let big = format!("{}&vnp_Extra={}", good, "x".repeat(20_000));
    assert_eq!(ipn(&app, &big).await.0, "97", "oversized");
    assert_eq!(ipn(&app, &q(&paid(&amount, "NOPE123"))).await, ("01".into(), "Order not found".into()));
    assert_eq!(
        ipn(&app, &q(&paid(&(p.amount * 100 + 100).to_string(), &p.txn_ref))).await,
        ("04".into(), "Invalid amount".into())
    );
    assert_eq!(ipn(&app, &q(&paid("12abc", &p.txn_ref))).await.0, "04", "non-numeric amount");
    assert_eq!(ipn(&app, &q(&paid("", &p.txn_ref))).await.0, "04", "missing amount");
    let mut no_status = paid(&amount, &p.txn_ref);
    no_status.retain(|(k, _)| k != "vnp_TransactionStatus");
    assert_eq!(ipn(&app, &q(&no_status)).await.0, "99", "a result without its status is not guessed");
    assert_eq!(payment(&app, payment_id).await.status, "initiated");
    assert_eq!(status(&app, booking).await, "pending");

    // The return URL only verifies and redirects.
    let back = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let res = back.get(app.url(&format!("/api/payments/vnpay/return?{tampered}"))).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/payments/result?error=signature");
    let res = back.get(app.url(&format!("/api/payments/vnpay/return?{good}"))).send().await.unwrap();
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/payments/result?ref={}", p.txn_ref));
    assert_eq!(status(&app, booking).await, "pending", "the return URL never confirms");

    // The real one, then its replay.
    assert_eq!(ipn(&app, &good).await, ("00".into(), "Confirm Success".into()));
    assert_eq!(status(&app, booking).await, "confirmed");
    assert_eq!(ipn(&app, &good).await, ("02".into(), "Order already confirmed".into()));
    let mut failed = paid(&amount, &p.txn_ref);
    failed.iter_mut().filter(|(k, _)| k == "vnp_ResponseCode").for_each(|(_, v)| *v = "24".into());
    assert_eq!(ipn(&app, &q(&failed)).await.0, "02", "a late failure changes nothing");
    assert_eq!(payment(&app, payment_id).await.status, "succeeded");
    let count =
        tickets::Entity::find().filter(tickets::Column::BookingId.eq(booking)).count(app.db()).await.unwrap();
    assert_eq!(count, 2, "no second confirmation");
    let history = app.get_as(&format!("/api/bookings/{booking}/history"), &token).await;
    assert_eq!(history.data().as_array().unwrap().len(), 2);
    let _ = event;
}

#[tokio::test]
async fn a_payment_after_expiry_is_refunded_when_the_seats_were_resold_and_confirmed_when_free() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, rival) = app.quick_user("rival@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;

    // Resold meanwhile: refunded automatically, never double-sold.
    let late = book(&app, &token, event, &seats[..2]).await;
    let (late_payment, url) = start(&app, &token, late).await;
    let (callback, _) = decide(&url, "pay", false).await;
    app.clock.advance(Duration::minutes(11));
    curtain::worker::run_once(&app.state).await;
    assert_eq!(status(&app, late).await, "expired");
    let winner = buy(&app, &rival, event, &seats[1..3]).await;
    assert_eq!(status(&app, winner).await, "confirmed");
    assert_eq!(ipn(&app, &callback).await.0, "00");
    assert_eq!(status(&app, late).await, "expired", "not confirmed");
    assert_eq!(payment(&app, late_payment).await.status, "succeeded");
    let refund = refunds::Entity::find()
        .filter(refunds::Column::PaymentId.eq(late_payment))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refund.status, "pending");
    app.drain_jobs().await;
    let refund = refunds::Entity::find_by_id(refund.id).one(app.db()).await.unwrap().unwrap();
    assert_eq!(refund.status, "succeeded", "{:?}", refund.raw_response);
    let p = payment(&app, late_payment).await;
    assert_eq!((p.status.as_str(), p.refunded_amount), ("refunded", p.amount));
    let map = app.seat_statuses(event).await;
    assert_eq!((map[&seats[0]].as_str(), map[&seats[1]].as_str()), ("available", "sold"));
    let sold_to_late = entity::event_seats::Entity::find()
        .filter(entity::event_seats::Column::BookingId.eq(late))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(sold_to_late, 0);
    assert!(app.mails().await.iter().any(|m| m.contains("To: lan@example.com") && m.contains("Refund")));

    // Still free: the seats are taken back and the booking confirmed.
    let (event2, seats2) = app.demo_event(1).await;
    let lucky = book(&app, &token, event2, &seats2[..2]).await;
    let (_, url) = start(&app, &token, lucky).await;
    let (callback, _) = decide(&url, "pay", false).await;
    app.clock.advance(Duration::minutes(11));
    curtain::worker::run_once(&app.state).await;
    assert_eq!(status(&app, lucky).await, "expired");
    assert_eq!(ipn(&app, &callback).await.0, "00");
    assert_eq!(status(&app, lucky).await, "confirmed");
    let map = app.seat_statuses(event2).await;
    assert!(seats2[..2].iter().all(|s| map[s] == "sold"));
}

#[tokio::test]
async fn the_querydr_sync_settles_a_payment_whose_ipn_never_came() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let paid = book(&app, &token, event, &seats[..1]).await;
    let (paid_payment, url) = start(&app, &token, paid).await;
    decide(&url, "pay", false).await;
    let abandoned = book(&app, &token, event, &seats[4..5]).await;
    let (abandoned_payment, _) = start(&app, &token, abandoned).await;
    assert_eq!(status(&app, paid).await, "pending", "no IPN yet");

    // Before the deadline nothing is asked.
    curtain::payments::sync::sync_payments(&app.state).await.unwrap();
    assert_eq!(payment(&app, paid_payment).await.status, "initiated");
    app.clock.advance(Duration::minutes(12));
    curtain::payments::sync::sync_payments(&app.state).await.unwrap();
    assert_eq!(payment(&app, paid_payment).await.status, "succeeded");
    assert_eq!(status(&app, paid).await, "confirmed");
    assert_eq!(
        payment(&app, abandoned_payment).await.status,
        "initiated",
        "the gateway has not seen it: wait"
    );
    app.clock.advance(Duration::minutes(15));
    curtain::payments::sync::sync_payments(&app.state).await.unwrap();
    let gave_up = payment(&app, abandoned_payment).await;
    assert_eq!(gave_up.status, "failed");
    // Giving up was Curtain's guess: a success the gateway reports later still settles it.
    let amount = (gave_up.amount * 100).to_string();
    let late_success = signed(&[
        ("vnp_Amount", &amount),
        ("vnp_BankCode", "NCB"),
        ("vnp_PayDate", "20261126090000"),
        ("vnp_ResponseCode", "00"),
        ("vnp_TmnCode", TMN),
        ("vnp_TransactionNo", "555"),
        ("vnp_TransactionStatus", "00"),
        ("vnp_TxnRef", &gave_up.txn_ref),
    ]);
    assert_eq!(ipn(&app, &late_success).await.0, "00");
    assert_eq!(payment(&app, abandoned_payment).await.status, "succeeded");
    assert_eq!(status(&app, abandoned).await, "confirmed", "its lapsed hold was still its own");
    assert_eq!(ipn(&app, &late_success).await.0, "02");
    // The periodic schedule carries the sync.
    assert!(curtain::jobs::periodic::SCHEDULE.iter().any(|(k, _)| *k == "sync_payments"));
}

#[tokio::test]
async fn staff_refund_partly_then_fully_and_the_seats_go_back_on_sale() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, staff) = app.quick_user("staff@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = buy(&app, &token, event, &seats[..2]).await;
    let p = payment_of_booking(&app, booking).await;
    let path = format!("/api/payments/{}/refund/", p.id);

    let res = app.post(&path, &json!({"amount": 50_000, "reason": "sound problem"}), Some(&token)).await;
    assert_eq!(res.status, 403, "customers cannot refund");
    let res = app.post(&path, &json!({"amount": 50_000}), Some(&staff)).await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = app.post(&path, &json!({"amount": 0, "reason": "x"}), Some(&staff)).await;
    assert_eq!(res.status, 400);
    let res = app.post(&path, &json!({"amount": p.amount + 1, "reason": "x"}), Some(&staff)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "refund_exceeds_payment"));

    let res = app.post(&path, &json!({"amount": 50_000, "reason": "sound problem"}), Some(&staff)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.data()["status"], "pending");
    app.drain_jobs().await;
    let after = payment(&app, p.id).await;
    assert_eq!((after.status.as_str(), after.refunded_amount), ("partially_refunded", 50_000));
    assert_eq!(status(&app, booking).await, "confirmed", "a partial refund keeps the booking");

    let res = app.post(&path, &json!({"reason": "performance moved"}), Some(&staff)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.data()["amount"], p.amount - 50_000);
    assert_eq!(status(&app, booking).await, "refunded");
    let map = app.seat_statuses(event).await;
    assert!(seats[..2].iter().all(|s| map[s] == "available"));
    app.drain_jobs().await;
    let after = payment(&app, p.id).await;
    assert_eq!((after.status.as_str(), after.refunded_amount), ("refunded", p.amount));
    let res = app.post(&path, &json!({"reason": "again"}), Some(&staff)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "not_refundable"));
    let listed = app.get_as(&format!("/api/payments/?booking={booking}"), &staff).await;
    assert_eq!(listed.data()[0]["refunds"].as_array().unwrap().len(), 2, "{}", listed.text);
    let void =
        tickets::Entity::find().filter(tickets::Column::BookingId.eq(booking)).all(app.db()).await.unwrap();
    assert!(void.iter().all(|t| t.status == "void"));
}

#[tokio::test]
async fn a_buyer_cancelling_a_paid_booking_gets_the_refund_the_policy_allows() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let early = buy(&app, &token, event, &seats[..2]).await;
    let res = app
        .post(&format!("/api/bookings/{early}/cancel/"), &json!({"reason": "cannot come"}), Some(&token))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["status"], "cancelled");
    let map = app.seat_statuses(event).await;
    assert!(seats[..2].iter().all(|s| map[s] == "available"));
    app.drain_jobs().await;
    let p = payment_of_booking(&app, early).await;
    assert_eq!((p.status.as_str(), p.refunded_amount), ("refunded", p.amount));

    // Within 24 hours of the start: cancelled, seats released, no refund.
    let start = entity::events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap().start_time;
    app.clock.set(start - Duration::hours(2));
    let (_, token) = app.quick_user("late@example.com", Role::Customer).await;
    let late = buy(&app, &token, event, &seats[4..5]).await;
    let res = app.post(&format!("/api/bookings/{late}/cancel/"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(app.seat_statuses(event).await[&seats[4]], "available");
    app.drain_jobs().await;
    let p = payment_of_booking(&app, late).await;
    assert_eq!((p.status.as_str(), p.refunded_amount), ("succeeded", 0));
    let n =
        refunds::Entity::find().filter(refunds::Column::PaymentId.eq(p.id)).count(app.db()).await.unwrap();
    assert_eq!(n, 0);
    assert!(app.mails().await.iter().any(|m| m.contains("No refund applies")));
    // A cancelled booking cannot be cancelled again.
    let res = app.post(&format!("/api/bookings/{late}/cancel/"), &json!({}), Some(&token)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "invalid_transition"));
}

#[tokio::test]
async fn starting_a_payment_checks_its_input_and_the_booking() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, other) = app.quick_user("other@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..1]).await;
    for (body, field) in [
        (json!({"booking_id": booking, "bank_code": "ncb!"}), "bank_code"),
        (json!({"booking_id": booking, "locale": "fr"}), "locale"),
    ] {
        let res = app.post("/api/payments/", &body, Some(&token)).await;
        assert_eq!(res.status, 400, "{}", res.text);
        assert_eq!(res.error_fields(), [field]);
    }
    let res = app.post("/api/payments/", &json!({"booking_id": booking}), Some(&other)).await;
    assert_eq!(res.status, 404, "someone else's booking");
    let res = app.post("/api/payments/", &json!({"booking_id": booking}), None).await;
    assert_eq!(res.status, 401);

    // Little hold left: extended once to five minutes.
    app.clock.advance(Duration::minutes(8));
    let res = app.post("/api/payments/", &json!({"booking_id": booking, "locale": "en"}), Some(&token)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let url = res.data()["payment_url"].as_str().unwrap().to_owned();
    let expires = chrono::DateTime::parse_from_rfc3339(res.data()["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires, app.clock_now() + Duration::minutes(5));
    assert!(
        url.contains(&format!("vnp_ExpireDate={}", vnpay_time(app.clock_now() + Duration::minutes(5)))),
        "{url}"
    );
    assert!(url.contains("vnp_Locale=en"));
    // While it is under way the seats cannot change.
    let res = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/bookings/{booking}/"),
            Some(&json!({"add_seat_ids": [seats[1]]})),
            Some(&token),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "payment_in_progress"));
    // Not extended a second time.
    app.clock.advance(Duration::minutes(3));
    let res = app.post("/api/payments/", &json!({"booking_id": booking}), Some(&token)).await;
    let expires_again =
        chrono::DateTime::parse_from_rfc3339(res.data()["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires_again, expires);
    app.clock.advance(Duration::minutes(3));
    let res = app.post("/api/payments/", &json!({"booking_id": booking}), Some(&token)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "hold_expired"));

    let paid = buy(&app, &token, event, &seats[8..9]).await;
    let res = app.post("/api/payments/", &json!({"booking_id": paid}), Some(&token)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "invalid_transition"));
}

#[tokio::test]
async fn invoice_numbers_run_without_gaps() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let mut numbers = Vec::new();
    for (i, seat) in seats[..3].iter().enumerate() {
        let booking = buy(&app, &token, event, &[*seat]).await;
        let invoice = invoices::Entity::find()
            .filter(invoices::Column::BookingId.eq(booking))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(invoice.seq, i as i32 + 1);
        numbers.push(invoice.number);
    }
    let year = numbers[0][..4].to_owned();
    assert_eq!(numbers, [format!("{year}-000001"), format!("{year}-000002"), format!("{year}-000003")]);
}

#[tokio::test]
async fn the_simulator_refuses_bad_signatures_and_its_api_checks_checksums() {
    let app = app().await;
    let res = browser()
        .get(app.url("/sandbox/vnpay/pay?vnp_Amount=100&vnp_TxnRef=X&vnp_SecureHash=00"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("97"));
    // A decided reference cannot be decided again.
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..1]).await;
    let (_, url) = start(&app, &token, booking).await;
    decide(&url, "decline", true).await;
    let (origin, query) = url.split_once('?').unwrap();
    let again =
        browser().post(origin).form(&[("q", query), ("action", "pay"), ("ipn", "1")]).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(status(&app, booking).await, "pending");
    let answer: Value = app.client.post(app.url("/sandbox/vnpay/api"))
        .json(&json!({"vnp_Command": "querydr", "vnp_RequestId": "1", "vnp_Version": "2.1.0", "vnp_TmnCode": TMN,
            "vnp_TxnRef": "X", "vnp_OrderInfo": "q", "vnp_TransactionDate": "20261126000000",
            "vnp_CreateDate": "20261126000000", "vnp_IpAddr": "127.0.0.1", "vnp_SecureHash": "00"}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["vnp_ResponseCode"], "97");
}

#[tokio::test]
async fn cancelling_a_performance_cancels_every_booking_and_refunds_the_paid_ones() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, staff) = app.quick_user("staff@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let paid = buy(&app, &token, event, &seats[..2]).await;
    let pending = book(&app, &token, event, &seats[5..6]).await;
    let res = app
        .post(&format!("/api/events/{event}/cancel/"), &json!({"reason": "lead actor ill"}), Some(&staff))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(status(&app, paid).await, "cancelled");
    assert_eq!(status(&app, pending).await, "cancelled");
    let map = app.seat_statuses(event).await;
    assert!([seats[0], seats[1], seats[5]].iter().all(|s| map[s] == "available"));
    app.drain_jobs().await;
    let p = payment_of_booking(&app, paid).await;
    assert_eq!((p.status.as_str(), p.refunded_amount), ("refunded", p.amount));
    let mails = app.mails().await;
    assert!(
        mails.iter().any(|m| m.contains("lead actor ill") && m.contains("cancelled")),
        "the buyer is told why"
    );
}

#[tokio::test]
async fn a_performance_with_live_bookings_cannot_be_deleted_and_a_late_payment_for_a_deleted_one_is_refunded()
{
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, staff) = app.quick_user("staff@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let path = format!("/api/events/{event}");

    // A confirmed booking, and a pending one: deleting would strand them.
    let paid = buy(&app, &token, event, &seats[..1]).await;
    let res = app.delete(&path, &staff).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "has_bookings"), "{}", res.text);
    let res = app.post(&format!("/api/bookings/{paid}/cancel/"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let late = book(&app, &token, event, &seats[2..4]).await;
    let (late_payment, url) = start(&app, &token, late).await;
    let (callback, _) = decide(&url, "pay", false).await;
    let res = app.delete(&path, &staff).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "has_bookings"), "{}", res.text);
    assert_eq!(app.get(&path).await.status, 200, "still there");

    // Once the hold has run out nothing is live: the performance may go.
    app.clock.advance(Duration::minutes(11));
    curtain::worker::run_once(&app.state).await;
    assert_eq!(status(&app, late).await, "expired");
    assert_eq!(app.delete(&path, &staff).await.status, 204);

    // The payment started before arrives now: refunded, never a booking for a deleted performance.
    assert_eq!(ipn(&app, &callback).await.0, "00");
    assert_eq!(status(&app, late).await, "expired");
    let refund = refunds::Entity::find()
        .filter(refunds::Column::PaymentId.eq(late_payment))
        .one(app.db())
        .await
        .unwrap()
        .expect("a refund of the late payment");
    assert_eq!(refund.reason, "the performance was deleted");
    app.drain_jobs().await;
    let p = payment(&app, late_payment).await;
    assert_eq!((p.status.as_str(), p.refunded_amount), ("refunded", p.amount));
    let sold = entity::event_seats::Entity::find().filter(entity::event_seats::Column::BookingId.eq(late));
    assert_eq!(sold.count(app.db()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_payment_for_a_cancelled_performance_is_refunded_and_the_page_says_why() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, staff) = app.quick_user("staff@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..2]).await;
    let (payment_id, url) = start(&app, &token, booking).await;
    let (callback, result) = decide(&url, "pay", false).await;
    let res =
        app.post(&format!("/api/events/{event}/cancel"), &json!({"reason": "flooded"}), Some(&staff)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(ipn(&app, &callback).await.0, "00");
    assert_eq!(status(&app, booking).await, "cancelled");
    let page = app.get(&result).await.text;
    assert!(page.contains("refund on its way") && page.contains("the performance was cancelled"), "{page}");
    app.drain_jobs().await;
    let p = payment(&app, payment_id).await;
    assert_eq!((p.status.as_str(), p.refunded_amount), ("refunded", p.amount));
}

#[tokio::test]
async fn the_result_page_of_a_paid_booking_cancelled_later_does_not_blame_a_late_payment() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = book(&app, &token, event, &seats[..1]).await;
    let (_, url) = start(&app, &token, booking).await;
    let (_, result) = decide(&url, "pay", true).await;
    assert!(app.get(&result).await.text.contains("Paid — booking confirmed"));
    let res = app.post(&format!("/api/bookings/{booking}/cancel/"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let page = app.get(&result).await.text;
    assert!(page.contains("Paid — booking since cancelled"), "{page}");
    assert!(!page.contains("released") && !page.contains("could not be confirmed"), "{page}");
}

/// Cancelling a performance ends its bookings in short batches after sales stop; a cancellation
/// cut off half-way (the process stopped) is finished by the job queued with it.
#[tokio::test]
async fn a_performance_cancellation_cut_off_half_way_is_finished_by_its_job() {
    use curtain::{bookings::status::Actor, events::admin::CancelBody};
    // Forty-one buyers hold seats from this one test address: above the default per-address cap.
    let app = TestApp::builder()
        .demo()
        .env("VNPAY_SIMULATOR", "on")
        .env("VNPAY_TMN_CODE", TMN)
        .env("VNPAY_HASH_SECRET", SECRET)
        .env("CURTAIN_MAX_HELD_SEATS_PER_IP", "1000")
        .spawn()
        .await;
    let (staff_id, _) = app.quick_user("staff@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let mut paid = Vec::new();
    for (i, pair) in seats[..4].chunks(2).enumerate() {
        let (_, token) = app.quick_user(&format!("fan{i}@example.com"), Role::Customer).await;
        paid.push(buy(&app, &token, event, pair).await);
    }
    let mut pending = Vec::new();
    for (i, seat) in seats[10..51].iter().enumerate() {
        let (_, token) = app.quick_user(&format!("waiting{i}@example.com"), Role::Customer).await;
        pending.push(book(&app, &token, event, &[*seat]).await);
    }

    // Sales stop at once; then one batch runs, and the process stops.
    let actor = Actor(Some(staff_id));
    let body = CancelBody { reason: "flooded stage".into() };
    curtain::events::admin::cancel(&app.state.writer, event, body, actor, app.clock_now()).await.unwrap();
    let first = curtain::bookings::service::cancel_batch_of_event(
        &app.state.writer,
        event,
        actor,
        1,
        app.clock_now(),
    )
    .await
    .unwrap();
    assert_eq!(first.bookings, [paid[0]]);
    assert_eq!(status(&app, paid[0]).await, "cancelled");
    assert_eq!(status(&app, paid[1]).await, "confirmed");
    assert_eq!(status(&app, pending[0]).await, "pending");
    let (_, late) = app.quick_user("late@example.com", Role::Customer).await;
    let res =
        app.post("/api/bookings/", &json!({"event_id": event, "seat_ids": [seats[60]]}), Some(&late)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "sales_closed"), "{}", res.text);

    // The job finishes the rest (in several batches), and every paid booking is refunded.
    app.drain_jobs().await;
    for id in paid.iter().chain(&pending) {
        assert_eq!(status(&app, *id).await, "cancelled", "booking {id}");
    }
    for id in &paid {
        let p = payment_of_booking(&app, *id).await;
        assert_eq!((p.status.as_str(), p.refunded_amount), ("refunded", p.amount), "booking {id}");
    }
    let map = app.seat_statuses(event).await;
    assert!(seats[..51].iter().all(|s| map[s] == "available"));
    let history = entity::booking_history::Entity::find()
        .filter(entity::booking_history::Column::BookingId.eq(paid[1]))
        .all(app.db())
        .await
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!((last.to_status.as_str(), last.actor_user_id), ("cancelled", Some(staff_id)));
    assert_eq!(last.reason.as_deref(), Some("performance cancelled: flooded stage"));
}
