//! Adjustments made to a copy of the spec before progenitor sees it, and the generation itself.
//!
//! `spec/` stays as upstream writes it, so that a refresh is mechanical; everything the generator
//! needs help with is done here, one function per adjustment, each saying why.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

const SCHEMAS: &str = "#/components/schemas/";

/// The path of this crate as seen from the generated code (see `extern crate self` in lib.rs).
const CRATE: &str = "cloudflare_dns_settings";

/// Generates the client from a spec already passed through [`readable_operation_ids`].
pub fn generate_client(mut spec: Value) -> Result<String, String> {
    responses_carry_result_only(&mut spec)?;
    inline_scalar_components(&mut spec);
    for_each_schema(&mut spec, &mut |schema| {
        strip_defaults(schema);
        whole_numbers_as_integers(schema);
        constraints_checked_by_the_client(schema);
        timestamps_as_strings(schema);
        drop_examples(schema);
    });
    nullable_fields_keep_explicit_null(&mut spec);
    let received = separate_response_schemas(&mut spec);
    open_enums(&mut spec, &received);
    for_each_response_schema(&mut spec, &received, &mut |schema| {
        open_unions(schema);
        keep_unknown_fields(schema);
    });
    drop_unreferenced_components(&mut spec);

    if let Some(dir) = std::env::var_os("OUT_DIR") {
        // For whoever debugs the generator: the document progenitor actually read.
        let _ = std::fs::write(
            std::path::Path::new(&dir).join("adjusted_spec.json"),
            serde_json::to_string_pretty(&spec).unwrap_or_default(),
        );
    }
    let api: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(
            "crate::client::ClientState"
                .parse()
                .map_err(|_| "inner type")?,
        )
        .with_derive("PartialEq")
        .with_crate(CRATE.replace('_', "-"), progenitor::CrateVers::Any, None);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&api)
        .map_err(|e| format!("progenitor cannot generate a client: {e}"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    explicit_null_survives_deserialization(&mut file);
    Ok(prettyplease::unparse(&file))
}

/// The one adjustment made to the generated code rather than to the spec. serde reads an
/// explicit `null` into an `Option<Nullable<T>>` as `None` (the `Option` takes the `null` before
/// `Nullable` sees it), so a PATCH body `{"mname":null}` would not survive a round trip. Such
/// fields get the usual double-option fix: absent is `None`, present is `Some(..)`.
fn explicit_null_survives_deserialization(file: &mut syn::File) {
    use quote::ToTokens;
    use syn::visit_mut::{self, VisitMut};
    struct Fields;
    impl VisitMut for Fields {
        fn visit_field_mut(&mut self, field: &mut syn::Field) {
            let ty = field.ty.to_token_stream().to_string().replace(' ', "");
            if ty.starts_with("::std::option::Option<::cloudflare_dns_settings::Nullable<") {
                field.attrs.push(syn::parse_quote!(
                    #[serde(default, deserialize_with = "::cloudflare_dns_settings::Nullable::deserialize_present")]
                ));
            }
            visit_mut::visit_field_mut(self, field);
        }
    }
    Fields.visit_file_mut(file);
}

/// progenitor reads OpenAPI 3.0 only; a 3.1 document would fail later with a vaguer message.
pub fn require_openapi_3_0(spec: &Value) -> Result<(), String> {
    match spec.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => Ok(()),
        Some(v) => Err(format!(
            "`openapi: {v}` is not supported; progenitor reads OpenAPI 3.0.x"
        )),
        None => Err("no `openapi` version field; expected \"3.0.x\"".into()),
    }
}

/// Upstream operationIds (`dns-settings-for-an-account-update-dns-settings`) make unreadable
/// method names. Upstream also names each operation for its SDKs (`x-fern-sdk-group-name`
/// `dns.settings.account`, method `edit`); the method becomes the group without the prefix all
/// groups share, plus the method: `account_edit`. The spec keeps the upstream ids.
pub fn readable_operation_ids(spec: &mut Value) -> Result<(), String> {
    let mut groups = Vec::new();
    for (_, _, op) in operations_mut(spec) {
        let group = op.get("x-fern-sdk-group-name").and_then(Value::as_str);
        let method = op.get("x-fern-sdk-method-name").and_then(Value::as_str);
        match (group, method) {
            (Some(g), Some(m)) => {
                groups.push((g.split('.').map(String::from).collect(), m.to_string()))
            }
            _ => {
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("(no operationId)");
                return Err(format!(
                    "operation {id} lacks x-fern-sdk-group-name or x-fern-sdk-method-name, which name its method"
                ));
            }
        }
    }
    let shared = common_prefix(
        groups
            .iter()
            .map(|(g, _): &(Vec<String>, String)| g.as_slice()),
    );
    let mut names = groups.into_iter().map(|(group, method)| {
        let mut parts: Vec<String> = group[shared.min(group.len().saturating_sub(1))..].to_vec();
        parts.push(method);
        parts.join("_").replace('-', "_")
    });
    for (_, _, op) in operations_mut(spec) {
        if let (Some(obj), Some(name)) = (op.as_object_mut(), names.next())
            && let Some(upstream) = obj.insert("operationId".into(), Value::String(name))
        {
            obj.insert("x-upstream-operation-id".into(), upstream);
        }
    }
    Ok(())
}

fn common_prefix<'a>(mut lists: impl Iterator<Item = &'a [String]>) -> usize {
    let Some(first) = lists.next() else { return 0 };
    lists.fold(first.len(), |n, other| {
        first
            .iter()
            .zip(other)
            .take(n)
            .take_while(|(a, b)| a == b)
            .count()
    })
}

/// Every Cloudflare response is an envelope `{success, errors, messages, result}`, unwrapped in
/// one generic place at run time (src/envelope.rs), which hands the generated code the `result`
/// alone. So each 2xx response schema becomes the schema of its `result` property, and error
/// responses are dropped: they are envelopes too, handled by the same generic code (and
/// progenitor cannot type them anyway: `allOf` of `success: true` and `success: false`).
/// A list's envelope also carries `result_info`; its response becomes `Page<Item>`
/// (src/pagination.rs), which keeps both, for the generic paginator.
fn responses_carry_result_only(spec: &mut Value) -> Result<(), String> {
    let components = spec
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    for (path, method, op) in operations_mut(spec) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        responses.retain(|status, _| status.starts_with('2'));
        for response in responses.values_mut() {
            let Some(schema) = response.pointer_mut("/content/application~1json/schema") else {
                continue;
            };
            let result = result_schema(schema, &components, "result").ok_or_else(|| {
                format!("{method} {path}: the 2xx response has no `result` property to unwrap")
            })?;
            *schema = match result_schema(schema, &components, "result_info") {
                Some(_) => {
                    let item = resolve(&result, &components).get("items").cloned().ok_or_else(|| {
                        format!("{method} {path}: a response with `result_info` has no `result` array")
                    })?;
                    json!({ "x-rust-type": rust_type("Page", item) })
                }
                None => result,
            };
        }
    }
    Ok(())
}

/// The schema of the envelope's property `name` (`result`, `result_info`), through `allOf`.
fn result_schema(schema: &Value, components: &Value, name: &str) -> Option<Value> {
    let schema = resolve(schema, components);
    let mut found = schema.get("properties").and_then(|p| p.get(name)).cloned();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(inner) = result_schema(part, components, name) {
            found = Some(inner);
        }
    }
    found
}

pub fn resolve<'a>(schema: &'a Value, components: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/components/schemas/")
            .and_then(|name| components.get(name))
            .map_or(schema, |target| resolve(target, components)),
        None => schema,
    }
}

/// Named scalar components (`dns-settings_ns_ttl`, `dns-settings_identifier`) would become
/// newtypes (`DnsSettingsNsTtl(f64)`) that users must wrap by hand; inlined, a field is a plain
/// `i64` or `bool`. Their bounds are still checked, from the original spec (see build/rules.rs).
fn inline_scalar_components(spec: &mut Value) {
    let Some(components) = spec.pointer("/components/schemas").cloned() else {
        return;
    };
    let is_scalar = |s: &Value| {
        matches!(
            s.get("type").and_then(Value::as_str),
            Some("boolean" | "number" | "integer" | "string")
        ) && s.get("enum").is_none()
    };
    fn walk(node: &mut Value, components: &Value, is_scalar: &dyn Fn(&Value) -> bool) {
        if let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| components.get(name))
            .filter(|t| is_scalar(t))
        {
            *node = target.clone();
            return;
        }
        match node {
            Value::Object(map) => map
                .values_mut()
                .for_each(|v| walk(v, components, is_scalar)),
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| walk(v, components, is_scalar)),
            _ => {}
        }
    }
    walk(spec, &components, &is_scalar);
}

/// typify makes a property with a `default:` non-optional, so it would always be sent. A PATCH
/// must send only what the caller set, so no default survives.
fn strip_defaults(schema: &mut Map<String, Value>) {
    schema.remove("default");
}

/// Upstream types every TTL and SOA timer as `number`, but they are whole seconds: users write
/// `3600` and the wire must carry `3600`, not `3600.0`. A `number` whose bounds and examples are
/// all whole becomes an `integer` (`i64`), which also rules out NaN and infinities by type.
fn whole_numbers_as_integers(schema: &mut Map<String, Value>) {
    let whole = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_f64)
            .is_none_or(|n| n.fract() == 0.0)
    };
    if schema.get("type").and_then(Value::as_str) == Some("number")
        && ["minimum", "maximum", "example", "multipleOf"]
            .iter()
            .all(|k| whole(k))
    {
        schema.insert("type".into(), json!("integer"));
        schema.insert("format".into(), json!("int64"));
    }
}

/// typify turns bounds into constrained newtypes (`NonZeroU64` for `minimum: 1`, a `TryFrom`
/// string wrapper for `maxLength`) whose errors name no field. The client checks every bound
/// itself before sending, with the field path in the error (build/rules.rs, src/validate.rs).
fn constraints_checked_by_the_client(schema: &mut Map<String, Value>) {
    for key in [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
    ] {
        schema.remove(key);
    }
}

/// typify maps `format: date-time` to `chrono::DateTime`; a plain `String` keeps whatever
/// timestamp Cloudflare sends (and round-trips it byte for byte) without a chrono dependency.
fn timestamps_as_strings(schema: &mut Map<String, Value>) {
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        schema.remove("format");
    }
}

/// Examples do not shape types; upstream has one that is an object where a string is expected,
/// which only confuses the generator.
fn drop_examples(schema: &mut Map<String, Value>) {
    schema.remove("example");
}

/// A nullable optional field has three states in a PATCH: omitted (leave unchanged), `null`
/// (e.g. SOA `mname`: "let Cloudflare assign it") and a value. typify would make it `Option<T>`
/// and skip `None`, so `null` could never be sent. It becomes `Option<Nullable<T>>` instead
/// (src/wrappers.rs), through typify's `x-rust-type` extension.
fn nullable_fields_keep_explicit_null(spec: &mut Value) {
    let mut hoisted = Vec::new();
    visit_properties(spec, None, &mut |owner, name, property| {
        if property.get("nullable").and_then(Value::as_bool) == Some(true) {
            let mut inner = property.clone();
            inner.remove("nullable");
            inner.remove("description");
            let wrapper = json!({ "x-rust-type": rust_type("Nullable", Value::Object(inner)) });
            replace_with_ref(
                property,
                hoist(&mut hoisted, &format!("{owner}_{name}-nullable"), wrapper),
            );
        }
    });
    add_components(spec, hoisted);
}

/// A wrapper schema (`x-rust-type`) is referenced from a named component rather than written
/// inline: typify merges `allOf` parts property by property, and an inline extension does not
/// survive the merge, while a reference does.
fn hoist(hoisted: &mut Vec<(String, Value)>, name: &str, schema: Value) -> String {
    let mut unique = name.to_string();
    while hoisted.iter().any(|(n, _)| *n == unique) {
        unique.push('_');
    }
    hoisted.push((unique.clone(), schema));
    format!("{SCHEMAS}{unique}")
}

fn replace_with_ref(property: &mut Map<String, Value>, reference: String) {
    let description = property.remove("description");
    property.clear();
    property.insert("$ref".into(), Value::String(reference));
    if let Some(d) = description {
        property.insert("description".into(), d);
    }
}

fn add_components(spec: &mut Value, hoisted: Vec<(String, Value)>) {
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in hoisted {
            schemas.entry(name).or_insert(schema);
        }
    }
}

/// Requests are closed and responses open: a request can hold only what the spec allows, while
/// a response keeps whatever Cloudflare sends (unknown fields, enum values, union kinds). The two
/// share component schemas upstream (the SOA, the settings base), so every component a 2xx
/// response reaches that a request also reaches is cloned under a `-response` name for the
/// response side. Returns the names of the components only responses use.
fn separate_response_schemas(spec: &mut Value) -> BTreeSet<String> {
    let mut request_refs = BTreeSet::new();
    let mut response_refs = BTreeSet::new();
    let components = spec
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    for (_, _, op) in operations_mut(spec) {
        for key in ["requestBody", "parameters"] {
            if let Some(part) = op.get(key) {
                closure(part, &components, &mut request_refs);
            }
        }
        if let Some(responses) = op.get("responses") {
            closure(responses, &components, &mut response_refs);
        }
    }
    // Leaf enums stay shared: they need no change of their own (the property is opened).
    let is_leaf = |name: &String| {
        components
            .get(name)
            .is_some_and(|s| s.get("enum").is_some())
    };
    let renames: BTreeMap<String, String> = response_refs
        .intersection(&request_refs)
        .filter(|name| !is_leaf(name))
        .map(|name| {
            // Unique as a Rust name too: typify drops the punctuation (`a-b_c` is `ABC`).
            let taken = |candidate: &str| {
                components
                    .as_object()
                    .is_some_and(|c| c.keys().any(|k| rust_name(k) == rust_name(candidate)))
            };
            let mut new = format!("{name}-response");
            let mut n = 1;
            while taken(&new) {
                n += 1;
                new = format!("{name}-response-{n}");
            }
            (name.clone(), new)
        })
        .collect();
    let rename = |node: &mut Value| rename_refs(node, &renames);
    let mut received: BTreeSet<String> = response_refs
        .difference(&request_refs)
        .filter(|name| !is_leaf(name))
        .cloned()
        .collect();
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (old, new) in &renames {
            if let Some(schema) = schemas.get(old).cloned() {
                schemas.insert(new.clone(), schema);
                received.insert(new.clone());
            }
        }
        for name in &received {
            if let Some(schema) = schemas.get_mut(name) {
                rename(schema);
            }
        }
    }
    for (_, _, op) in operations_mut(spec) {
        if let Some(responses) = op.get_mut("responses") {
            rename(responses);
        }
    }
    received
}

/// A schema name as typify will spell it, for comparing: letters and digits, one case.
fn rust_name(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn closure(node: &Value, components: &Value, seen: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMAS))
                && seen.insert(name.to_string())
                && let Some(target) = components.get(name)
            {
                closure(target, components, seen);
            }
            map.values().for_each(|v| closure(v, components, seen));
        }
        Value::Array(items) => items.iter().for_each(|v| closure(v, components, seen)),
        _ => {}
    }
}

fn rename_refs(node: &mut Value, renames: &BTreeMap<String, String>) {
    match node {
        Value::Object(map) => {
            let renamed = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMAS))
                .and_then(|name| renames.get(name));
            if let Some(new) = renamed {
                map.insert("$ref".into(), Value::String(format!("{SCHEMAS}{new}")));
            }
            map.values_mut().for_each(|v| rename_refs(v, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renames)),
        _ => {}
    }
}

/// Cloudflare adds enum values without notice (`cloudflare.advanced` appeared in 2025); a closed
/// Rust enum would fail the whole response on a new one. Each string-enum property becomes
/// `OpenEnum<Known>` (src/types.rs), which keeps an unknown value as `Other(String)` and sends it
/// back unchanged. The known values stay a generated enum: a named component keeps its name, an
/// inline enum is hoisted into a component named for its owner and property.
/// Properties inside `oneOf` variants are left closed: there the value picks the variant.
fn open_enums(spec: &mut Value, received: &BTreeSet<String>) {
    let components = spec
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    visit_properties(spec, Some(received), &mut |owner, name, property| {
        let known = match property.get("$ref").and_then(Value::as_str) {
            Some(r)
                if resolve(&json!({ "$ref": r }), &components)
                    .get("enum")
                    .is_some() =>
            {
                r.to_string()
            }
            Some(_) => return,
            None if property.get("enum").is_some() => {
                let mut known = property.clone();
                known.remove("description");
                hoist(
                    &mut hoisted,
                    &format!("{owner}_{name}"),
                    Value::Object(known),
                )
            }
            None => return,
        };
        let wrapper = json!({ "x-rust-type": rust_type("OpenEnum", json!({ "$ref": known })) });
        replace_with_ref(
            property,
            hoist(&mut hoisted, &format!("{owner}_{name}-open"), wrapper),
        );
    });
    add_components(spec, hoisted);
}

/// A `oneOf` (the zone's `nameservers`) is matched variant by variant, so a value of a kind this
/// spec does not know would fail the whole response. A last variant takes any object and keeps it.
fn open_unions(schema: &mut Map<String, Value>) {
    if let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
        variants.push(json!({
            "title": "Unknown kind",
            "description": "A kind this version of the spec does not describe, kept as received.",
            "type": "object",
            "additionalProperties": true
        }));
    }
}

/// A response field the spec does not know yet must not be dropped: every response object keeps
/// unknown fields in a flattened `extra` map, serialized back when the caller round-trips it.
fn keep_unknown_fields(schema: &mut Map<String, Value>) {
    if schema.get("properties").is_some() && !schema.contains_key("additionalProperties") {
        schema.insert("additionalProperties".into(), json!({}));
    }
}

/// typify generates a type for every component; the envelope schemas (now unwrapped at run
/// time) and the inlined scalars are no longer used, and would only cost compile time.
fn drop_unreferenced_components(spec: &mut Value) {
    let components = spec
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let mut used = BTreeSet::new();
    if let Some(paths) = spec.get("paths") {
        closure(paths, &components, &mut used);
    }
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| used.contains(name));
    }
}

fn rust_type(name: &str, parameter: Value) -> Value {
    json!({
        "crate": CRATE.replace('_', "-"),
        "version": "*",
        "path": format!("{CRATE}::{name}"),
        "parameters": [parameter],
    })
}

/// `(path, method, operation)` for every operation, in document order.
fn operations_mut(spec: &mut Value) -> Vec<(String, String, &mut Value)> {
    let mut out = Vec::new();
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                for (method, op) in item.iter_mut() {
                    if op.get("operationId").is_some() {
                        out.push((path.clone(), method.clone(), op));
                    }
                }
            }
        }
    }
    out
}

/// Calls `f` on every object in the document that is a schema, innermost first.
fn for_each_schema(node: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match node {
        Value::Object(map) => {
            map.values_mut().for_each(|v| for_each_schema(v, f));
            let is_schema = [
                "type",
                "properties",
                "allOf",
                "oneOf",
                "anyOf",
                "$ref",
                "enum",
            ]
            .iter()
            .any(|k| map.contains_key(*k));
            if is_schema {
                f(map);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| for_each_schema(v, f)),
        _ => {}
    }
}

/// Calls `f` on every schema of the response side: the components in `received` and the
/// operations' response schemas.
fn for_each_response_schema(
    spec: &mut Value,
    received: &BTreeSet<String>,
    f: &mut dyn FnMut(&mut Map<String, Value>),
) {
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (_, schema) in schemas
            .iter_mut()
            .filter(|(name, _)| received.contains(*name))
        {
            for_each_schema(schema, f);
        }
    }
    for (_, _, op) in operations_mut(spec) {
        if let Some(responses) = op.get_mut("responses") {
            for_each_schema(responses, f);
        }
    }
}

/// `f(owner, property name, property schema)`.
type PropertyVisitor<'a> = dyn FnMut(&str, &str, &mut Map<String, Value>) + 'a;

/// Calls `f(owner, property name, property schema)` for every property of every schema outside
/// `oneOf` variants, innermost first. `owner` is the nearest component name. With `only`, just
/// the response side: those components and the operations' responses.
fn visit_properties(spec: &mut Value, only: Option<&BTreeSet<String>>, f: &mut PropertyVisitor) {
    fn walk(node: &mut Value, owner: &str, f: &mut PropertyVisitor) {
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match (key.as_str(), child) {
                        ("oneOf", _) => {}
                        ("properties", Value::Object(props)) => {
                            for (name, prop) in props.iter_mut() {
                                walk(prop, owner, f);
                                if let Some(p) = prop.as_object_mut() {
                                    f(owner, name, p);
                                }
                            }
                        }
                        (_, child) => walk(child, owner, f),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, owner, f)),
            _ => {}
        }
    }
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if only.is_none_or(|names| names.contains(name)) {
                walk(schema, name, f);
            }
        }
    }
    match only {
        None => {
            if let Some(paths) = spec.get_mut("paths") {
                walk(paths, "operation", f);
            }
        }
        Some(_) => {
            for (_, _, op) in operations_mut(spec) {
                let owner = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("operation")
                    .to_string();
                if let Some(responses) = op.get_mut("responses") {
                    walk(responses, &owner, f);
                }
            }
        }
    }
}
