//! `seats`: Physical seats of a section.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "seats")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub section_id: i64,
    pub row_label: String,
    pub number: i32,
    /// 0 = the row nearest the stage.
    pub row_index: i32,
    /// Physical position within the row, counting aisle gaps: two seats are
    /// adjacent iff their positions differ by 1.
    pub position: i32,
    pub x: f64,
    pub y: f64,
    /// One of `standard`, `wheelchair`, `companion`, `restricted_view`.
    pub kind: String,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::sections::Entity",
        from = "Column::SectionId",
        to = "super::sections::Column::Id",
        on_delete = "Cascade"
    )]
    Sections,
    #[sea_orm(has_many = "super::event_seats::Entity")]
    EventSeats,
    #[sea_orm(has_many = "super::booking_seats::Entity")]
    BookingSeats,
}

impl Related<super::sections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sections.def()
    }
}

impl Related<super::event_seats::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventSeats.def()
    }
}

impl Related<super::booking_seats::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingSeats.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
