//! Prometheus metrics (SPEC §10) at `/metrics`: request rate and latency per route, holds and
//! conflicts, bookings, WebSocket connections and messages, job outcomes and backlog.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once (several app states in one process share it).
pub fn init() {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => Some(handle),
            Err(err) => {
                tracing::warn!(error = %err, "metrics recorder not installed");
                None
            }
        }
    });
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render() -> Response {
    let body = HANDLE.get().and_then(|h| h.as_ref()).map(PrometheusHandle::render).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The span every request runs in: method, URI and request id. The URI's secret query values
/// (`?token=` of mailed links and WebSockets, VNPAY's `vnp_SecureHash`) are masked, so logs never
/// hold a usable token.
pub fn request_span(request: &Request) -> tracing::Span {
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let uri = request.uri().to_string();
    let uri = crate::redact::query_values(&uri);
    tracing::info_span!("request", method = %request.method(), uri = %uri, request_id = %id)
}

/// Counts every request and its latency, labelled by route pattern (never by raw path, so ids
/// do not explode the label space).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("curtain_http_requests_total", &labels).increment(1);
    metrics::histogram!("curtain_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use axum::body::Body;

    use super::*;

    /// Collects what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn request_logs_never_hold_tokens_or_vnpay_signatures() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber =
            tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        tracing::subscriber::with_default(subscriber, || {
            for uri in [
                "/api/auth/verify-email?token=tok-abc123&next=%2F",
                "/api/payments/vnpay/ipn?vnp_Amount=10000&vnp_SecureHash=deadbeef99",
            ] {
                let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
                let span = request_span(&request);
                let _entered = span.enter();
                tracing::info!("handled");
            }
        });
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("/api/auth/verify-email?token=***&next=%2F"), "{logs}");
        assert!(logs.contains("vnp_Amount=10000&vnp_SecureHash=***"), "{logs}");
        assert!(!logs.contains("tok-abc123") && !logs.contains("deadbeef99"), "{logs}");
    }
}
