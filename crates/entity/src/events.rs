//! `events`: Events (performances) at a venue.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub venue_id: i64,
    pub category_id: Option<i64>,
    pub title: String,
    pub slug: String,
    pub description: String,
    /// Lower-cased title + description, maintained by the application.
    pub search_text: String,
    pub start_time: DateTimeUtc,
    pub end_time: DateTimeUtc,
    /// One of `draft`, `published`, `cancelled`.
    pub status: String,
    pub is_featured: bool,
    pub sales_start: Option<DateTimeUtc>,
    pub sales_end: Option<DateTimeUtc>,
    /// An `event_images.id` (no foreign key: the reference would be circular).
    pub poster_image_id: Option<i64>,
    pub cancel_reason: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    /// Seat-map version, bumped on every seat change of the event.
    pub seats_version: i64,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::venues::Entity",
        from = "Column::VenueId",
        to = "super::venues::Column::Id",
        on_delete = "Restrict"
    )]
    Venues,
    #[sea_orm(
        belongs_to = "super::categories::Entity",
        from = "Column::CategoryId",
        to = "super::categories::Column::Id",
        on_delete = "SetNull"
    )]
    Categories,
    #[sea_orm(has_many = "super::event_tags::Entity")]
    EventTags,
    #[sea_orm(has_many = "super::event_section_prices::Entity")]
    EventSectionPrices,
    #[sea_orm(has_many = "super::event_images::Entity")]
    EventImages,
    #[sea_orm(has_many = "super::reviews::Entity")]
    Reviews,
    #[sea_orm(has_many = "super::bookings::Entity")]
    Bookings,
    #[sea_orm(has_many = "super::event_seats::Entity")]
    EventSeats,
    #[sea_orm(has_many = "super::tickets::Entity")]
    Tickets,
}

impl Related<super::venues::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Venues.def()
    }
}

impl Related<super::categories::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Categories.def()
    }
}

impl Related<super::event_tags::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventTags.def()
    }
}

impl Related<super::event_section_prices::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventSectionPrices.def()
    }
}

impl Related<super::event_images::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventImages.def()
    }
}

impl Related<super::reviews::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Reviews.def()
    }
}

impl Related<super::bookings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bookings.def()
    }
}

impl Related<super::event_seats::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventSeats.def()
    }
}

impl Related<super::tickets::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tickets.def()
    }
}

impl Related<super::tags::Entity> for Entity {
    fn to() -> RelationDef {
        super::event_tags::Relation::Tags.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::event_tags::Relation::Events.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
