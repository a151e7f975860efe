//! `bookings`: Bookings (orders) of seats for an event.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub event_id: i64,
    /// One of `pending`, `confirmed`, `completed`, `expired`, `cancelled`, `refunded`.
    pub status: String,
    pub total: i64,
    pub currency: String,
    pub expires_at: Option<DateTimeUtc>,
    pub reference: String,
    pub cancel_reason: Option<String>,
    /// The client address the booking was made from (behind trusted proxies): seats held at once
    /// are capped per address and performance.
    pub client_ip: Option<String>,
    /// When the day-before reminder was queued (once per booking).
    pub reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id",
        on_delete = "Restrict"
    )]
    Users,
    #[sea_orm(
        belongs_to = "super::events::Entity",
        from = "Column::EventId",
        to = "super::events::Column::Id",
        on_delete = "Restrict"
    )]
    Events,
    #[sea_orm(has_many = "super::event_seats::Entity")]
    EventSeats,
    #[sea_orm(has_many = "super::booking_seats::Entity")]
    BookingSeats,
    #[sea_orm(has_many = "super::booking_history::Entity")]
    BookingHistory,
    #[sea_orm(has_many = "super::payments::Entity")]
    Payments,
    #[sea_orm(has_one = "super::invoices::Entity")]
    Invoices,
    #[sea_orm(has_many = "super::tickets::Entity")]
    Tickets,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl Related<super::events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Events.def()
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

impl Related<super::booking_history::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BookingHistory.def()
    }
}

impl Related<super::payments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Payments.def()
    }
}

impl Related<super::invoices::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Invoices.def()
    }
}

impl Related<super::tickets::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tickets.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
