//! Event images: the gallery (ordered by position) and the poster. Uploads are recognised by
//! their first bytes, never by name or declared type; only JPEG, PNG and WebP up to 10 MB are
//! kept, under `<data dir>/media/events/<event id>/<random>.<ext>`. The file is written before
//! its row and removed again if the row cannot be; deleting the row removes the file after the
//! commit.

use crate::db::Writer;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use entity::{event_images, events};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{admin::lock, service::image_url};
use crate::{
    error::{AppError, AppResult},
    validate::Checks,
};

/// Largest image accepted.
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;
/// The upload route's body limit: the image plus room for the multipart framing and a caption.
pub const UPLOAD_BODY_LIMIT: usize = MAX_IMAGE_BYTES + 64 * 1024;

/// The image types kept, by content: (MIME type, file extension).
const ACCEPTED: &[(&str, &str)] = &[("image/jpeg", "jpg"), ("image/png", "png"), ("image/webp", "webp")];

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageAdminOut {
    pub id: i64,
    pub event_id: i64,
    pub url: String,
    pub caption: String,
    pub position: i32,
    pub content_type: String,
    pub size_bytes: i64,
}

impl From<event_images::Model> for ImageAdminOut {
    fn from(i: event_images::Model) -> Self {
        Self {
            url: image_url(i.id),
            id: i.id,
            event_id: i.event_id,
            caption: i.caption,
            position: i.position,
            content_type: i.content_type,
            size_bytes: i.size_bytes,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    #[schema(max_length = 500)]
    pub caption: Option<String>,
    /// Place in the gallery; lower comes first.
    #[schema(minimum = 0, maximum = 10000)]
    pub position: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PosterBody {
    /// An image of this event, or `null` for no poster.
    #[schema(minimum = 1)]
    pub image_id: Option<i64>,
}

/// The multipart form of an upload, as documented in the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the form; the handler reads it field by field.
pub struct ImageUpload {
    /// A JPEG, PNG or WebP image of at most 10 MB.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
    #[schema(max_length = 500)]
    caption: Option<String>,
}

/// The MIME type and extension of an accepted image, judged by its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let kind = infer::get(bytes)?;
    ACCEPTED.iter().copied().find(|(mime, _)| *mime == kind.mime_type())
}

fn random_name(ext: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("{}.{ext}", hex::encode(bytes))
}

/// Where a stored image lives on disk.
pub fn disk_path(data_dir: &Path, image: &event_images::Model) -> PathBuf {
    data_dir.join(&image.file_path)
}

async fn find_image(
    db: &impl sea_orm::ConnectionTrait,
    event_id: i64,
    image_id: i64,
) -> AppResult<event_images::Model> {
    event_images::Entity::find_by_id(image_id)
        .filter(event_images::Column::EventId.eq(event_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Stores an uploaded image at the end of the event's gallery.
pub async fn add(
    db: &Writer,
    data_dir: &Path,
    event_id: i64,
    bytes: Vec<u8>,
    caption: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<ImageAdminOut> {
    let mut c = Checks::new();
    let caption = c.text("caption", caption.as_deref().unwrap_or_default(), 0, 500);
    let kind = sniff(&bytes);
    if bytes.is_empty() {
        c.fail("file", "send the image in a form field named file");
    } else if kind.is_none() {
        c.fail("file", "must be a JPEG, PNG or WebP image (judged by its content, not its name)");
    }
    c.finish()?;
    let Some((mime, ext)) = kind else { return Err(AppError::invalid("file", "not an image")) };
    super::service::find_active(db, event_id).await?;

    let relative = PathBuf::from("media").join("events").join(event_id.to_string()).join(random_name(ext));
    let path = data_dir.join(&relative);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    }
    tokio::fs::write(&path, &bytes).await.map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;

    let saved = save_row(db, event_id, &relative, mime, bytes.len(), caption, now).await;
    if saved.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    saved
}

async fn save_row(
    db: &Writer,
    event_id: i64,
    relative: &Path,
    mime: &str,
    size: usize,
    caption: String,
    now: DateTime<Utc>,
) -> AppResult<ImageAdminOut> {
    let txn = db.begin().await?;
    lock(&txn, event_id).await?;
    let last: Option<i32> = event_images::Entity::find()
        .select_only()
        .column_as(event_images::Column::Position.max(), "m")
        .filter(event_images::Column::EventId.eq(event_id))
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten();
    let image = event_images::ActiveModel {
        event_id: Set(event_id),
        // Stored with forward slashes whatever the platform: it is data, not a local path.
        file_path: Set(relative.to_string_lossy().replace('\\', "/")),
        content_type: Set(mime.to_owned()),
        size_bytes: Set(size as i64),
        width: Set(None),
        height: Set(None),
        caption: Set(caption),
        position: Set(last.map_or(0, |p| p + 1)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(image.into())
}

pub async fn update(
    db: &Writer,
    event_id: i64,
    image_id: i64,
    patch: ImagePatch,
    now: DateTime<Utc>,
) -> AppResult<ImageAdminOut> {
    let mut c = Checks::new();
    let caption = patch.caption.as_deref().map(|v| c.text("caption", v, 0, 500));
    if let Some(position) = patch.position {
        c.range("position", position.into(), 0, 10_000);
    }
    c.finish()?;
    let txn = db.begin().await?;
    lock(&txn, event_id).await?;
    let mut active: event_images::ActiveModel = find_image(&txn, event_id, image_id).await?.into();
    if let Some(v) = caption {
        active.caption = Set(v);
    }
    if let Some(v) = patch.position {
        active.position = Set(v);
    }
    active.updated_at = Set(now);
    let image = active.update(&txn).await?;
    txn.commit().await?;
    Ok(image.into())
}

/// Removes the image (and the poster reference to it), then its file.
pub async fn delete(
    db: &Writer,
    data_dir: &Path,
    event_id: i64,
    image_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin().await?;
    lock(&txn, event_id).await?;
    let image = find_image(&txn, event_id, image_id).await?;
    events::Entity::update_many()
        .col_expr(events::Column::PosterImageId, Expr::val(Option::<i64>::None))
        .col_expr(events::Column::UpdatedAt, Expr::val(now))
        .filter(events::Column::Id.eq(event_id))
        .filter(events::Column::PosterImageId.eq(image_id))
        .exec(&txn)
        .await?;
    event_images::Entity::delete_by_id(image_id).exec(&txn).await?;
    txn.commit().await?;
    let path = disk_path(data_dir, &image);
    if let Err(err) = tokio::fs::remove_file(&path).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %err, "could not remove a deleted image's file");
    }
    Ok(())
}

/// Sets (or clears) the event's poster; the image must belong to the event.
pub async fn set_poster(
    db: &Writer,
    event_id: i64,
    body: PosterBody,
    now: DateTime<Utc>,
) -> AppResult<events::Model> {
    let txn = db.begin().await?;
    let event = lock(&txn, event_id).await?;
    if let Some(image_id) = body.image_id
        && find_image(&txn, event_id, image_id).await.is_err()
    {
        return Err(AppError::invalid("image_id", "not an image of this event"));
    }
    let mut active: events::ActiveModel = event.into();
    active.poster_image_id = Set(body.image_id);
    active.updated_at = Set(now);
    let event = active.update(&txn).await?;
    txn.commit().await?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_content() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(sniff(&png), Some(("image/png", "png")));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(("image/jpeg", "jpg")));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(("image/webp", "webp")));
        assert_eq!(sniff(b"just some text, named photo.png"), None);
        assert_eq!(sniff(b"GIF89a......"), None);
    }
}
