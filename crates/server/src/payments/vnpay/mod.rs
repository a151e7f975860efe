//! VNPAY 2.1.0: signing and verifying exactly as the gateway does.

pub mod sign;
pub mod url;
