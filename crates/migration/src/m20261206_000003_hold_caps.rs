//! Seats held per client address (SPEC §9): each booking records the address it was made from,
//! indexed by performance so the cap is counted inside the hold's transaction. And
//! `event_seats.hold_id` goes: it always equalled `booking_id` (which is indexed), while release
//! and extend filtered on it unindexed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_bookings_event_id_client_ip";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("bookings").add_column(string_null("client_ip")).to_owned())
            .await?;
        manager
            .create_index(
                Index::create().name(INDEX).table("bookings").col("event_id").col("client_ip").to_owned(),
            )
            .await?;
        manager.alter_table(Table::alter().table("event_seats").drop_column("hold_id").to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table("event_seats").add_column(big_integer_null("hold_id")).to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE event_seats SET hold_id = booking_id WHERE status IN ('held', 'sold')",
            )
            .await?;
        manager.drop_index(Index::drop().name(INDEX).table("bookings").to_owned()).await?;
        manager.alter_table(Table::alter().table("bookings").drop_column("client_ip").to_owned()).await
    }
}
