//! Arbitrary, broken and hostile response bodies: always an `Err`, never a panic or a hang.

mod common;

use std::sync::{Arc, Mutex};

use cloudflare_dns_settings::Client;
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
    fn call(&self, status: u16, body: Vec<u8>) -> Result<(), String> {
        *self.next.lock().unwrap() = (status, body);
        self.runtime.block_on(async {
            match get_account(&self.client).await {
                Ok(settings) => Err(format!("decoded into {settings:?}")),
                Err(_) => Ok(()),
            }
        })
    }
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
    fn arbitrary_bytes_are_an_error(status in statuses(), body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        thread_local!(static H: Harness = Harness::new());
        H.with(|h| h.call(status, body)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn truncated_envelopes_are_an_error(status in statuses(), cut in 0usize..10_000) {
        thread_local!(static H: Harness = Harness::new());
        let full = valid_envelope();
        let body = full[..cut % full.len()].to_vec();
        H.with(|h| h.call(status, body)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn wrong_types_and_huge_numbers_in_the_result_are_an_error(
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
        H.with(|h| h.call(200, body)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn invalid_utf8_inside_strings_is_an_error(at in 0usize..1000, byte in 0x80u8..=0xFF) {
        thread_local!(static H: Harness = Harness::new());
        let mut body = valid_envelope();
        // Put a lone continuation/lead byte inside a string value: "dns.cloudflare.com".
        let start = body.windows(18).position(|w| w == b"dns.cloudflare.com").unwrap();
        let i = start + at % 18;
        body[i] = byte;
        H.with(|h| h.call(200, body)).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let h = Harness::new();
    for depth in [200usize, 10_000, 60_000] {
        let mut body = br#"{"success":true,"errors":[],"messages":[],"result":"#.to_vec();
        body.extend(std::iter::repeat_n(b'[', depth));
        body.extend(std::iter::repeat_n(b']', depth));
        body.push(b'}');
        h.call(200, body).unwrap();
        let mut nested_errors = br#"{"success":false,"errors":"#.to_vec();
        nested_errors.extend(std::iter::repeat_n(b'[', depth));
        nested_errors.extend(std::iter::repeat_n(b']', depth));
        nested_errors.push(b'}');
        h.call(400, nested_errors).unwrap();
    }
}

#[test]
fn an_oversized_body_is_an_error() {
    let h = Harness::new();
    let mut body = br#"{"success":true,"errors":[],"messages":[],"result":""#.to_vec();
    body.extend(std::iter::repeat_n(b'x', 1024 * 1024));
    body.extend(br#""}"#);
    h.call(200, body).unwrap();
}
