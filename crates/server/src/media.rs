//! Media files under the data dir, served outside the API (no envelope): `GET /media/images/{id}`.
//! An image id always names the same bytes (a new upload gets a new id), so browsers and proxies
//! may keep them for a year.

use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use entity::event_images;
use sea_orm::EntityTrait;

use crate::{app::AppState, events::images::disk_path, site};

pub fn router() -> Router<AppState> {
    Router::new().route("/media/images/{id}", get(event_image))
}

async fn event_image(State(state): State<AppState>, id: Result<Path<i64>, PathRejection>) -> Response {
    let Ok(Path(id)) = id else { return site::not_found().await.into_response() };
    let image = match event_images::Entity::find_by_id(id).one(&state.db).await {
        Ok(Some(image)) => image,
        Ok(None) => return site::not_found().await.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "reading an image row");
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let path = disk_path(&state.config.data_dir, &image);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "an image row without its file");
            return site::not_found().await.into_response();
        }
    };
    let content_type = HeaderValue::from_str(&image.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        bytes,
    )
        .into_response()
}
