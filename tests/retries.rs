//! Retries: what is retried, how long the client waits, and what the final error says.

mod common;

use std::time::Duration;

use cloudflare_dns_settings::{Error, ErrorKind};
use common::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Mounts `first` for the first `times` requests, then the account settings.
async fn flaky(first: ResponseTemplate, times: u64) -> MockServer {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    server
}

async fn get(
    server: &MockServer,
) -> Result<cloudflare_dns_settings::types::AccountSettings, Error> {
    token_client(server)
        .account_get()
        .account_id(ACCOUNT)
        .send()
        .await
}

#[tokio::test]
async fn retryable_statuses_are_retried_until_success() {
    for status in [408, 409, 429, 500, 502, 503, 504] {
        // A 429 asks for its wait (`retry-after: 0` here): one without it is a lockout, which
        // is waited out, not retried after a backoff (tests/lockout.rs).
        let server = flaky(
            ResponseTemplate::new(status).insert_header("retry-after", "0"),
            2,
        )
        .await;
        get(&server)
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(
            received(&server).await.len(),
            3,
            "{status}: two retries then success"
        );
    }
}

/// An error status decides the retry even when its body cannot be read (here: larger than the
/// limit), and a 429 whose body cannot be read is still a rate limit.
#[tokio::test]
async fn an_error_status_with_an_unreadable_body_is_still_that_status() {
    let huge = "x".repeat(8 * 1024);
    let limited = |server: &MockServer| {
        builder(server)
            .api_token(TOKEN)
            .max_response_bytes(1024)
            .build()
            .unwrap()
    };
    let server = flaky(ResponseTemplate::new(503).set_body_string(huge.clone()), 2).await;
    let settings = limited(&server)
        .account_get()
        .account_id(ACCOUNT)
        .send()
        .await;
    assert!(settings.is_ok(), "{settings:?}");
    assert_eq!(received(&server).await.len(), 3, "two retries then success");

    // `retry-after: 0`: a 429 without it is a lockout, not retried after a backoff.
    let server = flaky(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "0")
            .set_body_string(huge),
        10,
    )
    .await;
    let error = limited(&server)
        .account_get()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::RateLimited { .. })
            && error.status().is_some_and(|s| s == 429),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 3);
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    for status in [400, 401, 403, 404, 422] {
        let server = flaky(
            json_response(status, &fixture("error_10000_authentication.json")),
            5,
        )
        .await;
        let error = get(&server).await.unwrap_err();
        assert_eq!(error.attempts(), 1, "{status}");
        assert_eq!(received(&server).await.len(), 1, "{status}");
    }
}

#[tokio::test]
async fn the_final_error_says_how_many_attempts_were_made() {
    let server = flaky(json_response(503, r#"{"success":false,"errors":[{"code":10013,"message":"busy"}],"messages":[],"result":null}"#), 10).await;
    let error = get(&server).await.unwrap_err();
    assert_eq!(error.attempts(), 3);
    assert!(error.to_string().contains("after 3 attempts"), "{error}");
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn zero_retries_disables_retrying() {
    let server = flaky(ResponseTemplate::new(503), 10).await;
    let client = builder(&server)
        .api_token(TOKEN)
        .max_retries(0)
        .build()
        .unwrap();
    let error = get_account(&client).await.unwrap_err();
    assert_eq!(error.attempts(), 1);
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn more_retries_can_be_configured() {
    let server = flaky(ResponseTemplate::new(500), 4).await;
    let client = builder(&server)
        .api_token(TOKEN)
        .max_retries(4)
        .build()
        .unwrap();
    get_account(&client).await.unwrap();
    assert_eq!(received(&server).await.len(), 5);
}

#[tokio::test]
async fn x_should_retry_overrides_the_status_rule() {
    let server = flaky(
        ResponseTemplate::new(503).insert_header("x-should-retry", "false"),
        10,
    )
    .await;
    assert_eq!(get(&server).await.unwrap_err().attempts(), 1);
    let server = flaky(
        ResponseTemplate::new(400).insert_header("x-should-retry", "true"),
        1,
    )
    .await;
    get(&server).await.unwrap();
    assert_eq!(received(&server).await.len(), 2);
}

/// A server on the test's runtime (so that the paused clock sees its answers before jumping to
/// the next timer): `first` (status, headers, body) for the first request, then the account
/// settings.
async fn first_then_settings(status: u16, headers: &[(&str, &str)], body: &str) -> RawServer {
    let json = ("content-type", b"application/json".to_vec());
    let mut first_headers = vec![json.clone()];
    first_headers.extend(headers.iter().map(|(n, v)| (*n, v.as_bytes().to_vec())));
    let first = raw_response(status, &first_headers, body.as_bytes());
    let then = raw_response(200, &[json], fixture("account_settings.json").as_bytes());
    RawServer::start(move |n, _| RawReply::Bytes(if n == 0 { &first } else { &then }.clone())).await
}

fn raw_client(server: &RawServer) -> cloudflare_dns_settings::ClientBuilder {
    cloudflare_dns_settings::Client::builder()
        .api_token(TOKEN)
        .base_url(server.url())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// On the paused clock: the retry waits exactly the 300 ms asked for.
#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_up_to_the_cap() {
    let server = first_then_settings(429, &[("retry-after-ms", "300")], "").await;
    let client = raw_client(&server).build().unwrap();
    let started = tokio::time::Instant::now();
    get_account(&client).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    assert_eq!(server.requests(), 2);
}

/// Cloudflare blocks a token for five minutes after a 429: a wait beyond the cap is not retried
/// into. The call fails at once (on the paused clock: after no time at all), with the wait the
/// server asked for.
#[tokio::test(start_paused = true)]
async fn a_wait_beyond_the_cap_fails_at_once_with_the_wait_asked_for() {
    let server = first_then_settings(
        429,
        &[("retry-after", "300")],
        &fixture("error_10000_authentication.json"),
    )
    .await;
    let client = raw_client(&server)
        .max_retry_after(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = get_account(&client).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(server.requests(), 1, "not retried into the lockout");
    assert!(
        matches!(error.kind(), ErrorKind::RateLimited { .. }) && error.attempts() == 1,
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(300)));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(error.codes(), vec![10000], "Cloudflare's codes are kept");
    assert!(error.to_string().contains("300 s"), "{error}");
}

#[tokio::test]
async fn a_connection_error_is_retried_then_reported_with_attempts() {
    let port = closed_port();
    let client = cloudflare_dns_settings::Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let error = get_account(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport { .. }) && error.attempts() == 3,
        "{error:?}"
    );
}
