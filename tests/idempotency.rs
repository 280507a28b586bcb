//! Retries follow idempotency. A create (POST) that the server may already have applied is not
//! sent again: only a failure to connect, a 429 or `x-should-retry: true` (each saying it was
//! not processed) retries it, unless the caller opted in with `retry_non_idempotent(true)`.
//! An edit (PATCH) or a delete is retried on connection errors, timeouts, 408, 409, 429 and 5xx.
//! Each count is the server's own.

mod common;

use std::time::Duration;

use cloudflare_dns_settings::types::{DnsView, DnsViewCreate, DnsViewPatch};
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use common::*;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const VIEW: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn unavailable_envelope() -> &'static str {
    r#"{"success":false,"errors":[{"code":10013,"message":"busy"}],"messages":[],"result":null}"#
}

/// Answers the first request with `first`, every later one with a view.
async fn first_then_ok(first: ResponseTemplate) -> MockServer {
    let server = server().await;
    Mock::given(any())
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(json_response(200, &fixture("view.json")))
        .mount(&server)
        .await;
    server
}

async fn create(client: &Client) -> Result<DnsView, Error> {
    client
        .account_views_create()
        .account_id(ACCOUNT)
        .body(DnsViewCreate {
            name: "my view".into(),
            zones: vec![ZONE.into()],
        })
        .send()
        .await
}

async fn edit(client: &Client) -> Result<DnsView, Error> {
    client
        .account_views_edit()
        .account_id(ACCOUNT)
        .view_id(VIEW)
        .body(DnsViewPatch {
            name: Some("renamed".into()),
            ..Default::default()
        })
        .send()
        .await
}

fn methods(requests: &[wiremock::Request]) -> Vec<String> {
    requests.iter().map(|r| r.method.to_string()).collect()
}

/// A raw server: the first request is dropped (`Drop`) or held (`Hold`) after it was read in
/// full, every later one answered with a view.
async fn raw_first_then_ok(first: fn() -> RawReply) -> RawServer {
    RawServer::start(move |n, _| {
        if n == 0 {
            first()
        } else {
            RawReply::Bytes(raw_response(
                200,
                &[("content-type", b"application/json".to_vec())],
                fixture("view.json").as_bytes(),
            ))
        }
    })
    .await
}

fn raw_client(server: &RawServer) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(server.url())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

// ---- POST: not idempotent --------------------------------------------------------------------

#[tokio::test]
async fn a_create_answered_503_is_sent_once_and_the_error_reported() {
    let server = first_then_ok(json_response(503, unavailable_envelope())).await;
    let error = create(&token_client(&server)).await.unwrap_err();
    assert_eq!(methods(&received(&server).await), ["POST"], "sent once");
    assert!(
        matches!(error.kind(), ErrorKind::Api { .. })
            && error.status().is_some_and(|s| s.as_u16() == 503)
            && error.attempts() == 1,
        "{error:?}"
    );
    assert_eq!(error.codes(), [10013]);
    assert!(
        error.is_retryable(),
        "the caller may decide to retry a 503 itself"
    );
}

#[tokio::test]
async fn a_create_answered_408_409_or_5xx_is_sent_once() {
    for status in [408, 409, 500, 502, 504] {
        let server = first_then_ok(ResponseTemplate::new(status)).await;
        let error = create(&token_client(&server)).await.unwrap_err();
        assert_eq!(received(&server).await.len(), 1, "{status}: sent once");
        assert_eq!(error.attempts(), 1, "{status}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn a_create_answered_503_with_x_should_retry_true_is_retried() {
    let server = first_then_ok(
        json_response(503, unavailable_envelope()).insert_header("x-should-retry", "true"),
    )
    .await;
    let view = create(&token_client(&server)).await.unwrap();
    assert_eq!(view.id, VIEW);
    assert_eq!(methods(&received(&server).await), ["POST", "POST"]);
}

#[tokio::test]
async fn a_create_answered_400_with_x_should_retry_true_is_retried() {
    let server =
        first_then_ok(ResponseTemplate::new(400).insert_header("x-should-retry", "true")).await;
    create(&token_client(&server)).await.unwrap();
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_create_answered_429_is_retried_and_succeeds() {
    // With `retry-after` (a 429 without it is a lockout, waited out: tests/lockout.rs).
    let server =
        first_then_ok(json_response(429, unavailable_envelope()).insert_header("retry-after", "0"))
            .await;
    create(&token_client(&server)).await.unwrap();
    assert_eq!(methods(&received(&server).await), ["POST", "POST"]);
}

#[tokio::test]
async fn a_create_answered_429_with_x_should_retry_false_is_not_retried() {
    let server = first_then_ok(
        json_response(429, unavailable_envelope()).insert_header("x-should-retry", "false"),
    )
    .await;
    let error = create(&token_client(&server)).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::RateLimited { .. }) && error.attempts() == 1,
        "{error:?}"
    );
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_create_whose_connection_drops_after_it_was_read_is_sent_once() {
    let server = raw_first_then_ok(|| RawReply::Drop).await;
    let error = create(&raw_client(&server)).await.unwrap_err();
    assert_eq!(
        server.requests(),
        1,
        "a create that may be applied is not re-sent"
    );
    assert!(
        matches!(error.kind(), ErrorKind::Transport { .. }) && error.attempts() == 1,
        "{error:?}"
    );
}

#[tokio::test]
async fn a_create_that_times_out_is_sent_once() {
    let server = raw_first_then_ok(|| RawReply::Hold).await;
    let error = create(&raw_client(&server)).await.unwrap_err();
    assert_eq!(server.requests(), 1);
    assert!(
        matches!(error.kind(), ErrorKind::Timeout { .. }) && error.attempts() == 1,
        "{error:?}"
    );
}

#[tokio::test]
async fn a_create_to_a_closed_port_is_retried_because_nothing_was_sent() {
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{}", closed_port()))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let error = create(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport { .. }) && error.attempts() == 3,
        "{error:?}"
    );
}

#[tokio::test]
async fn retry_non_idempotent_makes_a_create_answered_503_retry() {
    let server = first_then_ok(json_response(503, unavailable_envelope())).await;
    let client = builder(&server)
        .api_token(TOKEN)
        .retry_non_idempotent(true)
        .build()
        .unwrap();
    create(&client).await.unwrap();
    assert_eq!(methods(&received(&server).await), ["POST", "POST"]);
}

#[tokio::test]
async fn retry_non_idempotent_makes_a_dropped_create_retry() {
    let server = raw_first_then_ok(|| RawReply::Drop).await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(server.url())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .retry_non_idempotent(true)
        .build()
        .unwrap();
    create(&client).await.unwrap();
    assert_eq!(server.requests(), 2);
}

// ---- PATCH and DELETE: idempotent ------------------------------------------------------------

#[tokio::test]
async fn an_edit_answered_408_409_429_or_5xx_is_retried() {
    for status in [408, 409, 429, 500, 502, 503, 504] {
        // `retry-after: 0`: a 429 without it is a lockout (tests/lockout.rs).
        let server =
            first_then_ok(ResponseTemplate::new(status).insert_header("retry-after", "0")).await;
        edit(&token_client(&server))
            .await
            .unwrap_or_else(|e| panic!("{status}: {e:?}"));
        assert_eq!(
            methods(&received(&server).await),
            ["PATCH", "PATCH"],
            "{status}"
        );
    }
}

#[tokio::test]
async fn an_edit_answered_503_with_x_should_retry_false_is_not_retried() {
    let server = first_then_ok(
        json_response(503, unavailable_envelope()).insert_header("x-should-retry", "false"),
    )
    .await;
    let error = edit(&token_client(&server)).await.unwrap_err();
    assert_eq!(error.attempts(), 1);
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn an_edit_whose_connection_drops_is_retried() {
    let server = raw_first_then_ok(|| RawReply::Drop).await;
    edit(&raw_client(&server)).await.unwrap();
    assert_eq!(server.requests(), 2);
    assert!(server.heads().iter().all(|h| h.starts_with("PATCH ")));
}

#[tokio::test]
async fn an_edit_that_times_out_is_retried() {
    let server = raw_first_then_ok(|| RawReply::Hold).await;
    edit(&raw_client(&server)).await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_edit_to_a_closed_port_is_retried() {
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{}", closed_port()))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let error = edit(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport { .. }) && error.attempts() == 3,
        "{error:?}"
    );
}

#[tokio::test]
async fn a_delete_answered_503_is_retried() {
    let server = server().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(json_response(
            200,
            &format!(r#"{{"success":true,"errors":[],"messages":[],"result":{{"id":"{VIEW}"}}}}"#),
        ))
        .mount(&server)
        .await;
    token_client(&server)
        .account_views_delete()
        .account_id(ACCOUNT)
        .view_id(VIEW)
        .send()
        .await
        .unwrap();
    assert_eq!(methods(&received(&server).await), ["DELETE", "DELETE"]);
}

/// A response whose body breaks off (the connection closes after part of it) is a connection
/// error like any other: an idempotent call is sent again, a create is not.
async fn cut_short_then_ok() -> RawServer {
    RawServer::start(|n, _| {
        let view = fixture("view.json");
        if n == 0 {
            let mut cut = raw_response(
                200,
                &[
                    ("content-type", b"application/json".to_vec()),
                    ("content-length", view.len().to_string().into_bytes()),
                ],
                view.as_bytes(),
            );
            cut.truncate(cut.len() - view.len() / 2);
            RawReply::Bytes(cut)
        } else {
            RawReply::Bytes(raw_response(
                200,
                &[("content-type", b"application/json".to_vec())],
                view.as_bytes(),
            ))
        }
    })
    .await
}

#[tokio::test]
async fn an_edit_whose_response_body_breaks_off_is_retried() {
    let server = cut_short_then_ok().await;
    edit(&raw_client(&server)).await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_create_whose_response_body_breaks_off_is_sent_once() {
    let server = cut_short_then_ok().await;
    let error = create(&raw_client(&server)).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport { .. }) && error.attempts() == 1,
        "{error:?}"
    );
    assert_eq!(server.requests(), 1);
}
