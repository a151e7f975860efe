//! Venues (theaters), their sections and seats, and the seat-layout generator.

pub mod layout;
pub mod routes;
pub mod service;
