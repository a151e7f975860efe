//! Reviews: only attendees (a completed booking) review, once; newest first with the author's
//! name; the author edits or deletes; staff moderate; the event's rating follows.

use chrono::Utc;
use entity::{bookings, users};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::{
    fixtures::{self, access, id, staff},
    harness::TestApp,
};

/// A booking of `event` by `email` with `status`, written through the entities (bookings are
/// another area's; reviews only read them).
async fn booking(app: &TestApp, email: &str, event: i64, status: &str) {
    let user =
        users::Entity::find().filter(users::Column::Email.eq(email)).one(app.db()).await.unwrap().unwrap();
    let now = Utc::now();
    bookings::ActiveModel {
        user_id: Set(user.id),
        event_id: Set(event),
        status: Set(status.to_owned()),
        total: Set(300_000),
        currency: Set("VND".to_owned()),
        expires_at: Set(None),
        reference: Set(format!("CUR-{}-{}", user.id, status.to_uppercase())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.writer())
    .await
    .unwrap();
}

#[tokio::test]
async fn attendees_review_once_and_the_rating_follows() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (_venue, _sections, event) = fixtures::published_show(&app, &token).await;
    let path = format!("/api/events/{event}/reviews");
    let lan = access(&app.customer("lan@example.com").await);
    let minh = access(&app.customer("minh@example.com").await);
    let body = json!({"rating": 5, "text": "Unforgettable."});

    // No booking, or one that is only confirmed: not yet.
    let res = app.post(&path, &body, Some(&lan)).await;
    assert_eq!((res.status.as_u16(), res.error_code()), (403, "review_not_allowed"));
    booking(&app, "lan@example.com", event, "confirmed").await;
    assert_eq!(app.post(&path, &body, Some(&lan)).await.error_code(), "review_not_allowed");
    assert_eq!(app.post(&path, &body, None).await.status, 401);

    booking(&app, "lan@example.com", event, "completed").await;
    booking(&app, "minh@example.com", event, "completed").await;
    let bad = app.post(&path, &json!({"rating": 6, "text": "x".repeat(4001)}), Some(&lan)).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_fields(), ["rating", "text"]);
    let res = app.post(&path, &body, Some(&lan)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let lan_review = id(&res);
    assert_eq!(res.data()["author_name"], "Test Buyer");
    let again = app.post(&path, &json!({"rating": 1}), Some(&lan)).await;
    assert_eq!((again.status.as_u16(), again.error_code()), (409, "already_reviewed"));
    app.clock.advance(chrono::Duration::minutes(1));
    let res = app.post(&path, &json!({"rating": 2, "text": "Too long for me."}), Some(&minh)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let minh_review = id(&res);

    // Public, newest first, paginated.
    let list = app.get(&format!("{path}?page_size=1")).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.total(), 2);
    assert_eq!(list.data()[0]["id"], minh_review);
    assert_eq!(list.data()[0]["rating"], 2);
    let detail = app.get(&format!("/api/events/{event}")).await;
    assert_eq!(
        (detail.data()["rating_avg"].as_f64(), detail.data()["rating_count"].as_i64()),
        (Some(3.5), Some(2))
    );

    // Another customer's review is not theirs to touch: 404, as if it did not exist.
    let other = format!("{path}/{lan_review}");
    assert_eq!(app.patch(&other, &json!({"rating": 1}), &minh).await.status, 404);
    assert_eq!(app.delete(&other, &minh).await.status, 404);
    let res = app.patch(&other, &json!({"rating": 4}), &lan).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        (res.data()["rating"].as_i64(), res.data()["text"].as_str()),
        (Some(4), Some("Unforgettable."))
    );

    // Staff moderate by deleting: the review is hidden and cannot simply be posted again.
    assert_eq!(app.patch(&other, &json!({"rating": 1}), &token).await.status, 403);
    assert_eq!(app.delete(&other, &token).await.status, 204);
    assert_eq!(app.get(&path).await.total(), 1);
    assert_eq!(app.post(&path, &body, Some(&lan)).await.error_code(), "already_reviewed");
    assert_eq!(app.patch(&other, &json!({"rating": 5}), &lan).await.status, 404);

    // The author's own deletion removes the review; they may write again.
    assert_eq!(app.delete(&format!("{path}/{minh_review}"), &minh).await.status, 204);
    let detail = app.get(&format!("/api/events/{event}")).await;
    assert_eq!(detail.data()["rating_count"], 0);
    assert_eq!(app.post(&path, &json!({"rating": 3}), Some(&minh)).await.status, 201);

    // Drafts and unknown events have no reviews.
    assert_eq!(app.get("/api/events/9999/reviews").await.status, 404);
}
