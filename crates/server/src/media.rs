//! Media files under the data dir, served outside the API (no envelope): `GET /media/images/{id}`.
//!
//! An image of a performance the public may see (published or cancelled, not deleted) is public,
//! and since an image id always names the same bytes (a new upload gets a new id), browsers and
//! proxies may keep it for a year. An image of a draft (or of a deleted performance) is for staff
//! only — ids are sequential, so anyone could otherwise walk them and see an unannounced season
//! — and answers 404 to everyone else, as if it did not exist. Staff send their bearer token (a
//! staff page fetches the image and shows it from a blob URL, since an `<img>` sends no header);
//! those answers are never stored by a cache, so publishing is what makes an image public.

use axum::{
    Router,
    extract::{Path, State, rejection::PathRejection},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use entity::{event_images, events};
use sea_orm::EntityTrait;

use crate::{
    accounts::extract::authenticate,
    app::AppState,
    events::{images::disk_path, service::DRAFT},
    site,
};

/// Public images: the same id always names the same bytes.
const PUBLIC: &str = "public, max-age=31536000, immutable";
/// Staff-only images: no shared cache may keep them, nor serve them to someone else later.
const STAFF_ONLY: &str = "private, no-store";

pub fn router() -> Router<AppState> {
    Router::new().route("/media/images/{id}", get(event_image))
}

async fn event_image(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else { return site::not_found().await.into_response() };
    let image = match event_images::Entity::find_by_id(id).one(&state.db).await {
        Ok(Some(image)) => image,
        Ok(None) => return site::not_found().await.into_response(),
        Err(err) => return internal(err),
    };
    let public = match events::Entity::find_by_id(image.event_id).one(&state.db).await {
        Ok(event) => event.is_some_and(|e| e.is_active && e.status != DRAFT),
        Err(err) => return internal(err),
    };
    if !public && !sent_by_staff(&state, &headers).await {
        return site::not_found().await.into_response();
    }
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
    let cache = HeaderValue::from_static(if public { PUBLIC } else { STAFF_ONLY });
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)], bytes).into_response()
}

/// Whether the request carries the bearer token of a staff member (or admin). A missing or bad
/// token is simply not staff: the answer is the same 404 an anonymous visitor gets.
async fn sent_by_staff(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
    else {
        return false;
    };
    authenticate(token, state).await.is_ok_and(|user| user.is_staff())
}

fn internal(err: sea_orm::DbErr) -> Response {
    tracing::error!(error = %err, "reading an image");
    axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
