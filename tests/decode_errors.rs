//! A decode error keeps the truth (issue 16, part 4), for every operation with a result and no
//! per-operation code: take a response generated from `spec/`, remove one field anywhere in its
//! `result`, and decode it through the production path. Either it still decodes (the field was
//! optional), or the error names the removed field and the object it was missing from, carries
//! the body exactly as received, and its message never prints that body. When it still
//! decodes, the spec must say the field may be absent (not `required`, or with a `default`, or
//! not in the spec at all: an unknown field or union kind; or marked `deprecated`, which the
//! build makes optional in responses): a required field that started defaulting (a TTL of 0, a
//! flag false) fails here.

mod spec_values;

use cloudflare_dns_settings::ErrorKind;
use cloudflare_dns_settings::testing::decode_response;
use proptest::prelude::*;
use serde_json::{Value, json};
use spec_values::{Side, flatten, operation_schemas, resolve, spec, value_for};

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

/// The variant of the union `variants` that `value` is, by the properties every variant fixes
/// with an `enum` (the discriminator: `type`, `advanced`); `None` for a kind the spec does not
/// know; and those properties.
fn variant_of(variants: &[Value], value: &Value, spec: &Value) -> (Vec<String>, Option<Value>) {
    let variants: Vec<Value> = variants.iter().map(|v| flatten(v, spec)).collect();
    let fixed = |v: &Value, name: &str| {
        v.pointer(&format!("/properties/{name}"))
            .map(|p| resolve(p, spec))
            .and_then(|p| p.get("enum"))
            .cloned()
    };
    let names: Vec<String> = variants[0]["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .filter(|name| variants.iter().all(|v| fixed(v, name).is_some()))
        .filter(|name| {
            variants
                .iter()
                .any(|v| fixed(v, name) != fixed(&variants[0], name))
        })
        .collect();
    assert!(!names.is_empty(), "a union without a discriminator");
    let variant = variants.into_iter().find(|v| {
        names.iter().all(|name| {
            let allowed = fixed(v, name).unwrap();
            value
                .get(name)
                .is_some_and(|got| allowed.as_array().unwrap().contains(got))
        })
    });
    (names, variant)
}

/// Whether the spec lets the member at `at` (indices as `members` gives them) of `value`, a
/// value of `schema`, be absent: `Err` names a required field without a default.
fn may_be_absent(schema: &Value, spec: &Value, value: &Value, at: &[usize]) -> Result<(), String> {
    let mut schema = flatten(schema, spec);
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        let (discriminators, variant) = variant_of(variants, value, spec);
        let removed = value.as_object().and_then(|m| m.keys().nth(at[0]));
        if at.len() == 1 && removed.is_some_and(|key| discriminators.contains(key)) {
            // Without its discriminator an object is of a kind this version does not know,
            // kept whole as `UnknownKind` (README, "Compatible with newer API versions").
            return Ok(());
        }
        match variant {
            Some(variant) => schema = variant,
            // An unknown kind is kept whole: none of its members is the spec's.
            None => return Ok(()),
        }
    }
    let (&first, rest) = at.split_first().expect("a member");
    match value {
        Value::Object(map) => {
            let (key, child) = map.iter().nth(first).expect("index");
            // A member the spec does not know lands in `extra`: it may be absent.
            let Some(property) = schema.pointer(&format!("/properties/{key}")) else {
                return Ok(());
            };
            if !rest.is_empty() {
                return may_be_absent(property, spec, child, rest);
            }
            let required = schema["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!(key)));
            let default = property.get("default").is_some()
                || resolve(property, spec).get("default").is_some();
            // A response field marked deprecated (itself or the schema it references) is
            // optional whatever `required` says: Cloudflare drops deprecated fields
            // (build/adjust.rs, `deprecated_response_fields_are_optional`).
            let deprecated = property.get("deprecated") == Some(&json!(true))
                || resolve(property, spec).get("deprecated") == Some(&json!(true));
            if required && !default && !deprecated {
                return Err(format!("`{key}` is required and has no default"));
            }
            Ok(())
        }
        Value::Array(items) => may_be_absent(&schema["items"], spec, &items[first], rest),
        _ => unreachable!("a path into a scalar"),
    }
}

#[test]
fn a_missing_field_is_named_with_its_object_and_the_body_is_kept() {
    let spec = spec();
    let mut covered = 0;
    let named = std::cell::Cell::new(0);
    for op in operation_schemas(&spec) {
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
            let Err(error) = outcome else {
                // It still decodes: only if the spec lets the field be absent.
                if let Err(why) = may_be_absent(&result, &spec, &value, &at) {
                    return Err(TestCaseError::fail(format!(
                        "{}: decoded without `{}` at {}, but {}", op.id, key, path, why
                    )));
                }
                return Ok(());
            };
            let shown = error.to_string();
            let ErrorKind::Decode { path: at_path, body: kept, .. } = error.kind() else {
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
