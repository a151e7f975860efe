//! SeaORM entities of Curtain, one module per table (no logic).
//!
//! Status and kind columns are plain `String`s here (the server has its own enums);
//! money is `i64`, timestamps are `DateTimeUtc`, ids are `i64`.

pub mod prelude;

pub mod app_secrets;
pub mod booking_history;
pub mod booking_seats;
pub mod bookings;
pub mod categories;
pub mod event_images;
pub mod event_seats;
pub mod event_section_prices;
pub mod event_tags;
pub mod events;
pub mod invoice_counters;
pub mod invoices;
pub mod jobs;
pub mod payments;
pub mod refresh_tokens;
pub mod refunds;
pub mod reviews;
pub mod revoked_access_tokens;
pub mod seats;
pub mod sections;
pub mod sent_mails;
pub mod tags;
pub mod tickets;
pub mod user_tokens;
pub mod users;
pub mod venue_images;
pub mod venues;
