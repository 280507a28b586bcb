//! Round trips, driven by the spec: for every request and response type, arbitrary JSON that
//! the spec allows (plus, for responses, values and fields from a future version of the API)
//! deserializes and serializes back to the same JSON.

use cloudflare_dns_settings::types::{
    AccountSettings, AccountSettingsPatch, DnsSettingsZone, DnsSettingsZonePatch, DnsView,
    DnsViewCreate, DnsViewPatch,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, PartialEq)]
enum Side {
    /// Only what the spec allows.
    Request,
    /// Also unknown enum values, unknown fields and unknown union kinds.
    Response,
}

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/dns_settings.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn resolve<'a>(schema: &'a Value, spec: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(spec.pointer(&r[1..]).expect("ref resolves"), spec),
        None => schema,
    }
}

/// Flattens `allOf` into one object schema (properties and required merged, later parts win).
fn flatten(schema: &Value, spec: &Value) -> Value {
    let schema = resolve(schema, spec);
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut merged = schema.clone();
    let obj = merged.as_object_mut().unwrap();
    obj.remove("allOf");
    for part in parts {
        let part = flatten(part, spec);
        for (key, value) in part.as_object().unwrap() {
            match (key.as_str(), obj.get_mut(key)) {
                ("properties", Some(Value::Object(props))) => {
                    for (name, prop) in value.as_object().unwrap() {
                        props.insert(name.clone(), prop.clone());
                    }
                }
                ("required", Some(Value::Array(req))) => {
                    req.extend(value.as_array().unwrap().iter().cloned())
                }
                _ => {
                    obj.insert(key.clone(), value.clone());
                }
            }
        }
    }
    merged
}

fn unknown_scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z]{1,8}".prop_map(Value::from)
    ]
    .boxed()
}

fn value_for(schema: &Value, spec: &Value, side: Side) -> BoxedStrategy<Value> {
    let schema = flatten(schema, spec);
    let inner = shape_for(&schema, spec, side);
    if schema.get("nullable") == Some(&json!(true)) {
        prop_oneof![Just(Value::Null), inner].boxed()
    } else {
        inner
    }
}

fn shape_for(schema: &Value, spec: &Value, side: Side) -> BoxedStrategy<Value> {
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        let mut choices: Vec<BoxedStrategy<Value>> =
            variants.iter().map(|v| value_for(v, spec, side)).collect();
        if side == Side::Response {
            let unknown = ("future\\.[a-z]{1,8}", unknown_scalar())
                .prop_map(|(kind, extra)| json!({"type": kind, "x_future": extra}));
            choices.push(unknown.boxed());
        }
        return proptest::strategy::Union::new(choices).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let known = proptest::sample::select(values.clone());
        return match side {
            Side::Request => known.boxed(),
            Side::Response => {
                prop_oneof![3 => known, 1 => "future_[a-z]{1,8}".prop_map(Value::from)].boxed()
            }
        };
    }
    let num = |key: &str| schema.get(key).and_then(Value::as_i64);
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
        Some("integer" | "number") => {
            let (lo, hi) = (
                num("minimum").unwrap_or(-1_000_000),
                num("maximum").unwrap_or(1_000_000),
            );
            (lo..=hi).prop_map(Value::from).boxed()
        }
        Some("string") => "[a-zA-Z0-9.@ _-]{0,24}".prop_map(Value::from).boxed(),
        Some("array") => proptest::collection::vec(value_for(&schema["items"], spec, side), 0..3)
            .prop_map(Value::from)
            .boxed(),
        _ => object_for(schema, spec, side),
    }
}

fn object_for(schema: &Value, spec: &Value, side: Side) -> BoxedStrategy<Value> {
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, prop) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        // The server sets read-only fields: request types do not have them.
        if side == Side::Request && resolve(prop, spec).get("readOnly") == Some(&json!(true)) {
            continue;
        }
        let name = name.clone();
        let value = value_for(prop, spec, side);
        fields.push(if required.contains(&name) {
            value.prop_map(move |v| Some((name.clone(), v))).boxed()
        } else {
            proptest::option::of(value)
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed()
        });
    }
    if side == Side::Response {
        let extra = proptest::option::of(("x_future_[a-z]{1,6}", unknown_scalar()));
        fields.push(
            extra
                .prop_map(|e| e.map(|(k, v)| (k.to_string(), v)))
                .boxed(),
        );
    }
    fields
        .prop_map(|pairs| {
            Value::Object(pairs.into_iter().flatten().collect::<Map<String, Value>>())
        })
        .boxed()
}

/// The schema of operation `id`'s request body, or of its 2xx response's `result`.
fn schema_of(spec: &Value, id: &str, request: bool) -> Value {
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if op["operationId"] != id {
                continue;
            }
            if request {
                return op["requestBody"]["content"]["application/json"]["schema"].clone();
            }
            let envelope = flatten(
                &op["responses"]["200"]["content"]["application/json"]["schema"],
                spec,
            );
            return envelope["properties"]["result"].clone();
        }
    }
    panic!("no operation {id}");
}

fn round_trips<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    value: &Value,
) -> Result<(), TestCaseError> {
    let typed: T = serde_json::from_value(value.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}: {value}")))?;
    let back = serde_json::to_value(&typed).unwrap();
    prop_assert_eq!(&back, value);
    let again: T = serde_json::from_value(back).unwrap();
    prop_assert_eq!(again, typed);
    Ok(())
}

macro_rules! round_trip_test {
    ($name:ident, $ty:ty, $operation:literal, $request:expr, $side:expr) => {
        #[test]
        fn $name() {
            let spec = spec();
            let strategy = value_for(&schema_of(&spec, $operation, $request), &spec, $side);
            proptest!(ProptestConfig::with_cases(256), |(value in strategy)| {
                round_trips::<$ty>(&value)?;
            });
        }
    };
}

round_trip_test!(
    account_edit_body_round_trips,
    AccountSettingsPatch,
    "dns-settings-for-an-account-update-dns-settings",
    true,
    Side::Request
);
round_trip_test!(
    account_settings_round_trip_with_future_values,
    AccountSettings,
    "dns-settings-for-an-account-list-dns-settings",
    false,
    Side::Response
);
round_trip_test!(
    zone_edit_body_round_trips,
    DnsSettingsZonePatch,
    "dns-settings-for-a-zone-update-dns-settings",
    true,
    Side::Request
);
round_trip_test!(
    zone_settings_round_trip_with_future_values,
    DnsSettingsZone,
    "dns-settings-for-a-zone-list-dns-settings",
    false,
    Side::Response
);

round_trip_test!(
    view_create_body_round_trips,
    DnsViewCreate,
    "dns-views-for-an-account-create-internal-dns-views",
    true,
    Side::Request
);
round_trip_test!(
    view_edit_body_round_trips,
    DnsViewPatch,
    "dns-views-for-an-account-update-internal-dns-view",
    true,
    Side::Request
);
round_trip_test!(
    view_round_trips_with_future_values,
    DnsView,
    "dns-views-for-an-account-get-internal-dns-view",
    false,
    Side::Response
);

#[test]
fn every_response_fixture_decodes_and_re_encodes_to_equivalent_json() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(envelope) = serde_json::from_str::<Value>(&std::fs::read_to_string(&path).unwrap())
        else {
            continue;
        };
        let result = &envelope["result"];
        if result.is_null() {
            continue;
        }
        let outcome = if result.get("zone_defaults").is_some() {
            round_trips::<AccountSettings>(result)
        } else if result.get("zones").is_some() {
            round_trips::<DnsView>(result)
        } else {
            round_trips::<DnsSettingsZone>(result)
        };
        outcome.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} fixtures with a result");
}
