//! Drift seen in production: the first time a response carries a field, an enum value or a union
//! kind `spec/` does not know, one `tracing` event (target `cloudflare_dns_settings::drift`,
//! level `info`) names the operation and the JSON path, never the value; once per operation and
//! path per process; nothing for known shapes.
//!
//! The set of paths already said is per process, and tests run in parallel: each test below uses
//! operations no other test here gives an unknown shape.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

/// What the subscriber of this thread writes.
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

impl Captured {
    /// Everything written so far, and empties it.
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// A subscriber for this thread, as a user would set one up to see drift: `info` and above.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// The drift events in `text`: `(operation, path, kind)` of each, in order.
fn events(text: &str) -> Vec<(String, String, String)> {
    let field = |line: &str, name: &str| {
        let start = line.find(&format!("{name}=")).expect(name) + name.len() + 1;
        let rest = &line[start..];
        let value = match rest.strip_prefix('"') {
            Some(quoted) => &quoted[..quoted.find('"').unwrap()],
            None => rest.split(' ').next().unwrap(),
        };
        value.to_string()
    };
    text.lines()
        .filter(|line| line.contains("cloudflare_dns_settings::drift"))
        .map(|line| {
            assert!(line.contains(" INFO "), "level info: {line}");
            (
                field(line, "operation"),
                field(line, "path"),
                field(line, "kind"),
            )
        })
        .collect()
}

fn sorted(mut events: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    events.sort();
    events
}

fn event(operation: &str, path: &str, kind: &str) -> (String, String, String) {
    (operation.into(), path.into(), kind.into())
}

async fn serving(verb: &str, body: &str) -> MockServer {
    let server = server().await;
    Mock::given(method(verb))
        .respond_with(json_response(200, body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn new_fields_and_enum_values_are_said_once_per_operation_and_path_without_values() {
    let future = fixture("account_settings_future.json");
    let (get, edit) = (
        serving("GET", &future).await,
        serving("PATCH", &future).await,
    );
    let (captured, _guard) = capture();
    let expected = |operation: &str| {
        sorted(vec![
            event(operation, "result.account_tier", "field"),
            event(operation, "result.zone_defaults.dnssec_presigned", "field"),
            event(
                operation,
                "result.zone_defaults.nameservers.type",
                "enum value",
            ),
            event(
                operation,
                "result.zone_defaults.soa.serial_strategy",
                "field",
            ),
            event(operation, "result.zone_defaults.zone_mode", "enum value"),
        ])
    };

    get_account(&token_client(&get)).await.unwrap();
    let first = captured.take();
    assert_eq!(sorted(events(&first)), expected("account_get"), "{first}");
    for value in ["cloudflare.quantum", "unixtime", "edge_only", "enterprise"] {
        assert!(
            !first.contains(value),
            "the value {value} was logged: {first}"
        );
    }

    // The second time, and the third: nothing.
    for _ in 0..2 {
        get_account(&token_client(&get)).await.unwrap();
    }
    let again = captured.take();
    assert_eq!(events(&again), [], "{again}");

    // The same paths of another operation are said for that operation.
    let patch = cloudflare_dns_settings::types::AccountSettingsPatch {
        enforce_dns_only: Some(true),
        ..Default::default()
    };
    for _ in 0..2 {
        token_client(&edit)
            .account_edit()
            .account_id(ACCOUNT)
            .body(patch.clone())
            .send()
            .await
            .unwrap();
    }
    let other = captured.take();
    assert_eq!(sorted(events(&other)), expected("account_edit"), "{other}");
}

#[tokio::test]
async fn a_new_union_kind_is_said_at_the_union_without_its_kind_or_members() {
    let server = serving("GET", &fixture("zone_settings_future.json")).await;
    let (captured, _guard) = capture();
    for _ in 0..2 {
        token_client(&server)
            .zone_get()
            .zone_id(ZONE)
            .send()
            .await
            .unwrap();
    }
    let text = captured.take();
    assert_eq!(
        events(&text),
        [event("zone_get", "result.nameservers", "union kind")],
        "{text}"
    );
    assert!(
        !text.contains("custom.global") && !text.contains("eu-1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_new_field_in_a_list_item_is_said_at_the_items_path() {
    let mut page = json!({"success": true, "errors": [], "messages": [],
        "result_info": {"page": 1, "per_page": 20, "count": 2, "total_count": 2}});
    let view = json_fixture("view.json")["result"].clone();
    let mut labelled = view.clone();
    labelled["label"] = json!("private-label-value");
    page["result"] = json!([view, labelled]);
    let server = serving("GET", &page.to_string()).await;
    let (captured, _guard) = capture();
    token_client(&server)
        .account_views_list()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap();
    let text = captured.take();
    assert_eq!(
        events(&text),
        [event("account_views_list", "result[].label", "field")],
        "{text}"
    );
    assert!(!text.contains("private-label-value"), "{text}");
}

/// The zones list (issue 24), which the fleet reads, is looked over like every operation: a zone
/// status or a field the spec does not know is said at the items' path, without its value.
#[tokio::test]
async fn the_zones_list_says_a_new_status_and_field() {
    let zone = json!({"id": ZONE, "name": "example.com", "development_mode": 0,
        "owner": {}, "account": {"id": ACCOUNT}, "meta": {}, "name_servers": [],
        "created_on": "2024-05-01T12:34:56Z", "modified_on": "2024-05-01T12:34:56Z",
        "status": "private-status-value", "vanity": "private-field-value"});
    let page = json!({"success": true, "errors": [], "messages": [], "result": [zone],
        "result_info": {"page": 1, "per_page": 50, "count": 1, "total_count": 1}});
    let server = serving("GET", &page.to_string()).await;
    let (captured, _guard) = capture();
    token_client(&server)
        .zones_list()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap();
    let text = captured.take();
    assert_eq!(
        sorted(events(&text)),
        sorted(vec![
            event("zones_list", "result[].status", "enum value"),
            event("zones_list", "result[].vanity", "field"),
        ]),
        "{text}"
    );
    assert!(!text.contains("private-"), "{text}");
}

#[tokio::test]
async fn known_shapes_say_nothing() {
    let (captured, _guard) = capture();
    let account = serving("GET", &fixture("account_settings.json")).await;
    get_account(&token_client(&account)).await.unwrap();
    let zone = serving("GET", &fixture("zone_settings.json")).await;
    token_client(&zone)
        .zone_get()
        .zone_id(ZONE)
        .send()
        .await
        .unwrap();
    let view = serving("GET", &fixture("view.json")).await;
    token_client(&view)
        .account_views_get()
        .account_id(ACCOUNT)
        .view_id("023e105f4ecef8ad9ca31a8372d0c353")
        .send()
        .await
        .unwrap();
    let text = captured.take();
    assert_eq!(events(&text), [], "{text}");
}
