//! `venues`: Venues (theaters).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "venues")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub address: String,
    pub city: String,
    /// IANA time zone name.
    pub time_zone: String,
    pub capacity: i32,
    pub description: String,
    /// JSON array of strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub amenities: Json,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::venue_images::Entity")]
    VenueImages,
    #[sea_orm(has_many = "super::sections::Entity")]
    Sections,
    #[sea_orm(has_many = "super::events::Entity")]
    Events,
}

impl Related<super::venue_images::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::VenueImages.def()
    }
}

impl Related<super::sections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sections.def()
    }
}

impl Related<super::events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Events.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
