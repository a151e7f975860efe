//! Venue routes.

use std::collections::HashMap;

use axum::extract::State;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::service::{self, VenueDetail, VenueOut};
use crate::{
    app::AppState,
    error::AppResult,
    events::{routes::EventListQuery, service as events},
    http::{
        ApiPath, ApiResponse, PageRequest, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_venues)).routes(routes!(get_venue)).routes(routes!(venue_events))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct VenueListQuery {
    /// Only venues in this city.
    #[param(max_length = 100)]
    city: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// Active venues by name.
#[utoipa::path(get, path = "/api/venues", tag = "venues", params(VenueListQuery),
    responses((status = 200, body = Envelope<Vec<VenueOut>>), (status = 400, body = ErrorEnvelope)))]
async fn list_venues(
    State(state): State<AppState>,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<VenueOut>>> {
    let mut params = Params::new(raw);
    let page = PageRequest::read(&mut params);
    let city = params.string("city", 100);
    params.finish()?;
    Ok(ApiResponse::<VenueOut>::page(service::list(&state.db, page, city).await?))
}

/// One venue with its sections.
#[utoipa::path(get, path = "/api/venues/{id}", tag = "venues", params(("id" = i64, Path)),
    responses((status = 200, body = Envelope<VenueDetail>), (status = 404, body = ErrorEnvelope)))]
async fn get_venue(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<VenueDetail>> {
    Ok(ApiResponse::ok(service::detail(&state.db, id).await?))
}

/// The venue's upcoming published performances (the same filters as `/api/events/`).
#[utoipa::path(get, path = "/api/venues/{id}/events", tag = "venues", params(("id" = i64, Path), EventListQuery),
    responses((status = 200, body = Envelope<Vec<events::EventSummary>>), (status = 404, body = ErrorEnvelope)))]
async fn venue_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<serde_json::Value>> {
    service::find_active(&state.db, id).await?;
    let mut params = Params::new(raw);
    let mut filter = events::EventFilter::read(&mut params);
    params.finish()?;
    filter.venue = Some(id);
    crate::events::routes::cached_list(&state, &filter).await
}
