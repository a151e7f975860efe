//! Check-in: one conditional update decides, so two scanners reading the same ticket at the
//! same moment admit it once.

use chrono::{DateTime, Utc};
use entity::{booking_seats, bookings, events, seats, sections, tickets, users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde::Serialize;
use utoipa::ToSchema;

use super::codes;
use crate::{
    app::AppState,
    error::{AppError, AppResult},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckinResult {
    /// Admitted now.
    Valid,
    /// Admitted before (see `checked_in_at`, `checked_in_by`).
    AlreadyUsed,
    /// A real ticket, for another performance.
    WrongEvent,
    /// The booking was cancelled or refunded.
    Cancelled,
    /// Not a ticket code we issued.
    Invalid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffRef {
    pub id: i64,
    pub full_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketInfo {
    pub id: i64,
    pub booking_id: i64,
    pub reference: String,
    pub event_id: i64,
    pub event_title: String,
    pub section: String,
    pub row: String,
    pub number: i32,
    pub holder: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinOut {
    pub result: CheckinResult,
    /// A line the scanner can show as it is.
    pub message: String,
    pub ticket: Option<TicketInfo>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_in_by: Option<StaffRef>,
}

fn outcome(result: CheckinResult, message: &str) -> CheckinOut {
    CheckinOut { result, message: message.to_owned(), ticket: None, checked_in_at: None, checked_in_by: None }
}

/// Scans `code` at the door of `event_id` (when the scanner says which performance it serves).
pub async fn scan(
    state: &AppState,
    staff_id: i64,
    code: &str,
    event_id: Option<i64>,
) -> AppResult<CheckinOut> {
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::invalid("code", "scan or type the ticket code"));
    }
    if !state.tickets.verify(code) || code.len() > codes::MAX_LEN {
        return Ok(outcome(CheckinResult::Invalid, "Not a valid ticket."));
    }
    let Some(ticket) = tickets::Entity::find().filter(tickets::Column::Code.eq(code)).one(&state.db).await?
    else {
        return Ok(outcome(CheckinResult::Invalid, "Not a valid ticket."));
    };
    let booking =
        bookings::Entity::find_by_id(ticket.booking_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let booking_live = matches!(booking.status.as_str(), "confirmed" | "completed");
    let info = describe(&state.db, &ticket, booking).await?;
    let mut out = if ticket.status != "valid" || !booking_live {
        outcome(CheckinResult::Cancelled, "This ticket was cancelled.")
    } else if event_id.is_some_and(|e| e != ticket.event_id) {
        outcome(CheckinResult::WrongEvent, "This ticket is for another performance.")
    } else {
        let now = state.clock.now();
        let admitted = tickets::Entity::update_many()
            .col_expr(tickets::Column::CheckedInAt, Expr::val(Some(now)))
            .col_expr(tickets::Column::CheckedInBy, Expr::val(Some(staff_id)))
            .col_expr(tickets::Column::UpdatedAt, Expr::val(now))
            .filter(tickets::Column::Id.eq(ticket.id))
            .filter(tickets::Column::Status.eq("valid"))
            .filter(tickets::Column::CheckedInAt.is_null())
            .exec(&state.writer)
            .await?
            .rows_affected
            == 1;
        if admitted {
            metrics::counter!("curtain_checkins_total").increment(1);
            let mut out = outcome(CheckinResult::Valid, "Welcome! Ticket valid.");
            out.checked_in_at = Some(now);
            out.checked_in_by = staff(&state.db, Some(staff_id)).await?;
            out
        } else {
            let fresh =
                tickets::Entity::find_by_id(ticket.id).one(&state.writer).await?.ok_or(AppError::NotFound)?;
            let mut out = if fresh.status == "valid" {
                outcome(CheckinResult::AlreadyUsed, "Already checked in.")
            } else {
                // Cancelled between the first read and the update.
                outcome(CheckinResult::Cancelled, "This ticket was cancelled.")
            };
            out.checked_in_at = fresh.checked_in_at;
            out.checked_in_by = staff(&state.db, fresh.checked_in_by).await?;
            out
        }
    };
    if out.result == CheckinResult::Cancelled && ticket.checked_in_at.is_some() {
        out.checked_in_at = ticket.checked_in_at;
    }
    out.ticket = Some(info);
    Ok(out)
}

async fn staff<C: ConnectionTrait>(db: &C, id: Option<i64>) -> AppResult<Option<StaffRef>> {
    let Some(id) = id else { return Ok(None) };
    Ok(users::Entity::find_by_id(id).one(db).await?.map(|u| StaffRef { id: u.id, full_name: u.full_name }))
}

async fn describe<C: ConnectionTrait>(
    db: &C,
    ticket: &tickets::Model,
    booking: bookings::Model,
) -> AppResult<TicketInfo> {
    let event = events::Entity::find_by_id(ticket.event_id).one(db).await?.ok_or(AppError::NotFound)?;
    let link =
        booking_seats::Entity::find_by_id(ticket.booking_seat_id).one(db).await?.ok_or(AppError::NotFound)?;
    let seat = seats::Entity::find_by_id(link.seat_id).one(db).await?.ok_or(AppError::NotFound)?;
    let section =
        sections::Entity::find_by_id(seat.section_id).one(db).await?.map(|s| s.name).unwrap_or_default();
    let holder =
        users::Entity::find_by_id(booking.user_id).one(db).await?.map(|u| u.full_name).unwrap_or_default();
    Ok(TicketInfo {
        id: ticket.id,
        booking_id: booking.id,
        reference: booking.reference,
        event_id: event.id,
        event_title: event.title,
        section,
        row: seat.row_label,
        number: seat.number,
        holder,
    })
}
