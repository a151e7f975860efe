//! Curtain's integration tests: one binary, a module per area. Every test starts the real server
//! on port 0 against a fresh database — SQLite by default, PostgreSQL when `TEST_DATABASE_URL`
//! names one (the Makefile runs both passes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod accounts;
mod bookings;
mod cache;
mod catalog;
mod cli;
mod envelope;
mod events;
mod events_admin;
mod fixtures;
mod health;
mod images;
mod jobs;
mod limits;
mod openapi;
mod payments;
mod realtime;
mod reviews;
mod smtp_sink;
mod storage;
mod tickets;
mod venues;
mod venues_admin;
