//! Reading bookings: one with its seats, lists for buyers and staff, the audit trail.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{booking_history, booking_seats, bookings, seats, sections};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use super::status::BookingStatus;
use crate::{
    accounts::extract::CurrentUser,
    error::{AppError, AppResult},
    http::{Page, PageRequest},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingSeatOut {
    pub seat_id: i64,
    pub section_id: i64,
    pub section_name: String,
    pub row: String,
    pub number: i32,
    pub price: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingOut {
    pub id: i64,
    /// Short human code, e.g. `CUR-7K3Q9X`.
    pub reference: String,
    pub event_id: i64,
    pub user_id: i64,
    pub status: BookingStatus,
    /// In the currency's minor unit (VND: whole dong).
    pub total: i64,
    pub currency: String,
    /// When the hold runs out while pending.
    pub expires_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub seats: Vec<BookingSeatOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_user_id: Option<i64>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Shapes bookings with their seats (section, row, number) in a fixed number of queries.
pub async fn shape<C: ConnectionTrait>(db: &C, rows: Vec<bookings::Model>) -> AppResult<Vec<BookingOut>> {
    let ids: Vec<i64> = rows.iter().map(|b| b.id).collect();
    let links = booking_seats::Entity::find()
        .filter(booking_seats::Column::BookingId.is_in(ids))
        .order_by_asc(booking_seats::Column::Id)
        .all(db)
        .await?;
    let seat_rows: HashMap<i64, seats::Model> = seats::Entity::find()
        .filter(seats::Column::Id.is_in(links.iter().map(|l| l.seat_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let section_rows: HashMap<i64, sections::Model> = sections::Entity::find()
        .filter(sections::Column::Id.is_in(seat_rows.values().map(|s| s.section_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut seats_of: HashMap<i64, Vec<BookingSeatOut>> = HashMap::new();
    for link in links {
        let Some(seat) = seat_rows.get(&link.seat_id) else { continue };
        let section_name = section_rows.get(&seat.section_id).map(|s| s.name.clone()).unwrap_or_default();
        seats_of.entry(link.booking_id).or_default().push(BookingSeatOut {
            seat_id: seat.id,
            section_id: seat.section_id,
            section_name,
            row: seat.row_label.clone(),
            number: seat.number,
            price: link.price,
        });
    }
    for seats in seats_of.values_mut() {
        seats.sort_by_key(|s| s.seat_id);
    }
    rows.into_iter()
        .map(|b| {
            Ok(BookingOut {
                status: super::status::status_of(&b)?,
                seats: seats_of.remove(&b.id).unwrap_or_default(),
                id: b.id,
                reference: b.reference,
                event_id: b.event_id,
                user_id: b.user_id,
                total: b.total,
                currency: b.currency,
                expires_at: b.expires_at,
                cancel_reason: b.cancel_reason,
                created_at: b.created_at,
                updated_at: b.updated_at,
            })
        })
        .collect()
}

pub async fn one<C: ConnectionTrait>(db: &C, booking: bookings::Model) -> AppResult<BookingOut> {
    shape(db, vec![booking]).await?.pop().ok_or(AppError::NotFound)
}

/// The booking if `user` may see it: its owner, or staff. Anyone else gets 404, as if it did
/// not exist.
pub async fn visible<C: ConnectionTrait>(db: &C, user: &CurrentUser, id: i64) -> AppResult<bookings::Model> {
    bookings::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|b| b.user_id == user.id() || user.is_staff())
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Default)]
pub struct BookingFilter {
    pub event: Option<i64>,
    pub status: Option<&'static str>,
    pub user: Option<i64>,
    pub reference: Option<String>,
    pub page: PageRequest,
}

/// A customer's own bookings; staff see everyone's and may filter by user.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: &CurrentUser,
    filter: &BookingFilter,
) -> AppResult<Page<BookingOut>> {
    let mut query = bookings::Entity::find();
    if !viewer.is_staff() {
        query = query.filter(bookings::Column::UserId.eq(viewer.id()));
    } else if let Some(user) = filter.user {
        query = query.filter(bookings::Column::UserId.eq(user));
    }
    if let Some(event) = filter.event {
        query = query.filter(bookings::Column::EventId.eq(event));
    }
    if let Some(status) = filter.status {
        query = query.filter(bookings::Column::Status.eq(status));
    }
    if let Some(reference) = &filter.reference {
        query = query.filter(bookings::Column::Reference.eq(reference.to_uppercase()));
    }
    let page = filter.page;
    let paginator = query.order_by_desc(bookings::Column::Id).paginate(db, page.page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    Ok(page.of(shape(db, rows).await?, total))
}

pub async fn history<C: ConnectionTrait>(db: &C, booking_id: i64) -> AppResult<Vec<HistoryOut>> {
    Ok(booking_history::Entity::find()
        .filter(booking_history::Column::BookingId.eq(booking_id))
        .order_by_asc(booking_history::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|h| HistoryOut {
            from_status: h.from_status,
            to_status: h.to_status,
            actor_user_id: h.actor_user_id,
            reason: h.reason,
            at: h.at,
        })
        .collect())
}
