//! Staff routes for event images: multipart upload, caption and order, deletion, the poster.

use axum::{
    extract::{
        DefaultBodyLimit, Multipart, State,
        multipart::{MultipartError, MultipartRejection},
    },
    http::{HeaderMap, StatusCode, header::CONTENT_LENGTH},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    images::{self, ImageAdminOut, ImagePatch, ImageUpload, MAX_IMAGE_BYTES, PosterBody, UPLOAD_BODY_LIMIT},
    service::{self, EventDetail},
};
use crate::{
    accounts::extract::Staff,
    app::AppState,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiPath, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    // Only the upload accepts a large body; the rest keep the JSON limit.
    let upload =
        OpenApiRouter::new().routes(routes!(upload_image)).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    OpenApiRouter::new().merge(upload).routes(routes!(update_image, delete_image)).routes(routes!(set_poster))
}

fn multipart_error(err: MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::invalid("file", format!("malformed multipart body: {}", err.body_text()))
    }
}

/// Adds an image to the gallery (staff): multipart form with `file` (JPEG, PNG or WebP, judged
/// by content, at most 10 MB) and an optional `caption`.
#[utoipa::path(post, path = "/api/events/{id}/images", tag = "events", params(("id" = i64, Path)),
    request_body(content = ImageUpload, content_type = "multipart/form-data"), security(("bearer" = ["staff"])),
    responses((status = 201, body = Envelope<ImageAdminOut>),
              (status = 400, description = "not a JPEG, PNG or WebP image", body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 413, description = "`payload_too_large`", body = ErrorEnvelope)))]
async fn upload_image(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<ApiResponse<ImageAdminOut>> {
    // A declared size over the limit is refused before a byte of the body is read.
    let declared =
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > UPLOAD_BODY_LIMIT) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut multipart = multipart
        .map_err(|_| AppError::invalid("file", "send multipart/form-data with a field named file"))?;
    let mut file = Vec::new();
    let mut caption = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if file.len() + chunk.len() > MAX_IMAGE_BYTES {
                        return Err(AppError::PayloadTooLarge);
                    }
                    file.extend_from_slice(&chunk);
                }
            }
            Some("caption") => caption = Some(field.text().await.map_err(multipart_error)?),
            _ => {}
        }
    }
    let image =
        images::add(&state.writer, &state.config.data_dir, id, file, caption, state.clock.now()).await?;
    Ok(ApiResponse::created(image))
}

/// Changes an image's caption or place in the gallery (staff).
#[utoipa::path(patch, path = "/api/events/{id}/images/{image_id}", tag = "events",
    params(("id" = i64, Path), ("image_id" = i64, Path)), request_body = ImagePatch, security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<ImageAdminOut>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn update_image(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((id, image_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ImagePatch>,
) -> AppResult<ApiResponse<ImageAdminOut>> {
    Ok(ApiResponse::ok(images::update(&state.writer, id, image_id, body, state.clock.now()).await?))
}

/// Deletes an image and its file (staff); a poster made of it is cleared.
#[utoipa::path(delete, path = "/api/events/{id}/images/{image_id}", tag = "events",
    params(("id" = i64, Path), ("image_id" = i64, Path)), security(("bearer" = ["staff"])),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn delete_image(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath((id, image_id)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    images::delete(&state.writer, &state.config.data_dir, id, image_id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes one of the event's images its poster, or clears it with `null` (staff).
#[utoipa::path(put, path = "/api/events/{id}/poster", tag = "events", params(("id" = i64, Path)),
    request_body = PosterBody, security(("bearer" = ["staff"])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn set_poster(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PosterBody>,
) -> AppResult<ApiResponse<EventDetail>> {
    let event = images::set_poster(&state.writer, id, body, state.clock.now()).await?;
    Ok(ApiResponse::ok(service::detail_of(&state.db, event).await?))
}
