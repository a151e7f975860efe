//! Staff management of venues, sections and seats: CRUD, the layout generator through the API,
//! overlaps, per-seat edits, capacity, and a stadium-sized section.

use entity::{seats, sections, venues};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    fixtures::{self, id, staff},
    harness::TestApp,
};

/// (row, number, x, y) of every seat of a section, as the staff seat list gives them.
async fn seats_of(app: &TestApp, token: &str, venue: i64, section: i64) -> Vec<(String, i64, f64, f64)> {
    let res = app.get_as(&format!("/api/venues/{venue}/sections/{section}/seats"), token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut seats: Vec<_> = res
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["row"].as_str().unwrap().to_owned(),
                s["number"].as_i64().unwrap(),
                s["x"].as_f64().unwrap(),
                s["y"].as_f64().unwrap(),
            )
        })
        .collect();
    seats.sort_by(|a, b| (a.3, a.2).partial_cmp(&(b.3, b.2)).unwrap());
    seats
}

fn seat(row: &str, number: i64, x: f64, y: f64) -> (String, i64, f64, f64) {
    (row.to_owned(), number, x, y)
}

async fn capacity(app: &TestApp, venue: i64) -> i64 {
    app.get(&format!("/api/venues/{venue}")).await.data()["capacity"].as_i64().unwrap()
}

#[tokio::test]
async fn staff_create_edit_and_soft_delete_a_venue() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let body = json!({
        "name": "Nhà hát Lớn Hà Nội", "address": "1 Tràng Tiền", "city": "Hà Nội",
        "time_zone": "Asia/Ho_Chi_Minh", "description": "The opera house.", "amenities": ["bar", "cloakroom", "bar"]
    });
    let res = app.post("/api/venues/", &body, Some(&token)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let venue = res.data().clone();
    assert_eq!(venue["slug"], "nha-hat-lon-ha-noi");
    assert_eq!(venue["capacity"], 0);
    assert_eq!(venue["amenities"], json!(["bar", "cloakroom"]));
    let vid = venue["id"].as_i64().unwrap();

    // The same name again gets the next free slug; an explicit slug in use is refused.
    let again = app.post("/api/venues", &body, Some(&token)).await;
    assert_eq!(again.data()["slug"], "nha-hat-lon-ha-noi-2");
    let taken = app.post("/api/venues", &json!({"slug": "nha-hat-lon-ha-noi", "name": "X", "address": "Y", "city": "Z", "time_zone": "UTC"}), Some(&token)).await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.error_code(), "slug_taken");

    let bad = app
        .post("/api/venues", &json!({"name": " ", "address": "a", "city": "b", "time_zone": "Mars/Olympus", "slug": "Bad Slug"}), Some(&token))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_fields(), ["name", "time_zone", "slug"]);

    let patched = app
        .patch(&format!("/api/venues/{vid}/"), &json!({"city": "Hanoi", "time_zone": "Asia/Bangkok"}), &token)
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.data()["city"], "Hanoi");
    assert_eq!(patched.data()["name"], "Nhà hát Lớn Hà Nội");
    let put = app
        .put(&format!("/api/venues/{vid}"), &json!({"name": "Hanoi Opera House", "address": "1 Trang Tien", "city": "Hanoi", "time_zone": "Asia/Ho_Chi_Minh"}), &token)
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.data()["slug"], "nha-hat-lon-ha-noi", "an absent slug is kept");
    assert_eq!(put.data()["amenities"], json!([]));
    assert_eq!(put.data()["description"], "");

    assert_eq!(app.get("/api/venues").await.total(), 2);
    let deleted = app.delete(&format!("/api/venues/{vid}"), &token).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(app.get("/api/venues").await.total(), 1);
    assert_eq!(app.get(&format!("/api/venues/{vid}")).await.status, 404);
    assert_eq!(app.patch(&format!("/api/venues/{vid}"), &json!({"city": "x"}), &token).await.status, 404);
    // The row stays: soft delete.
    assert!(!venues::Entity::find_by_id(vid).one(app.db()).await.unwrap().unwrap().is_active);
}

#[tokio::test]
async fn staff_routes_refuse_customers_and_anonymous_callers() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Lyric").await;
    let customer = fixtures::access(&app.customer("ana@example.com").await);
    let body = json!({"name": "X", "address": "Y", "city": "Z", "time_zone": "UTC"});
    let section = json!({"name": "S", "layout": {"rows": 1, "seats_per_row": 1}});
    for (method, path, body) in [
        (reqwest::Method::POST, "/api/venues".to_owned(), Some(&body)),
        (reqwest::Method::PATCH, format!("/api/venues/{venue}"), Some(&body)),
        (reqwest::Method::DELETE, format!("/api/venues/{venue}"), None),
        (reqwest::Method::POST, format!("/api/venues/{venue}/sections"), Some(&section)),
        (
            reqwest::Method::PATCH,
            format!("/api/venues/{venue}/seats"),
            Some(&json!({"seat_ids": [1], "kind": "wheelchair"})),
        ),
        (reqwest::Method::GET, "/api/admin/events".to_owned(), None),
        (reqwest::Method::POST, "/api/events/1/publish".to_owned(), Some(&json!({}))),
        (reqwest::Method::PUT, "/api/events/1/prices".to_owned(), Some(&json!({"prices": []}))),
    ] {
        let anonymous = app.send(method.clone(), &path, body, None).await;
        assert_eq!(anonymous.status, 401, "{method} {path}: {}", anonymous.text);
        assert_eq!(anonymous.error_code(), "unauthorized");
        let refused = app.send(method.clone(), &path, body, Some(&customer)).await;
        assert_eq!(refused.status, 403, "{method} {path}: {}", refused.text);
        assert_eq!(refused.error_code(), "forbidden");
    }
    assert_eq!(capacity(&app, venue).await, 0);
    assert_eq!(app.get("/api/venues").await.total(), 1);
}

#[tokio::test]
async fn the_layout_generator_places_exact_seats_for_real_layouts() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Saigon Opera House").await;
    let make = |name: &str, layout: Value| {
        let token = token.clone();
        let app = &app;
        let name = name.to_owned();
        async move {
            let res = app
                .post(
                    &format!("/api/venues/{venue}/sections"),
                    &json!({"name": name, "color": "#AA3300", "layout": layout}),
                    Some(&token),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text);
            res
        }
    };

    let straight = make("Stalls", json!({"rows": 2, "seats_per_row": 3})).await;
    assert_eq!(straight.data()["seat_count"], 6);
    assert_eq!(straight.data()["color"], "#aa3300");
    assert_eq!(straight.data()["display_order"], 0);
    assert_eq!(
        seats_of(&app, &token, venue, id(&straight)).await,
        [
            seat("A", 1, 0.0, 0.0),
            seat("A", 2, 30.0, 0.0),
            seat("A", 3, 60.0, 0.0),
            seat("B", 1, 0.0, 36.0),
            seat("B", 2, 30.0, 36.0),
            seat("B", 3, 60.0, 36.0),
        ]
    );

    let odd_even = make(
        "Dress Circle",
        json!({"rows": 1, "seats_per_row": 6, "numbering": "odd_even", "origin": {"x": 100, "y": 200}}),
    )
    .await;
    assert_eq!(odd_even.data()["display_order"], 1);
    assert_eq!(
        seats_of(&app, &token, venue, id(&odd_even)).await,
        [
            seat("A", 5, 100.0, 200.0),
            seat("A", 3, 130.0, 200.0),
            seat("A", 1, 160.0, 200.0),
            seat("A", 2, 190.0, 200.0),
            seat("A", 4, 220.0, 200.0),
            seat("A", 6, 250.0, 200.0),
        ]
    );

    let aisle = make(
        "Box",
        json!({"rows": 1, "seats_per_row": 5, "aisles_after": [2], "first_row": "K", "numbering": "rtl"}),
    )
    .await;
    assert_eq!(
        seats_of(&app, &token, venue, id(&aisle)).await,
        [
            seat("K", 5, 0.0, 0.0),
            seat("K", 4, 30.0, 0.0),
            seat("K", 3, 90.0, 0.0),
            seat("K", 2, 120.0, 0.0),
            seat("K", 1, 150.0, 0.0)
        ]
    );
    // The aisle also shows in positions: seats 4 and 3 are not neighbours.
    let listed = app.get_as(&format!("/api/venues/{venue}/sections/{}/seats", id(&aisle)), &token).await;
    let positions: Vec<i64> =
        listed.data().as_array().unwrap().iter().map(|s| s["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, [0, 1, 3, 4, 5]);

    let curved = make("Balcony", json!({"rows": 2, "seats_per_row": 3, "curve_degrees": 60})).await;
    assert_eq!(
        seats_of(&app, &token, venue, id(&curved)).await,
        [
            seat("A", 1, 1.35, -7.68),
            seat("A", 3, 58.65, -7.68),
            seat("A", 2, 30.0, 0.0),
            seat("B", 1, 0.51, 31.22),
            seat("B", 3, 59.49, 31.22),
            seat("B", 2, 30.0, 36.0),
        ]
    );

    // Kinds can be given with the layout.
    let with_kinds = app
        .post(
            &format!("/api/venues/{venue}/sections"),
            &json!({"name": "Loge", "layout": {"rows": 1, "seats_per_row": 4},
                    "seat_kinds": [{"row": "A", "numbers": [1], "kind": "wheelchair"}, {"row": "A", "numbers": [2], "kind": "companion"}]}),
            Some(&token),
        )
        .await;
    assert_eq!(with_kinds.status, 201, "{}", with_kinds.text);
    let listed = app.get_as(&format!("/api/venues/{venue}/sections/{}/seats", id(&with_kinds)), &token).await;
    let kinds_of: Vec<&str> =
        listed.data().as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds_of, ["wheelchair", "companion", "standard", "standard"]);

    assert_eq!(capacity(&app, venue).await, 6 + 6 + 5 + 6 + 4);
    let detail = app.get(&format!("/api/venues/{venue}")).await;
    assert_eq!(detail.data()["sections"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn bad_layouts_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Lyric").await;
    let post = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.post(&format!("/api/venues/{venue}/sections"), &body, Some(&token)).await }
    };
    let res = post(
        json!({"name": "S", "color": "red", "layout": {"rows": 2, "seats_per_row": 0, "first_row": "a"}}),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["color", "layout.seats_per_row", "layout.first_row"]);
    let res = post(json!({"name": "S", "layout": {"rows": 1, "seats_per_row": 3},
                          "seat_kinds": [{"row": "B", "numbers": [1], "kind": "wheelchair"}]}))
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["seat_kinds[0].numbers"]);
    let res = post(json!({"name": "S", "layout": {"rows": 101, "seats_per_row": 1000}})).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["layout.rows"]);
    let res = post(json!({"name": "S", "layout": {"rows": 1, "seats_per_row": 2, "curve": 3}})).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(sections::Entity::find().count(app.db()).await.unwrap(), 0);
    assert_eq!(seats::Entity::find().count(app.db()).await.unwrap(), 0);

    // Section names are unique per venue.
    fixtures::section(&app, &token, venue, "Stalls", 1, 2).await;
    let res = post(json!({"name": "Stalls", "layout": {"rows": 1, "seats_per_row": 2}})).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.error_code(), "section_name_taken");
    assert_eq!(seats::Entity::find().count(app.db()).await.unwrap(), 2);
    // An unknown venue is 404.
    let res = app
        .post(
            "/api/venues/999/sections",
            &json!({"name": "S", "layout": {"rows": 1, "seats_per_row": 1}}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn an_overlapping_layout_is_refused_and_more_rows_continue_the_section() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Lyric").await;
    let stalls = fixtures::section(&app, &token, venue, "Stalls", 2, 4).await;
    let path = format!("/api/venues/{venue}/sections/{stalls}/seats");

    // Rows A–B again (same rows and numbers): refused, nothing written.
    let res = app
        .post(
            &path,
            &json!({"layout": {"rows": 1, "seats_per_row": 6, "start_number": 3, "first_row": "B"}}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.error_code(), "seats_overlap");
    assert_eq!(res.body["errors"][0]["seats"], json!(["B3", "B4", "B5", "B6"]));
    assert_eq!(capacity(&app, venue).await, 8);

    // Row B numbered 101…: different numbers, same places in the row — still an overlap.
    let res = app
        .post(
            &path,
            &json!({"layout": {"rows": 1, "seats_per_row": 2, "start_number": 101, "first_row": "B"}}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);

    // Rows C–D behind: accepted, and their row indexes follow A (0) and B (1).
    let res = app
        .post(&path, &json!({"layout": {"rows": 2, "seats_per_row": 4, "first_row": "C", "origin": {"x": 0, "y": 72}}}), Some(&token))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.data()["seat_count"], 16);
    assert_eq!(res.data()["venue_capacity"], 16);
    let listed = app.get_as(&path, &token).await;
    let rows: Vec<(String, i64)> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["row"].as_str().unwrap().to_owned(), s["row_index"].as_i64().unwrap()))
        .filter(|(_, i)| *i >= 1)
        .collect();
    assert_eq!(rows.first().unwrap(), &("B".to_owned(), 1));
    assert!(rows.contains(&("C".to_owned(), 2)) && rows.contains(&("D".to_owned(), 3)), "{rows:?}");
}

#[tokio::test]
async fn per_seat_edits_change_kind_and_capacity_and_refuse_foreign_seats() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Lyric").await;
    let other = fixtures::venue(&app, &token, "Globe").await;
    let stalls = fixtures::section(&app, &token, venue, "Stalls", 1, 4).await;
    let foreign_section = fixtures::section(&app, &token, other, "Pit", 1, 2).await;
    let ids: Vec<i64> = seats::Entity::find()
        .filter(seats::Column::SectionId.eq(stalls))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let foreign = seats::Entity::find()
        .filter(seats::Column::SectionId.eq(foreign_section))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .id;

    let path = format!("/api/venues/{venue}/seats");
    let res =
        app.patch(&path, &json!({"seat_ids": [ids[0], foreign, 999_999], "is_active": false}), &token).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["seat_ids"]);
    assert_eq!(res.body["errors"][0]["seat_ids"], json!([foreign, 999_999]));
    assert_eq!(capacity(&app, venue).await, 4);

    let res = app.patch(&path, &json!({"seat_ids": [ids[0], ids[1]], "kind": "wheelchair"}), &token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["updated"], 2);
    let res = app.patch(&path, &json!({"seat_ids": [ids[3]], "is_active": false}), &token).await;
    assert_eq!(res.data()["venue_capacity"], 3);
    assert_eq!(capacity(&app, venue).await, 3);
    let res = app.patch(&path, &json!({"seat_ids": [ids[0]], "kind": "sofa"}), &token).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.error_fields(), ["kind"]);

    let listed = app.get_as(&format!("/api/venues/{venue}/sections/{stalls}/seats"), &token).await;
    let got: Vec<(String, bool)> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().to_owned(), s["is_active"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("wheelchair".into(), true),
            ("wheelchair".into(), true),
            ("standard".into(), true),
            ("standard".into(), false)
        ]
    );
    // Another venue's section is not reachable through this venue.
    assert_eq!(
        app.get_as(&format!("/api/venues/{venue}/sections/{foreign_section}/seats"), &token).await.status,
        404
    );
}

#[tokio::test]
async fn sections_are_renamed_soft_deleted_and_restored() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Lyric").await;
    let stalls = fixtures::section(&app, &token, venue, "Stalls", 2, 5).await;
    fixtures::section(&app, &token, venue, "Circle", 1, 5).await;
    let path = format!("/api/venues/{venue}/sections/{stalls}");

    let res = app.patch(&path, &json!({"name": "Circle"}), &token).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.error_code(), "section_name_taken");
    let res =
        app.patch(&path, &json!({"name": "Orchestra", "color": "#112233", "display_order": 7}), &token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (res.data()["name"].as_str(), res.data()["display_order"].as_i64()),
        (Some("Orchestra"), Some(7))
    );

    assert_eq!(app.delete(&path, &token).await.status, 204);
    assert_eq!(capacity(&app, venue).await, 5);
    let names: Vec<String> = app.get(&format!("/api/venues/{venue}")).await.data()["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Circle"]);
    let res = app.patch(&path, &json!({"is_active": true}), &token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(capacity(&app, venue).await, 15);
}

#[tokio::test]
async fn a_stadium_tier_of_100000_seats_is_created_in_one_request() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Mỹ Đình Stadium").await;
    let started = std::time::Instant::now();
    let res = app
        .post(
            &format!("/api/venues/{venue}/sections"),
            &json!({"name": "Tier 1", "layout": {"rows": 100, "seats_per_row": 1000, "curve_degrees": 120, "aisles_after": [250, 500, 750]}}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.data()["seat_count"], 100_000);
    assert_eq!(capacity(&app, venue).await, 100_000);
    println!("100,000 seats created in {:?}", started.elapsed());
    // Row labels run past Z: the last row is CV (index 99).
    let last =
        seats::Entity::find().filter(seats::Column::RowIndex.eq(99)).one(app.db()).await.unwrap().unwrap();
    assert_eq!(last.row_label, "CV");

    // A performance there publishes all of them (one INSERT … SELECT, whatever the size).
    let event = fixtures::draft(&app, &token, venue, "Cup Final", 20).await;
    let tier = sections::Entity::find().one(app.db()).await.unwrap().unwrap().id;
    let res = app
        .put(
            &format!("/api/events/{event}/prices"),
            &json!({"prices": [{"section_id": tier, "price": 200_000}]}),
            &token,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.post(&format!("/api/events/{event}/publish"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let sold_out_later = entity::event_seats::Entity::find()
        .filter(entity::event_seats::Column::EventId.eq(event))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(sold_out_later, 100_000);
    println!("… and published by {:?}", started.elapsed());

    // One seat more than the limit writes nothing.
    let lengths: Vec<u32> = [1000; 100].into_iter().chain([1]).collect();
    let res = app
        .post(
            &format!("/api/venues/{venue}/sections"),
            &json!({"name": "Tier 2", "layout": {"row_lengths": lengths}}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(sections::Entity::find().count(app.db()).await.unwrap(), 1);
}
