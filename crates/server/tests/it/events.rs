//! The public catalog of performances: list, filters, ordering, detail and seat map.

use chrono::Duration;
use entity::{event_seats, events};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::Value;

use crate::harness::TestApp;

fn titles(res: &crate::harness::TestResponse) -> Vec<String> {
    res.data().as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_demo_week_is_listed_soonest_first() {
    let app = TestApp::with_demo().await;
    let res = app.get("/api/events/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.total(), 7);
    assert_eq!(res.body["meta"]["pagination"]["page"], 1);
    assert_eq!(res.body["meta"]["pagination"]["page_size"], 20);
    let list = res.data().as_array().unwrap();
    let starts: Vec<&str> = list.iter().map(|e| e["start_time"].as_str().unwrap()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
    let first = &list[0];
    assert_eq!(first["title"], "Hồn Trương Ba, Da Hàng Thịt");
    assert_eq!(first["status"], "published");
    assert_eq!(first["min_price"], 250_000);
    assert_eq!(first["currency"], "VND");
    assert_eq!(first["venue"]["time_zone"], "Asia/Ho_Chi_Minh");
    assert_eq!(first["category"]["slug"], "drama");
    assert_eq!(first["rating_count"], 0);
    assert!(first["rating_avg"].is_null());
    let tags: Vec<_> =
        first["tags"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(tags, ["classic", "english-subtitles", "vietnamese"]);
    // The earliest performance is at least 25 hours after seeding.
    let start = chrono::DateTime::parse_from_rfc3339(starts[0]).unwrap();
    assert!(start.with_timezone(&chrono::Utc) - app.clock_now() >= Duration::hours(25));
}

#[tokio::test]
async fn pages_split_the_list_and_report_the_total() {
    let app = TestApp::with_demo().await;
    let page1 = app.get("/api/events/?page_size=3").await;
    let page3 = app.get("/api/events/?page_size=3&page=3").await;
    let page4 = app.get("/api/events/?page_size=3&page=4").await;
    assert_eq!(titles(&page1).len(), 3);
    assert_eq!(titles(&page3).len(), 1);
    assert!(titles(&page4).is_empty());
    assert_eq!(page4.total(), 7);
}

#[tokio::test]
async fn search_is_a_case_insensitive_substring_even_for_vietnamese() {
    let app = TestApp::with_demo().await;
    assert_eq!(titles(&app.get("/api/events/?q=NUTCRACKER").await), ["The Nutcracker"]);
    assert_eq!(
        titles(&app.get("/api/events/?q=TR%C6%AF%C6%A0NG%20BA").await),
        ["Hồn Trương Ba, Da Hàng Thịt"]
    );
    // Matches the description too, stop words included.
    assert_eq!(titles(&app.get("/api/events/?q=the%20ninth").await), ["Saigon Philharmonic: Beethoven Nine"]);
    // LIKE wildcards match literally.
    assert!(titles(&app.get("/api/events/?q=%25").await).is_empty());
    assert!(titles(&app.get("/api/events/?q=_").await).is_empty());
}

#[tokio::test]
async fn filters_by_category_tag_venue_featured_and_dates() {
    let app = TestApp::with_demo().await;
    assert_eq!(
        titles(&app.get("/api/events/?category=drama").await),
        ["Hồn Trương Ba, Da Hàng Thịt", "Romeo and Juliet"]
    );
    assert_eq!(app.get("/api/events/?tag=family").await.total(), 2);
    assert_eq!(app.get("/api/events/?featured=true").await.total(), 2);
    assert_eq!(app.get("/api/events/?category=no-such").await.total(), 0);

    let all = app.get("/api/events/").await;
    let venue = all.data()[0]["venue"]["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/events/?venue={venue}")).await.total(), 7);
    assert_eq!(app.get(&format!("/api/events/?venue={}", venue + 1000)).await.total(), 0);

    // The third and fourth performances, by their start times.
    let starts: Vec<String> =
        all.data().as_array().unwrap().iter().map(|e| e["start_time"].as_str().unwrap().to_owned()).collect();
    let from = urlencode(&starts[2]);
    let to = urlencode(&starts[3]);
    let res = app.get(&format!("/api/events/?date_from={from}&date_to={to}")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.total(), 2);
}

#[tokio::test]
async fn ordering_by_price_and_title() {
    let app = TestApp::with_demo().await;
    let cheap_first = app.get("/api/events/?ordering=price").await;
    let prices: Vec<i64> =
        cheap_first.data().as_array().unwrap().iter().map(|e| e["min_price"].as_i64().unwrap()).collect();
    assert_eq!(prices, [180_000, 220_000, 250_000, 250_000, 300_000, 320_000, 350_000]);
    let dear_first = app.get("/api/events/?ordering=-price").await;
    assert_eq!(dear_first.data()[0]["title"], "La Traviata");
    let by_title = titles(&app.get("/api/events/?ordering=title").await);
    let mut sorted = by_title.clone();
    sorted.sort();
    assert_eq!(by_title, sorted);
    assert_eq!(app.get("/api/events/?ordering=rating").await.total(), 7);
}

#[tokio::test]
async fn past_draft_and_inactive_performances_are_not_listed() {
    let app = TestApp::with_demo().await;
    let rows = events::Entity::find().order_by_asc(events::Column::StartTime).all(app.db()).await.unwrap();
    let mut draft = rows[0].clone().into_active_model();
    draft.status = Set("draft".into());
    draft.update(app.writer()).await.unwrap();
    let mut hidden = rows[1].clone().into_active_model();
    hidden.is_active = Set(false);
    hidden.update(app.writer()).await.unwrap();
    assert_eq!(app.get("/api/events/").await.total(), 5);
    assert_eq!(app.get(&format!("/api/events/{}", rows[0].id)).await.status, 404);
    assert_eq!(app.get(&format!("/api/events/{}/seats", rows[1].id)).await.status, 404);

    // Two days after the last curtain, nothing is upcoming.
    app.clock.set(rows[6].start_time + Duration::days(2));
    assert_eq!(app.get("/api/events/").await.total(), 0);
}

#[tokio::test]
async fn event_detail_has_prices_per_section_in_house_order() {
    let app = TestApp::with_demo().await;
    let id = app.get("/api/events/?q=traviata").await.data()[0]["id"].as_i64().unwrap();
    let res = app.get(&format!("/api/events/{id}/")).await;
    assert_eq!(res.status, 200);
    let data = res.data();
    assert_eq!(data["title"], "La Traviata");
    let prices: Vec<(String, i64)> = data["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["section_name"].as_str().unwrap().to_owned(), p["price"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        prices,
        [
            ("Orchestra".to_owned(), 900_000),
            ("Mezzanine".to_owned(), 650_000),
            ("Balcony".to_owned(), 350_000)
        ]
    );
    assert_eq!(data["images"], Value::Array(vec![]));
}

#[tokio::test]
async fn the_seat_map_lists_every_seat_with_price_and_status() {
    let app = TestApp::with_demo().await;
    let id = app.get("/api/events/").await.data()[0]["id"].as_i64().unwrap();
    let res = app.get(&format!("/api/events/{id}/seats/")).await;
    assert_eq!(res.status, 200);
    let map = res.data();
    assert_eq!(map["event_id"], id);
    assert_eq!(map["version"], 0);
    let sections = map["sections"].as_array().unwrap();
    let summary: Vec<(&str, i64, u64, usize)> = sections
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["price"].as_i64().unwrap(),
                s["available"].as_u64().unwrap(),
                s["seats"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("Orchestra", 550_000, 240, 240), ("Mezzanine", 400_000, 118, 118), ("Balcony", 250_000, 104, 104)]
    );
    let seat = &sections[0]["seats"][0];
    for key in ["id", "row", "number", "x", "y", "kind", "price", "status"] {
        assert!(!seat[key].is_null(), "seat.{key}");
    }
    assert!(seat["number"].is_i64());
    assert_eq!(seat["status"], "available");
    let kinds = |kind: &str| {
        sections.iter().flat_map(|s| s["seats"].as_array().unwrap()).filter(|s| s["kind"] == kind).count()
    };
    assert_eq!(kinds("wheelchair"), 4);
    assert_eq!(kinds("companion"), 2);
    assert_eq!(kinds("restricted_view"), 8);
}

#[tokio::test]
async fn an_expired_hold_shows_as_available_and_a_live_one_as_held() {
    let app = TestApp::with_demo().await;
    let id = app.get("/api/events/").await.data()[0]["id"].as_i64().unwrap();
    let seats = event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(id))
        .order_by_asc(event_seats::Column::Id)
        .all(app.db())
        .await
        .unwrap();
    let now = app.clock_now();
    for (seat, until) in [(&seats[0], now + Duration::minutes(5)), (&seats[1], now - Duration::seconds(1))] {
        let mut held = seat.clone().into_active_model();
        held.status = Set("held".into());
        held.held_until = Set(Some(until));
        held.update(app.writer()).await.unwrap();
    }
    let map = app.get(&format!("/api/events/{id}/seats")).await;
    let status_of = |seat_id: i64| {
        map.data()["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["seats"].as_array().unwrap())
            .find(|s| s["id"] == seat_id)
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(status_of(seats[0].seat_id), "held");
    assert_eq!(status_of(seats[1].seat_id), "available");
    assert_eq!(map.data()["sections"][0]["available"], 239);

    // Five minutes later the first hold has run out too.
    app.clock.advance(Duration::minutes(6));
    let map = app.get(&format!("/api/events/{id}/seats")).await;
    assert_eq!(map.data()["sections"][0]["available"], 240);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
