//! Reading venues and their sections.

use crate::db::Reader;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{seats, sections, venues};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::{AppError, AppResult},
    http::{Page, PageRequest},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueOut {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub address: String,
    pub city: String,
    /// IANA time zone the venue's times are shown in.
    pub time_zone: String,
    /// Number of active seats, derived from the layout.
    pub capacity: i32,
    pub description: String,
    pub amenities: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionOut {
    pub id: i64,
    pub name: String,
    pub display_order: i32,
    pub color: String,
    /// Active seats in this section.
    pub seat_count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueDetail {
    #[serde(flatten)]
    pub venue: VenueOut,
    pub sections: Vec<SectionOut>,
}

impl From<venues::Model> for VenueOut {
    fn from(v: venues::Model) -> Self {
        let amenities = serde_json::from_value(v.amenities).unwrap_or_default();
        Self {
            id: v.id,
            name: v.name,
            slug: v.slug,
            address: v.address,
            city: v.city,
            time_zone: v.time_zone,
            capacity: v.capacity,
            description: v.description,
            amenities,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

pub async fn list(db: &Reader, page: PageRequest, city: Option<String>) -> AppResult<Page<VenueOut>> {
    let mut query = venues::Entity::find().filter(venues::Column::IsActive.eq(true));
    if let Some(city) = city {
        query = query.filter(venues::Column::City.eq(city));
    }
    let paginator = query
        .order_by_asc(venues::Column::Name)
        .order_by_asc(venues::Column::Id)
        .paginate(db, page.page_size);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page.page - 1).await?;
    Ok(page.of(items.into_iter().map(VenueOut::from).collect(), total))
}

/// An active venue, or 404.
pub async fn find_active(db: &impl ConnectionTrait, id: i64) -> AppResult<venues::Model> {
    venues::Entity::find_by_id(id)
        .filter(venues::Column::IsActive.eq(true))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn detail(db: &Reader, id: i64) -> AppResult<VenueDetail> {
    let venue = find_active(db, id).await?;
    let sections = sections::Entity::find()
        .filter(sections::Column::VenueId.eq(id))
        .filter(sections::Column::IsActive.eq(true))
        .order_by_asc(sections::Column::DisplayOrder)
        .order_by_asc(sections::Column::Id)
        .all(db)
        .await?;
    let counts: HashMap<i64, i64> = seats::Entity::find()
        .select_only()
        .column(seats::Column::SectionId)
        .column_as(seats::Column::Id.count(), "n")
        .filter(seats::Column::SectionId.is_in(sections.iter().map(|s| s.id)))
        .filter(seats::Column::IsActive.eq(true))
        .group_by(seats::Column::SectionId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let sections = sections
        .into_iter()
        .map(|s| SectionOut {
            seat_count: counts.get(&s.id).copied().unwrap_or(0) as u64,
            id: s.id,
            name: s.name,
            display_order: s.display_order,
            color: s.color,
        })
        .collect();
    Ok(VenueDetail { venue: venue.into(), sections })
}

/// Recomputes a venue's capacity from its active seats in active sections.
pub async fn refresh_capacity<C: crate::db::Writes>(
    db: &C,
    venue_id: i64,
    now: DateTime<Utc>,
) -> AppResult<i32> {
    let capacity = seats::Entity::find()
        .filter(seats::Column::IsActive.eq(true))
        .filter(
            seats::Column::SectionId.in_subquery(
                sea_query::Query::select()
                    .column(sections::Column::Id)
                    .from(sections::Entity)
                    .and_where(sections::Column::VenueId.eq(venue_id))
                    .and_where(sections::Column::IsActive.eq(true))
                    .to_owned(),
            ),
        )
        .count(db)
        .await? as i32;
    venues::Entity::update_many()
        .col_expr(venues::Column::Capacity, sea_query::Expr::val(capacity))
        .col_expr(venues::Column::UpdatedAt, sea_query::Expr::val(now))
        .filter(venues::Column::Id.eq(venue_id))
        .exec(db)
        .await?;
    Ok(capacity)
}

/// Inserts generated seats for a section in chunks that stay under both databases' bind limits.
pub async fn insert_seats<C: crate::db::Writes>(
    db: &C,
    section_id: i64,
    seats_in: &[super::layout::GeneratedSeat],
    kind_of: impl Fn(&super::layout::GeneratedSeat) -> &'static str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use sea_orm::ActiveValue::Set;
    for chunk in seats_in.chunks(2_000) {
        let rows = chunk.iter().map(|s| seats::ActiveModel {
            section_id: Set(section_id),
            row_label: Set(s.row_label.clone()),
            number: Set(s.number),
            row_index: Set(s.row_index),
            position: Set(s.position),
            x: Set(s.x),
            y: Set(s.y),
            kind: Set(kind_of(s).to_owned()),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        seats::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}
