//! Users, roles and credentials.

pub mod password;
pub mod roles;
pub mod service;
