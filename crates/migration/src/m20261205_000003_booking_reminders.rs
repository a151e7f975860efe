//! When a booking's day-before reminder was queued, so the reminder duty reads only the
//! bookings still to remind instead of every confirmed booking of tomorrow's performances on
//! each run.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("bookings")
                    .add_column(timestamp_with_time_zone_null("reminded_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("bookings").drop_column("reminded_at").to_owned()).await
    }
}
