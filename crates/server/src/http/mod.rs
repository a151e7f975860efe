//! HTTP plumbing shared by every area: the envelope, extractors, query parsing, pagination.

pub mod client;
pub mod envelope;
pub mod extract;
pub mod pagination;
pub mod params;

pub use client::ClientIp;
pub use envelope::{ApiResponse, Envelope};
pub use extract::{ApiJson, ApiPath};
pub use pagination::{Page, PageRequest};
pub use params::Params;
