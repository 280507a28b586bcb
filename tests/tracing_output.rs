//! Tracing: one span per call with what an operator needs, and never a secret or a body.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudflare_dns_settings::types::{AccountSettingsPatch, ZoneDefaultsPatch};
use common::*;
use tracing::Instrument;
use tracing_subscriber::fmt::format::FmtSpan;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

/// Everything every subscriber layer writes, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    capture_at(tracing::Level::TRACE)
}

/// What a subscriber listening at `level` and up writes.
fn capture_at(level: tracing::Level) -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn a_failing_call_traces_one_span_with_its_facts_and_no_secret_or_body() {
    let server = server().await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(json_response(
            403,
            &fixture("error_10000_authentication.json"),
        ))
        .mount(&server)
        .await;
    let (captured, _guard) = capture();
    let patch = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(4242),
            ..Default::default()
        }),
        ..Default::default()
    };
    let error = token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch.clone())
        .send()
        .await
        .unwrap_err();
    let keyed = cloudflare_dns_settings::Client::builder()
        .api_key(EMAIL, KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let error2 = keyed
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap_err();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let spans: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("cloudflare_dns_settings.call") && l.contains("close"))
        .collect();
    assert_eq!(spans.len(), 2, "one span per call:\n{log}");
    for expected in [
        "operation=\"account_edit\"",
        "method=PATCH",
        "path=\"/accounts/{account_id}/dns_settings\"",
        "status=403",
        "attempts=2",
        "cf_ray=\"8c3f0a1b2c3d4e5f-SJC\"",
    ] {
        assert!(
            spans[0].contains(expected),
            "{expected} missing from {}",
            spans[0]
        );
    }
    assert!(
        log.contains("retrying") && log.contains("HTTP 503"),
        "the retry is visible at debug level:\n{log}"
    );

    // Debug, Display, every error message and all tracing output: no secret anywhere.
    let everything = format!("{log}\n{error}\n{error:?}\n{error2}\n{error2:?}\n{keyed:?}");
    for secret in [TOKEN, KEY] {
        assert!(
            !everything.contains(secret),
            "a secret leaked:\n{everything}"
        );
    }
    assert!(
        !log.contains("4242") && !log.contains("zone_defaults"),
        "no request body in traces:\n{log}"
    );
}

/// With the call's span filtered out (a subscriber at `info`), what a call learns is recorded
/// nowhere: not in the span of the caller it runs in, even one with fields of the same names.
#[tokio::test]
async fn a_filtered_out_call_records_nothing_in_the_callers_span() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(json_response(
            403,
            &fixture("error_10000_authentication.json"),
        ))
        .mount(&server)
        .await;
    let (captured, _guard) = capture_at(tracing::Level::INFO);
    let caller = tracing::info_span!(
        "caller",
        status = tracing::field::Empty,
        attempts = tracing::field::Empty,
        cf_ray = tracing::field::Empty,
    );
    let client = token_client(&server);
    let error = async {
        let call = client.account_get().account_id(ACCOUNT).send();
        call.await.unwrap_err()
    }
    .instrument(caller)
    .await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let closed: Vec<&str> = log.lines().filter(|l| l.contains("close")).collect();
    assert_eq!(closed.len(), 1, "the caller's span only:\n{log}");
    for field in ["status=", "attempts=", "cf_ray="] {
        assert!(
            !closed[0].contains(field),
            "{field} in the caller's span: {log}"
        );
    }
}

/// A retry after a failed connection is logged without the URL (reqwest's own message names
/// it, with the path's identifiers and any query).
#[tokio::test]
async fn a_retry_after_a_failed_connection_is_logged_without_the_url() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = cloudflare_dns_settings::Client::builder()
        .api_token(TOKEN)
        .base_url(&base)
        .max_retries(1)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let (captured, _guard) = capture();
    let error = client.account_get().account_id(ACCOUNT).send().await;
    assert_eq!(error.unwrap_err().attempts(), 2);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("retrying"), "{log}");
    assert!(!log.contains(ACCOUNT), "the URL is in the log:\n{log}");
}
