//! Every header of a response is input from the network, as hostile as its body. No value of
//! `retry-after`, `retry-after-ms`, any rate-limit header form or an HTTP date panics, hangs, or
//! makes the next call wait for a reset that is not plausible; and, fuzzed with retries and
//! pacing on, every call returns within its deadline with an error the status allows, having
//! sent exactly as many requests as the error says.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cloudflare_dns_settings::types::AccountSettings;
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use common::*;
use proptest::prelude::*;
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---- The rows of issue 9's table --------------------------------------------------------------

/// No timer but the client's own waits: with the paused clock, any other timer would be jumped
/// to while a response is on its way (see tests/pacing.rs).
fn paused_clock_client(server: &MockServer) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(server.uri())
        .timeout(None)
        .deadline(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap()
}

/// A server whose first answer is `first`, and every later one the account settings.
async fn first_then_ok(first: ResponseTemplate) -> MockServer {
    let server = server().await;
    Mock::given(any_request())
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any_request())
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    server
}

/// The first call gets a 200 carrying `headers`; returns how long (virtual time, paused clock)
/// the second call took, which must have succeeded.
async fn wait_of_the_next_call(headers: &[(&str, String)]) -> Duration {
    let mut first = json_response(200, &fixture("account_settings.json"));
    for (name, value) in headers {
        first = first.insert_header(*name, value.as_str());
    }
    let server = first_then_ok(first).await;
    let client = paused_clock_client(&server);
    get_account(&client).await.expect("the first call");
    let started = tokio::time::Instant::now();
    get_account(&client)
        .await
        .unwrap_or_else(|e| panic!("the next call after {headers:?}: {e:?}"));
    assert_eq!(received(&server).await.len(), 2);
    started.elapsed()
}

fn epoch() -> Duration {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_429_asking_for_1e30_ms_is_rate_limited_with_that_wait_after_one_request() {
    let server = first_then_ok(
        json_response(429, &fixture("error_10000_authentication.json"))
            .insert_header("retry-after-ms", "1e30"),
    )
    .await;
    let client = paused_clock_client(&server);
    let error = get_account(&client).await.unwrap_err();
    let ErrorKind::RateLimited {
        retry_after: Some(wait),
        ..
    } = error.kind()
    else {
        panic!("{error:?}")
    };
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert!(*wait > Duration::from_secs(1 << 60), "huge: {wait:?}");
    assert!(!error.to_string().is_empty(), "Display does not panic");
    assert_eq!(received(&server).await.len(), 1, "not retried");
    // Such a wait is not plausible, so it does not block the next call either.
    let started = tokio::time::Instant::now();
    get_account(&client).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_reset_of_u64_max_with_nothing_remaining_is_not_waited_for() {
    let waited = wait_of_the_next_call(&[
        ("x-ratelimit-remaining", "0".into()),
        ("x-ratelimit-reset", u64::MAX.to_string()),
    ])
    .await;
    assert_eq!(waited, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_reset_in_epoch_milliseconds_with_nothing_remaining_is_not_waited_for() {
    let reset = (epoch() + Duration::from_secs(30)).as_millis().to_string();
    let waited = wait_of_the_next_call(&[
        ("x-ratelimit-remaining", "0".into()),
        ("x-ratelimit-reset", reset),
    ])
    .await;
    assert_eq!(waited, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_reset_in_epoch_seconds_with_nothing_remaining_is_not_waited_for() {
    let reset = (epoch() + Duration::from_secs(30)).as_secs().to_string();
    let waited = wait_of_the_next_call(&[
        ("x-ratelimit-remaining", "0".into()),
        ("x-ratelimit-reset", reset),
    ])
    .await;
    assert_eq!(waited, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_reset_date_years_ahead_is_not_waited_for() {
    let waited = wait_of_the_next_call(&[
        ("x-ratelimit-remaining", "0".into()),
        ("x-ratelimit-reset", "Fri, 31 Dec 9999 23:59:59 GMT".into()),
    ])
    .await;
    assert_eq!(waited, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_ratelimit_reset_beyond_the_window_is_not_waited_for() {
    let waited = wait_of_the_next_call(&[
        ("ratelimit", r#""default";r=0;t=86400"#.into()),
        ("ratelimit-policy", r#""default";q=1200;w=300"#.into()),
    ])
    .await;
    assert_eq!(waited, Duration::ZERO);
}

/// An unreadable reset makes the reading incoherent, like an implausible one: it is not acted on
/// (no wait), and never panics.
#[tokio::test(start_paused = true)]
async fn an_unreadable_reset_is_not_waited_for() {
    for reset in ["-1", "NaN", "inf", "1e308", "", "soon", "\u{ff}"] {
        let waited = wait_of_the_next_call(&[
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.into()),
        ])
        .await;
        assert_eq!(waited, Duration::ZERO, "reset {reset:?}");
    }
}

/// The control: a plausible reset is waited for, so the measurements above can see a wait.
/// (How long: until the requests the server counted and this client did not send leave the
/// window, which the pacer takes to be a whole window from now, whatever the reset says.)
#[tokio::test(start_paused = true)]
async fn a_plausible_reset_with_nothing_remaining_is_waited_for() {
    for headers in [
        vec![
            ("x-ratelimit-remaining", "0".to_string()),
            ("x-ratelimit-reset", "7".to_string()),
        ],
        vec![("ratelimit", r#""default";r=0;t=12"#.to_string())],
    ] {
        let waited = wait_of_the_next_call(&headers).await;
        assert!(
            waited >= Duration::from_secs(7) && waited <= Duration::from_secs(301),
            "{headers:?}: {waited:?}"
        );
    }
}

// ---- The fuzz: status × header names × hostile values, retries and pacing on -----------------

const MAX_ATTEMPTS: u32 = 3;
const DEADLINE: Duration = Duration::from_secs(2);

const NAMES: &[&str] = &[
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
    "ratelimit",
    "ratelimit-policy",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "content-length",
    "cf-ray",
    "location",
    "content-type",
];

const PACING_NAMES: &[&str] = &[
    "ratelimit",
    "ratelimit-policy",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

const FIXED: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "-1",
    "-0",
    "0",
    "1",
    "2",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "1e309",
    "1e30",
    "-1e30",
    "4.9e-324",
    "0.0001",
    "1.5",
    "0x10",
    "",
    "   ",
    "garbage",
    "true",
    "false",
    "TRUE",
    " true ",
    r#""default";r=0;t=18446744073709551615"#,
    r#""default";r=0;t=1"#,
    r#""default";r=-1;t=-1"#,
    r#""default";r=NaN;t=inf"#,
    r#""default";q=0;w=0"#,
    r#""default";q=1;w=1"#,
    r#""default";q=18446744073709551615;w=18446744073709551615"#,
    r#""default";q=1200;w=300"#,
    r#";;;==;"default""#,
    "limit=0, remaining=0, reset=99999999999",
    "limit=1, remaining=0, reset=1",
    "remaining=0;reset=-5",
    "100;w=60",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "Mon, 32 Foo 2024 25:61:61 GMT",
    "http://localhost:1/accounts?token=x",
    "http://user:pass@evil.example:8080/p?q=1",
    "https://evil.example",
    "//evil.example/x",
    "/relative?x=1",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "data:text/plain,hi",
    "http://[::1]:0/",
    "http://%zz/",
    "https://",
    ":",
    "application/json",
    "text/html; charset=utf-8",
    "8c3f0a1b2c3d4e5f-SJC",
];

/// What the body of the fuzzed response is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Body {
    Success,
    Failure,
    Html,
    Empty,
}

impl Body {
    fn bytes(self) -> Vec<u8> {
        match self {
            Body::Success => fixture("account_settings.json").into_bytes(),
            Body::Failure => br#"{"success":false,"errors":[{"code":10000,"message":"no"}],"messages":[],"result":null}"#.to_vec(),
            Body::Html => b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            Body::Empty => Vec::new(),
        }
    }
}

#[derive(Clone)]
struct Case {
    status: u16,
    body: Body,
    headers: Vec<(&'static str, Vec<u8>)>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let v = String::from_utf8_lossy(v);
                let shown: String = v.chars().take(80).collect();
                format!("{n}: {shown:?} ({} bytes)", v.len())
            })
            .collect();
        f.debug_struct("Case")
            .field("status", &self.status)
            .field("body", &self.body)
            .field("headers", &headers)
            .finish()
    }
}

fn statuses() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => prop::sample::select(vec![
            100u16, 101, 102, 103, 199, 200, 200, 200, 201, 204, 205, 206, 300, 301, 302, 303,
            304, 305, 306, 307, 308, 399, 400, 401, 403, 404, 408, 409, 422, 429, 429, 429, 500,
            502, 503, 503, 504, 599,
        ]),
        1 => 200u16..=299,
        1 => 100u16..=599,
    ]
}

/// A number as a header might carry it: any integer, any float, in plain or exponent form.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<i128>().prop_map(|n| n.to_string()),
        (0u64..=4000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n:e}")),
    ]
}

/// Bytes HTTP allows in a field value: visible ASCII, space, tab and obs-text (0x80-0xFF).
fn field_bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => 0x21u8..=0x7E,
            1 => Just(b' '),
            1 => Just(b'\t'),
            2 => 0x80u8..=0xFF,
        ],
        len,
    )
}

fn http_date() -> impl Strategy<Value = String> {
    // From 1970 to the last second of 9999, the range of an HTTP date.
    (0u64..=253_402_300_799)
        .prop_map(|s| httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(s)))
}

fn hostile_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(FIXED).prop_map(|s| s.as_bytes().to_vec()),
        3 => number().prop_map(String::into_bytes),
        2 => (number(), number())
            .prop_map(|(r, t)| format!(r#""default";r={r};t={t}"#).into_bytes()),
        1 => (number(), number())
            .prop_map(|(q, w)| format!(r#""default";q={q};w={w}"#).into_bytes()),
        1 => (number(), number(), number())
            .prop_map(|(l, r, t)| format!("limit={l}, remaining={r}, reset={t}").into_bytes()),
        2 => http_date().prop_map(String::into_bytes),
        1 => (0i64..=120).prop_map(|ahead| {
            let at = epoch().as_secs() as i64 + ahead;
            at.to_string().into_bytes()
        }),
        1 => (0u64..=120_000).prop_map(|ahead| {
            (epoch().as_millis() as u64 + ahead).to_string().into_bytes()
        }),
        2 => field_bytes(0..40),
        1 => (1000usize..12_000, prop::sample::select(vec![b'9', b'a', 0xFF]))
            .prop_map(|(n, b)| vec![b; n]),
    ]
}

fn cases() -> impl Strategy<Value = Case> {
    let body = prop::sample::select(vec![Body::Success, Body::Failure, Body::Html, Body::Empty]);
    let header = (prop::sample::select(NAMES), hostile_value());
    (statuses(), body, prop::collection::vec(header, 1..=3)).prop_map(|(status, body, headers)| {
        Case {
            status,
            body,
            headers,
        }
    })
}

/// The kind of an outcome, as the oracle names it ("Paced": the client's pacer refused to send).
fn kind(outcome: &Result<AccountSettings, Error>) -> &'static str {
    let Err(error) = outcome else { return "Ok" };
    match error.kind() {
        ErrorKind::Api { .. } => "Api",
        ErrorKind::RateLimited { .. } if error.status().is_some() => "RateLimited",
        ErrorKind::RateLimited { .. } => "Paced",
        ErrorKind::Redirected { .. } => "Redirected",
        ErrorKind::UnexpectedResponse { .. } => "UnexpectedResponse",
        ErrorKind::Decode { .. } => "Decode",
        ErrorKind::ResponseTooLarge { .. } => "ResponseTooLarge",
        ErrorKind::Timeout { .. } => "Timeout",
        ErrorKind::Transport { .. } => "Transport",
        _ => "other",
    }
}

/// The kinds of outcome a case allows, from its status, body and the headers fuzzed.
fn check(case: &Case, outcome: &Result<AccountSettings, Error>) -> Result<(), String> {
    let fuzzed = |name: &str| case.headers.iter().any(|(n, _)| *n == name);
    // A hostile content-length may cut the body short, ask for more than was sent, exceed the
    // limit, or not parse: then a body or framing error is acceptable too.
    let framing = fuzzed("content-length");
    // Rate-limit headers (and a 429's wait) can make the pacer refuse a retry it would wait
    // too long for: then nothing more was sent.
    let pacing = PACING_NAMES.iter().any(|n| fuzzed(n))
        || (case.status == 429 && (fuzzed("retry-after") || fuzzed("retry-after-ms")));
    let status = case.status;
    let kind = kind(outcome);
    let mut allowed: Vec<&str> = match status {
        // 101 is a response (an upgrade nobody asked for); other 1xx are skipped by hyper, and
        // what follows is no response at all.
        101 => vec!["UnexpectedResponse", "Transport"],
        100..=199 => vec!["Transport"],
        // No body by definition.
        204 => vec!["Decode"],
        200..=299 => vec![match case.body {
            Body::Success => "Ok",
            Body::Failure => "Api",
            Body::Html | Body::Empty => "Decode",
        }],
        300..=399 => vec!["Redirected"],
        429 => vec!["RateLimited"],
        _ => vec![match case.body {
            Body::Success | Body::Failure => "Api",
            Body::Html | Body::Empty => "UnexpectedResponse",
        }],
    };
    if framing {
        allowed.extend(["Transport", "ResponseTooLarge"]);
        match status {
            200..=299 => allowed.push("Decode"),
            400..=599 if status != 429 => allowed.push("UnexpectedResponse"),
            _ => {}
        }
    }
    if pacing {
        allowed.push("Paced");
    }
    if !allowed.contains(&kind) {
        return Err(format!(
            "HTTP {status} gave {kind} ({outcome:?}); allowed: {allowed:?}"
        ));
    }
    let Err(error) = outcome else { return Ok(()) };
    match error.kind() {
        ErrorKind::Redirected {
            location: Some(location),
            ..
        } => {
            // Only an origin: scheme://host[:port], nothing after it.
            let (scheme, rest) = location
                .split_once("://")
                .ok_or_else(|| format!("location {location:?} is not an origin"))?;
            if scheme.is_empty() || rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
                return Err(format!("location {location:?} is not an origin"));
            }
        }
        ErrorKind::RateLimited { .. } if error.status().is_none() && error.attempts() == 0 => {
            return Err("the pacer refused the first attempt of a fresh client".into());
        }
        _ => {}
    }
    Ok(())
}

/// One runtime, one raw server and its script for all the cases of a test thread. The runtime's
/// clock is paused (the server runs on it too, so an answer in flight is seen before the clock
/// jumps to the next timer): how long a case took is exact, whatever else runs on the machine.
struct Harness {
    runtime: tokio::runtime::Runtime,
    server: RawServer,
    script: Arc<Mutex<Vec<u8>>>,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let script = Arc::new(Mutex::new(Vec::new()));
        let answer = script.clone();
        let server = runtime.block_on(RawServer::start(move |_, _| {
            RawReply::Bytes(answer.lock().unwrap().clone())
        }));
        Harness {
            runtime,
            server,
            script,
        }
    }

    /// Runs one case; its outcome's kind, or what is wrong with it.
    fn run(&self, case: &Case) -> Result<&'static str, String> {
        let headers: Vec<(&str, Vec<u8>)> =
            case.headers.iter().map(|(n, v)| (*n, v.clone())).collect();
        *self.script.lock().unwrap() = raw_response(case.status, &headers, &case.body.bytes());
        // A fresh client per case: what one case taught the pacer must not decide the next.
        let client = Client::builder()
            .api_token(TOKEN)
            .base_url(self.server.url())
            .max_retries(MAX_ATTEMPTS - 1)
            .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
            .max_retry_after(Duration::from_millis(50))
            .max_pacing_wait(Duration::from_millis(50))
            .max_response_bytes(64 * 1024)
            .timeout(Duration::from_secs(1))
            .deadline(DEADLINE)
            .build()
            .map_err(|e| format!("build: {e}"))?;
        let before = self.server.requests();
        let (outcome, took) = self.runtime.block_on(async {
            let started = tokio::time::Instant::now();
            let outcome =
                tokio::time::timeout(DEADLINE + Duration::from_secs(3), get_account(&client)).await;
            (outcome, started.elapsed())
        });
        let Ok(outcome) = outcome else {
            return Err(format!("hung: no answer after {took:?}"));
        };
        if took > DEADLINE {
            return Err(format!("took {took:?}, past the deadline of {DEADLINE:?}"));
        }
        let seen = self.server.requests() - before;
        check(case, &outcome)?;
        let sent = match &outcome {
            Ok(_) => 1,
            Err(e) => e.attempts() as usize,
        };
        if seen != sent {
            return Err(format!(
                "the server saw {seen} requests, the client says {sent}: {outcome:?}"
            ));
        }
        if seen > MAX_ATTEMPTS as usize {
            return Err(format!("{seen} requests, more than {MAX_ATTEMPTS}"));
        }
        Ok(kind(&outcome))
    }
}

proptest! {
    // 96 cases: most of the time is building a client per case (its TLS roots), which keeps
    // one case's pacing lessons out of the next.
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_header_value_panics_hangs_or_miscounts(case in cases()) {
        thread_local!(static H: Harness = Harness::new());
        H.with(|h| h.run(&case)).map_err(TestCaseError::fail)?;
    }
}

/// The fuzz's oracle, on cases fixed by hand: each kind of outcome is reached, so a wrong
/// mapping fails here and not only by chance.
#[test]
fn the_fuzz_oracle_sees_each_kind_of_outcome() {
    let h = Harness::new();
    let case = |status, body, headers: &[(&'static str, &str)]| Case {
        status,
        body,
        headers: headers
            .iter()
            .map(|(n, v)| (*n, v.as_bytes().to_vec()))
            .collect(),
    };
    for (case, expected) in [
        (case(200, Body::Success, &[("cf-ray", "x")]), "Ok"),
        (case(200, Body::Failure, &[]), "Api"),
        (case(200, Body::Html, &[]), "Decode"),
        (case(204, Body::Success, &[]), "Decode"),
        (
            case(302, Body::Empty, &[("location", "http://a.example:1/p")]),
            "Redirected",
        ),
        (
            case(429, Body::Failure, &[("retry-after", "0")]),
            "RateLimited",
        ),
        (case(503, Body::Html, &[]), "UnexpectedResponse"),
        (case(503, Body::Failure, &[]), "Api"),
        (case(103, Body::Empty, &[]), "Transport"),
        (
            case(200, Body::Success, &[("content-length", "999999")]),
            "ResponseTooLarge",
        ),
        (
            case(503, Body::Failure, &[("ratelimit", r#""default";r=0;t=5"#)]),
            "Paced",
        ),
    ] {
        let kind = h.run(&case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
        assert_eq!(kind, expected, "{case:?}");
    }
}

/// Errors that end a call at a later attempt count every attempt: a redirect, an undecodable
/// body or an oversized one after a 503 that was retried. (The fuzz above answers every attempt
/// alike, so there these errors always come at the first attempt.)
#[tokio::test]
async fn an_error_after_a_retry_counts_every_attempt() {
    for last in [
        ResponseTemplate::new(301).insert_header("location", "http://localhost:1/"),
        json_response(200, "not json"),
        json_response(200, &"x".repeat(2048)),
    ] {
        let server = first_then_ok(ResponseTemplate::new(503)).await;
        Mock::given(any_request())
            .respond_with(last)
            .with_priority(2)
            .mount(&server)
            .await;
        let client = builder(&server)
            .api_token(TOKEN)
            .max_response_bytes(1024)
            .build()
            .unwrap();
        let error = get_account(&client).await.unwrap_err();
        assert_eq!(
            error.attempts() as usize,
            received(&server).await.len(),
            "{error:?}"
        );
    }
}
