//! Lossless round trips, for every operation of the spec and with no per-operation code: values
//! generated from `spec/` (for responses, also what a newer API could send: unknown fields,
//! enum values and union kinds) decode through the production path (`decode_response` runs the
//! code a call runs on a body, from bytes) and serialize back to the same JSON. Request bodies
//! likewise decode as their body type and serialize back unchanged.

mod spec_values;

use cloudflare_dns_settings::testing::{decode_body, decode_response};
use proptest::prelude::*;
use serde_json::{Value, json};
use spec_values::{Side, operation_schemas, spec, value_for};

const CASES: u32 = 128;

fn envelope(result: &Value, info: Option<&Value>) -> Vec<u8> {
    let mut envelope = json!({"success": true, "errors": [], "messages": [], "result": result});
    if let Some(info) = info {
        envelope["result_info"] = info.clone();
    }
    serde_json::to_vec(&envelope).unwrap()
}

#[test]
fn every_response_round_trips_through_the_production_decode() {
    let spec = spec();
    let mut covered = 0;
    for spec_values::OperationSchemas {
        id, result, paged, ..
    } in operation_schemas(&spec)
    {
        let Some(result) = result else { continue };
        covered += 1;
        let info_schema =
            json!({"$ref": "#/components/schemas/dns-settings_api-response-collection"});
        let info = spec_values::flatten(&info_schema, &spec)["properties"]["result_info"].clone();
        let strategy = (
            value_for(&result, &spec, Side::Response),
            value_for(&info, &spec, Side::Response),
        );
        proptest!(ProptestConfig::with_cases(CASES), |((value, info) in strategy)| {
            let body = envelope(&value, paged.then_some(&info));
            let decoded = decode_response(&id, &body).expect("a known operation");
            let back = decoded.map_err(|e| TestCaseError::fail(format!("{id}: {e}: {value}")))?;
            let expected = if paged { json!({"result": value, "result_info": info}) } else { value.clone() };
            prop_assert_eq!(&back, &expected, "{} lost or changed data", id);
        });
    }
    assert!(covered >= 13, "only {covered} operations with a result");
}

#[test]
fn every_request_body_round_trips() {
    let spec = spec();
    let mut covered = 0;
    for spec_values::OperationSchemas { id, body, .. } in operation_schemas(&spec) {
        let Some(body) = body else { continue };
        covered += 1;
        proptest!(ProptestConfig::with_cases(CASES), |(value in value_for(&body, &spec, Side::Request))| {
            let bytes = serde_json::to_vec(&value).unwrap();
            let back = decode_body(&id, &bytes).expect("an operation with a body");
            let back = back.map_err(|e| TestCaseError::fail(format!("{id}: {e}: {value}")))?;
            prop_assert_eq!(&back, &value, "{} changed the body", id);
        });
    }
    assert!(covered >= 5, "only {covered} operations with a body");
}

/// The fixtures are recorded Cloudflare envelopes: each decodes and re-encodes to its `result`.
#[test]
fn every_response_fixture_round_trips() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(envelope) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let result = &envelope["result"];
        let failed = envelope["errors"].as_array().is_some_and(|e| !e.is_empty());
        if result.is_null() || envelope["success"] != json!(true) || failed {
            continue;
        }
        let operation = if result.get("zone_defaults").is_some() {
            "dns-settings-for-an-account-list-dns-settings"
        } else if result.get("zones").is_some() {
            "dns-views-for-an-account-get-internal-dns-view"
        } else if result
            .get("nameservers")
            .and_then(Value::as_array)
            .is_some()
        {
            "dns-settings-for-an-account-get-custom-nameserver-set"
        } else {
            "dns-settings-for-a-zone-list-dns-settings"
        };
        let back = decode_response(operation, &bytes)
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&back, result, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} fixtures with a result");
}
