//! Argon2id password hashing, off the async runtime (a hash takes tens of milliseconds of CPU and
//! 19 MiB of memory) and under a bound: at most one hash per core runs at a time, a short queue
//! waits, and anything beyond is told at once that the server is busy (503) instead of piling up
//! threads and memory without limit.

use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// Waiting places per running place: with 2 cores, 2 hashes run and 8 wait (a wait of a few
/// hashes' time at most).
const QUEUE_PER_CORE: usize = 4;

/// The process-wide bound, sized to the machine's cores.
static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Gate::new(cores, cores * QUEUE_PER_CORE)
});

/// At most `running` jobs at once and `waiting` more in line; the rest are refused.
struct Gate {
    running: Arc<Semaphore>,
    /// Jobs admitted (running or waiting).
    admitted: Arc<AtomicUsize>,
    capacity: usize,
}

/// A place in the gate, given back when dropped.
struct Ticket(Arc<AtomicUsize>);

impl Gate {
    fn new(running: usize, waiting: usize) -> Self {
        let running = running.max(1);
        Self {
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: running + waiting,
        }
    }

    /// Takes a place, or refuses at once when every running and waiting place is taken.
    fn admit(&self) -> AppResult<Ticket> {
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("curtain_password_hashing_refused_total").increment(1);
            return Err(AppError::Unavailable("password hashing is saturated".into()));
        }
        Ok(Ticket(self.admitted.clone()))
    }

    /// Runs `work` on a blocking thread once a running place is free. The places travel with
    /// the work: a caller that goes away (a client that disconnects) cannot free them while its
    /// hash still runs, so disconnecting clients cannot start hashes beyond the bound.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let ticket = self.admit()?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("password hashing gate closed")))?;
        tokio::task::spawn_blocking(move || {
            let _places = (ticket, running);
            work()
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing task: {e}")))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The Argon2id hash of `password`; `Unavailable` (503) when too many hashes are in progress.
pub async fn hash(password: String) -> AppResult<String> {
    GATE.run(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await?
}

/// True when `password` matches the stored hash; a malformed hash never matches. `Unavailable`
/// (503) when too many hashes are in progress.
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    GATE.run(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), h.clone()).await.unwrap());
        assert!(!verify("wrong".into(), h).await.unwrap());
        assert!(!verify("x".into(), "not a hash".into()).await.unwrap());
    }

    #[test]
    fn beyond_the_running_and_waiting_places_callers_are_refused_at_once() {
        let gate = Gate::new(1, 2);
        let held: Vec<Ticket> = (0..3).map(|_| gate.admit().unwrap()).collect();
        let refused = gate.admit().err().expect("a fourth caller is refused");
        assert_eq!(refused.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        drop(held);
        assert!(gate.admit().is_ok(), "places come back when callers finish");
    }

    /// A caller dropped mid-hash (a client that disconnected) keeps its place until the hash
    /// ends, so disconnecting clients cannot start hashes beyond the bound.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_goes_away_keeps_its_place_until_its_hash_ends() {
        let gate = Arc::new(Gate::new(1, 0));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let caller = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(move || {
                    let _ = started_tx.send(());
                    let _ = release_rx.recv();
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv()).await.unwrap().unwrap();
        caller.abort();
        let _ = caller.await;
        assert!(gate.admit().is_err(), "the hash still runs: its place is still taken");
        release_tx.send(()).unwrap();
        let mut freed = false;
        for _ in 0..500 {
            if gate.admit().is_ok() {
                freed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(freed, "the place comes back when the hash ends");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_running_places() {
        use std::sync::{Arc, atomic::AtomicUsize};
        let gate = Arc::new(Gate::new(2, 100));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (gate, now, peak) = (gate.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    gate.run(move || {
                        let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(running, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "peak {}", peak.load(Ordering::SeqCst));
    }
}
