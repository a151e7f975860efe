//! `users`: User accounts (customers, staff and administrators).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stored already lower-cased by the application.
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub phone: Option<String>,
    /// One of `customer`, `staff`, `admin`.
    pub role: String,
    pub email_verified: bool,
    pub is_active: bool,
    /// Bumped to revoke every token of the user (role or password change).
    pub token_version: i32,
    /// Set when the account is anonymized.
    pub deleted_at: Option<DateTimeUtc>,
    pub last_login_at: Option<DateTimeUtc>,
    /// Language of the user's emails: `en` or `vi`.
    pub locale: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::refresh_tokens::Entity")]
    RefreshTokens,
    #[sea_orm(has_many = "super::user_tokens::Entity")]
    UserTokens,
    #[sea_orm(has_many = "super::reviews::Entity")]
    Reviews,
    #[sea_orm(has_many = "super::bookings::Entity")]
    Bookings,
}

impl Related<super::refresh_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshTokens.def()
    }
}

impl Related<super::user_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserTokens.def()
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

impl ActiveModelBehavior for ActiveModel {}
