//! Per-seat edits and the staff seat list: a seat's kind (standard, wheelchair, companion,
//! restricted view) and whether it exists any more. Capacity follows in the same transaction.
//! Performances already published keep their seats: take a seat out of one by blocking it there.

use crate::db::{Reader, Writer};
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{seats, sections};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    sections::find_section,
    service::{find_active, refresh_capacity},
};
use crate::{
    error::{AppError, AppResult, ErrorItem},
    validate::Checks,
};

/// Seat ids are checked and updated in slices that stay under both databases' bind limits.
const ID_CHUNK: usize = 5_000;
const MAX_SEAT_IDS: usize = 100_000;

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeatKind {
    Standard,
    Wheelchair,
    Companion,
    RestrictedView,
}

impl SeatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Wheelchair => "wheelchair",
            Self::Companion => "companion",
            Self::RestrictedView => "restricted_view",
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatsPatch {
    /// Seats of this venue, 1 to 100,000 ids.
    #[schema(min_items = 1, max_items = 100000)]
    pub seat_ids: Vec<i64>,
    pub kind: Option<SeatKind>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatOut {
    pub id: i64,
    pub section_id: i64,
    pub row: String,
    pub number: i32,
    pub row_index: i32,
    pub position: i32,
    pub x: f64,
    pub y: f64,
    pub kind: String,
    pub is_active: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatsUpdated {
    pub updated: u64,
    pub venue_capacity: i32,
}

/// Every seat of a section, inactive ones included, front row first.
pub async fn seats_of(db: &Reader, venue_id: i64, section_id: i64) -> AppResult<Vec<SeatOut>> {
    find_section(db, venue_id, section_id).await?;
    Ok(seats::Entity::find()
        .filter(seats::Column::SectionId.eq(section_id))
        .order_by_asc(seats::Column::RowIndex)
        .order_by_asc(seats::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|s| SeatOut {
            id: s.id,
            section_id: s.section_id,
            row: s.row_label,
            number: s.number,
            row_index: s.row_index,
            position: s.position,
            x: s.x,
            y: s.y,
            kind: s.kind,
            is_active: s.is_active,
        })
        .collect())
}

/// Changes the kind or active flag of seats of this venue; ids of other venues' seats (or of no
/// seat) are refused by name and nothing changes.
pub async fn update_seats(
    db: &Writer,
    venue_id: i64,
    patch: SeatsPatch,
    now: DateTime<Utc>,
) -> AppResult<SeatsUpdated> {
    let mut ids = patch.seat_ids;
    ids.sort_unstable();
    ids.dedup();
    let mut c = Checks::new();
    if ids.is_empty() || ids.len() > MAX_SEAT_IDS {
        c.fail("seat_ids", format!("give 1 to {MAX_SEAT_IDS} seat ids"));
    }
    if patch.kind.is_none() && patch.is_active.is_none() {
        c.fail("kind", "give kind or is_active");
    }
    c.finish()?;
    find_active(db, venue_id).await?;

    let txn = db.begin().await?;
    let venue_sections = sea_orm::sea_query::Query::select()
        .column(sections::Column::Id)
        .from(sections::Entity)
        .and_where(sections::Column::VenueId.eq(venue_id))
        .to_owned();
    let mut found = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<i64> = seats::Entity::find()
            .select_only()
            .column(seats::Column::Id)
            .filter(seats::Column::Id.is_in(chunk.iter().copied()))
            .filter(seats::Column::SectionId.in_subquery(venue_sections.clone()))
            .into_tuple()
            .all(&txn)
            .await?;
        found.extend(rows);
    }
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !found.contains(id)).collect();
    if !missing.is_empty() {
        let shown: Vec<i64> = missing.iter().copied().take(100).collect();
        return Err(AppError::Validation(vec![
            ErrorItem::field(
                "seat_ids",
                format!("{} ids are not seats of this venue: {shown:?}", missing.len()),
            )
            .with_detail("seat_ids", serde_json::json!(shown)),
        ]));
    }
    let mut updated = 0;
    for chunk in ids.chunks(ID_CHUNK) {
        let mut update = seats::Entity::update_many()
            .col_expr(seats::Column::UpdatedAt, Expr::val(now))
            .filter(seats::Column::Id.is_in(chunk.iter().copied()));
        if let Some(kind) = patch.kind {
            update = update.col_expr(seats::Column::Kind, Expr::val(kind.as_str()));
        }
        if let Some(active) = patch.is_active {
            update = update.col_expr(seats::Column::IsActive, Expr::val(active));
        }
        updated += update.exec(&txn).await?.rows_affected;
    }
    let venue_capacity = refresh_capacity(&txn, venue_id, now).await?;
    txn.commit().await?;
    Ok(SeatsUpdated { updated, venue_capacity })
}
