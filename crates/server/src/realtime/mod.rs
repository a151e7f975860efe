//! Real time (SPEC §7): a hub that carries seat, booking and system changes to WebSocket
//! subscribers — in-process by default, through Redis pub/sub when `REDIS_URL` is set so a client
//! on one instance sees changes made on another.

pub mod hub;
pub mod notices;
pub mod ws;
