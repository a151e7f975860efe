//! The catalog cache (in-process and Redis): answers come from the cache, and never stale — a
//! seat change, an expiring hold, or a catalog edit shows on the very next read.

use chrono::Duration;
use curtain::accounts::roles::Role;
use entity::events;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::json;

use crate::harness::{TestApp, backends};

#[tokio::test]
async fn seat_maps_are_never_stale() {
    for backend in backends() {
        let app = TestApp::builder().demo().backend(&backend).spawn().await;
        let (_, buyer) = app.quick_user("b@example.com", Role::Customer).await;
        let (event, seats) = app.demo_event(0).await;
        assert_eq!(app.seat_statuses(event).await[&seats[0]], "available");
        let res = app
            .post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[0]]}), Some(&buyer))
            .await;
        let id = res.data()["id"].as_i64().unwrap();
        assert_eq!(app.seat_statuses(event).await[&seats[0]], "held", "{backend:?}");
        app.post(&format!("/api/bookings/{id}/cancel"), &json!({}), Some(&buyer)).await;
        assert_eq!(app.seat_statuses(event).await[&seats[0]], "available", "{backend:?}");

        // A hold lapses without any write: the cached map lives only until then.
        app.post("/api/bookings", &json!({"event_id": event, "seat_ids": [seats[1]]}), Some(&buyer)).await;
        assert_eq!(app.seat_statuses(event).await[&seats[1]], "held");
        app.clock.advance(Duration::minutes(10));
        assert_eq!(app.seat_statuses(event).await[&seats[1]], "available", "{backend:?}");
    }
}

#[tokio::test]
async fn lists_and_details_come_from_the_cache_until_a_change_invalidates_them() {
    for backend in backends() {
        let app = TestApp::builder().demo().backend(&backend).spawn().await;
        let (_, staff) = app.quick_user("editor@example.com", Role::Staff).await;
        let (event, _) = app.demo_event(0).await;
        let detail = format!("/api/events/{event}");
        let first = app.get(&detail).await.data()["title"].clone();

        // A change behind the API's back (no invalidation) is not seen: proof the answer is cached.
        let row = events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap();
        let mut sneaky = row.into_active_model();
        sneaky.title = Set("Changed directly".into());
        sneaky.update(app.writer()).await.unwrap();
        assert_eq!(app.get(&detail).await.data()["title"], first, "{backend:?}");
        assert_eq!(app.get("/api/events/").await.data()[0]["title"], first);

        // A change through the API is seen at once, in the detail and in every list.
        let res = app
            .send(
                Method::PATCH,
                &format!("/api/events/{event}/"),
                Some(&json!({"title": "New Title"})),
                Some(&staff),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(app.get(&detail).await.data()["title"], "New Title", "{backend:?}");
        assert_eq!(app.get("/api/events/").await.data()[0]["title"], "New Title");
        assert_eq!(app.get("/api/events/?q=new%20title").await.total(), 1);

        // A venue rename reaches the details of its performances.
        let venue = app.get(&detail).await.data()["venue"]["id"].as_i64().unwrap();
        let res = app
            .send(
                Method::PATCH,
                &format!("/api/venues/{venue}"),
                Some(&json!({"name": "Renamed Hall"})),
                Some(&staff),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(app.get(&detail).await.data()["venue"]["name"], "Renamed Hall", "{backend:?}");
        assert_eq!(
            app.get(&format!("/api/venues/{venue}/events")).await.data()[0]["venue"]["name"],
            "Renamed Hall"
        );
    }
}

#[tokio::test]
async fn a_price_change_shows_in_the_detail_and_the_seat_map() {
    let app = TestApp::with_demo().await;
    let (_, staff) = app.quick_user("pricing@example.com", Role::Staff).await;
    let (event, _) = app.demo_event(0).await;
    let before = app.get(&format!("/api/events/{event}/seats")).await;
    let section = before.data()["sections"][0]["id"].as_i64().unwrap();
    app.get(&format!("/api/events/{event}")).await;
    let res = app
        .send(
            Method::PUT,
            &format!("/api/events/{event}/prices"),
            Some(&json!({"prices": [{"section_id": section, "price": 600_000}]})),
            Some(&staff),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let detail = app.get(&format!("/api/events/{event}")).await;
    assert_eq!(detail.data()["prices"][0]["price"], 600_000);
    let map = app.get(&format!("/api/events/{event}/seats")).await;
    assert_eq!(map.data()["sections"][0]["price"], 600_000);
    assert_eq!(map.data()["sections"][0]["seats"][0]["price"], 600_000);
}

#[tokio::test]
async fn parameters_the_list_does_not_read_share_one_cached_entry() {
    for backend in backends() {
        let app = TestApp::builder().demo().backend(&backend).spawn().await;
        let (event, _) = app.demo_event(0).await;
        let first = app.get("/api/events/").await.data()[0]["title"].clone();
        let (venue_id, venue_first) = {
            let detail = app.get(&format!("/api/events/{event}")).await;
            let venue = detail.data()["venue"]["id"].as_i64().unwrap();
            (venue, app.get(&format!("/api/venues/{venue}/events")).await.data()[0]["title"].clone())
        };

        // Changed behind the API's back: an answer still showing the old title came from the cache.
        let row = events::Entity::find_by_id(event).one(app.db()).await.unwrap().unwrap();
        let mut sneaky = row.into_active_model();
        sneaky.title = Set("Changed directly".into());
        sneaky.update(app.writer()).await.unwrap();

        let junk = "x".repeat(2_000);
        for query in [
            "?utm_source=newsletter".to_owned(),
            "?page=1&page_size=20&ordering=start_time".to_owned(),
            "?page_size=020&page=01".to_owned(),
            format!("?junk={junk}"),
            "?q=&category=".to_owned(),
        ] {
            let res = app.get(&format!("/api/events/{query}")).await;
            assert_eq!(res.status, 200, "{query}: {}", res.text);
            assert_eq!(res.data()[0]["title"], first, "{backend:?} {query}: a new cache entry was made");
            let res = app.get(&format!("/api/venues/{venue_id}/events{query}")).await;
            assert_eq!(res.data()[0]["title"], venue_first, "{backend:?} {query}");
        }
    }
}
