//! Gathers what the tickets and invoice PDFs show from the database and renders them (off the
//! async threads: rendering is CPU work).

use std::collections::HashMap;

use entity::{booking_seats, bookings, events, payments, seats, tickets, users, venues};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    bookings::queries,
    documents::{self, InvoiceDoc, InvoiceLine, TicketPage},
    error::{AppError, AppResult},
    jobs::periodic::local_time,
    mail::templates::Locale,
    payments::settle::invoice_of,
};

struct Context {
    booking: bookings::Model,
    event: events::Model,
    venue: Option<venues::Model>,
    buyer: Option<users::Model>,
    locale: Locale,
}

async fn context<C: ConnectionTrait>(db: &C, booking: bookings::Model) -> AppResult<Context> {
    let event = events::Entity::find_by_id(booking.event_id).one(db).await?.ok_or(AppError::NotFound)?;
    let venue = venues::Entity::find_by_id(event.venue_id).one(db).await?;
    let buyer = users::Entity::find_by_id(booking.user_id).one(db).await?;
    let locale = buyer.as_ref().map(|u| Locale::parse(&u.locale)).unwrap_or_default();
    Ok(Context { booking, event, venue, buyer, locale })
}

impl Context {
    fn starts(&self) -> String {
        let tz = self.venue.as_ref().map(|v| v.time_zone.as_str()).unwrap_or("Asia/Ho_Chi_Minh");
        local_time(self.event.start_time, tz, self.locale)
    }
    fn venue_name(&self) -> String {
        self.venue.as_ref().map(|v| v.name.clone()).unwrap_or_default()
    }
    fn venue_address(&self) -> String {
        self.venue.as_ref().map(|v| format!("{}, {}", v.address, v.city)).unwrap_or_default()
    }
    fn buyer_name(&self) -> String {
        self.buyer.as_ref().map(|u| u.full_name.clone()).unwrap_or_default()
    }
}

/// The tickets PDF of a paid booking (one page per seat); `None` when it has no valid tickets.
pub async fn tickets_pdf<C: ConnectionTrait>(db: &C, booking: bookings::Model) -> AppResult<Option<Vec<u8>>> {
    let issued = tickets::Entity::find()
        .filter(tickets::Column::BookingId.eq(booking.id))
        .filter(tickets::Column::Status.eq("valid"))
        .order_by_asc(tickets::Column::Id)
        .all(db)
        .await?;
    if issued.is_empty() {
        return Ok(None);
    }
    let links: HashMap<i64, i64> = booking_seats::Entity::find()
        .filter(booking_seats::Column::BookingId.eq(booking.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.seat_id))
        .collect();
    let kinds: HashMap<i64, String> = seats::Entity::find()
        .filter(seats::Column::Id.is_in(links.values().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.kind))
        .collect();
    let shaped = queries::one(db, booking.clone()).await?;
    let ctx = context(db, booking).await?;
    let pages: Vec<TicketPage> = issued
        .iter()
        .filter_map(|ticket| {
            let seat_id = links.get(&ticket.booking_seat_id)?;
            let seat = shaped.seats.iter().find(|s| s.seat_id == *seat_id)?;
            Some(TicketPage {
                event_title: ctx.event.title.clone(),
                venue_name: ctx.venue_name(),
                venue_address: ctx.venue_address(),
                starts_at: ctx.starts(),
                section: seat.section_name.clone(),
                row: seat.row.clone(),
                number: seat.number,
                seat_kind: kinds.get(seat_id).cloned().unwrap_or_else(|| "standard".into()),
                price: seat.price,
                currency: ctx.booking.currency.clone(),
                reference: ctx.booking.reference.clone(),
                holder: ctx.buyer_name(),
                code: ticket.code.clone(),
            })
        })
        .collect();
    let locale = ctx.locale;
    render("tickets", move || documents::tickets_pdf(&pages, locale)).await.map(Some)
}

/// The invoice (receipt) PDF of a booking that was paid; `None` before that.
pub async fn invoice_pdf<C: ConnectionTrait>(db: &C, booking: bookings::Model) -> AppResult<Option<Vec<u8>>> {
    let Some(invoice) = invoice_of(db, booking.id).await? else { return Ok(None) };
    let paid = payments::Entity::find()
        .filter(payments::Column::BookingId.eq(booking.id))
        .filter(payments::Column::Status.is_in(["succeeded", "partially_refunded", "refunded"]))
        // The first payment settled is the one that confirmed the booking (a later duplicate
        // found it confirmed and was refunded).
        .order_by_asc(payments::Column::SettledAt)
        .order_by_asc(payments::Column::Id)
        .one(db)
        .await?;
    let shaped = queries::one(db, booking.clone()).await?;
    let ctx = context(db, booking).await?;
    let tz = ctx.venue.as_ref().map(|v| v.time_zone.clone()).unwrap_or_else(|| "Asia/Ho_Chi_Minh".into());
    let (row, seat) = match ctx.locale {
        Locale::Vi => ("Hàng", "Ghế"),
        Locale::En => ("Row", "Seat"),
    };
    let doc = InvoiceDoc {
        number: invoice.number,
        issued_at: local_time(invoice.issued_at, &tz, ctx.locale),
        seller_name: ctx.venue_name(),
        seller_address: ctx.venue_address(),
        buyer_name: ctx.buyer_name(),
        buyer_email: ctx.buyer.as_ref().map(|u| u.email.clone()).unwrap_or_default(),
        reference: ctx.booking.reference.clone(),
        event_title: ctx.event.title.clone(),
        venue_name: ctx.venue_name(),
        starts_at: ctx.starts(),
        lines: shaped
            .seats
            .iter()
            .map(|s| InvoiceLine {
                description: format!("{} · {row} {} · {seat} {}", s.section_name, s.row, s.number),
                quantity: 1,
                unit_price: s.price,
                amount: s.price,
            })
            .collect(),
        total: ctx.booking.total,
        currency: ctx.booking.currency.clone(),
        payment_method: match paid.as_ref().and_then(|p| p.bank_code.clone()) {
            Some(bank) => format!("VNPAY ({bank})"),
            None => "VNPAY".into(),
        },
        transaction_no: paid.as_ref().and_then(|p| p.gateway_transaction_no.clone()),
        paid_at: paid.as_ref().and_then(|p| p.paid_at).map(|t| local_time(t, &tz, ctx.locale)),
        refunded: paid.as_ref().map(|p| p.refunded_amount).unwrap_or(0),
    };
    let locale = ctx.locale;
    render("the invoice", move || documents::invoice_pdf(&doc, locale)).await.map(Some)
}

/// Runs a PDF rendering on the blocking pool (it is CPU work, not for the async threads).
async fn render(
    what: &str,
    work: impl FnOnce() -> Result<Vec<u8>, documents::DocumentError> + Send + 'static,
) -> AppResult<Vec<u8>> {
    let rendered =
        tokio::task::spawn_blocking(work).await.map_err(|e| anyhow::anyhow!("rendering {what}: {e}"))?;
    Ok(rendered.map_err(|e| anyhow::anyhow!("rendering {what}: {e}"))?)
}
