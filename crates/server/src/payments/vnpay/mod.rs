//! VNPAY 2.1.0: signing and verifying exactly as the gateway does, the payment URL, and the
//! merchant API (querydr, refund).

pub mod api;
pub mod sign;
pub mod url;
