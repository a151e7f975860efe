//! Mail for the outbox: a user's language for emails, and a record of every email sent by a
//! job, written right after the send so a retried job never mails twice.

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
                    .table("users")
                    .add_column(string("locale").default("en").not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sent_mails")
                    .col(big_pk_auto("id"))
                    .col(big_integer("job_id"))
                    .col(string("recipient"))
                    .col(string("subject"))
                    .col(timestamp_with_time_zone("sent_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sent_mails_job_key")
                    .table("sent_mails")
                    .col("job_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("sent_mails").to_owned()).await?;
        manager.alter_table(Table::alter().table("users").drop_column("locale").to_owned()).await
    }
}
