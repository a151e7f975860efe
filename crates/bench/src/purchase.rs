//! `--mode purchase`: whole purchases through the built-in VNPAY simulator, as buyers make them —
//! hold seats, start a payment, press "pay" on the simulator's page (which calls the IPN, whose
//! transaction confirms the booking, sells the seats, issues tickets and the invoice number and
//! queues the mail) — then the tickets and invoice PDFs rendered on request.

use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

/// Latencies of one step, in microseconds.
#[derive(Default)]
struct Step(Vec<u64>);

impl Step {
    fn add(&mut self, since: Instant) {
        self.0.push(since.elapsed().as_micros() as u64);
    }
    fn line(&mut self, name: &str, secs: Option<f64>) {
        self.0.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
            self.0.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        let rate = secs.map(|s| format!("{:>6.1}/s  ", self.0.len() as f64 / s)).unwrap_or_default();
        println!(
            "{name:>26}: {rate}n {:>5}  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            self.0.len(),
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
    }
}

#[derive(Default)]
struct Tally {
    purchase: Step,
    hold: Step,
    start: Step,
    pay: Step,
    conflicts: u64,
    errors: u64,
    bookings: Vec<i64>,
}

pub async fn run(
    base: &str,
    tokens: &[String],
    events: &[(i64, Vec<i64>)],
    seconds: u64,
) -> anyhow::Result<Vec<(String, i64)>> {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for token in tokens {
        let (browser, base, token, events) =
            (browser.clone(), base.to_owned(), token.clone(), events.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            while Instant::now() < deadline {
                let (event, seats) = {
                    let mut rng = rand::rng();
                    let (event, seats) = &events[rng.random_range(0..events.len())];
                    let n = rng.random_range(1..=4);
                    let at = rng.random_range(0..seats.len() - n);
                    (*event, seats[at..at + n].to_vec())
                };
                let begin = Instant::now();
                let Ok(res) = browser
                    .post(format!("{base}/api/bookings"))
                    .bearer_auth(&token)
                    .json(&json!({"event_id": event, "seat_ids": seats}))
                    .send()
                    .await
                else {
                    t.errors += 1;
                    continue;
                };
                match res.status().as_u16() {
                    201 => {}
                    409 => {
                        t.conflicts += 1;
                        continue;
                    }
                    _ => {
                        t.errors += 1;
                        continue;
                    }
                }
                t.hold.add(begin);
                let booking: Value = res.json().await.unwrap_or(Value::Null);
                let Some(id) = booking["data"]["id"].as_i64() else {
                    t.errors += 1;
                    continue;
                };
                let step = Instant::now();
                let started: Value = match browser
                    .post(format!("{base}/api/payments"))
                    .bearer_auth(&token)
                    .json(&json!({"booking_id": id}))
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 201 => r.json().await.unwrap_or(Value::Null),
                    _ => {
                        t.errors += 1;
                        continue;
                    }
                };
                t.start.add(step);
                let Some((page, query)) =
                    started["data"]["payment_url"].as_str().and_then(|u| u.split_once('?'))
                else {
                    t.errors += 1;
                    continue;
                };
                let step = Instant::now();
                let paid = browser
                    .post(page)
                    .form(&[("q", query), ("action", "pay"), ("bank", "NCB"), ("ipn", "1")])
                    .send()
                    .await;
                if paid.map(|r| r.status().as_u16()).unwrap_or(0) != 303 {
                    t.errors += 1;
                    continue;
                }
                t.pay.add(step);
                t.purchase.add(begin);
                t.bookings.push(id);
            }
            (t, token)
        }));
    }
    let mut all = Tally::default();
    let mut bought = Vec::new();
    for task in tasks {
        let (t, token) = task.await?;
        all.purchase.0.extend(t.purchase.0);
        all.hold.0.extend(t.hold.0);
        all.start.0.extend(t.start.0);
        all.pay.0.extend(t.pay.0);
        all.conflicts += t.conflicts;
        all.errors += t.errors;
        bought.extend(t.bookings.into_iter().map(|id| (token.clone(), id)));
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "purchases through the simulator ({} clients, {seconds}s): conflicts {}  errors {}",
        tokens.len(),
        all.conflicts,
        all.errors
    );
    all.purchase.line("whole purchase", Some(secs));
    all.hold.line("hold (POST /bookings)", None);
    all.start.line("start (POST /payments)", None);
    all.pay.line("pay + IPN + confirmation", None);
    Ok(bought)
}

/// Renders the tickets and invoice of `bookings` one at a time (the on-request path).
pub async fn documents(base: &str, bought: &[(String, i64)]) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let (mut tickets, mut invoices) = (Step::default(), Step::default());
    let mut bytes = 0usize;
    for (token, id) in bought.iter().take(100) {
        for (doc, step) in [("tickets.pdf", &mut tickets), ("invoice.pdf", &mut invoices)] {
            let t = Instant::now();
            let res = client.get(format!("{base}/api/bookings/{id}/{doc}")).bearer_auth(token).send().await?;
            anyhow::ensure!(res.status().as_u16() == 200, "{doc} of booking {id}: {}", res.status());
            bytes += res.bytes().await?.len();
            step.add(t);
        }
    }
    tickets.line("tickets.pdf (1-4 pages)", None);
    invoices.line("invoice.pdf", None);
    println!(
        "{:>26}: {:.0} KiB on average",
        "PDF size",
        bytes as f64 / 1024.0 / (2 * bought.len().clamp(1, 100)) as f64
    );
    Ok(())
}
