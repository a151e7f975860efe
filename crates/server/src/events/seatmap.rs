//! The seat map of a performance (SPEC §6): every seat with its price and status, grouped by
//! section with the section's price and available count.

use crate::db::Reader;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{event_seats, event_section_prices, seats, sections};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{error::AppResult, events::service::find_public};

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatMap {
    pub event_id: i64,
    /// Grows with every change of this performance's seats.
    pub version: i64,
    pub sections: Vec<SeatMapSection>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatMapSection {
    pub id: i64,
    pub name: String,
    pub color: String,
    /// The section's price (a seat's own price may differ if it was sold before a price change).
    pub price: Option<i64>,
    /// Seats a buyer can take now.
    pub available: u64,
    pub seats: Vec<SeatMapSeat>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatMapSeat {
    /// The seat's id: the value bookings use in `seat_ids`.
    pub id: i64,
    pub row: String,
    pub number: i32,
    pub x: f64,
    pub y: f64,
    /// `standard`, `wheelchair`, `companion` or `restricted_view`.
    pub kind: String,
    pub price: i64,
    /// `available`, `held`, `sold` or `blocked`; a hold past its time shows as `available`.
    pub status: String,
}

/// What a buyer sees of an event seat's status at `now`: an expired hold is available.
pub fn visible_status(seat: &event_seats::Model, now: DateTime<Utc>) -> &str {
    match (seat.status.as_str(), seat.held_until) {
        ("held", Some(until)) if until <= now => "available",
        (status, _) => status,
    }
}

pub async fn seat_map(db: &Reader, event_id: i64, now: DateTime<Utc>) -> AppResult<SeatMap> {
    let event = find_public(db, event_id).await?;
    Ok(seat_map_of(db, &event, now).await?.0)
}

/// The seat map of `event`, and when it next changes by itself (the earliest running hold lapses).
pub async fn seat_map_of(
    db: &Reader,
    event: &entity::events::Model,
    now: DateTime<Utc>,
) -> AppResult<(SeatMap, Option<DateTime<Utc>>)> {
    let event_id = event.id;
    let rows = event_seats::Entity::find()
        .filter(event_seats::Column::EventId.eq(event_id))
        .find_also_related(seats::Entity)
        .order_by_asc(event_seats::Column::SectionId)
        .order_by_asc(event_seats::Column::Id)
        .all(db)
        .await?;
    let section_rows = sections::Entity::find()
        .filter(sections::Column::VenueId.eq(event.venue_id))
        .order_by_asc(sections::Column::DisplayOrder)
        .order_by_asc(sections::Column::Id)
        .all(db)
        .await?;
    let prices: BTreeMap<i64, i64> = event_section_prices::Entity::find()
        .filter(event_section_prices::Column::EventId.eq(event_id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.section_id, p.price))
        .collect();

    let mut rows: Vec<(event_seats::Model, seats::Model)> =
        rows.into_iter().filter_map(|(es, seat)| Some((es, seat?))).collect();
    // Front row first, then left to right: the order a seat map is read in.
    rows.sort_by_key(|(_, seat)| (seat.row_index, seat.position));
    let mut by_section: BTreeMap<i64, Vec<SeatMapSeat>> = BTreeMap::new();
    let next_lapse = rows
        .iter()
        .filter(|(es, _)| es.status == "held")
        .filter_map(|(es, _)| es.held_until)
        .filter(|until| *until > now)
        .min();
    for (event_seat, seat) in rows {
        by_section.entry(event_seat.section_id).or_default().push(SeatMapSeat {
            id: seat.id,
            row: seat.row_label,
            number: seat.number,
            x: seat.x,
            y: seat.y,
            kind: seat.kind,
            price: event_seat.price,
            status: visible_status(&event_seat, now).to_owned(),
        });
    }
    let sections = section_rows
        .into_iter()
        .filter_map(|s| {
            let seats = by_section.remove(&s.id)?;
            Some(SeatMapSection {
                available: seats.iter().filter(|seat| seat.status == "available").count() as u64,
                price: prices.get(&s.id).copied(),
                id: s.id,
                name: s.name,
                color: s.color,
                seats,
            })
        })
        .collect();
    Ok((SeatMap { event_id, version: event.seats_version, sections }, next_lapse))
}
