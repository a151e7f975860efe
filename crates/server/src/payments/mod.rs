//! Payments through VNPAY (SPEC §5).

pub mod vnpay;
