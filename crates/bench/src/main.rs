//! Seat-hold load generator (docs/PERFORMANCE.md).
//!
//! Starts a real Curtain server in this process on a fresh database (SQLite file or a new
//! PostgreSQL database), loads the demo week, then drives it over HTTP with many concurrent
//! buyers: a *spread* run (random seats of every performance, each hold released again) and a
//! *contention* run (everyone fights for the same 50 seats). It reports holds per second, latency
//! percentiles and conflicts, then checks that no seat ever belonged to two active bookings.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Parser;
use curtain::{
    accounts::roles::Role,
    app::{self, AppState},
    clock::SystemClock,
    config::Config,
};
use rand::{Rng, seq::SliceRandom};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Statement};
use serde_json::{Value, json};

mod purchase;
mod ws;

#[derive(Parser)]
struct Args {
    /// `holds` (seat-hold throughput, in-process server), `purchase` (whole purchases through the
    /// VNPAY simulator, then PDF rendering) or `ws` (WebSocket fan-out against a running server,
    /// see `--target`).
    #[arg(long, default_value = "holds")]
    mode: String,
    /// For `ws`: the running server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    target: String,
    /// For `ws`: seat-map subscribers to connect.
    #[arg(long, default_value_t = 10_000)]
    subscribers: usize,
    /// For `ws`: the server's process id, to read its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// `sqlite`, or a PostgreSQL admin URL (a fresh database is created in it and dropped).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Concurrent buyers.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds per run.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
}

#[derive(Default)]
struct Tally {
    holds: AtomicU64,
    conflicts: AtomicU64,
    errors: AtomicU64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if args.mode == "ws" {
        return runtime.block_on(ws::run(&args.target, args.subscribers, args.server_pid));
    }
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (database_url, drop_pg) = if args.database == "sqlite" {
        (format!("sqlite://{}/bench.db", dir.path().display()), None)
    } else {
        let name = format!("curtain_bench_{}", rand::rng().random::<u32>());
        let admin = curtain::db::connect_writer(&args.database).await?;
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let base = args.database.rsplit_once('/').map_or(args.database.as_str(), |(b, _)| b);
        (format!("{base}/{name}"), Some((admin, name)))
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let env = [
        ("DATABASE_URL", database_url.as_str()),
        ("PUBLIC_BASE_URL", base.as_str()),
        ("CURTAIN_DATA_DIR", &*dir.path().display().to_string()),
        ("CURTAIN_DEMO", "on"),
        ("CURTAIN_RATE_LIMITS", "off"),
        // Every simulated buyer comes from 127.0.0.1: lift the per-address cap on held seats.
        ("CURTAIN_MAX_HELD_SEATS_PER_IP", "1000000"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config = Config::from_lookup(|k| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))?;
    let state = AppState::start(config, Arc::new(SystemClock)).await?;
    let served = state.clone();
    tokio::spawn(async move { app::serve(listener, served, std::future::pending()).await });

    let client = reqwest::Client::builder().pool_max_idle_per_host(args.clients * 2).build()?;
    let events = performances(&client, &base).await?;
    let tokens = buyers(&state, args.clients).await?;
    println!(
        "database: {}  clients: {}  run: {}s  performances: {}  seats each: {}",
        if drop_pg.is_some() { "PostgreSQL" } else { "SQLite (WAL)" },
        args.clients,
        args.seconds,
        events.len(),
        events.first().map_or(0, |(_, s)| s.len())
    );

    if args.mode == "purchase" {
        let bought = purchase::run(&base, &tokens, &events, args.seconds).await?;
        purchase::documents(&base, &bought).await?;
    } else {
        holds(&client, &base, &tokens, &events, args.seconds).await;
    }

    check_invariants(&state).await?;
    if let Some((admin, name)) = drop_pg {
        state.db.clone().close().await.ok();
        state.writer.clone().close().await.ok();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    Ok(())
}

/// The spread and contention runs of `--mode holds`.
async fn holds(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    events: &[(i64, Vec<i64>)],
    seconds: u64,
) {
    let spread = Arc::new(events.to_vec());
    report(
        "spread",
        drive(client, base, tokens, seconds, move |rng| {
            let (event, seats) = &spread[rng.random_range(0..spread.len())];
            let n = rng.random_range(1..=4);
            let start = rng.random_range(0..seats.len() - n);
            (*event, seats[start..start + n].to_vec())
        })
        .await,
    );

    let (hot_event, hot_seats) = events[0].clone();
    let hot: Vec<i64> = hot_seats[..50].to_vec();
    report(
        "contention (50 seats)",
        drive(client, base, tokens, seconds, move |rng| {
            let mut pick = hot.clone();
            pick.shuffle(rng);
            (hot_event, pick[..2].to_vec())
        })
        .await,
    );
}

async fn performances(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<(i64, Vec<i64>)>> {
    let list: Value = client.get(format!("{base}/api/events?page_size=100")).send().await?.json().await?;
    let mut out = Vec::new();
    for event in list["data"].as_array().context("event list")? {
        let id = event["id"].as_i64().context("event id")?;
        let map: Value = client.get(format!("{base}/api/events/{id}/seats")).send().await?.json().await?;
        let seats = map["data"]["sections"]
            .as_array()
            .context("sections")?
            .iter()
            .flat_map(|s| s["seats"].as_array().into_iter().flatten())
            .filter(|s| s["kind"] == "standard")
            .filter_map(|s| s["id"].as_i64())
            .collect();
        out.push((id, seats));
    }
    Ok(out)
}

async fn buyers(state: &AppState, n: usize) -> anyhow::Result<Vec<String>> {
    let now = chrono::Utc::now();
    let mut tokens = Vec::new();
    for i in 0..n {
        let user = entity::users::ActiveModel {
            email: Set(format!("bench{i}@example.com")),
            password_hash: Set("!bench".into()),
            full_name: Set(format!("Bench {i}")),
            role: Set("customer".into()),
            email_verified: Set(true),
            is_active: Set(true),
            token_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await?;
        // Tokens last 15 minutes: plenty for a run.
        tokens.push(state.jwt.issue(&user, Role::Customer, now).map_err(|e| anyhow::anyhow!("{e:?}"))?.0);
    }
    Ok(tokens)
}

struct RunResult {
    tally: Tally,
    latencies_us: Vec<u64>,
    elapsed: Duration,
}

/// Every client loops for `seconds`: hold the seats `choose` picks, then release them.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    seconds: u64,
    choose: impl Fn(&mut rand::rngs::ThreadRng) -> (i64, Vec<i64>) + Send + Sync + Clone + 'static,
) -> RunResult {
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for token in tokens {
        let (client, base, tally, choose) = (client.clone(), base.to_owned(), tally.clone(), choose.clone());
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let (event, seats) = choose(&mut rand::rng());
                let t = Instant::now();
                let res = client
                    .post(format!("{base}/api/bookings"))
                    .bearer_auth(&token)
                    .json(&json!({"event_id": event, "seat_ids": seats}))
                    .send()
                    .await;
                let status = res.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
                latencies.push(t.elapsed().as_micros() as u64);
                match status {
                    201 => {
                        tally.holds.fetch_add(1, Ordering::Relaxed);
                        let body: Value = match res {
                            Ok(r) => r.json().await.unwrap_or(Value::Null),
                            Err(_) => Value::Null,
                        };
                        if let Some(id) = body["data"]["id"].as_i64() {
                            let _ = client
                                .post(format!("{base}/api/bookings/{id}/cancel"))
                                .bearer_auth(&token)
                                .send()
                                .await;
                        }
                    }
                    409 => {
                        tally.conflicts.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        tally.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    let tally = Arc::try_unwrap(tally).unwrap_or_default();
    RunResult { tally, latencies_us, elapsed }
}

fn report(name: &str, mut run: RunResult) {
    run.latencies_us.sort_unstable();
    let pct = |p: f64| {
        let i = ((run.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        run.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    let secs = run.elapsed.as_secs_f64();
    let holds = run.tally.holds.load(Ordering::Relaxed);
    let conflicts = run.tally.conflicts.load(Ordering::Relaxed);
    let errors = run.tally.errors.load(Ordering::Relaxed);
    let attempts = run.latencies_us.len();
    println!(
        "{name:>22}: {:>7.0} holds/s  {:>7.0} attempts/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  conflicts {conflicts} ({:.0}%)  errors {errors}",
        holds as f64 / secs,
        attempts as f64 / secs,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        100.0 * conflicts as f64 / attempts.max(1) as f64,
    );
}

/// No seat may belong to two active bookings, and every held or sold seat must point at one.
async fn check_invariants(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    let one = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let doubled = db
        .query_one_raw(one("SELECT COUNT(*) AS n FROM (SELECT bs.event_seat_id FROM booking_seats bs \
             JOIN bookings b ON b.id = bs.booking_id WHERE b.status IN ('pending', 'confirmed') \
             GROUP BY bs.event_seat_id HAVING COUNT(*) > 1) t"))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(-1);
    let orphaned = db
        .query_one_raw(one(
            "SELECT COUNT(*) AS n FROM event_seats es WHERE es.status IN ('held', 'sold') AND NOT EXISTS \
             (SELECT 1 FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id \
              WHERE bs.event_seat_id = es.id AND b.id = es.booking_id AND b.status IN ('pending', 'confirmed'))",
        ))
        .await?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(-1);
    println!(
        "invariants: seats in two active bookings: {doubled}; held/sold seats without their booking: {orphaned}"
    );
    anyhow::ensure!(doubled == 0 && orphaned == 0, "a seat was double-sold");
    Ok(())
}
