//! Database migrations of Curtain (SQLite 3.35+ and PostgreSQL 15).
//!
//! The server runs them with `migration::Migrator` (`curtain migrate`, and before serving).

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_initial;
mod m20261125_000002_mail_outbox;
mod m20261205_000003_booking_reminders;
mod m20261206_000003_hold_caps;

#[cfg(test)]
mod tests;

/// All migrations of Curtain, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261125_000002_mail_outbox::Migration),
            Box::new(m20261205_000003_booking_reminders::Migration),
            Box::new(m20261206_000003_hold_caps::Migration),
        ]
    }
}
