//! Staff management of performances: drafts, edits, prices, publishing (the seat snapshot),
//! price changes while on sale, cancellation, soft deletion, and who may see drafts.

use chrono::Duration;
use entity::{event_seats, events};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::json;

use crate::{
    fixtures::{self, staff},
    harness::TestApp,
};

async fn event_seats_of(app: &TestApp, event: i64) -> Vec<event_seats::Model> {
    event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event))
        .order_by_asc(event_seats::Column::Id)
        .all(app.db())
        .await
        .unwrap()
}

/// (seat id, status, price) of every seat on the public seat map.
async fn seat_map(app: &TestApp, event: i64) -> (i64, Vec<(i64, String, i64)>) {
    let res = app.get(&format!("/api/events/{event}/seats")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut seats: Vec<_> = res.data()["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["seats"].as_array().unwrap().clone())
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
                s["price"].as_i64().unwrap(),
            )
        })
        .collect();
    seats.sort();
    (res.data()["version"].as_i64().unwrap(), seats)
}

#[tokio::test]
async fn a_draft_is_created_edited_and_seen_only_by_staff() {
    let app = TestApp::with_demo().await;
    let token = staff(&app).await;
    let venue = app.get("/api/venues").await.data()[0]["id"].as_i64().unwrap();
    let start = app.clock_now() + Duration::days(30);
    let tags = app.get("/api/tags").await;
    let classic =
        tags.data().as_array().unwrap().iter().find(|t| t["slug"] == "classic").unwrap()["id"].clone();
    let res = app
        .post(
            "/api/events/",
            &json!({
                "venue_id": venue, "title": "Chèo: Quan Âm Thị Kính", "description": "A classic of chèo theatre.",
                "category": "drama", "tags": ["vietnamese", classic, "vietnamese"], "start_time": start,
                "end_time": start + Duration::hours(3), "sales_end": start, "is_featured": true
            }),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let draft = res.data().clone();
    let event = draft["id"].as_i64().unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["category"]["slug"], "drama");
    assert!(draft["slug"].as_str().unwrap().starts_with("cheo-quan-am-thi-kinh-"), "{}", draft["slug"]);
    assert_eq!(draft["tags"].as_array().unwrap().len(), 2);
    assert_eq!(draft["is_featured"], true);
    let stored = events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap();
    assert_eq!(stored.search_text, "chèo: quan âm thị kính\na classic of chèo theatre.");

    // The public and customers do not see drafts; staff do, in detail and in their list.
    assert_eq!(app.get(&format!("/api/events/{event}")).await.status, 404);
    let customer = fixtures::access(&app.customer("ana@example.com").await);
    assert_eq!(app.get_as(&format!("/api/events/{event}"), &customer).await.status, 404);
    assert_eq!(app.get_as(&format!("/api/events/{event}"), &token).await.data()["status"], "draft");
    assert_eq!(app.get("/api/events?q=quan%20am").await.total(), 0);
    let drafts = app.get_as("/api/admin/events?status=draft", &token).await;
    assert_eq!(drafts.total(), 1);
    assert_eq!(drafts.data()[0]["id"], event);
    assert_eq!(app.get_as("/api/admin/events?status=published", &token).await.total(), 7);
    assert_eq!(app.get_as("/api/admin/events?status=gone", &token).await.error_fields(), ["status"]);

    // PATCH changes what is present; null clears the category; search text follows the title.
    let res = app
        .patch(
            &format!("/api/events/{event}"),
            &json!({"title": "Quan Âm Thị Kính", "category": null, "tags": []}),
            &token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.data()["category"].is_null());
    assert_eq!(res.data()["tags"], json!([]));
    assert_eq!(res.data()["is_featured"], true);
    let stored = events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap();
    assert!(stored.search_text.starts_with("quan âm thị kính\n"));

    // PUT replaces everything: absent optional fields are cleared.
    let res = app
        .put(
            &format!("/api/events/{event}"),
            &json!({"venue_id": venue, "title": "Quan Âm", "description": "", "start_time": start, "end_time": start + Duration::hours(2)}),
            &token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["is_featured"], false);
    assert!(res.data()["sales_end"].is_null());
}

#[tokio::test]
async fn bad_event_input_names_every_field() {
    let app = TestApp::with_demo().await;
    let token = staff(&app).await;
    let venue = app.get("/api/venues").await.data()[0]["id"].as_i64().unwrap();
    let start = app.clock_now() + Duration::days(3);
    let res = app
        .post(
            "/api/events",
            &json!({
                "venue_id": 9999, "title": "", "description": "x", "category": "no-such", "tags": ["family", "nope"],
                "start_time": start, "end_time": start - Duration::hours(1)
            }),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["title", "venue_id", "category", "tags[1]", "end_time"]);

    let res = app
        .post(
            "/api/events",
            &json!({
                "venue_id": venue, "title": "T", "description": "", "start_time": app.clock_now() - Duration::hours(1),
                "end_time": start + Duration::hours(1), "sales_start": start, "sales_end": start - Duration::hours(2)
            }),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["start_time", "sales_end"]);
    let res = app
        .post(
            "/api/events",
            &json!({"venue_id": venue, "title": "T", "description": "", "start_time": start,
                    "end_time": start + Duration::hours(2), "sales_end": start + Duration::hours(3)}),
            Some(&token),
        )
        .await;
    assert_eq!(res.error_fields(), ["sales_end"]);
    let res = app.post("/api/events", &json!({"venue_id": venue, "title": "T"}), Some(&token)).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.error_fields(), ["description"]);
    assert_eq!(app.get_as("/api/admin/events?status=draft", &token).await.total(), 0);
}

#[tokio::test]
async fn publishing_needs_prices_and_snapshots_seats_with_them() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Lyric").await;
    let stalls = fixtures::section(&app, &token, venue, "Stalls", 2, 5).await;
    let circle = fixtures::section(&app, &token, venue, "Circle", 1, 4).await;
    let other_venue = fixtures::venue(&app, &token, "Globe").await;
    let foreign = fixtures::section(&app, &token, other_venue, "Pit", 1, 1).await;
    let event = fixtures::draft(&app, &token, venue, "Hamlet", 10).await;
    let prices = format!("/api/events/{event}/prices");

    let res = app.post(&format!("/api/events/{event}/publish"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["prices"]);

    let res = app
        .put(&prices, &json!({"prices": [{"section_id": stalls, "price": -1}, {"section_id": circle, "price": 1_000_000_001i64}, {"section_id": stalls, "price": 5}]}), &token)
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["prices[0].price", "prices[1].price", "prices[2].section_id"]);
    let res = app.put(&prices, &json!({"prices": [{"section_id": stalls, "price": 1e20}]}), &token).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["prices[0].price"]);
    let res = app.put(&prices, &json!({"prices": [{"section_id": foreign, "price": 100}]}), &token).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["prices[0].section_id"]);

    // Only the stalls priced: the circle still lacks one.
    let res = app.put(&prices, &json!({"prices": [{"section_id": stalls, "price": 300_000}]}), &token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.post(&format!("/api/events/{event}/publish"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("Circle"));
    assert!(event_seats_of(&app, event).await.is_empty());

    let res = app.put(&prices, &json!({"prices": [{"section_id": circle, "price": 0}]}), &token).await;
    assert_eq!(
        res.data()["prices"],
        json!([{"section_id": stalls, "price": 300_000, "currency": "VND"}, {"section_id": circle, "price": 0, "currency": "VND"}])
    );
    let res = app.post(&format!("/api/events/{event}/publish/"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["status"], "published");

    let seats = event_seats_of(&app, event).await;
    assert_eq!(seats.len(), 14);
    assert_eq!(seats.iter().filter(|s| s.section_id == stalls && s.price == 300_000).count(), 10);
    assert_eq!(seats.iter().filter(|s| s.section_id == circle && s.price == 0).count(), 4);
    assert!(seats.iter().all(|s| s.status == "available"));
    assert_eq!(app.get("/api/events").await.total(), 1);

    let again = app.post(&format!("/api/events/{event}/publish"), &json!({}), Some(&token)).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "invalid_transition");
    // A published performance keeps its venue.
    let res = app.patch(&format!("/api/events/{event}"), &json!({"venue_id": other_venue}), &token).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.error_code(), "venue_change_not_allowed");
    let res = app
        .patch(&format!("/api/events/{event}"), &json!({"title": "Hamlet, Prince of Denmark"}), &token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn a_layout_change_after_publishing_leaves_the_performance_untouched() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (venue, [stalls, _circle], event) = fixtures::published_show(&app, &token).await;
    let before = seat_map(&app, event).await;
    let snapshot = event_seats_of(&app, event).await;

    // New rows, a new section, seats deactivated, a section deleted, a venue renamed.
    let res = app
        .post(
            &format!("/api/venues/{venue}/sections/{stalls}/seats"),
            &json!({"layout": {"rows": 1, "seats_per_row": 5, "first_row": "C"}}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    fixtures::section(&app, &token, venue, "Gallery", 3, 10).await;
    let ids: Vec<i64> = snapshot.iter().take(3).map(|s| s.seat_id).collect();
    let res = app
        .patch(&format!("/api/venues/{venue}/seats"), &json!({"seat_ids": ids, "is_active": false}), &token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(app.delete(&format!("/api/venues/{venue}/sections/{stalls}"), &token).await.status, 204);
    assert_eq!(capacity_of(&app, venue).await, 4 + 30);

    assert_eq!(seat_map(&app, event).await, before);
    assert_eq!(event_seats_of(&app, event).await, snapshot);

    // A performance published now takes the new layout.
    let next = fixtures::draft(&app, &token, venue, "Macbeth", 12).await;
    let gallery = app.get(&format!("/api/venues/{venue}")).await.data()["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Gallery")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .put(
            &format!("/api/events/{next}/prices"),
            &json!({"prices": [{"section_id": _circle, "price": 1}, {"section_id": gallery, "price": 2}]}),
            &token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.post(&format!("/api/events/{next}/publish"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(event_seats_of(&app, next).await.len(), 34);
}

async fn capacity_of(app: &TestApp, venue: i64) -> i64 {
    app.get(&format!("/api/venues/{venue}")).await.data()["capacity"].as_i64().unwrap()
}

#[tokio::test]
async fn a_price_change_on_sale_reprices_only_seats_nobody_holds_or_bought() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (_venue, [stalls, circle], event) = fixtures::published_show(&app, &token).await;
    let seats: Vec<event_seats::Model> =
        event_seats_of(&app, event).await.into_iter().filter(|s| s.section_id == stalls).collect();
    let now = app.clock_now();
    // Seat 0 held (live), 1 held (expired), 2 sold, 3 blocked, the rest available.
    for (seat, status, until) in [
        (&seats[0], "held", Some(now + Duration::minutes(5))),
        (&seats[1], "held", Some(now - Duration::seconds(1))),
        (&seats[2], "sold", None),
        (&seats[3], "blocked", None),
    ] {
        let mut active = seat.clone().into_active_model();
        active.status = Set(status.into());
        active.held_until = Set(until);
        active.update(app.writer()).await.unwrap();
    }
    let (version, _) = seat_map(&app, event).await;

    let res = app
        .put(&format!("/api/events/{event}/prices"), &json!({"prices": [{"section_id": stalls, "price": 350_000}, {"section_id": circle, "price": 150_000}]}), &token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["seats_repriced"], 8);
    assert_eq!(res.data()["seats_version"], version + 1);

    let after = event_seats_of(&app, event).await;
    let price_of = |seat: &event_seats::Model| after.iter().find(|s| s.id == seat.id).unwrap().clone();
    assert_eq!(price_of(&seats[0]).price, 300_000, "a live hold keeps its price");
    assert_eq!(price_of(&seats[2]).price, 300_000, "a sold seat keeps its price");
    assert_eq!(price_of(&seats[0]).version, seats[0].version);
    for seat in [&seats[1], &seats[3], &seats[4], &seats[9]] {
        assert_eq!(price_of(seat).price, 350_000);
        assert_eq!(price_of(seat).version, version + 1);
    }
    assert!(after.iter().filter(|s| s.section_id == circle).all(|s| s.price == 150_000 && s.version == 0));
    let (new_version, map) = seat_map(&app, event).await;
    assert_eq!(new_version, version + 1);
    assert_eq!(map.iter().filter(|(_, _, p)| *p == 350_000).count(), 8);
    let detail = app.get(&format!("/api/events/{event}")).await;
    assert_eq!(detail.data()["prices"][0]["price"], 350_000);
    assert_eq!(detail.data()["min_price"], 150_000);

    // The same prices again change nothing and keep the version.
    let res = app
        .put(
            &format!("/api/events/{event}/prices"),
            &json!({"prices": [{"section_id": stalls, "price": 350_000}]}),
            &token,
        )
        .await;
    assert_eq!(
        (res.data()["seats_repriced"].as_i64(), res.data()["seats_version"].as_i64()),
        (Some(0), Some(version + 1))
    );
}

#[tokio::test]
async fn cancelling_stops_sales_and_keeps_the_reason() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (_venue, [stalls, _], event) = fixtures::published_show(&app, &token).await;
    let cancel = format!("/api/events/{event}/cancel");
    let res = app.post(&cancel, &json!({"reason": "  "}), Some(&token)).await;
    assert_eq!(res.error_fields(), ["reason"]);
    let res = app.post(&cancel, &json!({"reason": "The lead actor is ill."}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["status"], "cancelled");
    let public = app.get(&format!("/api/events/{event}")).await;
    assert_eq!(public.data()["cancel_reason"], "The lead actor is ill.");
    assert_eq!(app.get("/api/events").await.total(), 0);

    let again = app.post(&cancel, &json!({"reason": "again"}), Some(&token)).await;
    assert_eq!((again.status.as_u16(), again.error_code()), (409, "invalid_transition"));
    let res = app
        .put(
            &format!("/api/events/{event}/prices"),
            &json!({"prices": [{"section_id": stalls, "price": 1}]}),
            &token,
        )
        .await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "invalid_transition"));
    let res = app.patch(&format!("/api/events/{event}"), &json!({"title": "x"}), &token).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "invalid_transition"));

    // A draft can be cancelled too, and is then never published.
    let venue = fixtures::venue(&app, &token, "Globe").await;
    let draft = fixtures::draft(&app, &token, venue, "Lear", 5).await;
    assert_eq!(
        app.post(&format!("/api/events/{draft}/cancel"), &json!({"reason": "No cast"}), Some(&token))
            .await
            .status,
        200
    );
    let res = app.post(&format!("/api/events/{draft}/publish"), &json!({}), Some(&token)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (409, "invalid_transition"));
}

#[tokio::test]
async fn soft_deleted_events_and_venues_vanish_from_public_lists() {
    let app = TestApp::with_demo().await;
    let token = staff(&app).await;
    let list = app.get("/api/events").await;
    let first = list.data()[0]["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/events/{first}"), &token).await.status, 204);
    assert_eq!(app.get("/api/events").await.total(), 6);
    assert_eq!(app.get(&format!("/api/events/{first}")).await.status, 404);
    assert_eq!(app.get_as(&format!("/api/events/{first}"), &token).await.status, 404);
    assert_eq!(app.get(&format!("/api/events/{first}/seats")).await.status, 404);
    assert_eq!(app.get_as("/api/admin/events", &token).await.total(), 6);
    // The row and its seats stay for the bookings that reference them.
    let row = events::Entity::find_by_id(first).one(app.db()).await.unwrap().unwrap();
    assert!(!row.is_active);
    assert!(!event_seats_of(&app, first).await.is_empty());

    let venue = list.data()[0]["venue"]["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/venues/{venue}"), &token).await.status, 204);
    assert_eq!(app.get("/api/events").await.total(), 0);
    assert_eq!(app.get("/api/venues").await.total(), 0);
}
