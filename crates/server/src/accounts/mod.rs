//! Users, roles, credentials and tokens.

pub mod admin;
pub mod extract;
pub mod password;
pub mod personal;
pub mod policy;
pub mod recovery;
pub mod roles;
pub mod routes;
pub mod service;
pub mod tokens;
