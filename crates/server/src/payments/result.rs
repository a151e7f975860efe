//! The page the buyer lands on after the gateway: it reports what the IPN recorded (and keeps
//! refreshing while the bank's confirmation is on its way). The single-page app will show its
//! own version; this one works without it.

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

use super::routes::result_of;
use crate::app::AppState;

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
{% if waiting %}<meta http-equiv="refresh" content="3">{% endif %}
<title>{{ title }} — Curtain</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
.card{border-radius:10px;padding:1.2rem 1.5rem;background:{{ color }}}h1{margin-top:0;font-size:1.4rem}</style></head>
<body><div class="card" role="status"><h1>{{ title }}</h1><p>{{ text }}</p>
{% if reference %}<p>Booking / Đặt chỗ: <strong>{{ reference }}</strong></p>{% endif %}</div>
<p><a href="/">Curtain</a></p></body></html>"#;

pub async fn page(State(state): State<AppState>, Query(query): Query<HashMap<String, String>>) -> Response {
    let ctx = match (query.get("ref"), query.get("error")) {
        (_, Some(error)) if error == "signature" => json!({"title": "Payment not verified",
            "text": "The answer from the payment gateway could not be verified. If money was taken, it will be confirmed or refunded automatically.", "color": "#fde2e1"}),
        (Some(txn_ref), None) => match result_of(&state, txn_ref).await {
            Ok(Some((payment, booking, not_confirmed))) => {
                let reference = booking.reference.clone();
                match (payment.status.as_str(), booking.status.as_str(), not_confirmed) {
                    ("initiated", _, _) => {
                        json!({"title": "Waiting for the bank…", "waiting": true, "reference": reference,
                        "text": "Your bank has not confirmed the payment yet. This page refreshes by itself.", "color": "#eef2f7"})
                    }
                    ("failed", _, _) => json!({"title": "Payment not completed", "reference": reference,
                        "text": "The payment was cancelled or declined. Your seats stay held until the hold runs out: you can try again.", "color": "#fef0c7"}),
                    (_, _, Some(why)) => {
                        json!({"title": "Payment received — refund on its way", "reference": reference,
                        "text": format!("The payment arrived but the booking could not be confirmed ({why}). The full amount is being refunded."), "color": "#fef0c7"})
                    }
                    (_, "confirmed" | "completed", None) => {
                        json!({"title": "Paid — booking confirmed", "reference": reference,
                        "text": "Thank you! Your e-tickets and receipt are on their way by email.", "color": "#d1fadf"})
                    }
                    // Paid and confirmed, then ended later (by the buyer, the box office or a
                    // cancelled performance): the payment itself was on time.
                    (_, "refunded", None) => {
                        json!({"title": "Paid — booking since refunded", "reference": reference,
                        "text": "This payment confirmed the booking; the booking has since been refunded. The email about the refund has the details.", "color": "#eef2f7"})
                    }
                    (_, "cancelled", None) => {
                        json!({"title": "Paid — booking since cancelled", "reference": reference,
                        "text": "This payment confirmed the booking; the booking has since been cancelled. Any refund due goes back the way you paid; the email about the cancellation has the details.", "color": "#eef2f7"})
                    }
                    _ => json!({"title": "Payment received", "reference": reference,
                        "text": "Your payment was received. Your bookings show where this booking stands.", "color": "#eef2f7"}),
                }
            }
            Ok(None) => {
                json!({"title": "Unknown payment", "text": "We have no payment with this reference.", "color": "#fde2e1"})
            }
            Err(err) => {
                tracing::error!(error = ?err, "payment result page");
                json!({"title": "Something went wrong", "text": "Please look at your bookings in a moment.", "color": "#fde2e1"})
            }
        },
        _ => {
            json!({"title": "Payment not verified", "text": "This link is not a payment result.", "color": "#fde2e1"})
        }
    };
    match minijinja::Environment::new().render_named_str("result.html", PAGE, minijinja::value::Serde(&ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "payment result page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
