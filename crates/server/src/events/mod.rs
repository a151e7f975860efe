//! Performances: listing and search, detail, staff management, prices, publishing, the seat map.

pub mod admin;
pub mod admin_routes;
pub mod image_routes;
pub mod images;
pub mod prices;
pub mod publish;
pub mod review_routes;
pub mod reviews;
pub mod routes;
pub mod seatmap;
pub mod service;
