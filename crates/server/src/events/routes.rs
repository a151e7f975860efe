//! Performance routes: list and search, detail, seat map.

use std::collections::HashMap;

use axum::extract::State;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    seatmap::{self, SeatMap},
    service::{self, EventDetail, EventFilter, EventSummary},
};
use serde_json::Value;

use crate::{
    accounts::extract::CurrentUser,
    app::AppState,
    cache,
    error::AppResult,
    http::{
        ApiPath, ApiResponse, Params,
        envelope::{Envelope, ErrorEnvelope},
        extract::ApiQuery,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events)).routes(routes!(get_event)).routes(routes!(get_seat_map))
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the query string; it is read through `Params`.
pub struct EventListQuery {
    /// Case-insensitive substring of the title or description.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Category id or slug.
    #[param(max_length = 100)]
    category: Option<String>,
    /// Tag id or slug.
    #[param(max_length = 100)]
    tag: Option<String>,
    /// Venue id.
    #[param(minimum = 1)]
    venue: Option<i64>,
    /// Earliest start: a date (YYYY-MM-DD) or an RFC 3339 timestamp.
    #[param(format = Date)]
    date_from: Option<String>,
    /// Latest start, inclusive: a date or an RFC 3339 timestamp.
    #[param(format = Date)]
    date_to: Option<String>,
    /// Only featured (true) or only other (false) performances.
    featured: Option<bool>,
    /// `start_time` (default), `price`, `rating`, `title`; prefix `-` for descending.
    #[param(pattern = "^-?(start_time|price|rating|title)$")]
    ordering: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u64>,
}

/// Published, upcoming performances, soonest first unless `ordering` says otherwise.
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventListQuery),
    responses((status = 200, body = Envelope<Vec<EventSummary>>), (status = 400, body = ErrorEnvelope)))]
async fn list_events(
    State(state): State<AppState>,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Value>> {
    let mut params = Params::new(raw);
    let filter = EventFilter::read(&mut params);
    params.finish()?;
    cached_list(&state, &filter).await
}

/// A page of the public list, from the cache when it holds one for the current generation.
/// Keyed by the parsed filter, never the raw query string: parameters the list does not read,
/// their order and their spelling (`page=01`, `q=HAMLET`) make no new entry.
pub async fn cached_list(state: &AppState, filter: &EventFilter) -> AppResult<ApiResponse<Value>> {
    let now = state.clock.now();
    let key = format!("list:events:{}:{}", filter.cache_key(), state.cache.generation(cache::LISTS).await);
    if let Some(hit) = state.cache.get(&key, now).await {
        return Ok(ApiResponse::with_pagination(hit.data, hit.pagination));
    }
    let page = service::list(&state.db, now, filter).await?;
    // The list hides performances once they start: keep an entry no longer than that.
    let valid_until = page.items.iter().map(|e| e.start_time).min();
    let cached = cache::Cached {
        data: serde_json::to_value(&page.items).map_err(anyhow::Error::from)?,
        pagination: Some(page.pagination),
        valid_until,
    };
    state.cache.put(&key, &cached).await;
    Ok(ApiResponse::with_pagination(cached.data, cached.pagination))
}

/// One performance with its venue, prices per section, images and rating. With a staff token,
/// drafts are shown too.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)), security((), ("bearer" = [])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 404, body = ErrorEnvelope)))]
async fn get_event(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<Value>> {
    // Staff also see drafts (to review them before publishing); everyone else only what is public.
    if user.is_some_and(|u| u.is_staff()) {
        let event = service::find_active(&state.db, id).await?;
        let detail = service::detail_of(&state.db, event).await?;
        return Ok(ApiResponse::ok(serde_json::to_value(detail).map_err(anyhow::Error::from)?));
    }
    let now = state.clock.now();
    let key = format!(
        "detail:{id}:{}:{}",
        state.cache.generation(cache::ALL_DETAILS).await,
        state.cache.generation(&cache::event_generation(id)).await
    );
    if let Some(hit) = state.cache.get(&key, now).await {
        return Ok(ApiResponse::ok(hit.data));
    }
    let detail = serde_json::to_value(service::detail(&state.db, id).await?).map_err(anyhow::Error::from)?;
    state.cache.put(&key, &cache::Cached { data: detail.clone(), pagination: None, valid_until: None }).await;
    Ok(ApiResponse::ok(detail))
}

/// Every seat of the performance with its price and status, grouped by section.
#[utoipa::path(get, path = "/api/events/{id}/seats", tag = "events", params(("id" = i64, Path)),
    responses((status = 200, body = Envelope<SeatMap>), (status = 404, body = ErrorEnvelope)))]
async fn get_seat_map(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<Value>> {
    let now = state.clock.now();
    let event = service::find_public(&state.db, id).await?;
    // Keyed by the seat-map version: any seat change makes a new key.
    let key = format!("seats:{id}:{}", event.seats_version);
    if let Some(hit) = state.cache.get(&key, now).await {
        return Ok(ApiResponse::ok(hit.data));
    }
    let (map, next_lapse) = seatmap::seat_map_of(&state.db, &event, now).await?;
    let data = serde_json::to_value(map).map_err(anyhow::Error::from)?;
    state
        .cache
        .put(&key, &cache::Cached { data: data.clone(), pagination: None, valid_until: next_lapse })
        .await;
    Ok(ApiResponse::ok(data))
}
