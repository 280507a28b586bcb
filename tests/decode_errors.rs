//! A decode error keeps the truth (issue 16, part 4), for every operation with a result and no
//! per-operation code: take a response generated from `spec/`, remove one field anywhere in its
//! `result`, and decode it through the production path. Either it still decodes (the field was
//! optional), or the error names the removed field and the object it was missing from, carries
//! the body exactly as received, and its message never prints that body.

mod spec_values;

use cloudflare_dns_settings::Error;
use cloudflare_dns_settings::testing::decode_response;
use proptest::prelude::*;
use serde_json::{Value, json};
use spec_values::{Side, operations, spec, value_for};

const CASES: u32 = 96;

/// Every `(path, key)` of an object member in `value`, with paths as serde_path_to_error prints
/// them (`result.zone_defaults.soa`, `result[0].zones`).
fn members(value: &Value, path: &str, out: &mut Vec<(String, String, Vec<usize>)>, at: &[usize]) {
    match value {
        Value::Object(map) => {
            for (i, (key, child)) in map.iter().enumerate() {
                let mut here = at.to_vec();
                here.push(i);
                out.push((path.to_string(), key.clone(), here.clone()));
                members(child, &format!("{path}.{key}"), out, &here);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let mut here = at.to_vec();
                here.push(i);
                members(child, &format!("{path}[{i}]"), out, &here);
            }
        }
        _ => {}
    }
}

/// `value` without the member at `at` (indices of object members and array items).
fn without(value: &mut Value, at: &[usize]) {
    let (last, parents) = at.split_last().expect("a member");
    let mut node = value;
    for &i in parents {
        node = match node {
            Value::Object(map) => map.values_mut().nth(i).expect("index"),
            Value::Array(items) => &mut items[i],
            _ => unreachable!("a path into a scalar"),
        };
    }
    let map = node.as_object_mut().expect("the member's object");
    let key = map.keys().nth(*last).expect("index").clone();
    map.remove(&key);
}

#[test]
fn a_missing_field_is_named_with_its_object_and_the_body_is_kept() {
    let spec = spec();
    let mut covered = 0;
    let named = std::cell::Cell::new(0);
    for op in operations(&spec) {
        let Some(result) = op.result else { continue };
        if op.paged {
            continue; // a page's items are decoded by the same types as a single result
        }
        covered += 1;
        let strategy = value_for(&result, &spec, Side::Response)
            .prop_filter("an object with members", |v| {
                v.as_object().is_some_and(|m| !m.is_empty())
            })
            .prop_flat_map(|value| {
                let mut all = Vec::new();
                members(&value, "result", &mut all, &[]);
                (Just(value), proptest::sample::select(all))
            });
        proptest!(ProptestConfig::with_cases(CASES), |((value, (path, key, at)) in strategy)| {
            let mut cut = value.clone();
            without(&mut cut, &at);
            let body = serde_json::to_vec(&json!({
                "success": true, "errors": [], "messages": [], "result": cut
            })).unwrap();
            let outcome = decode_response(&op.id, &body).expect("a known operation");
            let Err(error) = outcome else { return Ok(()) };
            let shown = error.to_string();
            let Error::Decode { path: at_path, body: kept, .. } = &error else {
                return Err(TestCaseError::fail(format!("{}: not a decode error: {error:?}", op.id)));
            };
            prop_assert_eq!(kept.as_ref(), body.as_slice(), "the body is kept as received");
            prop_assert!(!shown.contains(&String::from_utf8_lossy(&body).to_string()));
            // A union that no longer matches any variant says so at the union; a plain object
            // names the field it misses and where.
            if shown.contains("missing field") {
                prop_assert!(shown.contains(&format!("missing field `{key}`")), "{}: removed `{}` at {}, got: {}", op.id, key, path, shown);
                // A union decoded by its discriminator says where inside it (`at `x[1]``).
                let inner = shown.split(": at `").nth(1).and_then(|r| r.split('`').next());
                let full = match inner {
                    Some(inner) if inner.starts_with('[') => format!("{at_path}{inner}"),
                    Some(inner) => format!("{at_path}.{inner}"),
                    None => at_path.clone(),
                };
                prop_assert_eq!(&full, &path, "{}: {}", op.id, shown);
                named.set(named.get() + 1);
            }
        });
    }
    assert!(covered >= 8, "only {covered} operations with a result");
    assert!(named.get() > 0, "no case removed a required field");
}

/// The case of issue 16: zone settings without `ns_ttl`.
#[test]
fn zone_settings_without_ns_ttl_name_the_field() {
    let mut envelope: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/zone_settings.json"
        ))
        .unwrap(),
    )
    .unwrap();
    envelope["result"].as_object_mut().unwrap().remove("ns_ttl");
    let body = serde_json::to_vec(&envelope).unwrap();
    let error = decode_response("dns-settings-for-a-zone-list-dns-settings", &body)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot decode the response at `result`: missing field `ns_ttl`"
    );
    assert_eq!(error.applied(), cloudflare_dns_settings::Applied::Yes);
}
