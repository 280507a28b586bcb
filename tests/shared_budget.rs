//! One rate-limit budget across processes, on Redis (issue 18; the `redis` feature).
//!
//! Real OS processes (this test binary started again as `fleet_member`, one process per fleet
//! member) against one loopback server modelling Cloudflare's rule scaled down: at most `limit`
//! requests in any `window` (sliding), anything over it a 429 with `retry-after` that starts a
//! lockout of one window, `Ratelimit` and `Ratelimit-Policy` on every answer as Cloudflare sends
//! them. The store is a real `redis-server` (Debian's) that the test starts on a free loopback
//! port. These tests need it, so they are `#[ignore]`d in plain `cargo test`; `.ci/run` installs
//! it and runs them:
//!
//! ```text
//! cargo test --features redis --test shared_budget -- --include-ignored --nocapture
//! ```
//!
//! The figures (time, ratio to the ideal, 429s, lockouts) are printed with `--nocapture`.
#![cfg(feature = "redis")]

mod common;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cloudflare_dns_settings::Client;
use common::*;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// The server's rule and counts.
struct Model {
    limit: usize,
    window: Duration,
    /// Send the rate-limit headers only to requests whose user agent is this (`None`: to all).
    headers_to: Option<String>,
    accepted: VecDeque<Instant>,
    locked_until: Option<Instant>,
    served: usize,
    too_many: usize,
    lockouts: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Model {
    fn answer(&mut self, user_agent: &str) -> Response<Full<Bytes>> {
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.last = Some(now);
        while self
            .accepted
            .front()
            .is_some_and(|t| *t + self.window <= now)
        {
            self.accepted.pop_front();
        }
        let refused = match self.locked_until.filter(|until| now < *until) {
            Some(until) => Some(until - now),
            None if self.accepted.len() >= self.limit => {
                self.lockouts += 1;
                self.locked_until = Some(now + self.window);
                Some(self.window)
            }
            None => None,
        };
        if let Some(wait) = refused {
            self.too_many += 1;
            return Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("content-type", "application/json")
                .header("retry-after", ceil_secs(wait).to_string())
                .body(Full::new(Bytes::from_static(
                    br#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#,
                )))
                .unwrap();
        }
        self.accepted.push_back(now);
        self.served += 1;
        if std::env::var("FLEET_DEBUG").is_ok() {
            eprintln!(
                "ARRIVAL {} {}",
                user_agent,
                self.first.map_or(0, |f| (now - f).as_millis())
            );
        }
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json");
        if self.headers_to.as_deref().is_none_or(|ua| ua == user_agent) {
            let oldest = self.accepted[0];
            response = response
                .header(
                    "ratelimit",
                    format!(
                        r#""default";r={};t={}"#,
                        self.limit - self.accepted.len(),
                        ceil_secs((oldest + self.window).saturating_duration_since(now))
                    ),
                )
                .header(
                    "ratelimit-policy",
                    format!(r#""default";q={};w={}"#, self.limit, self.window.as_secs()),
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

/// The model served on loopback from a runtime of its own; its URL.
fn serve(model: Arc<Mutex<Model>>, runtime: &tokio::runtime::Runtime) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let model = model.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let user_agent = request
                        .headers()
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let response = model.lock().unwrap().answer(&user_agent);
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// What one fleet member is told, through its environment.
struct Member<'a> {
    base_url: &'a str,
    store: Option<&'a str>,
    calls: usize,
    in_flight: usize,
    /// The budget the client starts from: requests per window (s).
    limit: usize,
    window: u64,
    user_agent: String,
}

impl Member<'_> {
    fn spawn(&self) -> Child {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["fleet_member", "--exact", "--ignored", "--nocapture"])
            .env("FLEET_BASE_URL", self.base_url)
            .env("FLEET_CALLS", self.calls.to_string())
            .env("FLEET_IN_FLIGHT", self.in_flight.to_string())
            .env("FLEET_LIMIT", self.limit.to_string())
            .env("FLEET_WINDOW", self.window.to_string())
            .env("FLEET_USER_AGENT", &self.user_agent)
            .env_remove("CLOUDFLARE_RATE_LIMIT_REDIS_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(store) = self.store {
            command.env("CLOUDFLARE_RATE_LIMIT_REDIS_URL", store);
        }
        command.spawn().unwrap()
    }
}

/// What a fleet member reported: its calls that ended `Ok` and those that failed, and what it
/// logged.
#[derive(Debug, Default)]
struct Report {
    ok: usize,
    failed: usize,
    errors: Vec<String>,
    log: String,
}

fn wait(child: Child) -> Report {
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("FLEET_RESULT "))
        .unwrap_or_else(|| panic!("no result from a fleet member:\n{stdout}\n{log}"));
    let mut report = Report {
        log,
        ..Report::default()
    };
    for part in line.split(' ') {
        match part.split_once('=') {
            Some(("ok", n)) => report.ok = n.parse().unwrap(),
            Some(("failed", n)) => report.failed = n.parse().unwrap(),
            _ => {}
        }
    }
    report.errors = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("FLEET_ERROR "))
        .map(str::to_string)
        .collect();
    report
}

/// A fleet member: `FLEET_CALLS` calls, `FLEET_IN_FLIGHT` at a time, through one client built
/// from the environment (the shared store from `CLOUDFLARE_RATE_LIMIT_REDIS_URL`). Run only by
/// the tests below, as a process of its own.
#[test]
#[ignore = "a process of the fleet tests below, started by them"]
fn fleet_member() {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| panic!("{name}: run by the fleet tests only"))
    };
    let number = |name: &str| var(name).parse::<usize>().unwrap();
    let (calls, in_flight) = (number("FLEET_CALLS"), number("FLEET_IN_FLIGHT"));
    // A process of its own: the runtime's threads log too.
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::stderr)
            .finish(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder()
        .env_with(|name| match name {
            "CLOUDFLARE_API_TOKEN" => Some(TOKEN.to_string()),
            "CLOUDFLARE_BASE_URL" => Some(var("FLEET_BASE_URL")),
            other => std::env::var(other).ok(),
        })
        .unwrap()
        .rate_limit(
            number("FLEET_LIMIT") as u32,
            Duration::from_secs(number("FLEET_WINDOW") as u64),
        )
        .user_agent(var("FLEET_USER_AGENT"))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let (ok, errors) = runtime.block_on(async {
        let tasks: Vec<_> = (0..in_flight)
            .map(|_| {
                let (client, next) = (client.clone(), next.clone());
                tokio::spawn(async move {
                    let (mut ok, mut errors) = (0, Vec::new());
                    while next.fetch_add(1, Ordering::SeqCst) < calls {
                        match get_account(&client).await {
                            Ok(_) => ok += 1,
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                    (ok, errors)
                })
            })
            .collect();
        let (mut ok, mut errors) = (0, Vec::new());
        for task in tasks {
            let (o, e) = task.await.unwrap();
            ok += o;
            errors.extend(e);
        }
        (ok, errors)
    });
    for error in &errors {
        println!("FLEET_ERROR {error}");
    }
    println!("FLEET_RESULT ok={ok} failed={}", errors.len());
}

/// A fleet's run: the model's counts and the members' reports.
struct Run {
    took: Duration,
    /// From the model's first request to its last.
    span: Duration,
    served: usize,
    too_many: usize,
    lockouts: usize,
    reports: Vec<Report>,
}

impl Run {
    fn ok(&self) -> usize {
        self.reports.iter().map(|r| r.ok).sum()
    }

    fn failed(&self) -> usize {
        self.reports.iter().map(|r| r.failed).sum()
    }

    fn print(&self, what: &str, ideal: Duration) {
        let away: usize = self
            .reports
            .iter()
            .map(|r| r.log.matches("rate-limit store unreachable").count())
            .sum();
        println!(
            "{what}: {:.2} s (first to last request {:.2} s), ideal {} s, ratio {:.3}; calls ok \
             {}, failed {}; served {}, 429s {}, lockouts {}; store found away {away} times",
            self.took.as_secs_f64(),
            self.span.as_secs_f64(),
            ideal.as_secs(),
            self.took.as_secs_f64() / ideal.as_secs_f64(),
            self.ok(),
            self.failed(),
            self.served,
            self.too_many,
            self.lockouts
        );
    }
}

/// Starts the members (each with `members[i]`'s user agent), optionally runs `during` on the
/// way, waits for them all, and reads the model's counts.
fn run_fleet(model: &Arc<Mutex<Model>>, members: Vec<Member<'_>>, during: impl FnOnce()) -> Run {
    let started = Instant::now();
    let children: Vec<Child> = members.iter().map(Member::spawn).collect();
    during();
    let reports: Vec<Report> = children.into_iter().map(wait).collect();
    let took = started.elapsed();
    let model = model.lock().unwrap();
    Run {
        took,
        span: model
            .last
            .zip(model.first)
            .map_or(Duration::ZERO, |(l, f)| l - f),
        served: model.served,
        too_many: model.too_many,
        lockouts: model.lockouts,
        reports,
    }
}

fn model(limit: usize, window: Duration, headers_to: Option<&str>) -> Arc<Mutex<Model>> {
    Arc::new(Mutex::new(Model {
        limit,
        window,
        headers_to: headers_to.map(str::to_string),
        accepted: VecDeque::new(),
        locked_until: None,
        served: 0,
        too_many: 0,
        lockouts: 0,
        first: None,
        last: None,
    }))
}

fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The earliest a sliding budget of `limit` per `window` lets `calls` calls finish.
fn ideal(calls: usize, limit: usize, window: Duration) -> Duration {
    window * ((calls - 1) / limit) as u32
}

const PROCESSES: usize = 4;
const CALLS: usize = 300;
const IN_FLIGHT: usize = 8;
const LIMIT: usize = 300;
const WINDOW: Duration = Duration::from_secs(10);

fn fleet<'a>(url: &'a str, store: Option<&'a str>, calls: usize, limit: usize) -> Vec<Member<'a>> {
    (0..PROCESSES)
        .map(|i| Member {
            base_url: url,
            store,
            calls,
            in_flight: IN_FLIGHT,
            limit,
            window: WINDOW.as_secs(),
            user_agent: format!("fleet-{i}"),
        })
        .collect()
}

/// 4 processes × 300 calls, 8 in flight each, sharing the model's budget (300 per 10 s, so
/// 1200 calls need 30 s at the least) through Redis: no 429, no lockout, every call `Ok` and
/// sent once, and never faster than the budget allows. The time against the ideal (issue 18
/// asks for at most 1.15×) is printed, not asserted: this machine is shared and noisy, and speed
/// is a measurement (the closing notes and BENCHMARKS.md carry the figures). Then the same
/// without the store, for contrast.
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn four_processes_share_one_budget_through_redis() {
    let redis = Redis::start();
    let runtime = server_runtime();
    let model = model(LIMIT, WINDOW, None);
    let url = serve(model.clone(), &runtime);
    let store = redis.url();
    let run = run_fleet(&model, fleet(&url, Some(&store), CALLS, LIMIT), || {});
    let ideal = ideal(PROCESSES * CALLS, LIMIT, WINDOW);
    run.print("4 processes x 300 calls, shared budget on Redis", ideal);
    assert_eq!(
        (run.too_many, run.lockouts),
        (0, 0),
        "no 429, no lockout; errors: {:?}",
        run.reports
            .iter()
            .flat_map(|r| &r.errors)
            .take(5)
            .collect::<Vec<_>>()
    );
    assert_eq!(run.ok(), PROCESSES * CALLS);
    assert_eq!(run.served, PROCESSES * CALLS, "each call sent once");
    assert!(
        run.span >= ideal,
        "faster than the budget allows: {:?}",
        run.span
    );

    // The contrast: each process paces alone, on the whole budget.
    let model = self::model(LIMIT, WINDOW, None);
    let url = serve(model.clone(), &runtime);
    let alone = run_fleet(&model, fleet(&url, None, CALLS, LIMIT), || {});
    alone.print("4 processes x 300 calls, each pacing alone", ideal);
    assert!(alone.too_many > 0, "the control runs into 429s");
}

/// Redis killed a few seconds into the run, and started again later on the same port: nothing
/// is lost (every call `Ok`), nothing hangs, no 429; each process says once that the store is
/// away and once that it is back, and paces on a share of the budget in between (and for a
/// window after).
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn redis_killed_mid_run_loses_nothing_and_hangs_nothing() {
    let mut redis = Redis::start();
    let port = redis.port;
    let runtime = server_runtime();
    let (limit, calls) = (200, 150);
    let model = model(limit, WINDOW, None);
    let url = serve(model.clone(), &runtime);
    let store = redis.url();
    let mut restarted = None;
    let run = run_fleet(&model, fleet(&url, Some(&store), calls, limit), || {
        std::thread::sleep(Duration::from_secs(4));
        redis.kill();
        std::thread::sleep(Duration::from_secs(8));
        restarted = Some(Redis::on(port));
    });
    run.print(
        "4 processes x 150 calls, Redis killed at 4 s and back at 12 s",
        ideal(PROCESSES * calls, limit, WINDOW),
    );
    assert_eq!(run.ok(), PROCESSES * calls, "nothing lost");
    // Cautious while the store is away: a share of the budget each, not the whole.
    assert_eq!((run.too_many, run.lockouts), (0, 0));
    assert!(
        run.took < Duration::from_secs(120),
        "no hang: {:?}",
        run.took
    );
    for report in &run.reports {
        let away = report.log.matches("rate-limit store unreachable").count();
        let back = report
            .log
            .matches("rate-limit store reachable again")
            .count();
        assert_eq!((away, back), (1, 1), "said once each:\n{}", report.log);
    }
    drop(restarted);
}

/// A budget change announced by headers reaches every process: the clients start from a budget
/// four times too large; the server sends its `Ratelimit-Policy` to the first process only, which
/// makes one call before the others start. Through the store the others keep to it: no 429.
/// Without the store (the control) they run into 429s.
#[test]
#[ignore = "needs redis-server (run by .ci/run)"]
fn a_budget_change_announced_to_one_process_reaches_every_process() {
    let redis = Redis::start();
    let runtime = server_runtime();
    let (limit, window, calls) = (50, Duration::from_secs(5), 50);
    let store = redis.url();
    let mut outcomes = Vec::new();
    for shared in [true, false] {
        let model = model(limit, window, Some("fleet-0"));
        let url = serve(model.clone(), &runtime);
        let store = shared.then_some(store.as_str());
        let member = |i: usize, calls: usize| Member {
            base_url: &url,
            store,
            calls,
            in_flight: IN_FLIGHT,
            limit: 4 * limit,
            window: window.as_secs(),
            user_agent: format!("fleet-{i}"),
        };
        let first = run_fleet(&model, vec![member(0, 1)], || {});
        assert_eq!(first.ok(), 1);
        let others = (1..=3).map(|i| member(i, calls)).collect();
        let run = run_fleet(&model, others, || {});
        run.print(
            &format!(
                "budget announced to one process; 3 others x {calls} calls, {}",
                if shared {
                    "shared on Redis"
                } else {
                    "each alone"
                }
            ),
            ideal(3 * calls + 1, limit, window),
        );
        outcomes.push(run.too_many);
        if shared {
            assert_eq!(run.ok(), 3 * calls);
        }
    }
    assert_eq!(outcomes[0], 0, "through the store: no 429");
    assert!(outcomes[1] > 0, "the control, each alone, runs into 429s");
}

/// A store that is not there: calls go on, paced on a share of the budget, and nothing hangs.
/// Needs no Redis.
#[tokio::test(start_paused = true)]
async fn a_store_that_is_not_there_neither_fails_nor_hangs_a_call() {
    let server = serve_get(200, &fixture("account_settings.json")).await;
    // No timer but the client's own waits (see tests/pacing.rs).
    let client = builder(&server)
        .api_token(TOKEN)
        .timeout(None)
        .deadline(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .rate_limit(8, Duration::from_secs(60))
        .rate_limit_store(format!("redis://127.0.0.1:{}/", closed_port()))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    // Never reached, never told how many share it: a quarter of 8 per minute.
    for _ in 0..2 {
        get_account(&client).await.unwrap();
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    let third = get_account(&client).await;
    assert!(third.is_ok(), "{third:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "the third call waited for the share: {:?}",
        started.elapsed()
    );
    assert_eq!(received(&server).await.len(), 3);
}
