//! Review routes: the public list, and writing, editing and deleting one's own review (staff
//! delete any, as moderation).

use std::collections::HashMap;

use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::reviews::{self, ReviewBody, ReviewOut, ReviewPatch};
use crate::{
    accounts::extract::CurrentUser,
    app::AppState,
    error::AppResult,
    http::{
        ApiJson, ApiPath, ApiResponse, PageRequest, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reviews, create_review))
        .routes(routes!(update_review, delete_review))
}

/// Reviews of a performance, newest first, with each reviewer's name.
#[utoipa::path(get, path = "/api/events/{id}/reviews", tag = "events",
    params(("id" = i64, Path), ("page" = Option<u64>, Query, minimum = 1, maximum = 1000000),
        ("page_size" = Option<u64>, Query, minimum = 1, maximum = 100)),
    responses((status = 200, body = Envelope<Vec<ReviewOut>>), (status = 404, body = ErrorEnvelope)))]
async fn list_reviews(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<ReviewOut>>> {
    let mut params = Params::new(raw);
    let page = PageRequest::read(&mut params);
    params.finish()?;
    Ok(ApiResponse::<ReviewOut>::page(reviews::list(&state.db, id, page).await?))
}

/// Reviews a performance one attended (a completed booking), once.
#[utoipa::path(post, path = "/api/events/{id}/reviews", tag = "events", params(("id" = i64, Path)),
    request_body = ReviewBody, security(("bearer" = [])),
    responses((status = 201, body = Envelope<ReviewOut>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope),
              (status = 403, description = "`review_not_allowed`", body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`already_reviewed`", body = ErrorEnvelope)))]
async fn create_review(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> AppResult<ApiResponse<ReviewOut>> {
    Ok(ApiResponse::created(reviews::create(&state.writer, id, &user, body, state.clock.now()).await?))
}

/// Edits one's own review.
#[utoipa::path(patch, path = "/api/events/{id}/reviews/{review_id}", tag = "events",
    params(("id" = i64, Path), ("review_id" = i64, Path)), request_body = ReviewPatch, security(("bearer" = [])),
    responses((status = 200, body = Envelope<ReviewOut>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, description = "no such review, or another customer's", body = ErrorEnvelope)))]
async fn update_review(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, review_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ReviewPatch>,
) -> AppResult<ApiResponse<ReviewOut>> {
    Ok(ApiResponse::ok(reviews::update(&state.writer, id, review_id, &user, body, state.clock.now()).await?))
}

/// Deletes one's own review, or (staff) hides anyone's as moderation.
#[utoipa::path(delete, path = "/api/events/{id}/reviews/{review_id}", tag = "events",
    params(("id" = i64, Path), ("review_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope),
              (status = 404, description = "no such review, or another customer's", body = ErrorEnvelope)))]
async fn delete_review(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, review_id)): ApiPath<(i64, i64)>,
) -> AppResult<StatusCode> {
    reviews::delete(&state.writer, id, review_id, &user, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
