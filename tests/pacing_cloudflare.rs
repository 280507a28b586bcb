//! Pacing against a model of Cloudflare's documented rate limit: 1200 requests per 5 minutes per
//! token, sliding; any request over it is a 429 and starts a 5-minute lockout in which every
//! request is a 429 with `retry-after`. The model answers with Cloudflare's headers
//! (`Ratelimit: "default";r=<remaining>;t=<seconds until the oldest request leaves the window>`,
//! `Ratelimit-Policy: "default";q=1200;w=300`), or with none at all.
//!
//! A cold start of 64 concurrent callers (clones of one client) sharing 5000 calls, on the
//! test's paused clock (the model runs in the same runtime and reads the same clock; each
//! answer takes 50 ms of it, counted by the model when the request arrives): no 429,
//! no lockout, every call `Ok`, and the whole job done within 15 % of what the budget allows.
//! Call k (from 0) may go at floor(k / 1200) × 300 s at the earliest, so 5000 calls need
//! 4 × 300 = 1200 s: finishing sooner would mean the model refused some, later than 1380 s
//! that pacing is over-cautious. `cargo test --test pacing_cloudflare -- --nocapture` prints
//! the figures.

mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cloudflare_dns_settings::Client;
use common::*;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use tokio::time::Instant;

const LIMIT: usize = 1200;
const WINDOW: Duration = Duration::from_secs(300);
const LOCKOUT: Duration = Duration::from_secs(300);
const CALLERS: usize = 64;
const CALLS: usize = 5000;
/// Between the model counting a request and its answer reaching the client: a round trip.
const LATENCY: Duration = Duration::from_millis(50);

/// Cloudflare's rule for one token, on the runtime's clock.
struct Model {
    send_headers: bool,
    /// When each request counted in the window was accepted, oldest first.
    window: VecDeque<Instant>,
    locked_until: Option<Instant>,
    served: usize,
    too_many: usize,
    lockouts: usize,
}

impl Model {
    fn new(send_headers: bool) -> Self {
        Model {
            send_headers,
            window: VecDeque::new(),
            locked_until: None,
            served: 0,
            too_many: 0,
            lockouts: 0,
        }
    }

    fn answer(&mut self, now: Instant) -> Response<Full<Bytes>> {
        while self.window.front().is_some_and(|t| *t + WINDOW <= now) {
            self.window.pop_front();
        }
        let locked = self.locked_until.filter(|until| now < *until);
        let refused = match locked {
            Some(until) => Some(until - now),
            None if self.window.len() >= LIMIT => {
                self.lockouts += 1;
                self.locked_until = Some(now + LOCKOUT);
                Some(LOCKOUT)
            }
            None => None,
        };
        if let Some(wait) = refused {
            self.too_many += 1;
            let body = r#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#;
            return Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("content-type", "application/json")
                .header("retry-after", ceil_secs(wait).to_string())
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap();
        }
        self.window.push_back(now);
        self.served += 1;
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("cf-ray", "8c3f0a1b2c3d4e5f-SJC");
        if self.send_headers {
            let oldest = *self.window.front().expect("this request is in the window");
            let leaves_in = (oldest + WINDOW).saturating_duration_since(now);
            response = response
                .header(
                    "ratelimit",
                    format!(
                        r#""default";r={};t={}"#,
                        LIMIT - self.window.len(),
                        ceil_secs(leaves_in)
                    ),
                )
                .header(
                    "ratelimit-policy",
                    format!(r#""default";q={LIMIT};w={}"#, WINDOW.as_secs()),
                );
        }
        response
            .body(Full::new(Bytes::from(fixture("account_settings.json"))))
            .unwrap()
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Serves the model on loopback, in the current runtime (so on its paused clock).
async fn serve(model: Arc<Mutex<Model>>) -> String {
    serve_model(move |now| model.lock().unwrap().answer(now), LATENCY).await
}

/// The earliest a sliding budget of `LIMIT` per `WINDOW` lets `calls` calls finish.
fn ideal(calls: usize) -> Duration {
    WINDOW * ((calls - 1) / LIMIT) as u32
}

/// What a job did, by the model's count and the callers'.
struct Job {
    took: Duration,
    failures: Vec<String>,
    served: usize,
    too_many: usize,
    lockouts: usize,
}

/// Runs the job and prints its figures; `start` is the budget the client starts from (default
/// Cloudflare's).
async fn cold_start(send_headers: bool, start: Option<u32>, calls: usize) -> Job {
    let model = Arc::new(Mutex::new(Model::new(send_headers)));
    let url = serve(model.clone()).await;
    // No timer but the client's own waits (see tests/pacing.rs); pacing and retries as default.
    let mut builder = Client::builder()
        .api_token(TOKEN)
        .base_url(url)
        .timeout(None)
        .deadline(None)
        .connect_timeout(None)
        .pool_idle_timeout(None);
    if let Some(requests) = start {
        builder = builder.rate_limit(requests, WINDOW);
    }
    let client = builder.build().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < calls {
                    if let Err(error) = get_account(&client).await {
                        failures.push(error.to_string());
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = Vec::new();
    for caller in callers {
        failures.extend(caller.await.expect("no caller panicked"));
    }
    let took = started.elapsed();
    let ideal = ideal(calls);
    let ratio = took.as_secs_f64() / ideal.as_secs_f64();
    let model = model.lock().unwrap();
    let variant = match (send_headers, start) {
        (true, None) => "with Cloudflare's rate-limit headers".to_string(),
        (false, None) => "without rate-limit headers".to_string(),
        (true, Some(n)) => format!("with Cloudflare's headers, the client starting from {n}/300 s"),
        (false, Some(n)) => format!("without headers, the client starting from {n}/300 s"),
    };
    println!(
        "pacing against the Cloudflare model ({variant}): {calls} calls by {CALLERS} callers in \
         {:.1} s of virtual time; ideal {} s; ratio {ratio:.3}; served {}, 429s {}, lockouts {}",
        took.as_secs_f64(),
        ideal.as_secs(),
        model.served,
        model.too_many,
        model.lockouts,
    );
    Job {
        took,
        failures,
        served: model.served,
        too_many: model.too_many,
        lockouts: model.lockouts,
    }
}

/// No 429, no lockout, every one of `calls` calls `Ok` and sent once, within 15 % of the ideal
/// time.
fn assert_within_budget(job: Job, calls: usize) {
    assert_eq!(job.too_many, 0, "no request may be refused");
    assert_eq!(job.lockouts, 0, "no lockout may start");
    assert!(
        job.failures.is_empty(),
        "{} calls failed: {:?}",
        job.failures.len(),
        &job.failures[..job.failures.len().min(5)]
    );
    assert_eq!(job.served, calls, "each call sent once");
    let (took, ideal) = (job.took, ideal(calls));
    assert!(took >= ideal, "faster than the budget allows: {took:?}");
    let ratio = took.as_secs_f64() / ideal.as_secs_f64();
    assert!(
        ratio <= 1.15,
        "pacing is over-cautious: {took:?} for an ideal of {ideal:?} (ratio {ratio:.3})"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cold_start_of_64_callers_keeps_to_cloudflares_budget_with_its_headers() {
    assert_within_budget(cold_start(true, None, CALLS).await, CALLS);
}

#[tokio::test(start_paused = true)]
async fn a_cold_start_of_64_callers_keeps_to_cloudflares_budget_without_headers() {
    assert_within_budget(cold_start(false, None, CALLS).await, CALLS);
}

/// A client told a budget four times too large learns the real one from `Ratelimit-Policy`
/// before it matters.
#[tokio::test(start_paused = true)]
async fn cloudflares_headers_correct_a_budget_set_too_high() {
    // Three windows' worth is enough to show it (and keeps the suite fast).
    let calls = 2500;
    assert_within_budget(cold_start(true, Some(4 * LIMIT as u32), calls).await, calls);
}

/// The control: without headers, the same client runs into the model's 429s and lockouts, so
/// the tests above can fail.
#[tokio::test(start_paused = true)]
async fn without_headers_a_budget_set_too_high_runs_into_lockouts() {
    let job = cold_start(false, Some(4 * LIMIT as u32), 2000).await;
    assert!(
        job.too_many > 0 && job.lockouts > 0,
        "{} 429s",
        job.too_many
    );
    assert!(!job.failures.is_empty());
}

/// The model itself: a burst past the limit gets 429s and a lockout, which lasts 5 minutes.
#[tokio::test(start_paused = true)]
async fn the_model_refuses_past_the_limit_and_locks_out_for_five_minutes() {
    let model = Arc::new(Mutex::new(Model::new(true)));
    let url = serve(model.clone()).await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(url)
        .timeout(None)
        .deadline(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .pace_requests(false)
        .max_retries(0)
        .build()
        .unwrap();
    for _ in 0..LIMIT {
        get_account(&client).await.unwrap();
    }
    let refused = get_account(&client).await.unwrap_err();
    assert_eq!(refused.retry_after(), Some(LOCKOUT));
    tokio::time::sleep(WINDOW).await;
    // The window has passed, the lockout too (both started at the same instant).
    get_account(&client).await.unwrap();
    let model = model.lock().unwrap();
    assert_eq!((model.too_many, model.lockouts), (1, 1));
    assert_eq!(ideal(1200), Duration::ZERO);
    assert_eq!(ideal(1201), WINDOW);
    assert_eq!(ideal(5000), 4 * WINDOW);
}
