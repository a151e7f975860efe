//! Performance routes: list and search, detail, seat map.

use std::collections::HashMap;

use axum::extract::State;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    seatmap::{self, SeatMap},
    service::{self, EventDetail, EventFilter, EventSummary},
};
use crate::{
    accounts::extract::CurrentUser,
    app::AppState,
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
    q: Option<String>,
    /// Category id or slug.
    category: Option<String>,
    /// Tag id or slug.
    tag: Option<String>,
    /// Venue id.
    venue: Option<i64>,
    /// Earliest start: a date (YYYY-MM-DD) or an RFC 3339 timestamp.
    date_from: Option<String>,
    /// Latest start, inclusive: a date or an RFC 3339 timestamp.
    date_to: Option<String>,
    /// Only featured (true) or only other (false) performances.
    featured: Option<bool>,
    /// `start_time` (default), `price`, `rating`, `title`; prefix `-` for descending.
    ordering: Option<String>,
    /// Page number, from 1.
    page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    page_size: Option<u64>,
}

/// Published, upcoming performances, soonest first unless `ordering` says otherwise.
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventListQuery),
    responses((status = 200, body = Envelope<Vec<EventSummary>>), (status = 400, body = ErrorEnvelope)))]
async fn list_events(
    State(state): State<AppState>,
    ApiQuery(raw): ApiQuery<HashMap<String, String>>,
) -> AppResult<ApiResponse<Vec<EventSummary>>> {
    let mut params = Params::new(raw);
    let filter = EventFilter::read(&mut params);
    params.finish()?;
    let page = service::list(&state.db, state.clock.now(), &filter).await?;
    Ok(ApiResponse::<EventSummary>::page(page))
}

/// One performance with its venue, prices per section, images and rating. With a staff token,
/// drafts are shown too.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events", params(("id" = i64, Path)), security((), ("bearer" = [])),
    responses((status = 200, body = Envelope<EventDetail>), (status = 404, body = ErrorEnvelope)))]
async fn get_event(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<EventDetail>> {
    // Staff also see drafts (to review them before publishing); everyone else only what is public.
    if user.is_some_and(|u| u.is_staff()) {
        let event = service::find_active(&state.db, id).await?;
        return Ok(ApiResponse::ok(service::detail_of(&state.db, event).await?));
    }
    Ok(ApiResponse::ok(service::detail(&state.db, id).await?))
}

/// Every seat of the performance with its price and status, grouped by section.
#[utoipa::path(get, path = "/api/events/{id}/seats", tag = "events", params(("id" = i64, Path)),
    responses((status = 200, body = Envelope<SeatMap>), (status = 404, body = ErrorEnvelope)))]
async fn get_seat_map(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<ApiResponse<SeatMap>> {
    Ok(ApiResponse::ok(seatmap::seat_map(&state.db, id, state.clock.now()).await?))
}
