//! The shared budget where real fleets live (issue 23): cancelled calls, a store that forgets,
//! answers that take their time, several tokens of one user, a store far away.
//!
//! Each test starts its own `redis-server` (Debian's; `.ci/run` installs it) and a loopback model
//! of Cloudflare's rule, per user across every token, scaled down: at most `limit` requests in
//! any `window` (sliding, counted when a request arrives), anything over it a 429 that locks the
//! user out for a window, `Ratelimit` and `Ratelimit-Policy` on every answer. Clients are
//! separate [`Client`]s (each its own pacer and store connection, as separate processes are).
//! Figures are printed with `--nocapture`, never asserted:
//!
//! ```text
//! cargo test --features redis --test shared_budget_schedules -- --include-ignored --nocapture
//! ```
#![cfg(feature = "redis")]

mod common;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cloudflare_dns_settings::{Client, Error};
use common::*;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use proptest::prelude::*;
use tokio::time::Instant;

/// The server's rule and counts.
struct Model {
    limit: usize,
    window: Duration,
    accepted: VecDeque<Instant>,
    locked_until: Option<Instant>,
    served: usize,
    too_many: usize,
    /// Each answer is sent this long after it was decided, in turn.
    delays: Vec<Duration>,
    answered: usize,
}

impl Model {
    fn new(limit: usize, window: Duration, delays: Vec<Duration>) -> Arc<Mutex<Model>> {
        Arc::new(Mutex::new(Model {
            limit,
            window,
            accepted: VecDeque::new(),
            locked_until: None,
            served: 0,
            too_many: 0,
            delays,
            answered: 0,
        }))
    }

    /// Decides the answer to a request arriving now, and how long it takes to send.
    fn answer(&mut self) -> (Response<Full<Bytes>>, Duration) {
        let now = Instant::now();
        let delay = match self.delays.len() {
            0 => Duration::ZERO,
            n => self.delays[self.answered % n],
        };
        self.answered += 1;
        while self
            .accepted
            .front()
            .is_some_and(|t| *t + self.window <= now)
        {
            self.accepted.pop_front();
        }
        let locked = self.locked_until.is_some_and(|until| now < until);
        if locked || self.accepted.len() >= self.limit {
            if !locked {
                self.locked_until = Some(now + self.window);
            }
            self.too_many += 1;
            let response = Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(
                    br#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#,
                )))
                .unwrap();
            return (response, delay);
        }
        self.accepted.push_back(now);
        self.served += 1;
        let reset = (self.accepted[0] + self.window).saturating_duration_since(now);
        let response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header(
                "ratelimit",
                format!(
                    r#""default";r={};t={}"#,
                    self.limit - self.accepted.len(),
                    reset.as_secs() + u64::from(reset.subsec_nanos() > 0)
                ),
            )
            .header(
                "ratelimit-policy",
                format!(r#""default";q={};w={}"#, self.limit, self.window.as_secs()),
            )
            .body(Full::new(Bytes::from(fixture("account_settings.json"))))
            .unwrap();
        (response, delay)
    }
}

/// The model served on loopback from the current runtime; its URL.
async fn serve(model: Arc<Mutex<Model>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let model = model.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let (response, delay) = model.lock().unwrap().answer();
                    async move {
                        tokio::time::sleep(delay).await;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// A client of one user's fleet: its own token, the fleet's scope, the shared store. Its pacing
/// cap, ten windows, is far below the store's two-minute hold on a request never settled: a
/// leaked admission fails the call that waits for it.
fn member(base_url: &str, store: &str, token: usize, limit: usize, window: Duration) -> Client {
    Client::builder()
        .api_token(format!("{TOKEN}-{token}"))
        .base_url(base_url)
        .rate_limit(limit as u32, window)
        .rate_limit_store(store)
        .rate_limit_scope("one-user")
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(50))
        .max_pacing_wait(10 * window)
        .build()
        .unwrap()
}

/// The runtime the fleet's clients and the model run on: two workers, as a small process has.
fn fleet_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn flushall(redis: &Redis) {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
}

/// One step of a generated schedule.
#[derive(Debug, Clone)]
enum Step {
    /// A call by client `.0`, given up after `.1` ms (before the store answers, while it
    /// waits for room, or after sending: wherever that falls).
    Cancelled(usize, u64),
    /// A call by client `.0`, waited for.
    Call(usize),
    /// The store loses everything (a failover that lost writes).
    Flush,
    /// Nothing new for `.0` ms.
    Gap(u64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            6 => (0usize..4, 1u64..40).prop_map(|(c, ms)| Step::Cancelled(c, ms)),
            4 => (0usize..4).prop_map(Step::Call),
            1 => Just(Step::Flush),
            2 => (0u64..150).prop_map(Step::Gap),
        ],
        8..40,
    )
}

const LIMIT: usize = 10;
const WINDOW: Duration = Duration::from_secs(2);

/// The rule, over generated schedules: 1–4 clients holding 1–3 tokens of one user, under one
/// scope; calls cancelled at random points, flushes of the store, answers delayed 0–300 ms.
/// The model never sees more than the limit in a window (no 429, no lockout), every call that
/// was waited for ends `Ok`, and after the schedule the fleet gets 1.5 budgets of calls through
/// (its time against the ideal printed). Shown to fail: with a dropped caller's admission left
/// in the store (429s in 5 of 6 cases), and with a lost state met by one client's view of the
/// window instead of filling it (1–4 × 429 in 3 of 6 cases); with neither fix, the store admits
/// a full budget after a flush over what the API counts.
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn a_fleet_survives_cancellations_flushes_and_slow_answers() {
    let redis = Redis::start();
    // More cases by hand: PROPTEST_CASES=64.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok());
    let config = ProptestConfig {
        cases: cases.unwrap_or(8),
        max_shrink_iters: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let delays = prop::collection::vec(0u64..300, 1..6);
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(
        &(1usize..=4, 1usize..=3, delays, steps()),
        |(clients, tokens, delays, steps)| {
            let runtime = fleet_runtime();
            runtime.block_on(async {
                flushall(&redis).await;
                let delays = delays.into_iter().map(Duration::from_millis).collect();
                let model = Model::new(LIMIT, WINDOW, delays);
                let url = serve(model.clone()).await;
                let fleet: Vec<Client> = (0..clients)
                    .map(|c| member(&url, &redis.url(), c % tokens, LIMIT, WINDOW))
                    .collect();
                let mut waited = Vec::new();
                for step in steps {
                    match step {
                        Step::Cancelled(c, ms) => {
                            let client = fleet[c % clients].clone();
                            tokio::spawn(async move {
                                let call = get_account(&client);
                                let _ = tokio::time::timeout(Duration::from_millis(ms), call).await;
                            });
                        }
                        Step::Call(c) => {
                            let client = fleet[c % clients].clone();
                            waited.push(tokio::spawn(async move { get_account(&client).await }));
                        }
                        Step::Flush => flushall(&redis).await,
                        Step::Gap(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                for call in waited {
                    let outcome = call.await.unwrap();
                    prop_assert!(outcome.is_ok(), "{outcome:?}");
                }
                // After the last cancellation: 1.5 budgets, spread over the clients, at once.
                let calls = LIMIT + LIMIT / 2;
                let started = Instant::now();
                let tasks: Vec<_> = (0..calls)
                    .map(|i| {
                        let client = fleet[i % clients].clone();
                        tokio::spawn(async move { get_account(&client).await })
                    })
                    .collect();
                for task in tasks {
                    let outcome: Result<_, Error> = task.await.unwrap();
                    prop_assert!(outcome.is_ok(), "{outcome:?}");
                }
                let took = started.elapsed();
                let model = model.lock().unwrap();
                println!(
                    "{clients} clients, {tokens} tokens: {calls} calls after the schedule in \
                     {:.2} s (ideal at most {:.0} s from an empty window, {:.0} s from a full \
                     one); served {}, 429s {}",
                    took.as_secs_f64(),
                    WINDOW.as_secs_f64(),
                    2.0 * WINDOW.as_secs_f64(),
                    model.served,
                    model.too_many
                );
                prop_assert_eq!(model.too_many, 0, "the API saw more than its limit");
                Ok(())
            })
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A budget's worth and one more at once, answers taking 300 ms: the last waits for the first
/// answers' room to come back (a window after them), not for the store's hold on requests in
/// flight (two minutes): it ends `Ok` inside a pacing cap of ten windows.
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn the_call_after_a_full_window_in_flight_waits_for_the_answers_not_the_hold() {
    let redis = Redis::start();
    let runtime = fleet_runtime();
    runtime.block_on(async {
        let window = Duration::from_secs(3);
        let model = Model::new(LIMIT, window, vec![Duration::from_millis(300)]);
        let url = serve(model.clone()).await;
        let client = member(&url, &redis.url(), 0, LIMIT, window);
        let started = Instant::now();
        let tasks: Vec<_> = (0..=LIMIT)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    let outcome = get_account(&client).await;
                    (outcome, started.elapsed())
                })
            })
            .collect();
        let mut last = Duration::ZERO;
        for task in tasks {
            let (outcome, took) = task.await.unwrap();
            assert!(outcome.is_ok(), "{outcome:?}");
            last = last.max(took);
        }
        println!(
            "{} calls on a budget of {LIMIT} per {window:?}, answers in 300 ms: the last ended \
             after {last:?}",
            LIMIT + 1
        );
        assert!(last >= window, "faster than the budget: {last:?}");
        assert_eq!(model.lock().unwrap().too_many, 0);
    });
}

/// A loopback TCP proxy delaying every byte by `one_way` in each direction (a store that far
/// away); its address.
async fn delayed(target: String, one_way: Duration) -> String {
    let delay = Arc::new(std::sync::atomic::AtomicU64::new(one_way.as_millis() as u64));
    delayed_by(target, delay).await
}

/// The same, the delay (milliseconds each way) read for every chunk: it may change.
async fn delayed_by(target: String, one_way: Arc<std::sync::atomic::AtomicU64>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = tokio::net::TcpStream::connect(&target).await else {
                continue;
            };
            let one_way = one_way.clone();
            let (ri, wi) = inbound.into_split();
            let (ro, wo) = outbound.into_split();
            for (mut from, mut to) in [
                (
                    Box::new(ri) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
                    Box::new(wo) as Box<dyn tokio::io::AsyncWrite + Unpin + Send>,
                ),
                (Box::new(ro), Box::new(wi)),
            ] {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
                let one_way = one_way.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0; 16 * 1024];
                    while let Ok(n @ 1..) = from.read(&mut buf).await {
                        let ms = one_way.load(std::sync::atomic::Ordering::SeqCst);
                        let at = Instant::now() + Duration::from_millis(ms);
                        if tx.send((at, buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    while let Some((at, bytes)) = rx.recv().await {
                        tokio::time::sleep_until(at).await;
                        if to.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                });
            }
        }
    });
    format!("redis://{addr}/")
}

/// A store 100 ms and 200 ms away (a round trip inside the 250 ms bound) is used: its keys hold
/// the calls, and the client never says the store is unreachable. The time per call at that
/// distance (one round trip to the store, one at a time; overlapped at 16 in flight) is printed.
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn a_store_far_away_is_used() {
    use std::io::Write;
    let redis = Redis::start();
    let said = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = said.clone();
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || Sink(writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for one_way in [Duration::from_millis(50), Duration::from_millis(100)] {
            flushall(&redis).await;
            let model = Model::new(1000, Duration::from_secs(60), Vec::new());
            let url = serve(model.clone()).await;
            let store = delayed(format!("127.0.0.1:{}", redis.port), one_way).await;
            let client = member(&url, &store, 0, 1000, Duration::from_secs(60));
            // The first calls connect (up to four round trips), four at once: each waits for
            // the connection rather than pacing alone; then one at a time.
            let first: Vec<_> = (0..4).map(|_| get_account(&client)).collect();
            for outcome in futures_util::future::join_all(first).await {
                outcome.unwrap();
            }
            let started = Instant::now();
            for _ in 0..4 {
                get_account(&client).await.unwrap();
            }
            let serial = started.elapsed() / 4;
            let started = Instant::now();
            let calls: Vec<_> = (0..16)
                .map(|_| {
                    let client = client.clone();
                    async move { get_account(&client).await }
                })
                .collect();
            for outcome in futures_util::future::join_all(calls).await {
                outcome.unwrap();
            }
            let overlapped = started.elapsed() / 16;
            let client = redis::Client::open(redis.url()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("cloudflare-dns-settings:*:window")
                .query_async(&mut conn)
                .await
                .unwrap();
            assert_eq!(keys.len(), 1, "{keys:?}");
            let held: usize = redis::cmd("ZCARD")
                .arg(&keys[0])
                .query_async(&mut conn)
                .await
                .unwrap();
            assert_eq!(held, 24, "every call in the store's window");
            println!(
                "a store {:?} away (round trip): {serial:?} per call one at a time, \
                 {overlapped:?} per call at 16 in flight",
                2 * one_way
            );
            // The last settlements land before the next distance starts from an empty store.
            tokio::time::sleep(8 * one_way).await;
            flushall(&redis).await;
        }
    });
    let said = String::from_utf8(said.lock().unwrap().clone()).unwrap();
    assert!(!said.contains("unreachable"), "{said}");
}

/// Clients with different tokens of one user, naming one scope, share one budget: together
/// they never go over it (without the scope, each token its own budget, the first calls alone
/// are three budgets).
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn tokens_of_one_user_share_a_budget_through_a_scope() {
    let redis = Redis::start();
    let runtime = fleet_runtime();
    runtime.block_on(async {
        let model = Model::new(LIMIT, WINDOW, Vec::new());
        let url = serve(model.clone()).await;
        let fleet: Vec<Client> = (0..3)
            .map(|token| member(&url, &redis.url(), token, LIMIT, WINDOW))
            .collect();
        let tasks: Vec<_> = (0..2 * LIMIT)
            .map(|i| {
                let client = fleet[i % 3].clone();
                tokio::spawn(async move { get_account(&client).await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().is_ok());
        }
        let model = model.lock().unwrap();
        assert_eq!((model.served, model.too_many), (2 * LIMIT, 0));
    });
}

/// A round trip to the store that takes longer than its bound (the store slowed down) may still
/// have admitted the request: the client, which went on without it, releases it with its next
/// round trip. After the calls, nothing is held as in flight (the store's two-minute hold for
/// requests never settled).
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn an_admission_whose_answer_came_too_late_is_released() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let redis = Redis::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let model = Model::new(1000, Duration::from_secs(60), Vec::new());
        let url = serve(model.clone()).await;
        let delay = Arc::new(AtomicU64::new(0));
        let store = delayed_by(format!("127.0.0.1:{}", redis.port), delay.clone()).await;
        let client = member(&url, &store, 0, 1000, Duration::from_secs(60));
        get_account(&client).await.unwrap();
        // Slower than the 250 ms bound each way: the admissions time out on the client.
        delay.store(200, Ordering::SeqCst);
        for _ in 0..3 {
            get_account(&client).await.unwrap();
        }
        delay.store(0, Ordering::SeqCst);
        // Past the store's away time, one more call carries the releases.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for _ in 0..3 {
            get_account(&client).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let direct = redis::Client::open(redis.url()).unwrap();
        let mut conn = direct.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("cloudflare-dns-settings:*:window")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1, "{keys:?}");
        let (now, _): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await.unwrap();
        // Scores are when a request leaves; a settled one leaves within a window and a second.
        let held: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(&keys[0])
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await
            .unwrap();
        let in_flight: Vec<_> = held
            .iter()
            .filter(|(_, score)| *score > ((now + 62) * 1000) as f64)
            .collect();
        assert!(in_flight.is_empty(), "held as in flight: {in_flight:?}");
        println!(
            "after timed-out admissions: {} requests held, none in flight",
            held.len()
        );
    });
}
