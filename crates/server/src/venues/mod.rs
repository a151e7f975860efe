//! Venues (theaters), their sections and seats, and the seat-layout generator.

pub mod admin;
pub mod admin_routes;
pub mod layout;
pub mod routes;
pub mod seats;
pub mod sections;
pub mod service;
