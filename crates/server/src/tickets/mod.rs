//! E-tickets (SPEC §5, §6): signed ticket codes, the tickets and invoice PDFs, and check-in at
//! the door.

pub mod checkin;
pub mod codes;
pub mod documents;
pub mod routes;
