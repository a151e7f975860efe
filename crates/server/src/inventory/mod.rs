//! A performance's seat inventory: the EventSeat rows that alone decide who owns a seat. Holds,
//! releases, sales and blocks all happen here, as conditional updates.

pub mod best;
pub mod blocking;
pub mod hold;
pub mod retry;
