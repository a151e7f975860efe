//! Payments through VNPAY (SPEC §5): starting a payment, the IPN and return URL, settling
//! (the one place a booking becomes confirmed), refunds, the `querydr` sync, and the built-in
//! gateway simulator.

pub mod callback;
pub mod gateway;
pub mod refunds;
pub mod result;
pub mod routes;
pub mod service;
pub mod settle;
pub mod simulator;
pub mod sync;
pub mod vnpay;

pub use gateway::Gateway;
