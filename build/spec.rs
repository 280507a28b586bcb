//! The one spec reader, for every other file of build/ and for xtask (the refresh and the SDK
//! audit include this file as their `spec_reader` module): the OpenAPI 3.0 check, `$ref`s and
//! their one depth limit, the one `allOf` merge, the operations, property paths, and the two
//! walks (every object of a document; every schema below one, by property path), and the one
//! reference closure.
//!
//! It depends on nothing but serde_json: xtask compiles it as it is (`#[path]`), and build/** is
//! in the published package.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Map, Value, json};

pub const SCHEMAS: &str = "#/components/schemas/";

/// `$ref` chains and nested schemas (and nested `allOf`s) deeper than this are taken as a cycle in
/// the spec, by build/ and xtask alike.
pub const MAX_DEPTH: usize = 32;

/// The `openapi` field of a document, however the document is held (xtask's refresh keeps its
/// own order-keeping tree).
pub enum OpenApiVersion<'a> {
    Missing,
    /// Not a string: the value, printed.
    NotAString(String),
    Is(&'a str),
}

/// The `openapi` field of `spec`.
pub fn openapi_version(spec: &Value) -> OpenApiVersion<'_> {
    match spec.get("openapi") {
        None => OpenApiVersion::Missing,
        Some(Value::String(v)) => OpenApiVersion::Is(v),
        Some(other) => OpenApiVersion::NotAString(other.to_string()),
    }
}

/// progenitor reads OpenAPI 3.0 only; a 3.1 document would fail later with a vaguer message.
pub fn require_openapi_3_0(version: OpenApiVersion<'_>) -> Result<(), String> {
    match version {
        OpenApiVersion::Is(v) if v.starts_with("3.0.") => Ok(()),
        OpenApiVersion::Is(v) => Err(format!(
            "`openapi: {v}` is not supported: the generator (progenitor 0.15) reads OpenAPI 3.0.x only"
        )),
        OpenApiVersion::NotAString(v) => Err(format!(
            "`openapi` is {v}, not a version string such as \"3.0.3\""
        )),
        OpenApiVersion::Missing => {
            Err("no `openapi` version field; expected an OpenAPI 3.0.x document".into())
        }
    }
}

/// The component a `$ref` value names (`#/components/schemas/X` → `X`); `None` for anything else.
pub fn ref_name(reference: Option<&Value>) -> Option<&str> {
    reference?.as_str()?.strip_prefix(SCHEMAS)
}

/// Component `name` of the document `root`.
pub fn component<'a>(root: &'a Value, name: &str) -> Option<&'a Value> {
    root.get("components")?.get("schemas")?.get(name)
}

/// The components of the document.
pub fn components(root: &Value) -> impl Iterator<Item = (&String, &Value)> {
    let schemas = root["components"]["schemas"].as_object();
    schemas.into_iter().flatten()
}

/// The components of the document, to change.
pub fn components_mut(spec: &mut Value) -> Option<&mut Map<String, Value>> {
    spec.pointer_mut("/components/schemas")?.as_object_mut()
}

/// What `schema` is, through its `$ref`s (any `#/…` pointer into `root`).
pub fn resolve<'a>(schema: &'a Value, root: &'a Value) -> Result<&'a Value, String> {
    let mut schema = schema;
    for _ in 0..MAX_DEPTH {
        let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
            return Ok(schema);
        };
        schema = r
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))
            .ok_or_else(|| format!("`$ref: {r}` points at nothing"))?;
    }
    Err("a `$ref` chain is too deep (a cycle?)".into())
}

/// [`resolve`], or `schema` itself where its `$ref` leads nowhere.
pub fn follow<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    resolve(schema, root).unwrap_or(schema)
}

/// Whether `schema`, or what its `$ref` leads to, says `key: true` (`deprecated`, `readOnly`).
pub fn says(schema: &Value, root: &Value, key: &str) -> bool {
    [schema, follow(schema, root)]
        .iter()
        .any(|s| s.get(key) == Some(&Value::Bool(true)))
}

/// The `type` a schema states (`"string"`), as written.
pub fn type_of(schema: &Value) -> Option<&str> {
    schema.get("type")?.as_str()
}

/// The items of the array `key` of `node` (none when it is not an array).
pub fn list<'a>(node: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    node.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The properties of a schema as written (not through `$ref` or `allOf`).
pub fn properties(schema: &Value) -> impl Iterator<Item = (&String, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// `path` and `name` joined by `separator` (`zone_defaults.soa`), or `name` at the root.
pub fn join(path: &str, separator: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}{separator}{name}")
    }
}

/// `(path, method, operation)` for every operation, in document order.
pub fn operations_mut(spec: &mut Value) -> Vec<(String, String, &mut Value)> {
    let mut out = Vec::new();
    let paths = spec.get_mut("paths").and_then(Value::as_object_mut);
    for (path, item) in paths.into_iter().flatten() {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            if op.get("operationId").is_some() {
                out.push((path.clone(), method.clone(), op));
            }
        }
    }
    out
}

/// Calls `f` on every object of the document, innermost first.
pub fn each_object(node: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match node {
        Value::Object(map) => {
            map.values_mut().for_each(|v| each_object(v, f));
            f(map);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| each_object(v, f)),
        _ => {}
    }
}

/// `visit(path, schema as written, schema resolved)` on `schema` at `path`, and, while `visit`
/// returns `true`, on every schema below it: its own properties at `path.name`, its `allOf`,
/// `oneOf` and `anyOf` parts at `path`, its array items at `path[]`, through `$ref`s. A cycle
/// (nesting deeper than the limit) is an error naming the path.
pub fn walk(
    schema: &Value,
    root: &Value,
    path: &str,
    visit: &mut dyn FnMut(&str, &Value, &Value) -> bool,
) -> Result<(), String> {
    fn go(
        schema: &Value,
        root: &Value,
        path: &str,
        visit: &mut dyn FnMut(&str, &Value, &Value) -> bool,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("schema of `{path}` nests too deeply (a cycle?)"));
        }
        let resolved = resolve(schema, root)?;
        if !visit(path, schema, resolved) {
            return Ok(());
        }
        for (name, property) in properties(resolved) {
            go(property, root, &join(path, ".", name), visit, depth + 1)?;
        }
        for part in ["allOf", "oneOf", "anyOf"]
            .iter()
            .flat_map(|key| list(resolved, key))
        {
            go(part, root, path, visit, depth + 1)?;
        }
        if let Some(items) = resolved.get("items") {
            go(items, root, &format!("{path}[]"), visit, depth + 1)?;
        }
        Ok(())
    }
    go(schema, root, path, visit, 0)
}

/// Points every `$ref` to a renamed component at its new name.
pub fn rename_refs(node: &mut Value, renames: &BTreeMap<String, String>) {
    each_object(node, &mut |object| rename_ref(object, renames));
}

/// Points `object`, if it is a `$ref` to a renamed component, at its new name.
pub fn rename_ref(object: &mut Map<String, Value>, renames: &BTreeMap<String, String>) {
    if let Some(new) = ref_name(object.get("$ref")).and_then(|name| renames.get(name)) {
        object.insert("$ref".into(), Value::String(format!("{SCHEMAS}{new}")));
    }
}

/// The keys of an `allOf` part that is a plain object (besides `x-` extensions).
const PLAIN_OBJECT: &str =
    "type properties required description title additionalProperties readOnly deprecated";

/// The one object an `allOf` of objects means (`schema` being the object that has the `allOf`),
/// or `None` when a part is not a plain object: the union of the properties and of `required`;
/// a property defined twice keeps the narrower definition (the one whose `allOf` includes the
/// other) or, when neither is, both as an `allOf`; `description` and `additionalProperties` from
/// the schema itself, else from the first part that has them. build/adjust.rs merges the
/// generator's copy with it, and the SDK audit (xtask) reads the spec through it.
pub fn merged_all_of(schema: &Map<String, Value>, root: &Value) -> Option<Map<String, Value>> {
    merged(schema, root, 0)
}

fn merged(schema: &Map<String, Value>, root: &Value, depth: usize) -> Option<Map<String, Value>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = schema.clone();
    let parts = out.remove("allOf")?;
    let mut props: Map<String, Value> = out
        .remove("properties")
        .and_then(|p| p.as_object().cloned())
        .unwrap_or_default();
    let mut required: Vec<Value> = out
        .remove("required")
        .and_then(|r| r.as_array().cloned())
        .unwrap_or_default();
    for part in parts.as_array()? {
        let mut part = follow(part, root).as_object()?.clone();
        if part.contains_key("allOf") {
            part = merged(&part, root, depth + 1)?;
        }
        let plain = part
            .keys()
            .all(|k| PLAIN_OBJECT.split(' ').any(|p| p == k) || k.starts_with("x-"))
            && part.get("type").is_none_or(|t| t == "object");
        if !plain {
            return None;
        }
        for key in ["description", "additionalProperties"] {
            if let Some(value) = part.get(key) {
                out.entry(key).or_insert_with(|| value.clone());
            }
        }
        let part = Value::Object(part);
        for (name, definition) in properties(&part) {
            let kept = match props.get(name) {
                None => definition.clone(),
                Some(old) => narrower(old, definition, root),
            };
            props.insert(name.clone(), kept);
        }
        for r in list(&part, "required") {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
    }
    out.insert("type".into(), json!("object"));
    if !props.is_empty() {
        out.insert("properties".into(), Value::Object(props));
    }
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Some(out)
}

/// Of two definitions of one property that must both hold: the one that implies the other, else
/// both.
fn narrower(a: &Value, b: &Value, root: &Value) -> Value {
    if a == b {
        return a.clone();
    }
    let target = |v: &Value| ref_name(v.get("$ref")).map(String::from);
    if let (Some(x), Some(y)) = (target(a), target(b)) {
        if includes(&y, &x, root, 0) {
            return b.clone();
        }
        if includes(&x, &y, root, 0) {
            return a.clone();
        }
    }
    json!({ "allOf": [a, b] })
}

/// Whether component `outer`'s `allOf` includes component `inner`, directly or through parts.
fn includes(outer: &str, inner: &str, root: &Value, depth: usize) -> bool {
    let parts = component(root, outer)
        .into_iter()
        .flat_map(|s| list(s, "allOf"));
    let mut names = parts.filter_map(|part| ref_name(part.get("$ref")));
    depth < MAX_DEPTH && names.any(|r| r == inner || includes(r, inner, root, depth + 1))
}

/// `#/components/<kind>/<name>…` → `(kind, name)`, the name unescaped as a JSON Pointer segment
/// (`~1` is `/`, `~0` is `~`); `None` for any other reference (another document, a pointer
/// elsewhere, an empty name).
pub fn component_ref(target: &str) -> Option<(&str, String)> {
    let mut segments = target.strip_prefix("#/components/")?.split('/');
    let kind = segments.next().filter(|kind| !kind.is_empty())?;
    let name = segments.next().filter(|name| !name.is_empty())?;
    Some((kind, name.replace("~1", "/").replace("~0", "~")))
}

/// Every string `$ref` under `node`, in document order.
pub fn refs_in(node: &Value) -> Vec<String> {
    fn go(node: &Value, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| go(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| go(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(node, &mut out);
    out
}

/// Why [`reference_closure`] did not follow a reference.
pub enum Unfollowed<'a> {
    /// Not a reference to a component ([`component_ref`]).
    NotAComponent,
    /// To component `name` of `kind`, which there is not.
    #[allow(dead_code)] // Read by the refresh (xtask), which names them in its errors.
    Missing { kind: &'a str, name: &'a str },
}

/// The reference closure, whatever tree the document is held in (build/ reads serde_json's, the
/// refresh its own): from the references `start` (each with a note of where it was found), every
/// component they reach, transitively, each once, as `(kind, name)` in the order first reached.
/// `component(kind, name, at)` gives the references of that component (each with where), or
/// `None` when there is no such component; `unfollowed(target, at, why)` hears of every
/// reference that cannot be followed, and an error from it stops the walk.
#[allow(clippy::type_complexity)]
pub fn reference_closure<At>(
    start: impl IntoIterator<Item = (String, At)>,
    component: &mut dyn FnMut(&str, &str, &At) -> Result<Option<Vec<(String, At)>>, String>,
    unfollowed: &mut dyn FnMut(&str, &At, Unfollowed<'_>) -> Result<(), String>,
) -> Result<Vec<(String, String)>, String> {
    let mut queue: VecDeque<(String, At)> = start.into_iter().collect();
    let (mut seen, mut reached) = (BTreeSet::new(), Vec::new());
    while let Some((target, at)) = queue.pop_front() {
        let Some((kind, name)) = component_ref(&target) else {
            unfollowed(&target, &at, Unfollowed::NotAComponent)?;
            continue;
        };
        let key = (kind.to_string(), name);
        if seen.contains(&key) {
            continue;
        }
        match component(kind, &key.1, &at)? {
            Some(refs) => {
                queue.extend(refs);
                seen.insert(key.clone());
                reached.push(key);
            }
            None => unfollowed(&target, &at, Unfollowed::Missing { kind, name: &key.1 })?,
        }
    }
    Ok(reached)
}
