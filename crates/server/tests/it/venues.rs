use entity::venues;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};

use crate::harness::TestApp;

#[tokio::test]
async fn the_demo_theater_is_listed_with_its_derived_capacity() {
    let app = TestApp::with_demo().await;
    let res = app.get("/api/venues/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.total(), 1);
    let venue = &res.data()[0];
    assert_eq!(venue["slug"], "golden-lotus-theatre");
    assert_eq!(venue["time_zone"], "Asia/Ho_Chi_Minh");
    assert_eq!(venue["capacity"], 240 + 118 + 104);
    assert!(venue["amenities"].as_array().unwrap().iter().any(|a| a == "wheelchair_access"));

    let id = venue["id"].as_i64().unwrap();
    let detail = app.get(&format!("/api/venues/{id}/")).await;
    let sections: Vec<_> = detail.data()["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), s["seat_count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        sections,
        [("Orchestra".to_owned(), 240), ("Mezzanine".to_owned(), 118), ("Balcony".to_owned(), 104)]
    );

    let events = app.get(&format!("/api/venues/{id}/events/")).await;
    assert_eq!(events.total(), 7);
}

#[tokio::test]
async fn a_soft_deleted_venue_and_its_events_vanish_from_public_lists() {
    let app = TestApp::with_demo().await;
    let venue = venues::Entity::find().one(app.db()).await.unwrap().unwrap();
    let id = venue.id;
    let mut active = venue.into_active_model();
    active.is_active = Set(false);
    active.update(app.writer()).await.unwrap();

    assert_eq!(app.get("/api/venues/").await.total(), 0);
    assert_eq!(app.get(&format!("/api/venues/{id}")).await.status, 404);
    assert_eq!(app.get(&format!("/api/venues/{id}/events")).await.status, 404);
    assert_eq!(app.get("/api/events/").await.total(), 0);
}
