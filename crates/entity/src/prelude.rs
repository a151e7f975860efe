//! The `Entity` of every table, renamed after the table.

pub use super::app_secrets::Entity as AppSecrets;
pub use super::booking_history::Entity as BookingHistory;
pub use super::booking_seats::Entity as BookingSeats;
pub use super::bookings::Entity as Bookings;
pub use super::categories::Entity as Categories;
pub use super::event_images::Entity as EventImages;
pub use super::event_seats::Entity as EventSeats;
pub use super::event_section_prices::Entity as EventSectionPrices;
pub use super::event_tags::Entity as EventTags;
pub use super::events::Entity as Events;
pub use super::invoice_counters::Entity as InvoiceCounters;
pub use super::invoices::Entity as Invoices;
pub use super::jobs::Entity as Jobs;
pub use super::payments::Entity as Payments;
pub use super::refresh_tokens::Entity as RefreshTokens;
pub use super::refunds::Entity as Refunds;
pub use super::reviews::Entity as Reviews;
pub use super::revoked_access_tokens::Entity as RevokedAccessTokens;
pub use super::seats::Entity as Seats;
pub use super::sections::Entity as Sections;
pub use super::tags::Entity as Tags;
pub use super::tickets::Entity as Tickets;
pub use super::user_tokens::Entity as UserTokens;
pub use super::users::Entity as Users;
pub use super::venue_images::Entity as VenueImages;
pub use super::venues::Entity as Venues;
