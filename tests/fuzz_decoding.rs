//! Arbitrary, broken and hostile response bodies: never a panic or a hang, and always the error
//! the input calls for (a body that is not an envelope on a 2xx is `Decode`, on an error status
//! `UnexpectedResponse`; a failure envelope is `Api`; a 429 is `RateLimited`; an oversized body
//! is `ResponseTooLarge`). A timeout or any other kind fails the test; so does an `Ok`, except
//! for the control inputs, which must decode.

mod common;

use std::sync::{Arc, Mutex};

use cloudflare_dns_settings::types::AccountSettings;
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use common::*;
use proptest::prelude::*;
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Serves whatever the current case put in `next`.
struct Scripted(Arc<Mutex<(u16, Vec<u8>)>>);

impl Respond for Scripted {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let (status, body) = self.0.lock().unwrap().clone();
        ResponseTemplate::new(status).set_body_raw(body, "application/json")
    }
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    next: Arc<Mutex<(u16, Vec<u8>)>>,
    client: Client,
    _server: MockServer,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let next = Arc::new(Mutex::new((200, Vec::new())));
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(any_request())
                .respond_with(Scripted(next.clone()))
                .mount(&server)
                .await;
            server
        });
        let client = Client::builder()
            .api_token(TOKEN)
            .base_url(server.uri())
            .max_retries(0)
            // One client for every case of a thread: a 429 without `retry-after` would lock its
            // budget out for the next cases (tests/lockout.rs). Decoding is what is tested here.
            .pace_requests(false)
            .max_response_bytes(64 * 1024)
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        Harness {
            runtime,
            next,
            client,
            _server: server,
        }
    }

    /// The outcome of a call whose response is `status` with `body`.
    fn call(&self, status: u16, body: Vec<u8>) -> Result<AccountSettings, Error> {
        *self.next.lock().unwrap() = (status, body);
        self.runtime.block_on(get_account(&self.client))
    }

    /// The kind of outcome of a call whose response is `status` with `body`.
    fn kind(&self, status: u16, body: Vec<u8>) -> &'static str {
        kind(&self.call(status, body))
    }
}

fn kind(outcome: &Result<AccountSettings, Error>) -> &'static str {
    let Err(error) = outcome else { return "Ok" };
    match error.kind() {
        ErrorKind::Api { .. } => "Api",
        ErrorKind::RateLimited { .. } => "RateLimited",
        ErrorKind::UnexpectedResponse { .. } => "UnexpectedResponse",
        ErrorKind::Decode { .. } => "Decode",
        ErrorKind::ResponseTooLarge { .. } => "ResponseTooLarge",
        ErrorKind::Timeout { .. } => "Timeout",
        ErrorKind::Transport { .. } => "Transport",
        _ => "other",
    }
}

/// What a body that is not a Cloudflare envelope must give at `status`.
fn not_an_envelope(status: u16) -> &'static str {
    match status {
        200..=299 => "Decode",
        429 => "RateLimited",
        _ => "UnexpectedResponse",
    }
}

/// Whether `body` is JSON with an envelope's `success` or `errors` (then it is read as one).
fn looks_like_an_envelope(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| o.contains_key("success") || o.contains_key("errors"))
        })
        .unwrap_or(false)
}

fn valid_envelope() -> Vec<u8> {
    fixture("account_settings.json").into_bytes()
}

fn statuses() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(201),
        Just(400),
        Just(403),
        Just(429),
        Just(500),
        Just(502)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_are_a_decode_or_unexpected_response_error(status in statuses(), body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        thread_local!(static H: Harness = Harness::new());
        prop_assume!(!looks_like_an_envelope(&body));
        prop_assert_eq!(H.with(|h| h.kind(status, body)), not_an_envelope(status));
    }

    #[test]
    fn truncated_envelopes_are_a_decode_or_unexpected_response_error(status in statuses(), cut in 0usize..10_000) {
        thread_local!(static H: Harness = Harness::new());
        let full = valid_envelope();
        let body = full[..cut % full.len()].to_vec();
        prop_assert_eq!(H.with(|h| h.kind(status, body)), not_an_envelope(status));
    }

    #[test]
    fn wrong_types_and_huge_numbers_in_the_result_are_a_decode_error_at_their_path(
        field in prop::sample::select(vec!["ns_ttl", "flatten_all_cnames", "soa", "zone_mode", "nameservers", "internal_dns"]),
        value in prop_oneof![
            Just(serde_json::json!(null)),
            Just(serde_json::json!("text")),
            Just(serde_json::json!([1, 2])),
            Just(serde_json::json!(1.5)),
            Just(serde_json::Value::Number(serde_json::Number::from_f64(1e300).unwrap())),
            Just(serde_json::json!(18446744073709551615u64)),
        ],
    ) {
        thread_local!(static H: Harness = Harness::new());
        // Any string is a valid (maybe future) zone mode: not a wrong type.
        prop_assume!(!(field == "zone_mode" && value.is_string()));
        let mut envelope: serde_json::Value = serde_json::from_slice(&valid_envelope()).unwrap();
        envelope["result"]["zone_defaults"][field] = value;
        let body = serde_json::to_vec(&envelope).unwrap();
        let outcome = H.with(|h| h.call(200, body));
        let Err(ErrorKind::Decode { path, .. }) = outcome.as_ref().map_err(Error::kind) else {
            return Err(TestCaseError::fail(format!("{field}: {outcome:?}")));
        };
        let at = format!("result.zone_defaults.{field}");
        prop_assert!(path.starts_with(&at), "{} is not at {}", path, at);
    }

    #[test]
    fn invalid_utf8_inside_strings_is_a_decode_error(at in 0usize..1000, byte in 0x80u8..=0xFF) {
        thread_local!(static H: Harness = Harness::new());
        let mut body = valid_envelope();
        // Put a lone continuation/lead byte inside a string value: "dns.cloudflare.com".
        let start = body.windows(18).position(|w| w == b"dns.cloudflare.com").unwrap();
        let i = start + at % 18;
        body[i] = byte;
        prop_assert_eq!(H.with(|h| h.kind(200, body)), "Decode");
    }

    #[test]
    fn failure_envelopes_are_api_errors_with_their_codes(
        status in statuses(),
        code in any::<i64>(),
        message in ".{0,40}",
    ) {
        thread_local!(static H: Harness = Harness::new());
        let body = serde_json::to_vec(&serde_json::json!({
            "success": false, "errors": [{"code": code, "message": message}], "messages": [],
            "result": null
        }))
        .unwrap();
        let outcome = H.with(|h| h.call(status, body));
        let expected = if status == 429 { "RateLimited" } else { "Api" };
        prop_assert_eq!(kind(&outcome), expected, "{:?}", outcome);
        let error = outcome.unwrap_err();
        prop_assert_eq!(error.codes(), vec![code]);
        prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
    }
}

/// The control: a valid envelope decodes, at any success status, so the harness can tell.
#[test]
fn a_valid_envelope_decodes() {
    let h = Harness::new();
    for status in [200, 201, 202] {
        let settings = h
            .call(status, valid_envelope())
            .unwrap_or_else(|e| panic!("{status}: {e:?}"));
        assert_eq!(settings.zone_defaults.ns_ttl, 3600);
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let h = Harness::new();
    for depth in [200usize, 10_000, 30_000, 60_000] {
        let mut body = br#"{"success":true,"errors":[],"messages":[],"result":"#.to_vec();
        body.extend(std::iter::repeat_n(b'[', depth));
        body.extend(std::iter::repeat_n(b']', depth));
        body.push(b'}');
        // Past the harness's 64 KiB limit the body is not even parsed.
        let too_large = body.len() > 64 * 1024;
        let expected = if too_large {
            "ResponseTooLarge"
        } else {
            "Decode"
        };
        assert_eq!(h.kind(200, body), expected, "depth {depth}");
        let mut nested_errors = br#"{"success":false,"errors":"#.to_vec();
        nested_errors.extend(std::iter::repeat_n(b'[', depth));
        nested_errors.extend(std::iter::repeat_n(b']', depth));
        nested_errors.push(b'}');
        let expected = if too_large {
            "ResponseTooLarge"
        } else {
            "UnexpectedResponse"
        };
        assert_eq!(h.kind(400, nested_errors), expected, "depth {depth}");
    }
}

#[test]
fn an_oversized_body_is_response_too_large() {
    let h = Harness::new();
    let mut body = br#"{"success":true,"errors":[],"messages":[],"result":""#.to_vec();
    body.extend(std::iter::repeat_n(b'x', 1024 * 1024));
    body.extend(br#""}"#);
    let outcome = h.call(200, body);
    assert!(
        matches!(
            outcome.as_ref().map_err(Error::kind),
            Err(ErrorKind::ResponseTooLarge { limit: 65536, .. })
        ),
        "{outcome:?}"
    );
}
