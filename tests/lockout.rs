//! The lockout is respected (issue 17, part 2). A 429 without `retry-after` means the budget is
//! spent and the server locks the credential out: Cloudflare for five minutes, or for as long as
//! its rate-limit headers say (`Ratelimit: "default";r=0;t=…`). The pacer then holds every later
//! request of the client and its clones until the lockout ends, within `max_pacing_wait`; a call
//! (or a retry) that cannot wait that long fails at once with `RateLimited`, sending nothing.
//!
//! Checked as a property over generated servers and clients, against the server's own log: the
//! server (a model of the lockout on loopback, on the test's paused tokio clock) answers each
//! request it gets while not locked out as drawn (200, a 503, or a 429 without `retry-after` that
//! starts a lockout), and every request it gets while locked out with a 429. Sequential calls spread
//! over clones of one client.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cloudflare_dns_settings::{Client, ErrorKind};
use common::*;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use proptest::prelude::*;
use tokio::time::Instant;

/// Cloudflare's documented lockout, which the client assumes when a 429 says nothing else.
const CLOUDFLARE_LOCKOUT: Duration = Duration::from_secs(300);

/// The server's rule and its log.
struct Model {
    /// What each request that arrives while not locked out gets, in order; 200 once they run
    /// out.
    draws: Vec<Draw>,
    /// Send `Ratelimit` / `Ratelimit-Policy` headers (the lockout then lasts `lockout`; without
    /// them, Cloudflare's five minutes).
    headers: bool,
    lockout: Duration,
    locked_until: Option<Instant>,
    /// Every request: when it arrived and whether it was refused for an ongoing lockout.
    log: Vec<(Instant, Answer)>,
}

/// A status the server may draw for a request while not locked out.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Draw {
    Ok,
    /// A 429 without `retry-after`: a lockout starts.
    Lock,
    /// A 503 (retried after a backoff; no lockout).
    Unavailable,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Ok,
    Unavailable,
    /// A 429 that started a lockout.
    Locks,
    /// A 429 sent into a lockout already running: what the client must never cause.
    IntoLockout,
}

impl Model {
    /// A model that answers `draws` in turn, behind the mutex the server and the test share.
    fn shared(draws: Vec<Draw>, headers: bool, lockout: Duration) -> Arc<Mutex<Model>> {
        Arc::new(Mutex::new(Model {
            draws,
            headers,
            lockout,
            locked_until: None,
            log: Vec::new(),
        }))
    }

    fn locked_for(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn answer(&mut self, now: Instant) -> Response<Full<Bytes>> {
        let (answer, left) = match self.locked_for(now) {
            Some(left) => (Answer::IntoLockout, left),
            None => match (!self.draws.is_empty()).then(|| self.draws.remove(0)) {
                Some(Draw::Lock) => {
                    self.locked_until = Some(now + self.lockout);
                    (Answer::Locks, self.lockout)
                }
                Some(Draw::Unavailable) => (Answer::Unavailable, Duration::ZERO),
                Some(Draw::Ok) | None => (Answer::Ok, Duration::ZERO),
            },
        };
        self.log.push((now, answer));
        let mut response = Response::builder()
            .header("content-type", "application/json")
            .header("cf-ray", "8c3f0a1b2c3d4e5f-SJC");
        if self.headers {
            let (remaining, reset) = match answer {
                Answer::Ok | Answer::Unavailable => (100, 300),
                _ => (0, left.as_secs() + u64::from(left.subsec_nanos() > 0)),
            };
            response = response
                .header("ratelimit", format!(r#""default";r={remaining};t={reset}"#))
                .header("ratelimit-policy", r#""default";q=1200;w=300"#);
        }
        let (status, body) = match answer {
            Answer::Ok => (StatusCode::OK, fixture("account_settings.json")),
            Answer::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"success":false,"errors":[{"code":10013,"message":"unavailable"}],"messages":[],"result":null}"#
                    .to_string(),
            ),
            _ => (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}"#
                    .to_string(),
            ),
        };
        response
            .status(status)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    }
}

/// A runtime on a paused clock: the lockouts last minutes of virtual time.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Serves the model on loopback in the current runtime (so on its paused clock), answering at
/// once.
async fn serve(model: Arc<Mutex<Model>>) -> String {
    serve_model(move |now| model.lock().unwrap().answer(now), Duration::ZERO).await
}

/// No timer but the client's own waits (see tests/pacing.rs), so no deadline: the deadline's
/// share of the rule is checked on the pacer itself (src/pacing.rs).
fn client(url: &str, max_retries: u32, max_pacing_wait: Duration) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(url)
        .timeout(None)
        .deadline(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .retry_backoff(Duration::from_millis(500), Duration::from_secs(8))
        .max_retries(max_retries)
        .max_pacing_wait(max_pacing_wait)
        .build()
        .unwrap()
}

#[derive(Debug, Clone)]
struct Case {
    calls: usize,
    clones: usize,
    headers: bool,
    lockout_secs: u64,
    draws: Vec<Draw>,
    max_retries: u32,
    max_pacing_wait: Duration,
    /// Virtual time between one call's end and the next one's start.
    gap: Duration,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        1usize..=10,
        1usize..=4,
        any::<bool>(),
        1u64..=400,
        prop::collection::vec(
            prop_oneof![
                3 => Just(Draw::Ok),
                2 => Just(Draw::Lock),
                1 => Just(Draw::Unavailable)
            ],
            0..8,
        ),
        0u32..=3,
        prop_oneof![Just(0u64), 0u64..=700, Just(299), Just(300), Just(330)],
        prop_oneof![Just(0u64), 0u64..=200],
    )
        .prop_map(
            |(calls, clones, headers, lockout_secs, draws, max_retries, wait, gap)| Case {
                calls,
                clones,
                headers,
                lockout_secs,
                draws,
                max_retries,
                max_pacing_wait: Duration::from_secs(wait),
                gap: Duration::from_secs(gap),
            },
        )
}

/// Runs the calls of `case` and checks the rule against the server's log.
fn run(case: &Case) -> Result<(), TestCaseError> {
    let runtime = paused_runtime();
    runtime.block_on(async {
        let lockout = if case.headers {
            Duration::from_secs(case.lockout_secs)
        } else {
            CLOUDFLARE_LOCKOUT
        };
        let model = Model::shared(case.draws.clone(), case.headers, lockout);
        let url = serve(model.clone()).await;
        let first = client(&url, case.max_retries, case.max_pacing_wait);
        let clones: Vec<Client> = (0..case.clones).map(|_| first.clone()).collect();
        for call in 0..case.calls {
            let start = Instant::now();
            let (locked, sent_before) = {
                let model = model.lock().unwrap();
                (model.locked_for(start), model.log.len())
            };
            let outcome = get_account(&clones[call % clones.len()]).await;
            let took = start.elapsed();
            let sent = model.lock().unwrap().log.len() - sent_before;
            match outcome.as_ref().map_err(|error| (error, error.kind())) {
                Ok(_) => {}
                Err((error, ErrorKind::RateLimited { .. })) => {
                    // Every rate-limit error says how long to wait, a lockout's 429 included.
                    prop_assert!(error.retry_after().is_some(), "call {}: {:?}", call, error);
                    if error.attempts() == 0 {
                        // Refused by the pacer: at once, nothing sent, and only because the
                        // lockout outlasts the cap.
                        prop_assert_eq!(sent, 0, "call {}: {:?}", call, error);
                        prop_assert_eq!(took, Duration::ZERO, "call {}: not at once", call);
                        let left = locked.unwrap_or_default();
                        prop_assert!(
                            left > case.max_pacing_wait,
                            "call {call} refused although the lockout ({left:?} left) fits in \
                             the cap: {error:?}"
                        );
                    }
                }
                Err((error, ErrorKind::Api { .. }))
                    if error.status().is_some_and(|s| s.as_u16() == 503) =>
                {
                    prop_assert!(error.attempts() > 0, "call {call}: {error:?}");
                }
                Err((other, _)) => prop_assert!(false, "call {call}: {other:?}"),
            }
            // A lockout the cap allows waiting for is waited for, not refused.
            if locked.is_some_and(|left| left <= case.max_pacing_wait) {
                prop_assert!(sent > 0, "call {call} sent nothing: {outcome:?}");
            }
            tokio::time::sleep(case.gap).await;
        }
        let model = model.lock().unwrap();
        let into = model
            .log
            .iter()
            .filter(|(_, answer)| *answer == Answer::IntoLockout)
            .count();
        prop_assert_eq!(
            into,
            0,
            "requests sent into a running lockout; log: {:?}",
            model.log
        );
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_request_goes_into_a_lockout_and_a_call_that_cannot_wait_fails_at_once(case in cases()) {
        run(&case)?;
    }
}

/// The issue's example: every request answered 429 without `retry-after` (no rate-limit
/// headers). 8 sequential calls, on two clones, with a pacing cap shorter than the lockout:
/// the first call's one attempt is all that is sent (its retry would go into the lockout, and
/// is refused); every later call fails at once with `RateLimited`, saying how long is left.
#[test]
fn eight_calls_into_a_lockout_send_only_the_first_calls_attempt() {
    let runtime = paused_runtime();
    runtime.block_on(async {
        let model = Model::shared(vec![Draw::Lock; 100], false, CLOUDFLARE_LOCKOUT);
        let url = serve(model.clone()).await;
        let a = client(&url, 2, Duration::from_secs(60));
        let b = a.clone();
        let started = Instant::now();
        for call in 0..8 {
            let error = get_account(if call % 2 == 0 { &a } else { &b })
                .await
                .unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::RateLimited { .. }),
                "call {call}: {error:?}"
            );
            let left = CLOUDFLARE_LOCKOUT - started.elapsed();
            assert_eq!(error.retry_after(), Some(left), "call {call}");
            assert_eq!(error.attempts(), u32::from(call == 0), "call {call}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert_eq!(model.lock().unwrap().log.len(), 1);
    });
}

/// With the default cap (330 s, longer than the lockout) a call waits the lockout out instead:
/// the retry of the first call goes once the five minutes are over, and succeeds.
#[test]
fn with_the_default_cap_the_retry_waits_for_the_lockouts_end() {
    let runtime = paused_runtime();
    runtime.block_on(async {
        let model = Model::shared(vec![Draw::Lock], false, CLOUDFLARE_LOCKOUT);
        let url = serve(model.clone()).await;
        let client = client(&url, 2, Duration::from_secs(330));
        let started = Instant::now();
        get_account(&client).await.unwrap();
        let model = model.lock().unwrap();
        let times: Vec<_> = model.log.iter().map(|(at, _)| *at - started).collect();
        assert_eq!(times, [Duration::ZERO, CLOUDFLARE_LOCKOUT]);
    });
}
