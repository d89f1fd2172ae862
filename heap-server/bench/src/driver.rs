//! The closed loop: N client tasks, each sending its next request when the previous one answered,
//! a warm-up that is not counted, then a measured period (a duration or a number of requests),
//! progress on stderr once per second, and the per-task recorders merged at the end.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use crate::error::BenchError;
use crate::limits::ERRORS_SHOWN_MAX;
use crate::limits::ERROR_BACKOFF_MS;
use crate::limits::OP_TIMEOUT_MS;
use crate::limits::PROGRESS_INTERVAL_MS;
use crate::recorder::Recorder;

/// One closed-loop client: `op` sends one request and waits for its answer.
pub trait LoadClient: Send + 'static {
    /// One request; an `Err` is counted as an error and the loop goes on.
    fn op(&mut self) -> impl Future<Output = Result<(), BenchError>> + Send;

    /// Called once after the last request (e.g. to close a session); not timed.
    fn finish(self) -> impl Future<Output = ()> + Send
    where
        Self: Sized,
    {
        async {}
    }
}

/// When the measured period ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this long (requests still in flight then are not counted).
    After(Duration),
    /// After this many requests, successful or not, across all clients.
    Ops(u64),
}

#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub warmup: Duration,
    pub stop: Stop,
    /// Requests in flight when a `Stop::After` period ends get this long to finish (uncounted)
    /// before they are abandoned (`STOP_GRACE_MS` in real runs).
    pub grace: Duration,
    /// Shown in front of the progress lines.
    pub label: String,
}

/// What the closed loop measured.
pub struct Measured {
    pub recorder: Recorder,
    /// The measured period: the duration asked for, or from the warm-up's end to the last answer.
    pub elapsed: Duration,
}

/// Counters the progress task reads; every request adds to them, warm-up included.
struct Live {
    done: AtomicU64,
    errors: AtomicU64,
    /// Requests of a `Stop::Ops` run taken so far.
    claimed: AtomicU64,
}

/// When requests count: from the warm-up's end until the period ends or `ops` were taken.
struct Window {
    grace: Duration,
    measure_from: Instant,
    measure_until: Option<Instant>,
    ops: Option<u64>,
}

impl Window {
    /// When a request that began at `began` is given up. Bounded: a request (with any leader
    /// search) gives up after OP_TIMEOUT_MS, and none outlives the measured period by more than
    /// the grace, so a dead cluster cannot keep a point running.
    fn deadline(&self, began: Instant) -> Instant {
        let deadline = began + Duration::from_millis(OP_TIMEOUT_MS);
        match self.measure_until {
            Some(until) => deadline.min(until.max(began) + self.grace),
            None => deadline,
        }
    }
}

/// One request of `client`, begun at `began`; no answer by `deadline` is an error.
async fn op_until<C: LoadClient>(client: &mut C, began: Instant, deadline: Instant) -> Result<(), BenchError> {
    match tokio::time::timeout_at(deadline.into(), client.op()).await {
        Ok(result) => result,
        Err(_) => Err(BenchError::Request(format!(
            "no answer within {} ms",
            deadline.saturating_duration_since(began).as_millis()
        ))),
    }
}

/// Runs `clients` in a closed loop as `plan` says.
pub async fn run_closed_loop<C: LoadClient>(clients: Vec<C>, plan: &LoadPlan) -> Result<Measured, BenchError> {
    if clients.is_empty() {
        return Err(BenchError::InvalidArgument("no clients to run".into()));
    }
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let window = Arc::new(Window {
        grace: plan.grace,
        measure_from,
        measure_until: match plan.stop {
            Stop::After(duration) => Some(measure_from + duration),
            Stop::Ops(_) => None,
        },
        ops: match plan.stop {
            Stop::After(_) => None,
            Stop::Ops(ops) => Some(ops),
        },
    });
    let live = Arc::new(Live { done: AtomicU64::new(0), errors: AtomicU64::new(0), claimed: AtomicU64::new(0) });
    let progress = tokio::spawn(progress(Arc::clone(&live), plan.label.clone(), start, measure_from));
    let mut tasks = Vec::with_capacity(clients.len());
    for client in clients {
        let recorder = Recorder::new()?;
        tasks.push(tokio::spawn(client_loop(client, recorder, Arc::clone(&window), Arc::clone(&live))));
    }
    let mut merged = Recorder::new()?;
    let mut last_end = measure_from;
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok((recorder, end)) => {
                merged.merge(&recorder)?;
                last_end = last_end.max(end);
            }
            Err(e) => failure = Some(BenchError::Request(format!("a client task failed: {e}"))),
        }
    }
    progress.abort();
    if let Some(error) = failure {
        return Err(error);
    }
    let elapsed = match plan.stop {
        Stop::After(duration) => duration,
        Stop::Ops(_) => last_end.saturating_duration_since(measure_from),
    };
    Ok(Measured { recorder: merged, elapsed })
}

/// One client's loop; returns its recorder and when its last counted request ended.
async fn client_loop<C: LoadClient>(
    mut client: C,
    mut recorder: Recorder,
    window: Arc<Window>,
    live: Arc<Live>,
) -> (Recorder, Instant) {
    let mut last_end = window.measure_from;
    loop {
        let began = Instant::now();
        if window.measure_until.is_some_and(|until| began >= until) {
            break;
        }
        let measuring = began >= window.measure_from;
        if let (true, Some(ops)) = (measuring, window.ops) {
            if live.claimed.fetch_add(1, Ordering::Relaxed) >= ops {
                break;
            }
        }
        let result = op_until(&mut client, began, window.deadline(began)).await;
        let ended = Instant::now();
        let counted = measuring && window.measure_until.is_none_or(|until| ended <= until);
        match result {
            Ok(()) => {
                live.done.fetch_add(1, Ordering::Relaxed);
                if counted {
                    recorder.record(ended - began);
                }
            }
            Err(error) => {
                let shown = live.errors.fetch_add(1, Ordering::Relaxed);
                if shown < ERRORS_SHOWN_MAX {
                    eprintln!("request failed: {error}");
                }
                if counted {
                    recorder.error();
                }
                tokio::time::sleep(Duration::from_millis(ERROR_BACKOFF_MS)).await;
            }
        }
        if counted {
            last_end = ended;
        }
    }
    client.finish().await;
    (recorder, last_end)
}

/// Prints the rate since the last line, the total and the errors, once per interval.
async fn progress(live: Arc<Live>, label: String, start: Instant, measure_from: Instant) {
    let interval = Duration::from_millis(PROGRESS_INTERVAL_MS);
    let mut previous_done = 0;
    let mut previous_at = start;
    loop {
        tokio::time::sleep(interval).await;
        let now = Instant::now();
        let done = live.done.load(Ordering::Relaxed);
        let errors = live.errors.load(Ordering::Relaxed);
        let seconds = now.duration_since(previous_at).as_secs_f64();
        let rate = if seconds > 0.0 { (done - previous_done) as f64 / seconds } else { 0.0 };
        let phase = if now < measure_from { " (warm-up)" } else { "" };
        eprintln!(
            "[{label}] {:>4.0} s: {rate:>8.0} ops/s, {done} done, {errors} errors{phase}",
            now.duration_since(start).as_secs_f64()
        );
        previous_done = done;
        previous_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers after `delay`; every `fail_every`-th request fails.
    struct FakeClient {
        delay: Duration,
        fail_every: u64,
        sent: u64,
        finished: Arc<AtomicU64>,
    }

    impl LoadClient for FakeClient {
        async fn op(&mut self) -> Result<(), BenchError> {
            self.sent += 1;
            tokio::time::sleep(self.delay).await;
            if self.fail_every > 0 && self.sent.is_multiple_of(self.fail_every) {
                return Err(BenchError::Request("planted failure".into()));
            }
            Ok(())
        }

        async fn finish(self) {
            self.finished.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn clients(count: usize, delay_ms: u64, fail_every: u64, finished: &Arc<AtomicU64>) -> Vec<FakeClient> {
        (0..count)
            .map(|_| FakeClient {
                delay: Duration::from_millis(delay_ms),
                fail_every,
                sent: 0,
                finished: Arc::clone(finished),
            })
            .collect()
    }

    #[tokio::test]
    async fn ops_mode_sends_exactly_that_many_and_counts_errors() {
        let finished = Arc::new(AtomicU64::new(0));
        let plan =
            LoadPlan { warmup: Duration::ZERO, stop: Stop::Ops(100), grace: Duration::ZERO, label: "test".into() };
        let measured = run_closed_loop(clients(4, 1, 5, &finished), &plan).await.expect("runs");
        assert_eq!(measured.recorder.ok_count() + measured.recorder.errors(), 100);
        assert!(measured.recorder.errors() >= 16, "every fifth request of each client fails");
        assert_eq!(finished.load(Ordering::SeqCst), 4, "every client is finished");
        assert!(measured.elapsed >= Duration::from_millis(20), "100 requests of 1 ms over 4 clients");
    }

    #[tokio::test]
    async fn duration_mode_skips_the_warmup_and_bounds_latency() {
        let finished = Arc::new(AtomicU64::new(0));
        let plan = LoadPlan {
            warmup: Duration::from_millis(100),
            stop: Stop::After(Duration::from_millis(300)),
            grace: Duration::from_secs(1),
            label: "test".into(),
        };
        let started = Instant::now();
        let measured = run_closed_loop(clients(2, 5, 0, &finished), &plan).await.expect("runs");
        assert!(started.elapsed() >= Duration::from_millis(400));
        assert_eq!(measured.elapsed, Duration::from_millis(300));
        // 2 clients x 300 ms / (5 ms and scheduling): well under the 2 x 400 ms / 5 ms with warm-up.
        let ok = measured.recorder.ok_count();
        assert!(ok > 10 && ok <= 120, "{ok} requests counted");
        assert_eq!(measured.recorder.errors(), 0);
        assert!(measured.recorder.quantile_ms(0.5) >= 5.0);
    }

    /// Never answers after its first request, like a client of a cluster that died.
    struct HangingClient {
        sent: u64,
    }

    impl LoadClient for HangingClient {
        async fn op(&mut self) -> Result<(), BenchError> {
            self.sent += 1;
            if self.sent > 1 {
                std::future::pending::<()>().await;
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_hanging_request_ends_with_the_window_and_its_grace() {
        let plan = LoadPlan {
            warmup: Duration::ZERO,
            stop: Stop::After(Duration::from_millis(200)),
            grace: Duration::from_millis(100),
            label: "test".into(),
        };
        let started = Instant::now();
        let measured = run_closed_loop(vec![HangingClient { sent: 0 }], &plan).await.expect("runs");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(3_000), "{took:?}");
        assert_eq!(measured.recorder.ok_count(), 1);
        assert_eq!(measured.recorder.errors(), 0, "the abandoned request ended after the window");
    }

    #[tokio::test]
    async fn no_clients_is_an_error() {
        let plan = LoadPlan { warmup: Duration::ZERO, stop: Stop::Ops(1), grace: Duration::ZERO, label: "test".into() };
        assert!(run_closed_loop(Vec::<FakeClient>::new(), &plan).await.is_err());
    }
}
