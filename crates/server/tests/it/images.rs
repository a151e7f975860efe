//! Event images: upload checked by content and size, served with long-lived caching, gallery
//! order and captions, the poster, and deletion that removes the file.

use entity::event_images;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::{
    fixtures::{self, id, staff, tiny_jpeg, tiny_png},
    harness::TestApp,
};

#[tokio::test]
async fn an_uploaded_png_is_stored_served_ordered_and_deleted_with_its_file() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (_venue, _sections, event) = fixtures::published_show(&app, &token).await;
    let path = format!("/api/events/{event}/images");
    let png = tiny_png();

    let res = app.upload(&path, "poster.png", &png, Some("Opening night"), &token).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let first = id(&res);
    assert_eq!(res.data()["content_type"], "image/png");
    assert_eq!(res.data()["size_bytes"], png.len());
    assert_eq!(res.data()["caption"], "Opening night");
    assert_eq!(res.data()["position"], 0);
    let url = res.data()["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/media/images/{first}"));

    // Stored under <data dir>/media/events/<event>/<random>.png, and served as it was sent.
    let row = event_images::Entity::find_by_id(first).one(app.db()).await.unwrap().unwrap();
    assert!(
        row.file_path.starts_with(&format!("media/events/{event}/")) && row.file_path.ends_with(".png"),
        "{}",
        row.file_path
    );
    let file = app.state.config.data_dir.join(&row.file_path);
    assert_eq!(std::fs::read(&file).unwrap(), png);
    let served = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());

    // A JPEG named .png is still a JPEG: the content decides.
    let res = app.upload(&path, "photo.png", &tiny_jpeg(), None, &token).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let second = id(&res);
    assert_eq!(res.data()["content_type"], "image/jpeg");
    assert_eq!(res.data()["position"], 1);
    let served = app.client.get(app.url(&format!("/media/images/{second}"))).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    // The gallery follows positions; captions change.
    let res = app
        .patch(&format!("{path}/{second}"), &json!({"position": 0, "caption": "Curtain call"}), &token)
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    app.patch(&format!("{path}/{first}"), &json!({"position": 5}), &token).await;
    let detail = app.get(&format!("/api/events/{event}")).await;
    let gallery: Vec<(i64, String)> = detail.data()["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["caption"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(gallery, [(second, "Curtain call".to_owned()), (first, "Opening night".to_owned())]);

    // The poster must be an image of this event.
    let res = app.put(&format!("/api/events/{event}/poster"), &json!({"image_id": first}), &token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.data()["poster_url"], url);
    assert_eq!(app.get("/api/events").await.data()[0]["poster_url"], url);
    let res = app.put(&format!("/api/events/{event}/poster"), &json!({"image_id": 999}), &token).await;
    assert_eq!((res.status.as_u16(), res.error_fields()), (400, vec!["image_id".to_owned()]));

    // Deleting removes the row, the file and the poster made of it.
    assert_eq!(app.delete(&format!("{path}/{first}"), &token).await.status, 204);
    assert!(!file.exists());
    assert_eq!(app.client.get(app.url(&url)).send().await.unwrap().status(), 404);
    let detail = app.get(&format!("/api/events/{event}")).await;
    assert!(detail.data()["poster_url"].is_null());
    assert_eq!(detail.data()["images"].as_array().unwrap().len(), 1);
    assert_eq!(app.delete(&format!("{path}/{first}"), &token).await.status, 404);
    assert_eq!(app.client.get(app.url("/media/images/abc")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_text_file_named_png_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (_venue, _sections, event) = fixtures::published_show(&app, &token).await;
    let path = format!("/api/events/{event}/images");
    let res =
        app.upload(&path, "poster.png", b"this is not an image, whatever its name says", None, &token).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["file"]);
    // A GIF is an image, but not one we keep.
    let res = app.upload(&path, "anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", None, &token).await;
    assert_eq!(res.status, 400, "{}", res.text);
    // No multipart at all.
    let res = app.post(&path, &json!({"file": "x"}), Some(&token)).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.error_fields(), ["file"]);
    assert_eq!(event_images::Entity::find().count(app.db()).await.unwrap(), 0);
    let media = app.state.config.data_dir.join("media").join("events").join(event.to_string());
    assert!(!media.exists() || std::fs::read_dir(&media).unwrap().next().is_none());
    // Customers cannot upload.
    let customer = fixtures::access(&app.customer("ana@example.com").await);
    assert_eq!(app.upload(&path, "p.png", &tiny_png(), None, &customer).await.status, 403);
}

#[tokio::test]
async fn a_50_mb_upload_is_payload_too_large_in_the_envelope() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let (_venue, _sections, event) = fixtures::published_show(&app, &token).await;
    let path = format!("/api/events/{event}/images");
    let mut big = tiny_png();
    big.resize(50 * 1024 * 1024, 0);
    let res = app.upload(&path, "huge.png", &big, None, &token).await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert_eq!(res.error_code(), "payload_too_large");
    assert!(res.body["meta"]["timestamp"].is_string());

    // Just over 10 MB inside a body the route accepts: refused while reading the file.
    let mut over = tiny_png();
    over.resize(10 * 1024 * 1024 + 1, 0);
    let res = app.upload(&path, "big.png", &over, None, &token).await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert_eq!(res.error_code(), "payload_too_large");
    // Exactly 10 MB is fine.
    let mut max = tiny_png();
    max.resize(10 * 1024 * 1024, 0);
    let res = app.upload(&path, "max.png", &max, None, &token).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(event_images::Entity::find().count(app.db()).await.unwrap(), 1);
}

#[tokio::test]
async fn images_of_a_draft_are_for_staff_only_until_it_is_published() {
    let app = TestApp::spawn().await;
    let token = staff(&app).await;
    let venue = fixtures::venue(&app, &token, "Nhà hát Lớn").await;
    let stalls = fixtures::section(&app, &token, venue, "Stalls", 1, 4).await;
    let event = fixtures::draft(&app, &token, venue, "Unannounced premiere", 20).await;
    let res = app.upload(&format!("/api/events/{event}/images"), "p.png", &tiny_png(), None, &token).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let url = app.url(res.data()["url"].as_str().unwrap());
    let customer = fixtures::access(&app.customer("ana@example.com").await);

    // Anonymous visitors, customers and bad tokens get the same 404 as for no image at all.
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(&url).bearer_auth(&customer).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(&url).bearer_auth("not-a-token").send().await.unwrap().status(), 404);
    // Staff see it (a staff page fetches it with its token), and no cache keeps it.
    let res = app.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.bytes().await.unwrap().as_ref(), tiny_png().as_slice());

    // Published: public, and cacheable for a year.
    let prices = json!({"prices": [{"section_id": stalls, "price": 100_000}]});
    assert_eq!(app.put(&format!("/api/events/{event}/prices"), &prices, &token).await.status, 200);
    let res = app.post(&format!("/api/events/{event}/publish"), &json!({}), Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");

    // Deleted: back to staff only.
    assert_eq!(app.delete(&format!("/api/events/{event}"), &token).await.status, 204);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(&url).bearer_auth(&token).send().await.unwrap().status(), 200);
}
