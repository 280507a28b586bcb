//! Desired state. Properties, over values generated from the spec: applying the plan to the
//! current settings as the server would yields the desired value of every field the desired
//! state sets, and a state planned against itself needs no PATCH. Then `…_apply` over HTTP:
//! what it reads, what it sends, and what it refuses before sending anything.

mod common;
mod spec_values;

use cloudflare_dns_settings::ErrorKind;
use cloudflare_dns_settings::plan::{Desired, Unconverged, desired_from_json, plan};
use cloudflare_dns_settings::types::{
    AccountSettings, AccountSettingsPatch, DnsSettingsZonePatch, DnsView, DnsViewPatch, SoaPatch,
    ZoneDefaultsPatch,
};
use cloudflare_dns_settings::{Nullable, types};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use spec_values::{Side, flatten, operation_schemas, resolve, spec, value_for};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The server's side of a PATCH: objects merged field by field (but fields sent whole), every
/// other value replaced.
fn merge(current: &mut Value, patch: &Value, at: &str, whole: &[&str]) {
    match (current, patch) {
        (Value::Object(now), Value::Object(change)) if !whole.contains(&at) => {
            for (key, value) in change {
                let child = join(at, key);
                match now.get_mut(key) {
                    Some(inner @ Value::Object(_))
                        if value.is_object() && !whole.contains(&child.as_str()) =>
                    {
                        merge(inner, value, &child, whole)
                    }
                    _ => {
                        now.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (now, change) => *now = change.clone(),
    }
}

fn same(a: Option<&Value>, b: &Value, set: bool) -> bool {
    match (a, b) {
        (None | Some(Value::Null), Value::Null) => true,
        (Some(Value::Array(x)), Value::Array(y)) if set => {
            let key = |v: &[Value]| {
                let mut k: Vec<String> = v.iter().map(Value::to_string).collect();
                k.sort();
                k
            };
            key(x) == key(y)
        }
        (Some(a), b) => a == b,
        (None, _) => false,
    }
}

/// Every field `desired` sets (inside unions too) has that value in `result`.
fn holds<D: Desired>(result: &Value, desired: &Value, at: &str) -> Result<(), TestCaseError> {
    match desired {
        Value::Object(fields) => {
            for (key, value) in fields {
                let inner = result.get(key).cloned().unwrap_or(Value::Null);
                holds::<D>(&inner, value, &join(at, key))?;
            }
            Ok(())
        }
        want => {
            let got = (!result.is_null()).then_some(result);
            prop_assert!(
                same(got, want, D::SETS.contains(&at)),
                "{at}: got {result}, wanted {want}"
            );
            Ok(())
        }
    }
}

fn schemas(get: &str, patch: &str) -> (Value, Value) {
    let spec = spec();
    let ops = operation_schemas(&spec);
    let result = ops
        .iter()
        .find(|o| o.id == get)
        .and_then(|o| o.result.clone())
        .unwrap();
    let body = ops
        .iter()
        .find(|o| o.id == patch)
        .and_then(|o| o.body.clone())
        .unwrap();
    (result, body)
}

fn planning_yields_the_desired_state<D: Desired>(get: &str, patch: &str) {
    let spec = spec();
    let (result, body) = schemas(get, patch);
    let strategy = (
        value_for(&result, &spec, Side::Response),
        value_for(&body, &spec, Side::Request),
    );
    proptest!(ProptestConfig::with_cases(256), |((current, desired) in strategy)| {
        let now: D::Current = serde_json::from_value(current.clone()).unwrap();
        let want: D = serde_json::from_value(desired.clone()).unwrap();
        let plan = plan(&now, &want).unwrap();
        let mut after = serde_json::to_value(&now).unwrap();
        if let Some(patch) = &plan.patch {
            let sent = serde_json::to_value(patch).unwrap();
            prop_assert_ne!(&sent, &json!({}), "an empty PATCH is never planned");
            merge(&mut after, &sent, "", D::WHOLE);
        }
        holds::<D>(&after, &serde_json::to_value(&want).unwrap(), "")?;
        prop_assert_eq!(plan.patch.is_none(), plan.changes.is_empty());
    });
}

fn a_state_planned_against_itself_needs_nothing<D: Desired>(get: &str, patch: &str) {
    let spec = spec();
    let (result, _) = schemas(get, patch);
    proptest!(ProptestConfig::with_cases(256), |(current in value_for(&result, &spec, Side::Response))| {
        let now: D::Current = serde_json::from_value(current.clone()).unwrap();
        // The same settings, as a desired state: every field the PATCH can send, as it is now
        // (unless the server sent a value the PATCH cannot: a kind or enum value this spec does
        // not know).
        let same: Result<D, _> = serde_json::from_value(current);
        prop_assume!(same.is_ok());
        let plan = plan(&now, &same.unwrap()).unwrap();
        prop_assert!(plan.patch.is_none(), "{:?}", plan.changes);
    });
}

/// Dotted paths of the properties the spec marks `deprecated` (on the property or on the schema
/// it references), below `schema`.
fn deprecated(schema: &Value, spec: &Value, at: &str, out: &mut Vec<String>) {
    let schema = flatten(schema, spec);
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let path = join(at, name);
        if property["deprecated"] == true || resolve(property, spec)["deprecated"] == true {
            out.push(path.clone());
        }
        deprecated(property, spec, &path, out);
    }
}

/// `value` without the field at the dotted `path`.
fn remove(value: &mut Value, path: &str) {
    match path.split_once('.') {
        Some((head, rest)) => {
            if let Some(inner) = value.get_mut(head) {
                remove(inner, rest);
            }
        }
        None => {
            value.as_object_mut().map(|o| o.remove(path));
        }
    }
}

/// A deprecated field (`foundation_dns`; Cloudflare answers 400 to it beside `nameservers.type`)
/// is sent only when the caller set it: whatever the current settings, a desired state that does
/// not set it plans a PATCH without it.
fn deprecated_fields_are_sent_only_when_set<D: Desired>(get: &str, patch: &str) {
    let spec = spec();
    let (result, body) = schemas(get, patch);
    let mut paths = Vec::new();
    deprecated(&body, &spec, "", &mut paths);
    assert!(!paths.is_empty(), "{patch} has a deprecated field");
    let strategy = (
        value_for(&result, &spec, Side::Response),
        value_for(&body, &spec, Side::Request),
    );
    proptest!(ProptestConfig::with_cases(256), |((current, mut desired) in strategy)| {
        paths.iter().for_each(|p| remove(&mut desired, p));
        let now: D::Current = serde_json::from_value(current).unwrap();
        let want: D = serde_json::from_value(desired).unwrap();
        let sent = serde_json::to_value(plan(&now, &want).unwrap().patch).unwrap();
        for path in &paths {
            let found = path.split('.').try_fold(&sent, |v, key| v.get(key));
            prop_assert!(found.is_none(), "{path} is sent though not set: {sent}");
        }
    });
}

#[test]
fn deprecated_fields_are_never_sent_unless_set() {
    deprecated_fields_are_sent_only_when_set::<AccountSettingsPatch>(ACCOUNT_GET, ACCOUNT_EDIT);
    deprecated_fields_are_sent_only_when_set::<DnsSettingsZonePatch>(ZONE_GET, ZONE_EDIT);
}

const ACCOUNT_GET: &str = "dns-settings-for-an-account-list-dns-settings";
const ACCOUNT_EDIT: &str = "dns-settings-for-an-account-update-dns-settings";
const ZONE_GET: &str = "dns-settings-for-a-zone-list-dns-settings";
const ZONE_EDIT: &str = "dns-settings-for-a-zone-update-dns-settings";
const VIEW_GET: &str = "dns-views-for-an-account-get-internal-dns-view";
const VIEW_EDIT: &str = "dns-views-for-an-account-update-internal-dns-view";

#[test]
fn account_plans_yield_the_desired_settings() {
    planning_yields_the_desired_state::<AccountSettingsPatch>(ACCOUNT_GET, ACCOUNT_EDIT);
    a_state_planned_against_itself_needs_nothing::<AccountSettingsPatch>(ACCOUNT_GET, ACCOUNT_EDIT);
}

#[test]
fn zone_plans_yield_the_desired_settings() {
    planning_yields_the_desired_state::<DnsSettingsZonePatch>(ZONE_GET, ZONE_EDIT);
    a_state_planned_against_itself_needs_nothing::<DnsSettingsZonePatch>(ZONE_GET, ZONE_EDIT);
}

#[test]
fn view_plans_yield_the_desired_view_with_zones_as_a_set() {
    planning_yields_the_desired_state::<DnsViewPatch>(VIEW_GET, VIEW_EDIT);
    a_state_planned_against_itself_needs_nothing::<DnsViewPatch>(VIEW_GET, VIEW_EDIT);
    let view: DnsView = serde_json::from_value(json!({"id": "v", "name": "n", "zones": ["a", "b"],
        "created_time": "t", "modified_time": "t"}))
    .unwrap();
    let reordered = DnsViewPatch {
        zones: Some(vec!["b".into(), "a".into()]),
        ..Default::default()
    };
    assert_eq!(
        plan(&view, &reordered).unwrap().patch,
        None,
        "zones is a set"
    );
}

fn account_settings() -> AccountSettings {
    let envelope: Value = serde_json::from_str(&fixture("account_settings.json")).unwrap();
    serde_json::from_value(envelope["result"].clone()).unwrap()
}

#[test]
fn the_plan_is_the_smallest_patch_with_an_explicit_null() {
    let current = account_settings();
    let desired = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(current.zone_defaults.ns_ttl),
            soa: Some(SoaPatch {
                mname: Some(Nullable::Null),
                refresh: Some(current.zone_defaults.soa.refresh.unwrap() + 1),
                ttl: current.zone_defaults.soa.ttl,
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let plan = plan(&current, &desired).unwrap();
    let sent = serde_json::to_value(plan.patch.unwrap()).unwrap();
    let mut expected = json!({"zone_defaults": {"soa": {"refresh": current.zone_defaults.soa.refresh.unwrap() + 1}}});
    if current.zone_defaults.soa.mname != Some(Nullable::Null) {
        expected["zone_defaults"]["soa"]["mname"] = Value::Null;
    }
    assert_eq!(sent, expected);
    assert!(
        plan.changes
            .iter()
            .any(|c| c.path == "zone_defaults.soa.refresh")
    );
}

#[test]
fn a_desired_state_with_an_unknown_field_is_refused_by_its_path() {
    let error =
        desired_from_json::<AccountSettingsPatch>(r#"{"zone_defaults":{"soa":{"refersh":600}}}"#)
            .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "zone_defaults.soa.refersh"),
        "{error:?}"
    );
    let error = desired_from_json::<AccountSettingsPatch>(r#"{"zone_defaults":{"ns_ttl":"long"}}"#)
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "zone_defaults.ns_ttl"),
        "{error:?}"
    );
    let ok =
        desired_from_json::<AccountSettingsPatch>(r#"{"zone_defaults":{"ns_ttl":3600}}"#).unwrap();
    assert_eq!(ok.zone_defaults.unwrap().ns_ttl, Some(3600));
}

async fn account_server() -> wiremock::MockServer {
    let server = server().await;
    let route = format!("/accounts/{ACCOUNT}/dns_settings");
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(route))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    server
}

fn methods(requests: &[wiremock::Request]) -> Vec<String> {
    requests.iter().map(|r| r.method.to_string()).collect()
}

#[tokio::test]
async fn apply_sends_only_what_differs_and_nothing_when_nothing_does() {
    let server = account_server().await;
    let client = token_client(&server);
    let current = account_settings();
    let unchanged = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(current.zone_defaults.ns_ttl),
            ..Default::default()
        }),
        ..Default::default()
    };
    let applied = client
        .account_apply(ACCOUNT, &unchanged, false)
        .await
        .unwrap();
    assert_eq!(applied.plan.patch, None);
    assert_eq!(applied.after, None);
    assert_eq!(
        methods(&received(&server).await),
        ["GET"],
        "no PATCH when nothing changes"
    );

    let changed = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(current.zone_defaults.ns_ttl + 60),
            secondary_overrides: Some(current.zone_defaults.secondary_overrides),
            ..Default::default()
        }),
        ..Default::default()
    };
    let applied = client
        .account_apply(ACCOUNT, &changed, false)
        .await
        .unwrap();
    assert!(applied.after.is_some());
    let requests = received(&server).await;
    assert_eq!(methods(&requests), ["GET", "GET", "PATCH"]);
    assert_eq!(
        String::from_utf8(requests[2].body.clone()).unwrap(),
        format!(
            r#"{{"zone_defaults":{{"ns_ttl":{}}}}}"#,
            current.zone_defaults.ns_ttl + 60
        )
    );
}

#[tokio::test]
async fn a_dry_run_reads_and_plans_but_sends_nothing() {
    let server = account_server().await;
    let desired = AccountSettingsPatch {
        enforce_dns_only: Some(true),
        ..Default::default()
    };
    let applied = token_client(&server)
        .account_apply(ACCOUNT, &desired, true)
        .await
        .unwrap();
    assert!(applied.plan.patch.is_some());
    assert_eq!(applied.after, None);
    assert_eq!(methods(&received(&server).await), ["GET"]);
}

#[tokio::test]
async fn a_desired_state_out_of_bounds_is_refused_before_any_request() {
    let server = account_server().await;
    let desired = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(5),
            ..Default::default()
        }),
        ..Default::default()
    };
    let error = token_client(&server)
        .account_apply(ACCOUNT, &desired, false)
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "zone_defaults.ns_ttl"),
        "{error:?}"
    );
    assert!(received(&server).await.is_empty());
}

/// A zone's nameservers are a union: a changed kind is sent whole, never a partial object.
#[tokio::test]
async fn a_changed_union_is_sent_whole() {
    let server = server().await;
    let route = format!("/zones/{ZONE}/dns_settings");
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .respond_with(json_response(200, &fixture("zone_settings.json")))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture("zone_settings.json")))
        .mount(&server)
        .await;
    let desired: DnsSettingsZonePatch =
        desired_from_json(r#"{"nameservers":{"type":"custom.account","ns_set":3}}"#).unwrap();
    token_client(&server)
        .zone_apply(ZONE, &desired, false)
        .await
        .unwrap();
    let requests = received(&server).await;
    let sent: Value = serde_json::from_slice(&requests.last().unwrap().body).unwrap();
    assert_eq!(
        sent,
        json!({"nameservers": {"type": "custom.account", "ns_set": 3}})
    );
    let _: Option<types::NameserversPatch> = desired.nameservers;
}

/// An account server whose PATCH answers with the fixture's settings, `ns_ttl` set to `answered`.
async fn account_server_answering(answered: i64) -> wiremock::MockServer {
    let server = server().await;
    let route = format!("/accounts/{ACCOUNT}/dns_settings");
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    let mut after = json_fixture("account_settings.json");
    after["result"]["zone_defaults"]["ns_ttl"] = json!(answered);
    Mock::given(method("PATCH"))
        .and(path(route))
        .respond_with(json_response(200, &after.to_string()))
        .mount(&server)
        .await;
    server
}

/// The answer to the PATCH is checked against the desired state: a field the API kept is
/// reported (path, desired, what it kept), not counted as done.
#[tokio::test]
async fn a_field_the_patch_answer_does_not_show_is_unconverged() {
    let current = account_settings().zone_defaults.ns_ttl;
    let desired = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(current + 60),
            ..Default::default()
        }),
        ..Default::default()
    };

    let ignoring = account_server_answering(current).await;
    let applied = token_client(&ignoring)
        .account_apply(ACCOUNT, &desired, false)
        .await
        .unwrap();
    assert_eq!(methods(&received(&ignoring).await), ["GET", "PATCH"]);
    assert_eq!(
        applied.unconverged,
        [Unconverged {
            path: "zone_defaults.ns_ttl".into(),
            desired: json!(current + 60),
            kept: Some(json!(current)),
        }]
    );
    assert!(!applied.converged());
    assert_eq!(
        applied.unconverged[0].to_string(),
        format!(
            "zone_defaults.ns_ttl: desired {}, the API kept {current}",
            current + 60
        )
    );

    let taking = account_server_answering(current + 60).await;
    let applied = token_client(&taking)
        .account_apply(ACCOUNT, &desired, false)
        .await
        .unwrap();
    assert_eq!(applied.unconverged, []);
    assert!(applied.converged());
}

#[tokio::test]
async fn a_dry_run_with_changes_is_not_converged_and_nothing_to_change_is() {
    let server = account_server().await;
    let client = token_client(&server);
    let change = AccountSettingsPatch {
        enforce_dns_only: Some(!account_settings().enforce_dns_only.unwrap_or(false)),
        ..Default::default()
    };
    let dry = client.account_apply(ACCOUNT, &change, true).await.unwrap();
    assert!(!dry.converged());
    assert_eq!(dry.unconverged, []);
    let nothing = AccountSettingsPatch::default();
    let applied = client
        .account_apply(ACCOUNT, &nothing, false)
        .await
        .unwrap();
    assert!(applied.converged());
}
