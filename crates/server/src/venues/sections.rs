//! Staff management of a venue's sections: generated from a layout (or a layout added to an
//! existing section), renamed, reordered, soft-deleted and restored. Every change refreshes
//! the venue's derived capacity in the same transaction, and a failure leaves nothing written.
//!
//! Published performances are never touched: their `event_seats` rows were copied at publish.
//! A seat's physical facts (kind, position) show on every map; to take a seat out of a
//! performance already on sale, staff block it for that performance instead.

use crate::db::Writer;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{seats, sections, venues};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    layout::{GeneratedSeat, LayoutSpec, row_index_of},
    seats::SeatKind,
    service::{find_active, insert_seats, refresh_capacity},
};
use crate::{
    error::{AppError, AppResult, ErrorItem, is_unique_violation},
    validate::Checks,
};

/// Seats of one row given a kind other than `standard` while the layout is generated.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatKindRule {
    pub row: String,
    pub numbers: Vec<i32>,
    pub kind: SeatKind,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionBody {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// `#rrggbb`; default `#888888`.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
    /// Where the section sits in lists; default after the others.
    #[schema(minimum = 0, maximum = 10000)]
    pub display_order: Option<i32>,
    pub layout: LayoutSpec,
    pub seat_kinds: Option<Vec<SeatKindRule>>,
}

/// More seats for an existing section; they must not share a row and number, or a row and
/// position, with its seats.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatsBody {
    pub layout: LayoutSpec,
    pub seat_kinds: Option<Vec<SeatKindRule>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionPatch {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
    #[schema(minimum = 0, maximum = 10000)]
    pub display_order: Option<i32>,
    /// `true` restores a deleted section.
    pub is_active: Option<bool>,
}

/// A section as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionAdminOut {
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    pub color: String,
    pub display_order: i32,
    pub is_active: bool,
    /// Active seats of the section.
    pub seat_count: u64,
    /// The venue's capacity after the change.
    pub venue_capacity: i32,
}

fn check_color(c: &mut Checks, color: &str) -> String {
    let color = color.trim().to_lowercase();
    let hex = color.strip_prefix('#').unwrap_or("");
    if !(hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())) {
        c.fail("color", "must be a colour like #1f6feb");
    }
    color
}

/// Generates the layout and the kind of every seat; rules naming seats the layout lacks fail.
fn generate(layout: &LayoutSpec, rules: &[SeatKindRule], c: &mut Checks) -> (Vec<GeneratedSeat>, KindMap) {
    let seats = match layout.generate() {
        Ok(seats) => seats,
        Err(AppError::Validation(items)) => {
            items.into_iter().for_each(|i| c.push(i));
            Vec::new()
        }
        Err(other) => {
            c.fail("layout", other.to_string());
            Vec::new()
        }
    };
    let present: HashSet<(&str, i32)> = seats.iter().map(|s| (s.row_label.as_str(), s.number)).collect();
    let mut kinds = HashMap::new();
    for (i, rule) in rules.iter().enumerate() {
        let missing: Vec<i32> =
            rule.numbers.iter().copied().filter(|n| !present.contains(&(rule.row.as_str(), *n))).collect();
        if !seats.is_empty() && !missing.is_empty() {
            c.fail(&format!("seat_kinds[{i}].numbers"), format!("row {} has no seats {missing:?}", rule.row));
        }
        for n in &rule.numbers {
            kinds.insert((rule.row.clone(), *n), rule.kind.as_str());
        }
    }
    (seats, kinds)
}

type KindMap = HashMap<(String, i32), &'static str>;

fn kind_of(kinds: &KindMap) -> impl Fn(&GeneratedSeat) -> &'static str + '_ {
    |s| kinds.get(&(s.row_label.clone(), s.number)).copied().unwrap_or("standard")
}

fn name_taken() -> AppError {
    AppError::Conflict(
        ErrorItem::new(
            "section_name_taken",
            "This venue already has a section with this name (a deleted one can be restored with is_active).",
        )
        .with_detail("field", "name"),
    )
}

async fn active_seat_count(db: &impl ConnectionTrait, section_id: i64) -> AppResult<u64> {
    Ok(seats::Entity::find()
        .filter(seats::Column::SectionId.eq(section_id))
        .filter(seats::Column::IsActive.eq(true))
        .count(db)
        .await?)
}

async fn out(db: &impl ConnectionTrait, s: sections::Model, capacity: i32) -> AppResult<SectionAdminOut> {
    Ok(SectionAdminOut {
        seat_count: active_seat_count(db, s.id).await?,
        venue_capacity: capacity,
        id: s.id,
        venue_id: s.venue_id,
        name: s.name,
        color: s.color,
        display_order: s.display_order,
        is_active: s.is_active,
    })
}

/// A section of an active venue (deleted sections included: they can be restored), or 404.
pub(super) async fn find_section(
    db: &impl ConnectionTrait,
    venue_id: i64,
    section_id: i64,
) -> AppResult<sections::Model> {
    sections::Entity::find_by_id(section_id)
        .filter(sections::Column::VenueId.eq(venue_id))
        .filter(
            sections::Column::VenueId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(venues::Column::Id)
                    .from(venues::Entity)
                    .and_where(venues::Column::IsActive.eq(true))
                    .to_owned(),
            ),
        )
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A new section with its generated seats, all in one transaction.
pub async fn create(
    db: &Writer,
    venue_id: i64,
    body: SectionBody,
    now: DateTime<Utc>,
) -> AppResult<SectionAdminOut> {
    let mut c = Checks::new();
    let name = c.text("name", &body.name, 1, 100);
    let color = body.color.as_deref().map(|v| check_color(&mut c, v));
    if let Some(order) = body.display_order {
        c.range("display_order", order.into(), 0, 10_000);
    }
    let (generated, kinds) = generate(&body.layout, body.seat_kinds.as_deref().unwrap_or_default(), &mut c);
    c.finish()?;
    find_active(db, venue_id).await?;

    let txn = db.begin().await?;
    let same_name = sections::Entity::find()
        .filter(sections::Column::VenueId.eq(venue_id))
        .filter(sections::Column::Name.eq(&name));
    if same_name.one(&txn).await?.is_some() {
        return Err(name_taken());
    }
    let display_order = match body.display_order {
        Some(order) => order,
        None => {
            let last: Option<i32> = sections::Entity::find()
                .select_only()
                .column_as(sections::Column::DisplayOrder.max(), "m")
                .filter(sections::Column::VenueId.eq(venue_id))
                .into_tuple::<Option<i32>>()
                .one(&txn)
                .await?
                .flatten();
            last.map_or(0, |n| n + 1)
        }
    };
    let inserted = sections::ActiveModel {
        venue_id: Set(venue_id),
        name: Set(name),
        display_order: Set(display_order),
        color: Set(color.unwrap_or_else(|| "#888888".to_owned())),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let section = match inserted {
        Ok(s) => s,
        Err(err) if is_unique_violation(&err) => return Err(name_taken()),
        Err(err) => return Err(err.into()),
    };
    insert_seats(&txn, section.id, &generated, kind_of(&kinds), now).await?;
    let capacity = refresh_capacity(&txn, venue_id, now).await?;
    let result = out(&txn, section, capacity).await?;
    txn.commit().await?;
    Ok(result)
}

/// Adds a layout's seats to an existing section. Row indexes continue the section's own
/// lettering (row `K` of a section whose front row `A` has index 0 gets index 10), so rows
/// stay ordered from the stage whichever request created them.
pub async fn add_seats(
    db: &Writer,
    venue_id: i64,
    section_id: i64,
    body: SeatsBody,
    now: DateTime<Utc>,
) -> AppResult<SectionAdminOut> {
    let mut c = Checks::new();
    let (mut generated, kinds) =
        generate(&body.layout, body.seat_kinds.as_deref().unwrap_or_default(), &mut c);
    c.finish()?;
    let section = find_section(db, venue_id, section_id).await?;
    if !section.is_active {
        return Err(AppError::NotFound);
    }

    let txn = db.begin().await?;
    let existing: Vec<(String, i32, i32, i32)> = seats::Entity::find()
        .select_only()
        .columns([
            seats::Column::RowLabel,
            seats::Column::Number,
            seats::Column::RowIndex,
            seats::Column::Position,
        ])
        .filter(seats::Column::SectionId.eq(section_id))
        .into_tuple()
        .all(&txn)
        .await?;
    // Offset between a row's letters and its index in this section.
    let base = existing
        .iter()
        .find_map(|(label, _, index, _)| row_index_of(label).map(|i| i as i32 - index))
        .or_else(|| {
            generated.first().and_then(|s| row_index_of(&s.row_label).map(|i| i as i32 - s.row_index))
        })
        .unwrap_or(0);
    for seat in &mut generated {
        seat.row_index = row_index_of(&seat.row_label).map_or(seat.row_index, |i| i as i32 - base);
    }
    let numbers: HashSet<(&str, i32)> = existing.iter().map(|(l, n, _, _)| (l.as_str(), *n)).collect();
    let places: HashSet<(i32, i32)> = existing.iter().map(|(_, _, r, p)| (*r, *p)).collect();
    let clashes: Vec<String> = generated
        .iter()
        .filter(|s| {
            numbers.contains(&(s.row_label.as_str(), s.number)) || places.contains(&(s.row_index, s.position))
        })
        .map(|s| format!("{}{}", s.row_label, s.number))
        .collect();
    if !clashes.is_empty() {
        return Err(overlap(&clashes));
    }
    match insert_seats(&txn, section_id, &generated, kind_of(&kinds), now).await {
        Ok(()) => {}
        Err(err) if err.is_unique_violation() => return Err(overlap(&[])),
        Err(err) => return Err(err),
    }
    let capacity = refresh_capacity(&txn, venue_id, now).await?;
    let result = out(&txn, section, capacity).await?;
    txn.commit().await?;
    Ok(result)
}

fn overlap(clashes: &[String]) -> AppError {
    let shown: Vec<&String> = clashes.iter().take(50).collect();
    AppError::Conflict(
        ErrorItem::new(
            "seats_overlap",
            format!(
                "{} seats of this layout already exist in the section (same row and number, or same place in the row)",
                clashes.len()
            ),
        )
        .with_detail("field", "layout")
        .with_detail("seats", serde_json::json!(shown)),
    )
}

pub async fn update(
    db: &Writer,
    venue_id: i64,
    section_id: i64,
    patch: SectionPatch,
    now: DateTime<Utc>,
) -> AppResult<SectionAdminOut> {
    let mut c = Checks::new();
    let name = patch.name.as_deref().map(|v| c.text("name", v, 1, 100));
    let color = patch.color.as_deref().map(|v| check_color(&mut c, v));
    if let Some(order) = patch.display_order {
        c.range("display_order", order.into(), 0, 10_000);
    }
    c.finish()?;
    let section = find_section(db, venue_id, section_id).await?;
    let txn = db.begin().await?;
    if let Some(name) = &name {
        let clash = sections::Entity::find()
            .filter(sections::Column::VenueId.eq(venue_id))
            .filter(sections::Column::Name.eq(name))
            .filter(sections::Column::Id.ne(section_id))
            .one(&txn)
            .await?;
        if clash.is_some() {
            return Err(name_taken());
        }
    }
    let mut active: sections::ActiveModel = section.into();
    if let Some(v) = name {
        active.name = Set(v);
    }
    if let Some(v) = color {
        active.color = Set(v);
    }
    if let Some(v) = patch.display_order {
        active.display_order = Set(v);
    }
    if let Some(v) = patch.is_active {
        active.is_active = Set(v);
    }
    active.updated_at = Set(now);
    let section = match active.update(&txn).await {
        Ok(s) => s,
        Err(err) if is_unique_violation(&err) => return Err(name_taken()),
        Err(err) => return Err(err.into()),
    };
    let capacity = refresh_capacity(&txn, venue_id, now).await?;
    let result = out(&txn, section, capacity).await?;
    txn.commit().await?;
    Ok(result)
}

/// Soft delete: the section leaves the venue's maps and capacity; its seats stay for history.
pub async fn delete(db: &Writer, venue_id: i64, section_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let patch = SectionPatch { is_active: Some(false), ..Default::default() };
    update(db, venue_id, section_id, patch, now).await.map(|_| ())
}
