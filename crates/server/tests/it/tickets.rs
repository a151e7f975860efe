//! E-tickets (SPEC §5, §6): the PDFs a buyer downloads, the QR code on them, and check-in at
//! the door (valid once, whatever the number of scanners).

use std::process::Command;

use curtain::accounts::roles::Role;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::{
    harness::TestApp,
    payments::{app, book, buy},
};

async fn pdf(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let res = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()["content-type"], "application/pdf");
    res.bytes().await.unwrap().to_vec()
}

/// Decodes the QR code of `page` (1-based) the way a scanner would: rendered to pixels first.
fn qr_of_page(pdf: &[u8], page: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tickets.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = dir.path().join("page");
    let page = page.to_string();
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-f", &page, "-l", &page, "-png", "-singlefile"])
        .arg(&file)
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run pdftoppm ({e}): install poppler-utils"));
    assert!(status.success());
    let image = image::open(out.with_extension("png")).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| image.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code per ticket page");
    grids[0].decode().expect("the QR code decodes").1
}

async fn scan(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/checkin/", &body, Some(token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.data().clone()
}

#[tokio::test]
async fn the_tickets_pdf_has_a_page_per_seat_whose_qr_code_checks_in_once() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, staff) = app.quick_user("door@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = buy(&app, &token, event, &seats[..3]).await;

    let bytes = pdf(&app, &format!("/api/bookings/{booking}/tickets.pdf"), &token).await;
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 3);
    let code = qr_of_page(&bytes, 2);
    assert!(app.state.tickets.verify(&code), "{code}");

    let first = scan(&app, &staff, json!({"code": code, "event_id": event})).await;
    assert_eq!(first["result"], "valid", "{first}");
    assert_eq!(first["ticket"]["event_id"], event);
    assert_eq!(first["checked_in_by"]["full_name"], "Buyer door@example.com");
    let again = scan(&app, &staff, json!({"code": code})).await;
    assert_eq!(again["result"], "already_used");
    assert_eq!(again["checked_in_at"], first["checked_in_at"]);
    assert_eq!(again["checked_in_by"]["id"], first["checked_in_by"]["id"]);

    // The invoice parses and carries its number.
    let invoice = pdf(&app, &format!("/api/bookings/{booking}/invoice.pdf"), &token).await;
    let doc = lopdf::Document::load_mem(&invoice).unwrap();
    let text = doc.extract_text(&[1]).unwrap();
    let number = entity::invoices::Entity::find().one(app.db()).await.unwrap().unwrap().number;
    assert!(text.contains(&number), "{text}");
    // Staff may download them too.
    pdf(&app, &format!("/api/bookings/{booking}/tickets.pdf"), &staff).await;
}

#[tokio::test]
async fn concurrent_scans_of_one_ticket_admit_it_once() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let booking = buy(&app, &token, event, &seats[..1]).await;
    let code = entity::tickets::Entity::find().one(app.db()).await.unwrap().unwrap().code;
    let mut scanners = Vec::new();
    for i in 0..8 {
        let (_, staff) = app.quick_user(&format!("door{i}@example.com"), Role::Staff).await;
        scanners.push(staff);
    }
    let results = futures_util::future::join_all(
        scanners.iter().map(|staff| scan(&app, staff, json!({"code": code, "event_id": event}))),
    )
    .await;
    let valid = results.iter().filter(|r| r["result"] == "valid").count();
    let used = results.iter().filter(|r| r["result"] == "already_used").count();
    assert_eq!((valid, used), (1, 7), "{results:?}");
    let _ = booking;
}

#[tokio::test]
async fn check_in_refuses_forged_foreign_and_cancelled_tickets() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, staff) = app.quick_user("door@example.com", Role::Staff).await;
    let (event, seats) = app.demo_event(0).await;
    let (other_event, _) = app.demo_event(1).await;
    let booking = buy(&app, &token, event, &seats[..2]).await;
    let codes: Vec<String> =
        entity::tickets::Entity::find().all(app.db()).await.unwrap().into_iter().map(|t| t.code).collect();

    let wrong = scan(&app, &staff, json!({"code": codes[0], "event_id": other_event})).await;
    assert_eq!(wrong["result"], "wrong_event");
    assert_eq!(wrong["ticket"]["event_id"], event);
    let mut forged = codes[0].clone();
    forged.replace_range(0..2, if forged.starts_with("AA") { "BB" } else { "AA" });
    for code in [forged.as_str(), "CUR-123", "x.y", &"z".repeat(300)] {
        assert_eq!(scan(&app, &staff, json!({"code": code})).await["result"], "invalid", "{code}");
    }
    let res = app.post("/api/checkin/", &json!({"code": "  "}), Some(&staff)).await;
    assert_eq!((res.status.as_u16(), res.error_fields()), (400, vec!["code".to_owned()]));
    let res = app.post("/api/checkin/", &json!({"code": codes[0]}), Some(&token)).await;
    assert_eq!(res.status, 403, "customers do not check in");

    let res = app.post(&format!("/api/bookings/{booking}/cancel/"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(scan(&app, &staff, json!({"code": codes[1]})).await["result"], "cancelled");
    let res = app.get_as(&format!("/api/bookings/{booking}/tickets.pdf"), &token).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "no_tickets"));
}

#[tokio::test]
async fn documents_are_for_the_owner_and_staff_and_only_once_paid() {
    let app = app().await;
    let (_, token) = app.quick_user("lan@example.com", Role::Customer).await;
    let (_, other) = app.quick_user("other@example.com", Role::Customer).await;
    let (event, seats) = app.demo_event(0).await;
    let pending = book(&app, &token, event, &seats[..1]).await;
    let res = app.get_as(&format!("/api/bookings/{pending}/tickets.pdf"), &token).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "no_tickets"));
    let res = app.get_as(&format!("/api/bookings/{pending}/invoice.pdf"), &token).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "no_invoice"));
    let paid = buy(&app, &token, event, &seats[3..4]).await;
    for doc in ["tickets.pdf", "invoice.pdf"] {
        let res = app.get_as(&format!("/api/bookings/{paid}/{doc}"), &other).await;
        assert_eq!(res.status, 404, "another buyer's {doc}");
        let res = app.get(&format!("/api/bookings/{paid}/{doc}")).await;
        assert_eq!(res.status, 401);
    }
}
