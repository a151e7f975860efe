//! `payments`: Payments of bookings through a gateway (VNPay).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub booking_id: i64,
    pub gateway: String,
    pub txn_ref: String,
    pub amount: i64,
    pub currency: String,
    /// One of `initiated`, `succeeded`, `failed`, `refunded`, `partially_refunded`.
    pub status: String,
    pub refunded_amount: i64,
    pub gateway_transaction_no: Option<String>,
    pub bank_code: Option<String>,
    pub response_code: Option<String>,
    pub transaction_status: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub raw_callback: Option<Json>,
    /// The `vnp_CreateDate` sent to the gateway (needed by querydr and refund).
    pub create_date: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub settled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::bookings::Entity",
        from = "Column::BookingId",
        to = "super::bookings::Column::Id",
        on_delete = "Restrict"
    )]
    Bookings,
    #[sea_orm(has_many = "super::refunds::Entity")]
    Refunds,
}

impl Related<super::bookings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Bookings.def()
    }
}

impl Related<super::refunds::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Refunds.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
