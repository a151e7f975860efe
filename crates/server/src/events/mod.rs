//! Performances: listing and search, detail, publishing, and the seat map.

pub mod publish;
pub mod routes;
pub mod seatmap;
pub mod service;
