//! Category and tag routes.

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service::{self, CategoryOut, TagOut};
use crate::{
    app::AppState,
    error::AppResult,
    http::{ApiResponse, envelope::Envelope},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_categories)).routes(routes!(list_tags))
}

/// Every active category, by name.
#[utoipa::path(get, path = "/api/categories", tag = "catalog", responses((status = 200, body = Envelope<Vec<CategoryOut>>)))]
async fn list_categories(State(state): State<AppState>) -> AppResult<ApiResponse<Vec<CategoryOut>>> {
    Ok(ApiResponse::ok(service::categories(&state.db).await?))
}

/// Every active tag, by name.
#[utoipa::path(get, path = "/api/tags", tag = "catalog", responses((status = 200, body = Envelope<Vec<TagOut>>)))]
async fn list_tags(State(state): State<AppState>) -> AppResult<ApiResponse<Vec<TagOut>>> {
    Ok(ApiResponse::ok(service::tags(&state.db).await?))
}
