//! Reading the spec, for every other file of build/: `$ref`s and their depth limit, the
//! operations, property paths, and the two walks (every object of a document; every schema below
//! one, by property path).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub const SCHEMAS: &str = "#/components/schemas/";

/// `$ref` chains and nested schemas deeper than this are taken as a cycle in the spec.
pub const MAX_DEPTH: usize = 32;

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
