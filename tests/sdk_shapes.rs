//! Everything the official SDKs accept, the crate decodes: response shapes generated from the
//! SDKs' own models (the committed snapshots `spec/sdk/cloudflare-python-<version>.json`, made
//! by `.ci/sdk-audit/extract.py`, and `spec/sdk/cloudflare-typescript-<version>.json`, made by
//! `.ci/sdk-audit/extract-ts.mjs`; see spec/README.md, "The SDK audit"), not written by hand.
//!
//! For every operation of each SDK, from its response model: the minimal instance (only the
//! fields the SDK requires; arrays with one minimal item, and once empty), the full one (every
//! field), every nullable field
//! `null` (Stainless's Python models accept `null` in every optional field), and, for every
//! union and every enum anywhere in the model, one full and one minimal instance per variant or
//! value. Each is served in Cloudflare's envelope over loopback to the real generated operation
//! (`.send().await`), must decode, and must keep every non-null value it carried.
//!
//! And for every field `spec/` marks deprecated in the operation's response (`foundation_dns`),
//! the full and the minimal instance without it: Cloudflare drops deprecated fields, and the
//! crate must still decode (build/adjust.rs, `deprecated_response_fields_are_optional`). The
//! deprecated fields are read from `spec/dns_settings.json`, not listed here.
//!
//! The test can fail: the number of shapes each model must give is counted apart (a plain walk
//! of the snapshot's JSON and of the spec's deprecated fields), every distinct one must be served,
//! and the README's figures ("N for Python SDK x.y.z, M for TypeScript SDK a.b.c") must be the
//! counts served. An SDK operation `spec/` does not have (the zones resource's create, get, edit,
//! delete) is skipped here: the audit explains it (spec/sdk-audit.json).
//!
//! Values: strings are 32 lowercase hex characters (a valid identifier, name and zone id alike),
//! dates RFC 3339, integers 1, and the SDK's `number`s a whole 3600: the crate types TTLs and SOA
//! timers as integers on purpose (spec/sdk-audit.json says why), so a fraction is a shape it
//! refuses by design. The envelope's `result` is not part of a model: Stainless wraps every
//! operation's result as `Optional` (`ResultWrapper[Optional[T]]`), which the audit explains.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cloudflare_dns_settings::types::{
    AccountSettingsPatch, DnsSettingsZonePatch, DnsViewCreate, DnsViewPatch,
};
use cloudflare_dns_settings::{Client, Error};
use common::{ACCOUNT, ZONE, json_response, server, token_client};
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

const VIEW: &str = "f174e90afafe4643bbbc4a0ed4fc8415";
const TEXT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// The operations `spec/dns_settings.json` has, as `"<METHOD> <path>"`. The SDKs' operations
/// the spec leaves out (the zones resource's create, get, edit, delete) are the audit's to
/// explain (spec/sdk-audit.json); they have no generated operation to decode with.
fn spec_operations(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for verb in item.as_object().unwrap().keys() {
            out.push(format!("{} {template}", verb.to_uppercase()));
        }
    }
    out
}

/// `spec/dns_settings.json`.
fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/dns_settings.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The snapshots in spec/sdk/, one per official SDK (Python, TypeScript): upgrading a pin
/// replaces its snapshot, and this test follows.
fn snapshots() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/sdk");
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    let names: Vec<String> = found
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.len() == 2
            && names[0].starts_with("cloudflare-python-")
            && names[1].starts_with("cloudflare-typescript-"),
        "expected one Python and one TypeScript snapshot in {dir}: {names:?}"
    );
    found
        .into_iter()
        .zip(names)
        .map(|(path, name)| {
            let text = std::fs::read_to_string(&path).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Only the fields the SDK requires; an array holds one such minimal item.
    Minimal,
    /// Only the fields the SDK requires; arrays empty.
    Empty,
    /// Every field, with a value.
    Full,
    /// Every field; every nullable one `null`.
    Nulls,
}

/// Which variant (of a union) or value (of an enum) to take at a path; the first otherwise.
type Choices = BTreeMap<String, usize>;

/// `at.name`, or `name` at the top.
fn member(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

fn instance(schema: &Value, at: &str, mode: Mode, choices: &Choices) -> Value {
    if mode == Mode::Nulls && schema.get("nullable") == Some(&json!(true)) {
        return Value::Null;
    }
    if let Some(Value::Array(variants)) = schema.get("oneOf") {
        let pick = choices.get(at).copied().unwrap_or(0);
        return instance(
            &variants[pick],
            &format!("{at}#{}", pick + 1),
            mode,
            choices,
        );
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values[choices.get(at).copied().unwrap_or(0)].clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut out = Map::new();
            for (name, field) in schema["fields"].as_object().into_iter().flatten() {
                if matches!(mode, Mode::Minimal | Mode::Empty) && field["required"] != json!(true) {
                    continue;
                }
                let value = instance(&field["schema"], &member(at, name), mode, choices);
                out.insert(name.clone(), value);
            }
            Value::Object(out)
        }
        Some("array") if mode == Mode::Empty => json!([]),
        Some("array") => json!([instance(
            &schema["items"],
            &format!("{at}[]"),
            mode,
            choices
        )]),
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2024-05-01T12:34:56.123456Z"),
            Some("date") => json!("2024-05-01"),
            _ => json!(TEXT),
        },
        Some("integer") => json!(1),
        Some("number") => json!(3600),
        Some("boolean") => json!(true),
        _ => json!(TEXT),
    }
}

/// Every union and enum in `schema`: (path, number of options, the choices that reach it).
fn choice_points(
    schema: &Value,
    at: &str,
    reach: &Choices,
    out: &mut Vec<(String, usize, Choices)>,
) {
    if let Some(Value::Array(variants)) = schema.get("oneOf") {
        out.push((at.to_string(), variants.len(), reach.clone()));
        for (index, variant) in variants.iter().enumerate() {
            let mut reach = reach.clone();
            reach.insert(at.to_string(), index);
            choice_points(variant, &format!("{at}#{}", index + 1), &reach, out);
        }
    } else if let Some(Value::Array(values)) = schema.get("enum") {
        out.push((at.to_string(), values.len(), reach.clone()));
    } else if let Some(fields) = schema.get("fields").and_then(Value::as_object) {
        for (name, field) in fields {
            choice_points(&field["schema"], &member(at, name), reach, out);
        }
    } else if let Some(items) = schema.get("items") {
        choice_points(items, &format!("{at}[]"), reach, out);
    }
}

/// The spec's response fields marked `deprecated` (on the property or the schema it references)
/// of operation `verb template`, as paths of [`member`]s below the envelope
/// (`result.zone_defaults.foundation_dns`, `[]` for an array's items); a union's variants at the
/// union's path.
fn deprecated_fields(spec: &Value, verb: &str, template: &str) -> Vec<String> {
    fn resolve<'a>(schema: &'a Value, spec: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(spec.pointer(&r[1..]).expect("a $ref resolves"), spec),
            None => schema,
        }
    }
    fn walk(schema: &Value, spec: &Value, at: &str, depth: usize, out: &mut Vec<String>) {
        let schema = resolve(schema, spec);
        if depth > 32 {
            return;
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            let path = member(at, name);
            let flag = |s: &Value| s.get("deprecated") == Some(&json!(true));
            if (flag(property) || flag(resolve(property, spec))) && !out.contains(&path) {
                out.push(path.clone());
            }
            walk(property, spec, &path, depth + 1, out);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for part in schema[key].as_array().into_iter().flatten() {
                walk(part, spec, at, depth + 1, out);
            }
        }
        if let Some(items) = schema.get("items") {
            walk(items, spec, &format!("{at}[]"), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    let pointer = format!(
        "/paths/{}/{}/responses/200/content/application~1json/schema",
        template.replace('~', "~0").replace('/', "~1"),
        verb.to_lowercase()
    );
    if let Some(envelope) = spec.pointer(&pointer) {
        walk(envelope, spec, "", 0, &mut out);
    }
    out
}

/// `value` without the field at `path` (a [`deprecated_fields`] path), in every item of an array
/// on the way.
fn without(value: &mut Value, path: &str) {
    if let Value::Array(items) = value {
        return items.iter_mut().for_each(|item| without(item, path));
    }
    let path = path
        .strip_prefix("[]")
        .map_or(path, |p| p.trim_start_matches('.'));
    let (head, rest) = match path.find(['.', '[']) {
        Some(at) => (&path[..at], Some(path[at..].trim_start_matches('.'))),
        None => (path, None),
    };
    let Some(object) = value.as_object_mut() else {
        return;
    };
    match rest {
        Some(rest) => {
            if let Some(inner) = object.get_mut(head) {
                without(inner, rest);
            }
        }
        None => {
            object.remove(head);
        }
    }
}

/// The response shapes of one SDK operation, named, without duplicates: each is the envelope's
/// members besides `success`, `errors` and `messages` (`result`, and `result_info` for a page).
/// `deprecated`: the fields ([`deprecated_fields`]) also dropped from the full and the minimal
/// shape, one at a time.
fn shapes(response: &Value, deprecated: &[String]) -> Vec<(String, Map<String, Value>)> {
    let mut out: Vec<(String, Map<String, Value>)> = Vec::new();
    for (name, members) in candidates(response, deprecated) {
        if !out.iter().any(|(_, seen)| *seen == members) {
            out.push((name, members));
        }
    }
    out
}

/// Every shape [`shapes`] considers, duplicates included: the four modes, then a full and a
/// minimal instance per option of every union and enum, then the full and the minimal instance
/// without each deprecated field.
fn candidates(response: &Value, deprecated: &[String]) -> Vec<(String, Map<String, Value>)> {
    // The page model (result + result_info) is a model; a single result's wrapper is not (its
    // `Optional` is Stainless's, for every operation): the model is what `result` holds.
    let mut model = json!({"type": "object", "fields": response.clone()});
    if let Some(result) = model.pointer_mut("/fields/result/schema")
        && result["type"] != json!("array")
    {
        result.as_object_mut().unwrap().remove("nullable");
    }
    let mut points = Vec::new();
    choice_points(&model, "", &Choices::new(), &mut points);
    let mut wanted = vec![
        ("minimal".to_string(), Mode::Minimal, Choices::new()),
        ("empty arrays".to_string(), Mode::Empty, Choices::new()),
        ("full".to_string(), Mode::Full, Choices::new()),
        ("nulls".to_string(), Mode::Nulls, Choices::new()),
    ];
    for (at, options, reach) in points {
        for option in 0..options {
            let mut choices = reach.clone();
            choices.insert(at.clone(), option);
            for (name, mode) in [("full", Mode::Full), ("minimal", Mode::Minimal)] {
                wanted.push((
                    format!("{name}, {at} option {}", option + 1),
                    mode,
                    choices.clone(),
                ));
            }
        }
    }
    let object = |members: Value| {
        let Value::Object(members) = members else {
            unreachable!("the envelope is an object")
        };
        members
    };
    let mut out: Vec<(String, Map<String, Value>)> = wanted
        .into_iter()
        .map(|(name, mode, choices)| (name, object(instance(&model, "", mode, &choices))))
        .collect();
    for path in deprecated {
        for (name, mode) in [("full", Mode::Full), ("minimal", Mode::Minimal)] {
            let mut members = instance(&model, "", mode, &Choices::new());
            without(&mut members, path);
            out.push((
                format!("{name} without the deprecated {path}"),
                object(members),
            ));
        }
    }
    out
}

/// How many candidates a response model must give, counted apart from [`choice_points`] by a
/// plain walk of the snapshot's JSON: four (minimal, empty arrays, full, nulls), two (full,
/// minimal) per option of every `oneOf` and every `enum` anywhere in it, inside every variant,
/// and two (full, minimal) per deprecated field.
fn expected_candidates(response: &Value, deprecated: usize) -> usize {
    fn options(node: &Value) -> usize {
        match node {
            Value::Object(map) => {
                let here = match (map.get("oneOf"), map.get("enum")) {
                    (Some(Value::Array(variants)), _) => variants.len(),
                    (None, Some(Value::Array(values))) => values.len(),
                    _ => 0,
                };
                here + map.values().map(options).sum::<usize>()
            }
            Value::Array(items) => items.iter().map(options).sum(),
            _ => 0,
        }
    }
    4 + 2 * options(response) + 2 * deprecated
}

/// The count of shapes the README states for one SDK (`…: 87 for Python SDK 5.9.0, …`), and for
/// which version; `language` is `Python` or `TypeScript`.
fn readme_count(language: &str) -> (usize, String) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap()
        .replace('\n', " ");
    let marker = format!(" for {language} SDK ");
    let (before, after) = readme.split_once(&marker).unwrap_or_else(|| {
        panic!(
            "the README states the number of {language} SDK shapes (`N for {language} SDK x.y.z`)"
        )
    });
    let count = before.rsplit(' ').next().unwrap().parse().unwrap();
    let version = after
        .split([',', ')', ' '])
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_string();
    (count, version)
}

/// A responder that serves whatever body the test last put in.
struct Serve(Arc<Mutex<String>>);

impl Respond for Serve {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        json_response(200, &self.0.lock().unwrap())
    }
}

/// The real generated operation for an SDK operation, its output as JSON. A new SDK operation
/// fails here until it is given a line.
async fn call(client: &Client, operation: &str) -> Result<Value, Error> {
    Ok(match operation {
        "GET /accounts/{account_id}/dns_settings" => {
            to_json(&client.account_get().account_id(ACCOUNT).send().await?)
        }
        "PATCH /accounts/{account_id}/dns_settings" => to_json(
            &client
                .account_edit()
                .account_id(ACCOUNT)
                .body(AccountSettingsPatch::default())
                .send()
                .await?,
        ),
        "GET /zones/{zone_id}/dns_settings" => {
            to_json(&client.zone_get().zone_id(ZONE).send().await?)
        }
        "PATCH /zones/{zone_id}/dns_settings" => to_json(
            &client
                .zone_edit()
                .zone_id(ZONE)
                .body(DnsSettingsZonePatch::default())
                .send()
                .await?,
        ),
        "GET /accounts/{account_id}/dns_settings/views" => to_json(
            &client
                .account_views_list()
                .account_id(ACCOUNT)
                .send()
                .await?,
        ),
        "POST /accounts/{account_id}/dns_settings/views" => to_json(
            &client
                .account_views_create()
                .account_id(ACCOUNT)
                .body(DnsViewCreate {
                    name: "view".into(),
                    zones: vec![ZONE.into()],
                })
                .send()
                .await?,
        ),
        "GET /accounts/{account_id}/dns_settings/views/{view_id}" => to_json(
            &client
                .account_views_get()
                .account_id(ACCOUNT)
                .view_id(VIEW)
                .send()
                .await?,
        ),
        "PATCH /accounts/{account_id}/dns_settings/views/{view_id}" => to_json(
            &client
                .account_views_edit()
                .account_id(ACCOUNT)
                .view_id(VIEW)
                .body(DnsViewPatch::default())
                .send()
                .await?,
        ),
        "DELETE /accounts/{account_id}/dns_settings/views/{view_id}" => to_json(
            &client
                .account_views_delete()
                .account_id(ACCOUNT)
                .view_id(VIEW)
                .send()
                .await?,
        ),
        "GET /zones" => to_json(
            &client
                .zones_list()
                .account_id(ACCOUNT)
                .page(1)
                .per_page(50)
                .send()
                .await?,
        ),
        other => panic!("no call for the SDK's operation `{other}`: add one to call()"),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("a decoded value serializes")
}

/// Where `decoded` lost or changed a non-null value of `sent`, if anywhere.
fn lost(sent: &Value, decoded: &Value, at: &str) -> Option<String> {
    match (sent, decoded) {
        (Value::Null, _) => None,
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| match b.get(k) {
            Some(w) => lost(v, w, &format!("{at}.{k}")),
            None if v.is_null() => None,
            None => Some(format!("{at}.{k} is gone")),
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (v, w))| lost(v, w, &format!("{at}[{i}]"))),
        (a, b) if a == b => None,
        (a, b) => Some(format!("{at}: sent {a}, decoded {b}")),
    }
}

#[tokio::test]
async fn every_shape_the_sdks_accept_decodes_through_the_real_operation() {
    for (file, snapshot) in snapshots() {
        every_shape_of_one_sdk_decodes(&file, &snapshot).await;
    }
}

async fn every_shape_of_one_sdk_decodes(file: &str, snapshot: &Value) {
    let server = server().await;
    let body = Arc::new(Mutex::new(String::new()));
    let client = token_client(&server);
    let spec = spec();
    let ours = spec_operations(&spec);
    let (mut total, mut expected, mut failures) = (0, 0, Vec::new());
    let (mut per_operation, mut without_deprecated) = (Vec::new(), 0);
    for op in snapshot["operations"].as_array().unwrap() {
        let (verb, template) = (op["method"].as_str().unwrap(), op["path"].as_str().unwrap());
        let operation = format!("{verb} {template}");
        if !ours.contains(&operation) {
            continue;
        }
        let url = template
            .replace("{account_id}", ACCOUNT)
            .replace("{zone_id}", ZONE)
            .replace("{view_id}", VIEW);
        Mock::given(method(verb))
            .and(path(url.as_str()))
            .respond_with(Serve(body.clone()))
            .mount(&server)
            .await;
        let deprecated = deprecated_fields(&spec, verb, template);
        let candidates = candidates(&op["response"], &deprecated);
        assert_eq!(
            candidates.len(),
            expected_candidates(&op["response"], deprecated.len()),
            "{file} {operation}: a union, enum or deprecated field of the model is not given its shapes"
        );
        let shapes = shapes(&op["response"], &deprecated);
        let distinct: std::collections::BTreeSet<String> = candidates
            .iter()
            .map(|(_, members)| Value::Object(members.clone()).to_string())
            .collect();
        assert_eq!(
            shapes.len(),
            distinct.len(),
            "{file} {operation}: a shape was lost"
        );
        expected += distinct.len();
        per_operation.push(format!("{operation}: {}", shapes.len()));
        for (name, members) in shapes {
            total += 1;
            without_deprecated += usize::from(name.contains("without the deprecated"));
            let mut envelope = json!({"success": true, "errors": [], "messages": []});
            envelope.as_object_mut().unwrap().extend(members.clone());
            *body.lock().unwrap() = envelope.to_string();
            let paged = op["paged"] == json!(true);
            let sent = if paged {
                Value::Object(members)
            } else {
                members["result"].clone()
            };
            match call(&client, &operation).await {
                Ok(decoded) => {
                    if let Some(problem) = lost(&sent, &decoded, "result") {
                        failures.push(format!("{operation} [{name}]: {problem}\n    sent {sent}"));
                    }
                }
                Err(e) => failures.push(format!("{operation} [{name}]: {e}\n    sent {sent}")),
            }
        }
    }
    println!(
        "{total} SDK shapes from {file} ({} operations):\n  {}",
        per_operation.len(),
        per_operation.join("\n  ")
    );
    assert!(
        per_operation.len() >= 9,
        "{} operations from {file}",
        per_operation.len()
    );
    assert_eq!(total, expected, "every distinct shape of {file} is served");
    // spec/ marks `foundation_dns` deprecated in four responses: these shapes must exist.
    assert!(
        without_deprecated >= 4,
        "{without_deprecated} shapes without a deprecated field"
    );
    // The README states the figure; it follows the snapshot.
    let language = if file.starts_with("cloudflare-python-") {
        "Python"
    } else {
        "TypeScript"
    };
    let (stated, version) = readme_count(language);
    assert_eq!(
        (stated, file.ends_with(&format!("-{version}.json"))),
        (total, true),
        "README.md (\"The SDK audit\") states {stated} shapes for {language} SDK {version}, \
         {file} gives {total}: update it"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} shapes the SDK accepts do not decode:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The generator itself: the shapes of a small model, by hand.
#[test]
fn shapes_cover_minimal_full_nulls_and_every_variant() {
    let response = json!({"result": {"required": true, "schema": {"type": "object", "fields": {
        "a": {"required": true, "schema": {"oneOf": [
            {"type": "object", "fields": {"t": {"required": true, "schema": {"enum": ["x", "y"]}}}},
            {"type": "object", "fields": {"n": {"required": false, "schema": {"type": "integer"}}}}
        ]}},
        "b": {"required": false, "schema": {"type": "string", "nullable": true}}
    }}}});
    assert_eq!(candidates(&response, &[]).len(), 4 + 2 * (2 + 2));
    assert_eq!(expected_candidates(&response, 0), 4 + 2 * (2 + 2));
    let got: Vec<Value> = shapes(&response, &[])
        .into_iter()
        .map(|(_, m)| m["result"].clone())
        .collect();
    assert_eq!(
        got,
        [
            json!({"a": {"t": "x"}}),
            json!({"a": {"t": "x"}, "b": TEXT}),
            json!({"a": {"t": "x"}, "b": null}),
            json!({"a": {"n": 1}, "b": TEXT}),
            json!({"a": {}}),
            json!({"a": {"t": "y"}, "b": TEXT}),
            json!({"a": {"t": "y"}}),
        ]
    );
}

#[test]
fn deprecated_fields_are_read_from_the_spec_and_dropped_one_at_a_time() {
    let spec = json!({
        "paths": {"/x/{id}": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"allOf": [{"$ref": "#/components/schemas/envelope"}, {"properties": {
                "result": {"type": "array", "items": {"$ref": "#/components/schemas/item"}}}}]}
        }}}}}}},
        "components": {"schemas": {
            "envelope": {"properties": {"success": {"type": "boolean"}}},
            "old": {"type": "boolean", "deprecated": true},
            "item": {"type": "object", "required": ["a", "b"], "properties": {
                "a": {"$ref": "#/components/schemas/old"},
                "b": {"oneOf": [{"type": "object", "properties": {
                    "c": {"type": "string", "deprecated": true}, "d": {"type": "string"}}}]}
            }}
        }}
    });
    let found = deprecated_fields(&spec, "GET", "/x/{id}");
    assert_eq!(found, ["result[].a", "result[].b.c"]);
    let response = json!({"result": {"required": true, "schema": {"type": "array", "items": {
        "type": "object", "fields": {
            "a": {"required": true, "schema": {"type": "boolean"}},
            "b": {"required": true, "schema": {"type": "object", "fields": {
                "c": {"required": true, "schema": {"type": "string"}},
                "d": {"required": true, "schema": {"type": "string"}}}}}}}}}});
    assert_eq!(
        candidates(&response, &found).len(),
        expected_candidates(&response, found.len())
    );
    let got: Vec<(String, Value)> = shapes(&response, &found)
        .into_iter()
        .map(|(name, m)| (name, m["result"].clone()))
        .filter(|(name, _)| name.contains("deprecated"))
        .collect();
    assert_eq!(
        got,
        [
            (
                "full without the deprecated result[].a".to_string(),
                json!([{"b": {"c": TEXT, "d": TEXT}}])
            ),
            (
                "full without the deprecated result[].b.c".to_string(),
                json!([{"a": true, "b": {"d": TEXT}}])
            ),
        ]
    );
}

#[test]
fn lost_names_a_value_the_decode_dropped_or_changed() {
    let sent = json!({"a": {"b": 1, "c": null}, "d": [true]});
    assert_eq!(lost(&sent, &sent, "result"), None);
    assert_eq!(
        lost(&sent, &json!({"a": {"b": 1}, "d": [true]}), "result"),
        None
    );
    assert_eq!(
        lost(&sent, &json!({"a": {}, "d": [true]}), "result").as_deref(),
        Some("result.a.b is gone")
    );
    assert_eq!(
        lost(&sent, &json!({"a": {"b": 2}, "d": [true]}), "result").as_deref(),
        Some("result.a.b: sent 1, decoded 2")
    );
    assert!(lost(&sent, &json!({"a": {"b": 1}, "d": []}), "result").is_some());
}
