//! A small concurrent load generator: closed loop (N workers, each sends
//! its next call when the last returns) or open loop at a fixed rate, with
//! latency percentiles.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// What a load run measured.
#[derive(Clone, Debug)]
pub struct Measured {
    pub calls: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    /// The figures of calls answered in `latencies`, `errors` others, over `elapsed`.
    pub fn of(mut latencies: Vec<Duration>, errors: usize, elapsed: Duration) -> Self {
        latencies.sort();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            calls: latencies.len(),
            errors,
            elapsed,
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// Calls `call(i)` for i in 0..count (or until `deadline`) from `workers`
/// concurrent workers.
pub async fn closed_loop<F, Fut>(
    workers: usize,
    count: usize,
    deadline: Option<Duration>,
    call: F,
) -> Measured
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (call, next) = (call.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || deadline.is_some_and(|d| started.elapsed() >= d) {
                        break;
                    }
                    let t = Instant::now();
                    if call(i).await {
                        latencies.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.expect("worker");
        latencies.extend(l);
        errors += e;
    }
    Measured::of(latencies, errors, started.elapsed())
}

/// Calls `call(i)` for i in 0..count at `rate` calls per second, whatever
/// the latency (open loop), so latency is measured at that load.
pub async fn open_loop<F, Fut>(rate: f64, count: usize, call: F) -> Measured
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let call = Arc::new(call);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            (call(i).await, t.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await.expect("call") {
            (true, latency) => latencies.push(latency),
            (false, _) => errors += 1,
        }
    }
    Measured::of(latencies, errors, started.elapsed())
}
