//! The read and write handles: writes go through the writer; the read handle refuses them.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};

use crate::harness::TestApp;

fn category(slug: &str) -> entity::categories::ActiveModel {
    let now = Utc::now();
    entity::categories::ActiveModel {
        name: Set(slug.to_owned()),
        slug: Set(slug.to_owned()),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_write_through_the_read_handle_is_refused_by_the_database_itself() {
    let app = TestApp::spawn().await;
    let refused = category("through-the-reader").insert(app.db()).await;
    assert!(refused.is_err(), "the read handle wrote a row");
    let message = refused.unwrap_err().to_string().to_lowercase();
    assert!(message.contains("read"), "not refused as a read-only connection: {message}");
    category("through-the-writer").insert(app.writer()).await.unwrap();
    // What the writer wrote, the reader reads.
    assert_eq!(entity::categories::Entity::find().count(app.db()).await.unwrap(), 1);
}
