//! Rate-limit pacing: a bulk job against a server enforcing a small window never sees a 429.
//! The server's window runs on the test's paused tokio clock, so no real waiting happens.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cloudflare_dns_settings::{Client, ErrorKind};
use common::*;
use tokio::runtime::Handle;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LIMIT: u64 = 20;
const WINDOW: Duration = Duration::from_secs(10);

/// Allows `LIMIT` requests per fixed `WINDOW`, measured on the test runtime's clock; answers
/// with `Ratelimit`/`Ratelimit-Policy` headers, and 429 plus `retry-after` beyond the limit.
struct RateLimited {
    clock: Handle,
    start: tokio::time::Instant,
    window: AtomicU64,
    used: AtomicU64,
    too_many: Arc<AtomicU64>,
    served: Arc<AtomicU64>,
}

impl Respond for RateLimited {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = {
            let _runtime = self.clock.enter();
            tokio::time::Instant::now()
        };
        let elapsed = now - self.start;
        let window = elapsed.as_secs() / WINDOW.as_secs();
        if self.window.swap(window, Ordering::SeqCst) != window {
            self.used.store(0, Ordering::SeqCst);
        }
        let used = self.used.fetch_add(1, Ordering::SeqCst) + 1;
        let reset = WINDOW.as_secs() * (window + 1) - elapsed.as_secs();
        if used > LIMIT {
            self.too_many.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(429)
                .insert_header("retry-after", reset.to_string().as_str())
                .set_body_string(r#"{"success":false,"errors":[{"code":10000,"message":"rate limited"}],"messages":[],"result":null}"#);
        }
        self.served.fetch_add(1, Ordering::SeqCst);
        json_response(200, &fixture("account_settings.json"))
            .insert_header(
                "ratelimit",
                format!(r#""default";r={};t={reset}"#, LIMIT - used).as_str(),
            )
            .insert_header(
                "ratelimit-policy",
                format!(r#""default";q={LIMIT};w={}"#, WINDOW.as_secs()).as_str(),
            )
    }
}

/// A server and counters of the 429s it sent and the requests it served.
async fn rate_limited_server() -> (MockServer, Arc<AtomicU64>, Arc<AtomicU64>) {
    let server = server().await;
    let too_many = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicU64::new(0));
    let responder = RateLimited {
        clock: Handle::current(),
        start: tokio::time::Instant::now(),
        window: AtomicU64::new(0),
        used: AtomicU64::new(0),
        too_many: too_many.clone(),
        served: served.clone(),
    };
    Mock::given(method("GET"))
        .respond_with(responder)
        .mount(&server)
        .await;
    (server, too_many, served)
}

/// No timer but the client's own waits: with a paused clock, any other timer (a request
/// timeout, the pool's idle timer) would be jumped to while a response is on its way.
fn paced_client(server: &MockServer, pace: bool) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(server.uri())
        .timeout(None)
        .deadline(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .max_retries(0)
        .pace_requests(pace)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_bulk_job_is_paced_and_never_sees_a_429() {
    let (server, too_many, served) = rate_limited_server().await;
    let client = paced_client(&server, true);
    let started = tokio::time::Instant::now();
    const CALLS: u64 = 2000;
    for _ in 0..CALLS {
        get_account(&client).await.unwrap();
    }
    assert_eq!(too_many.load(Ordering::SeqCst), 0, "no 429 may be returned");
    assert_eq!(served.load(Ordering::SeqCst), CALLS);
    // 2000 calls at 20 per 10 s take about 1000 s of (paused, virtual) time.
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(990), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn paced_concurrent_callers_share_one_budget() {
    let (server, too_many, served) = rate_limited_server().await;
    let client = paced_client(&server, true);
    // Learn the window first, then let 8 tasks share it.
    get_account(&client).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    get_account(&client).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(too_many.load(Ordering::SeqCst), 0);
    assert_eq!(served.load(Ordering::SeqCst), 401);
}

/// The control: the same job without pacing runs into the limit.
#[tokio::test(start_paused = true)]
async fn without_pacing_the_same_job_runs_into_429s() {
    let (server, too_many, _) = rate_limited_server().await;
    let client = paced_client(&server, false);
    for _ in 0..100 {
        let _ = get_account(&client).await;
    }
    assert!(too_many.load(Ordering::SeqCst) > 0);
}

/// The pacing cap bounds the whole wait of an attempt, also when the budget is held by a request
/// still in flight (how long that takes is unknown, so the wait is polled): the second call fails
/// when it has waited `max_pacing_wait`, long before the first call's answer. (A server on the
/// test's runtime, answering after 5 s of its paused clock.)
#[tokio::test(start_paused = true)]
async fn waiting_on_a_request_in_flight_stops_at_the_pacing_cap() {
    let asked = Arc::new(AtomicU64::new(0));
    let count = asked.clone();
    let body = bytes::Bytes::from(fixture("account_settings.json"));
    let url = serve_model(
        move |_| {
            count.fetch_add(1, Ordering::SeqCst);
            hyper::Response::builder()
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(body.clone()))
                .unwrap()
        },
        Duration::from_secs(5),
    )
    .await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(url)
        .rate_limit(1, Duration::from_secs(1))
        .max_pacing_wait(Duration::from_millis(200))
        .build()
        .unwrap();
    let first = tokio::spawn({
        let client = client.clone();
        async move { get_account(&client).await }
    });
    while asked.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let started = tokio::time::Instant::now();
    let second = get_account(&client).await;
    let waited = started.elapsed();
    assert!(
        second.as_ref().is_err_and(
            |e| matches!(e.kind(), ErrorKind::RateLimited { .. }) && e.status().is_none()
        ),
        "{second:?}"
    );
    assert!(
        !first.is_finished(),
        "the second call waited for the first one's answer"
    );
    assert_eq!(waited, Duration::from_millis(200));
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "the second call sent nothing"
    );
    first.await.unwrap().unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(5),
        "the first call's answer"
    );
}
