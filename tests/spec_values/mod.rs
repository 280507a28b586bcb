//! Arbitrary JSON values that `spec/dns_settings.json` allows, for property tests: requests get
//! exactly what the spec allows; responses also get what a newer API version could send
//! (unknown fields, enum values and union kinds). Strings include non-ASCII text and characters
//! JSON must escape; integers reach `i64::MIN` and `i64::MAX` where the spec sets no bound.
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Side {
    /// Only what the spec allows; no read-only fields.
    Request,
    /// Also what a newer API could send; no write-only fields.
    Response,
}

pub fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/dns_settings.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn resolve<'a>(schema: &'a Value, spec: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(spec.pointer(&r[1..]).expect("ref resolves"), spec),
        None => schema,
    }
}

/// Merges `allOf` into one object schema (properties and required united, later parts win).
pub fn flatten(schema: &Value, spec: &Value) -> Value {
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

/// The schemas of one operation of the spec (its request body and its result), as the tests need
/// them to make values.
pub struct OperationSchemas {
    pub id: String,
    /// The request body's schema.
    pub body: Option<Value>,
    /// The 2xx envelope's `result` schema.
    pub result: Option<Value>,
    /// The envelope has `result_info`: a page of a list.
    pub paged: bool,
}

/// The schemas of every operation of the spec.
pub fn operation_schemas(spec: &Value) -> Vec<OperationSchemas> {
    let mut out = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let body = op
                .pointer("/requestBody/content/application~1json/schema")
                .cloned();
            let envelope = op
                .pointer("/responses/200/content/application~1json/schema")
                .map(|s| flatten(s, spec));
            let result = envelope
                .as_ref()
                .and_then(|e| e.pointer("/properties/result").cloned());
            let paged = envelope
                .as_ref()
                .is_some_and(|e| e.pointer("/properties/result_info").is_some());
            out.push(OperationSchemas {
                id: id.to_string(),
                body,
                result,
                paged,
            });
        }
    }
    out
}

/// A string as Cloudflare could send it: plain, non-ASCII, or with characters JSON escapes.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z0-9.@ _-]{0,24}",
        1 => "[\\u{e9}\\u{65e5}\\u{672c}\\u{1F600}a-z]{1,8}",
        1 => "[\"\\\\/\\n\\t\\r\\u{0}\\u{1f}\\u{2028}a]{1,8}",
    ]
    .boxed()
}

fn unknown_scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from)
    ]
    .boxed()
}

pub fn value_for(schema: &Value, spec: &Value, side: Side) -> BoxedStrategy<Value> {
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
        let strings = values.iter().all(Value::is_string);
        return match side {
            Side::Response if strings => {
                prop_oneof![3 => known, 1 => "future_[a-z]{1,8}".prop_map(Value::from)].boxed()
            }
            _ => known.boxed(),
        };
    }
    let num = |key: &str| schema.get(key).and_then(Value::as_i64);
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
        Some("integer" | "number") => match (num("minimum"), num("maximum")) {
            (None, None) => prop_oneof![
                3 => (-1_000_000i64..=1_000_000).prop_map(Value::from),
                1 => prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>()].prop_map(Value::from),
            ]
            .boxed(),
            (lo, hi) => (lo.unwrap_or(i64::MIN)..=hi.unwrap_or(i64::MAX)).prop_map(Value::from).boxed(),
        },
        Some("string") => text().prop_map(Value::from).boxed(),
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
        let resolved = resolve(prop, spec);
        let hidden = match side {
            Side::Request => "readOnly",
            Side::Response => "writeOnly",
        };
        if resolved.get(hidden) == Some(&json!(true)) || prop.get(hidden) == Some(&json!(true)) {
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
