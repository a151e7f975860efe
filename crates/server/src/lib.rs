//! Curtain: a theater ticketing server. `main.rs` holds only the command line; everything else
//! lives here so the integration tests drive the same code.

pub mod accounts;
pub mod app;
pub mod bookings;
pub mod cache;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod inventory;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod media;
pub mod openapi;
pub mod payments;
pub mod realtime;
pub mod redact;
pub mod redis;
pub mod secrets;
pub mod security;
pub mod site;
pub mod slugs;
pub mod telemetry;
pub mod tickets;
pub mod validate;
pub mod venues;
pub mod worker;
