//! Ticket routes: the PDFs of a booking (owner or staff) and check-in (staff).

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    checkin::{self, CheckinOut},
    documents,
};
use crate::{
    accounts::extract::{CurrentUser, Staff},
    app::AppState,
    bookings::queries,
    error::{AppError, AppResult},
    http::{
        ApiJson, ApiPath, ApiResponse,
        envelope::{Envelope, ErrorEnvelope},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tickets_pdf)).routes(routes!(invoice_pdf)).routes(routes!(check_in))
}

fn pdf(bytes: Vec<u8>, filename: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// The e-tickets of a paid booking: one A4 page per seat with its QR code (owner or staff).
#[utoipa::path(get, path = "/api/bookings/{id}/tickets.pdf", tag = "tickets", params(("id" = i64, Path)), security(("bearer" = [])),
    responses(
        (status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`no_tickets`: not paid, or cancelled", body = ErrorEnvelope)))]
async fn tickets_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    download(&state, &user, id, Doc::Tickets).await
}

/// The receipt of a paid booking, with its gapless number (not a Vietnamese e-invoice).
#[utoipa::path(get, path = "/api/bookings/{id}/invoice.pdf", tag = "tickets", params(("id" = i64, Path)), security(("bearer" = [])),
    responses(
        (status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`no_invoice`: not paid", body = ErrorEnvelope)))]
async fn invoice_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    download(&state, &user, id, Doc::Invoice).await
}

#[derive(Clone, Copy)]
enum Doc {
    Tickets,
    Invoice,
}

/// A booking's PDF for its owner or staff, or the 409 saying why it has none yet.
async fn download(state: &AppState, user: &CurrentUser, id: i64, doc: Doc) -> AppResult<Response> {
    let booking = queries::visible(&state.db, user, id).await?;
    let reference = booking.reference.clone();
    let (bytes, name, missing) = match doc {
        Doc::Tickets => (
            documents::tickets_pdf(&state.db, booking).await?,
            "tickets",
            AppError::conflict(
                "no_tickets",
                "This booking has no valid tickets: it is not paid, or was cancelled.",
            ),
        ),
        Doc::Invoice => (
            documents::invoice_pdf(&state.db, booking).await?,
            "invoice",
            AppError::conflict("no_invoice", "This booking has no invoice: it was never paid."),
        ),
    };
    bytes.map(|bytes| pdf(bytes, format!("{name}-{reference}.pdf"))).ok_or(missing)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinBody {
    /// The scanned (or typed) ticket code.
    #[schema(min_length = 1, pattern = "\\S")]
    pub code: String,
    /// The performance this door serves; a ticket for another one answers `wrong_event`.
    #[schema(minimum = 1)]
    pub event_id: Option<i64>,
}

/// Staff: checks a ticket in. `result` is `valid` (admitted now), `already_used` (with when and
/// by whom), `wrong_event`, `cancelled` or `invalid`. Concurrent scans of one ticket admit it once.
#[utoipa::path(post, path = "/api/checkin", tag = "tickets", request_body = CheckinBody, security(("bearer" = ["staff"])),
    responses(
        (status = 200, body = Envelope<CheckinOut>),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
async fn check_in(
    State(state): State<AppState>,
    Staff(staff): Staff,
    ApiJson(body): ApiJson<CheckinBody>,
) -> AppResult<ApiResponse<CheckinOut>> {
    Ok(ApiResponse::ok(checkin::scan(&state, staff.id(), &body.code, body.event_id).await?))
}
