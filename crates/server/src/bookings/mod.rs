//! Bookings: creating them with atomic seat holds, modifying and cancelling them, listing them,
//! their audit trail, and the sweeps that expire stale holds and complete past performances.

pub mod notify;
pub mod queries;
pub mod reference;
pub mod routes;
pub mod service;
pub mod status;
pub mod sweep;
