//! One deadline per call covers every attempt, backoff, `retry-after` wait and pacing wait. A
//! wait that would end after it is not started: the call fails at once with its last error.
//!
//! Durations are read on tokio's paused clock, so they are exact: the servers run on the test's
//! own runtime (a [`RawServer`]), so that a response in flight is seen before the clock jumps to
//! the next timer (a server on another thread, like wiremock's, could lose that race to an
//! attempt's timeout).

mod common;

use std::time::Duration;

use cloudflare_dns_settings::{Client, DEFAULT_DEADLINE, ErrorKind};
use common::*;
use tokio::time::Instant;

const BUSY: &str =
    r#"{"success":false,"errors":[{"code":10013,"message":"busy"}],"messages":[],"result":null}"#;

/// A server on the test's runtime answering every request with `status`, `headers` and `body`.
async fn always(status: u16, headers: &[(&str, &str)], body: &str) -> RawServer {
    let mut all = vec![("content-type", b"application/json".to_vec())];
    all.extend(headers.iter().map(|(n, v)| (*n, v.as_bytes().to_vec())));
    let answer = raw_response(status, &all, body.as_bytes());
    RawServer::start(move |_, _| RawReply::Bytes(answer.clone())).await
}

/// A client of `server` with a backoff of milliseconds.
fn builder(server: &RawServer) -> cloudflare_dns_settings::ClientBuilder {
    Client::builder()
        .base_url(server.url())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_deadline_with_the_last_error() {
    let server = always(503, &[("retry-after", "1")], BUSY).await;
    let client = builder(&server)
        .api_token(TOKEN)
        .max_retries(10)
        .deadline(Duration::from_millis(1500))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_account(&client).await.unwrap_err();
    // Attempts at 0 s and 1 s; a third after another second would end past 1.5 s.
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert!(
        matches!(error.kind(), ErrorKind::Api { .. })
            && error.status().is_some_and(|s| s.as_u16() == 503)
            && error.attempts() == 2,
        "the last error: {error:?}"
    );
    assert_eq!(server.requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_backoff_that_would_end_past_the_deadline_is_not_started() {
    let server = always(503, &[], BUSY).await;
    let client = builder(&server)
        .api_token(TOKEN)
        .retry_backoff(Duration::from_secs(4), Duration::from_secs(4))
        .deadline(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_account(&client).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(error.attempts(), 1);
    assert_eq!(server.requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_past_the_deadline_fails_at_once_with_the_wait_asked_for() {
    let server = always(429, &[("retry-after", "5")], BUSY).await;
    let client = builder(&server)
        .api_token(TOKEN)
        .max_retries(10)
        .deadline(Duration::from_secs(2))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_account(&client).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(
        matches!(error.kind(), ErrorKind::RateLimited { .. })
            && error.status().is_some()
            && error.attempts() == 1,
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(5)));
    assert_eq!(server.requests(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_ends_at_the_deadline_with_a_timeout() {
    let server = RawServer::start(|_, _| RawReply::Hold).await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(server.url())
        .max_retries(10)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .timeout(Duration::from_secs(60))
        .deadline(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_account(&client).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_millis(500));
    assert!(
        matches!(error.kind(), ErrorKind::Timeout { .. }) && error.attempts() == 1,
        "{error:?}"
    );
    assert_eq!(server.requests(), 1, "the attempt was cut to the deadline");
}

/// With no per-attempt timeout at all, the default deadline still ends the call (virtual time).
#[tokio::test(start_paused = true)]
async fn without_a_timeout_the_default_deadline_ends_a_call_that_never_answers() {
    let server = RawServer::start(|_, _| RawReply::Hold).await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(server.url())
        .timeout(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .build()
        .unwrap();
    let started = Instant::now();
    let error = get_account(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Timeout { .. }),
        "{error:?}"
    );
    assert_eq!(DEFAULT_DEADLINE, Duration::from_secs(600));
    assert_eq!(started.elapsed(), DEFAULT_DEADLINE);
}

/// A budget of one request a minute: the second call would wait about 60 s for room.
async fn second_call_refused_by_pacing(
    configure: impl Fn(cloudflare_dns_settings::ClientBuilder) -> cloudflare_dns_settings::ClientBuilder,
) {
    let server = always(200, &[], &fixture("account_settings.json")).await;
    let client = configure(
        builder(&server)
            .api_token(TOKEN)
            .rate_limit(1, Duration::from_secs(60)),
    )
    .build()
    .unwrap();
    get_account(&client).await.unwrap();
    let started = Instant::now();
    let error = get_account(&client).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    let ErrorKind::RateLimited {
        retry_after: Some(wait),
        ..
    } = error.kind()
    else {
        panic!("{error:?}")
    };
    assert!(
        error.status().is_none() && error.attempts() == 0,
        "{error:?}"
    );
    assert!(
        *wait > Duration::from_secs(55) && *wait <= Duration::from_secs(61),
        "{wait:?}"
    );
    assert_eq!(server.requests(), 1, "nothing was sent");
}

#[tokio::test(start_paused = true)]
async fn a_pacing_wait_past_the_deadline_fails_at_once_and_sends_nothing() {
    second_call_refused_by_pacing(|b| b.deadline(Duration::from_secs(5))).await;
}

#[tokio::test(start_paused = true)]
async fn a_pacing_wait_beyond_max_pacing_wait_fails_at_once_and_sends_nothing() {
    second_call_refused_by_pacing(|b| b.deadline(None).max_pacing_wait(Duration::from_secs(10)))
        .await;
}
