//! Prices per section. While a performance is on sale, a new price reaches the seats nobody
//! holds or bought yet (available, blocked, or held past their time); seats held or sold keep
//! the price their buyer saw. Each repriced seat and the performance's seat map get a new
//! version, so live clients refetch.

use crate::db::Writer;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{event_seats, event_section_prices, events, sections};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    admin::{invalid_transition, lock},
    service::{CANCELLED, PUBLISHED},
};
use crate::{error::AppResult, validate::Checks};

/// Highest price accepted, in VND (one billion dong).
pub const MAX_PRICE: i64 = 1_000_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PricesBody {
    /// Sections listed get these prices; sections not listed keep theirs.
    #[schema(min_items = 1, max_items = 1000)]
    pub prices: Vec<PriceItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceItem {
    #[schema(minimum = 1)]
    pub section_id: i64,
    /// In the currency's minor unit (VND: whole dong), 0 to 1,000,000,000.
    #[schema(minimum = 0, maximum = 1000000000)]
    pub price: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricesOut {
    pub event_id: i64,
    pub prices: Vec<PriceOut>,
    /// Seats of a published performance whose price changed.
    pub seats_repriced: u64,
    /// The seat map's version after the change.
    pub seats_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceOut {
    pub section_id: i64,
    pub price: i64,
    pub currency: String,
}

pub async fn set(db: &Writer, event_id: i64, body: PricesBody, now: DateTime<Utc>) -> AppResult<PricesOut> {
    let mut c = Checks::new();
    if body.prices.is_empty() || body.prices.len() > 1_000 {
        c.fail("prices", "give 1 to 1000 prices");
    }
    let mut seen = HashSet::new();
    for (i, item) in body.prices.iter().enumerate() {
        c.range(&format!("prices[{i}].price"), item.price, 0, MAX_PRICE);
        if !seen.insert(item.section_id) {
            c.fail(&format!("prices[{i}].section_id"), "this section is listed twice");
        }
    }
    c.finish()?;

    let txn = db.begin().await?;
    let event = lock(&txn, event_id).await?;
    if event.status == CANCELLED {
        return Err(invalid_transition("a cancelled event has no prices to change"));
    }
    let venue_sections: HashSet<i64> = sections::Entity::find()
        .filter(sections::Column::VenueId.eq(event.venue_id))
        .filter(sections::Column::IsActive.eq(true))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut c = Checks::new();
    for (i, item) in body.prices.iter().enumerate() {
        if !venue_sections.contains(&item.section_id) {
            c.fail(&format!("prices[{i}].section_id"), "not a section of this event's venue");
        }
    }
    c.finish()?;

    let existing: HashMap<i64, event_section_prices::Model> = event_section_prices::Entity::find()
        .filter(event_section_prices::Column::EventId.eq(event_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.section_id, p))
        .collect();
    let mut changed = Vec::new();
    for item in &body.prices {
        match existing.get(&item.section_id) {
            Some(old) if old.price == item.price => {}
            Some(old) => {
                let mut active: event_section_prices::ActiveModel = old.clone().into();
                active.price = Set(item.price);
                active.updated_at = Set(now);
                active.update(&txn).await?;
                changed.push(item);
            }
            None => {
                event_section_prices::ActiveModel {
                    event_id: Set(event_id),
                    section_id: Set(item.section_id),
                    price: Set(item.price),
                    currency: Set("VND".to_owned()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                changed.push(item);
            }
        }
    }

    let mut seats_repriced = 0;
    let mut seats_version = event.seats_version;
    if event.status == PUBLISHED && !changed.is_empty() {
        // The event row is locked: nobody else bumps the version until we commit.
        let version = event.seats_version + 1;
        for item in &changed {
            seats_repriced += event_seats::Entity::update_many()
                .col_expr(event_seats::Column::Price, Expr::val(item.price))
                .col_expr(event_seats::Column::Version, Expr::val(version))
                .col_expr(event_seats::Column::UpdatedAt, Expr::val(now))
                .filter(event_seats::Column::EventId.eq(event_id))
                .filter(event_seats::Column::SectionId.eq(item.section_id))
                .filter(event_seats::Column::Price.ne(item.price))
                .filter(
                    Condition::any().add(event_seats::Column::Status.is_in(["available", "blocked"])).add(
                        Condition::all()
                            .add(event_seats::Column::Status.eq("held"))
                            .add(event_seats::Column::HeldUntil.lte(now)),
                    ),
                )
                .exec(&txn)
                .await?
                .rows_affected;
        }
        if seats_repriced > 0 {
            events::Entity::update_many()
                .col_expr(events::Column::SeatsVersion, Expr::val(version))
                .col_expr(events::Column::UpdatedAt, Expr::val(now))
                .filter(events::Column::Id.eq(event_id))
                .exec(&txn)
                .await?;
            seats_version = version;
        }
    }
    let mut prices: Vec<PriceOut> = event_section_prices::Entity::find()
        .filter(event_section_prices::Column::EventId.eq(event_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| PriceOut { section_id: p.section_id, price: p.price, currency: p.currency })
        .collect();
    prices.sort_by_key(|p| p.section_id);
    txn.commit().await?;
    Ok(PricesOut { event_id, prices, seats_repriced, seats_version })
}
