//! WebSocket fan-out: connect many seat-map subscribers to a running server, make holds through
//! the API, and measure how long each change takes to reach every subscriber, plus the server's
//! memory per connection.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::{connect_async, tungstenite::Message};

/// Arrival instants per seat id, one entry per subscriber that saw the seat become held.
type Arrivals = Arc<Mutex<Vec<(i64, Instant)>>>;

pub async fn run(target: &str, subscribers: usize, server_pid: Option<u32>) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    // A buyer of its own: the demo accounts' passwords are random, printed only by the server.
    let email = format!("bench-{}@example.com", std::process::id());
    let password = "bench-ws-buyer-7431";
    let registered = client
        .post(format!("{target}/api/auth/register"))
        .json(&json!({"email": email, "password": password, "full_name": "Bench Buyer"}))
        .send()
        .await?;
    let status = registered.status().as_u16();
    anyhow::ensure!(status == 201 || status == 409, "registering the bench buyer: HTTP {status}");
    let login: Value = client
        .post(format!("{target}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["access_token"].as_str().context("bench buyer login")?.to_owned();
    let events: Value = client.get(format!("{target}/api/events")).send().await?.json().await?;
    let event = events["data"][0]["id"].as_i64().context("a published performance")?;
    let map: Value = client.get(format!("{target}/api/events/{event}/seats")).send().await?.json().await?;
    let seats: Vec<i64> = map["data"]["sections"][0]["seats"]
        .as_array()
        .context("seats")?
        .iter()
        .filter(|s| s["status"] == "available" && s["kind"] == "standard")
        .filter_map(|s| s["id"].as_i64())
        .collect();

    let rss_before = server_pid.and_then(rss_kib);
    let arrivals: Arrivals = Arc::default();
    let ws_url = format!("{}/ws/events/{event}/seats", target.replace("http://", "ws://"));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(subscribers);
    for chunk in 0..subscribers.div_ceil(250) {
        let mut batch = Vec::new();
        for _ in 0..250.min(subscribers - chunk * 250) {
            let url = ws_url.clone();
            batch.push(tokio::spawn(async move { connect_async(url).await.map(|(ws, _)| ws) }));
        }
        for connecting in batch {
            let mut ws = connecting.await??;
            // Wait for the hello so the subscription is in place before any hold.
            while let Some(Ok(message)) = ws.next().await {
                if matches!(message, Message::Text(_)) {
                    break;
                }
            }
            let arrivals = arrivals.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(Ok(message)) = ws.next().await {
                    let Message::Text(text) = message else { continue };
                    let now = Instant::now();
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                    for change in frame["changes"].as_array().into_iter().flatten() {
                        if change["status"] == "held"
                            && let Some(id) = change["id"].as_i64()
                        {
                            arrivals.lock().unwrap_or_else(|e| e.into_inner()).push((id, now));
                        }
                    }
                }
            }));
        }
    }
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = server_pid.and_then(rss_kib);
    println!("subscribers connected: {} in {:.1}s", tasks.len(), connect_time.as_secs_f64());
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!(
            "server memory: {:.1} MiB before, {:.1} MiB after: {:.1} KiB per connection",
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            (after.saturating_sub(before)) as f64 / tasks.len().max(1) as f64
        );
    }

    let rounds = 5;
    let mut delays_ms = Vec::new();
    let mut missing = 0usize;
    for &seat in seats.iter().take(rounds) {
        let sent = Instant::now();
        let res: Value = client
            .post(format!("{target}/api/bookings"))
            .bearer_auth(&token)
            .json(&json!({"event_id": event, "seat_ids": [seat]}))
            .send()
            .await?
            .json()
            .await?;
        let booking = res["data"]["id"].as_i64().with_context(|| format!("booking failed: {res}"))?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let got: Vec<Instant> = arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(id, _)| *id == seat)
            .map(|(_, at)| *at)
            .collect();
        missing += tasks.len().saturating_sub(got.len());
        delays_ms.extend(got.iter().map(|at| at.duration_since(sent).as_secs_f64() * 1000.0));
        client.post(format!("{target}/api/bookings/{booking}/cancel")).bearer_auth(&token).send().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    delays_ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        delays_ms.get(((delays_ms.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
    };
    println!(
        "hold → subscriber delay over {rounds} holds: p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms  missed {missing}",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    for task in tasks {
        task.abort();
    }
    Ok(())
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}
