//! `sections`: Sections of a venue's seat map.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    pub display_order: i32,
    pub color: String,
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
        on_delete = "Cascade"
    )]
    Venues,
    #[sea_orm(has_many = "super::seats::Entity")]
    Seats,
    #[sea_orm(has_many = "super::event_section_prices::Entity")]
    EventSectionPrices,
    #[sea_orm(has_many = "super::event_seats::Entity")]
    EventSeats,
}

impl Related<super::venues::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Venues.def()
    }
}

impl Related<super::seats::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Seats.def()
    }
}

impl Related<super::event_section_prices::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventSectionPrices.def()
    }
}

impl Related<super::event_seats::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventSeats.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
