//! Categories and tags that classify performances.

pub mod routes;
pub mod service;
