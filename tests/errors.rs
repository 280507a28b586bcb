//! Every error path of the envelope and transport, through the public API.

mod common;

use std::time::Duration;

use cloudflare_dns_settings::{Client, Error, ErrorKind};
use common::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn get_with(response: ResponseTemplate) -> (Error, MockServer) {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(response)
        .mount(&server)
        .await;
    let error = get_account(&token_client(&server)).await.unwrap_err();
    (error, server)
}

#[tokio::test]
async fn authentication_failure_is_api_error_with_status_code_and_ray() {
    let (error, _s) = get_with(json_response(
        403,
        &fixture("error_10000_authentication.json"),
    ))
    .await;
    assert!(matches!(error.kind(), ErrorKind::Api { .. }), "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.codes(), [10000]);
    assert_eq!(error.ray_id(), Some("8c3f0a1b2c3d4e5f-SJC"));
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "Cloudflare API error (HTTP 403): 10000 Authentication error [cf-ray 8c3f0a1b2c3d4e5f-SJC]"
    );
}

#[tokio::test]
async fn unknown_error_fields_such_as_error_chain_are_kept() {
    let (error, _s) = get_with(json_response(400, &fixture("error_6003_error_chain.json"))).await;
    let ErrorKind::Api { .. } = error.kind() else {
        panic!("{error:?}")
    };
    let errors = error.errors();
    assert_eq!(errors[0].code, 6003);
    assert_eq!(errors[0].extra["error_chain"][0]["code"], 6111);
}

#[tokio::test]
async fn every_error_item_and_message_is_kept_with_wide_codes() {
    let (error, _s) = get_with(json_response(409, &fixture("error_81057_two_errors.json"))).await;
    let ErrorKind::Api { messages, .. } = error.kind() else {
        panic!("{error:?}")
    };
    let errors = error.errors();
    assert_eq!(error.codes(), [81057, 1004]);
    assert_eq!(
        errors[0].source.as_ref().and_then(|s| s.pointer.as_deref()),
        Some("/zone_defaults/ns_ttl")
    );
    assert_eq!(
        errors[0].documentation_url.as_deref(),
        Some("https://developers.cloudflare.com/dns/")
    );
    assert_eq!(messages[0].code, 10001);
    assert!(error.is_retryable(), "409 is retryable");
}

#[tokio::test]
async fn http_200_with_errors_is_an_api_error() {
    let (error, _s) = get_with(json_response(200, &fixture("error_200_with_errors.json"))).await;
    assert!(matches!(error.kind(), ErrorKind::Api { .. }), "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.codes(), [1002]);
}

#[tokio::test]
async fn http_200_with_success_false_is_an_api_error() {
    let body = r#"{"success":false,"errors":[],"messages":[],"result":null}"#;
    let (error, _s) = get_with(json_response(200, body)).await;
    assert!(matches!(error.kind(), ErrorKind::Api { .. }), "{error:?}");
    assert!(error.codes().is_empty());
}

#[tokio::test]
async fn html_502_from_a_proxy_keeps_status_content_type_and_at_most_512_bytes() {
    let html = fixture("proxy_502.html");
    assert!(html.len() > 512);
    let response = ResponseTemplate::new(502)
        .insert_header("cf-ray", "8c3f0a1b2c3d4e5f-LHR")
        .set_body_raw(html.clone(), "text/html");
    let (error, _s) = get_with(response).await;
    let ErrorKind::UnexpectedResponse {
        content_type,
        body_prefix,
        ..
    } = error.kind()
    else {
        panic!("{error:?}")
    };
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(content_type.as_deref(), Some("text/html"));
    assert_eq!(body_prefix.as_str(), &html[..512]);
    assert_eq!(error.ray_id(), Some("8c3f0a1b2c3d4e5f-LHR"));
    assert!(error.is_retryable());
    assert!(
        !error.to_string().contains("<html>"),
        "Display stays one terse line"
    );
}

#[tokio::test]
async fn success_with_a_result_of_the_wrong_shape_names_the_json_path() {
    let mut body = json_fixture("account_settings.json");
    body["result"]["zone_defaults"]["soa"]["refresh"] = serde_json::json!("soon");
    let (error, _s) = get_with(json_response(200, &body.to_string())).await;
    let ErrorKind::Decode { path, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(path, "result.zone_defaults.soa.refresh");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.ray_id(), Some("8c3f0a1b2c3d4e5f-SJC"));
}

#[tokio::test]
async fn success_status_with_a_body_that_is_not_json_is_a_decode_error() {
    let (error, _s) = get_with(ResponseTemplate::new(200).set_body_string("OK")).await;
    assert!(
        matches!(error.kind(), ErrorKind::Decode { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn success_status_with_json_that_is_not_an_envelope_is_a_decode_error() {
    let (error, _s) = get_with(json_response(200, r#"{"zone_defaults":{}}"#)).await;
    let ErrorKind::Decode { path, source, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(path, "(root)");
    assert!(
        source.to_string().contains("missing field `success`"),
        "{source}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let port = closed_port();
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let error = get_account(&client).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Transport { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(
        std::error::Error::source(&error).is_some(),
        "the cause is in source()"
    );
}

/// On the paused clock (the holding listener runs on the test's runtime): three attempts of
/// 200 ms each, without backoffs between them (so that no jitter blurs the sum).
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out_within_the_bound() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://{addr}"))
        .timeout(Duration::from_millis(200))
        .retry_backoff(Duration::ZERO, Duration::ZERO)
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let error = get_account(&client).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(error.kind(), ErrorKind::Timeout { .. }) && error.attempts() == 3,
        "{error:?}"
    );
    assert_eq!(
        took,
        3 * Duration::from_millis(200),
        "bounded by the timeouts"
    );
    hold.abort();
}

#[tokio::test]
async fn a_missing_path_parameter_is_refused_before_sending() {
    let server = server().await;
    let error = token_client(&server)
        .account_get()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "account_id"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "invalid `account_id`: is required and was not set; nothing was sent"
    );
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_an_error_not_an_allocation() {
    let server = server().await;
    let big = format!(
        r#"{{"success":true,"errors":[],"messages":[],"result":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    Mock::given(method("GET"))
        .respond_with(json_response(200, &big))
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(server.uri())
        .max_response_bytes(16 * 1024)
        .build()
        .unwrap();
    let error = get_account(&client).await.unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::ResponseTooLarge { limit: 16384, .. }
        ),
        "{error:?}"
    );
}
