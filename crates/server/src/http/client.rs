//! The client's address as every per-address rule counts it (SPEC §9): rate limits, WebSocket
//! caps and the cap on held seats all resolve it the same way, believing `X-Forwarded-For` only
//! from `CURTAIN_TRUSTED_PROXIES`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use crate::{app::AppState, error::AppError, limits::client_ip};

/// The real client behind any trusted proxies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The server is always started with connect info (`app::serve`); its absence is a bug.
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the peer address is missing")))?;
        // Counted as every per-client limit counts it (one spelling, IPv6 by its /64).
        Ok(Self(crate::limits::client_key(client_ip(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        ))))
    }
}
