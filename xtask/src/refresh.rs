//! `refresh-spec`: cuts the crate's operations, and exactly the components they need, out of
//! upstream's whole OpenAPI document, then applies the crate's overlay.
//!
//! Steps:
//! 1. Read upstream (OpenAPI 3.0.x only) and the list of operationIds.
//! 2. Copy `openapi`, `info`, `servers`, `security`, and each listed operation under its path and
//!    method (with the path's own fields such as `parameters`).
//! 3. Copy the components the operations reach through `$ref`s (transitively), so that the
//!    overlay can patch them.
//! 4. Apply the overlay, an RFC 7386 JSON Merge Patch.
//! 5. Rebuild `components` as exactly the closure of the result: every component reached from the
//!    paths and the top-level fields through `$ref`s, taken from the patched copy first and from
//!    upstream otherwise, plus the security schemes the security requirements name. A component
//!    the overlay added but nothing references is dropped; one it newly references is pulled in
//!    from upstream. Then check that every `$ref` of the result resolves inside the result.
//!
//! The output order does not depend on upstream's: top-level fields in a fixed order, paths
//! sorted, methods in a fixed order, component kinds in a fixed order and names sorted. Inside
//! each copied object upstream's member order is kept (see `json.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use crate::json::{self, Json, Object};

/// The HTTP methods of an OpenAPI 3.0 Path Item, in the order the output lists them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The top-level fields copied from upstream, in output order (`paths` and `components` follow).
const HEADER: [&str; 4] = ["openapi", "info", "servers", "security"];

/// The kinds of the OpenAPI 3.0 Components Object, in the order the output lists them.
const KINDS: [&str; 9] = [
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
];

const SECURITY_SCHEMES: &str = "securitySchemes";

/// The files `refresh-spec` reads.
pub struct Inputs<'a> {
    pub upstream: &'a Path,
    pub operations: &'a Path,
    pub overlay: Option<&'a Path>,
}

/// One line of the operations file.
#[derive(Debug, PartialEq)]
pub struct Wanted {
    pub operation_id: String,
    pub line: usize,
}

/// What [`refresh`] made.
pub struct Refreshed {
    /// The fragment: pretty-printed, 2-space indent, trailing newline.
    pub text: String,
    /// Things to tell whoever reviews the refresh.
    pub notes: Vec<String>,
}

/// Builds the fragment.
pub fn refresh(inputs: &Inputs) -> Result<Refreshed, String> {
    let upstream_label = inputs.upstream.display().to_string();
    let operations_label = inputs.operations.display().to_string();
    let upstream = read_json(inputs.upstream)?;
    require_openapi_3_0(&upstream).map_err(|e| format!("{upstream_label}: {e}"))?;
    let wanted = read_operations(inputs.operations)?;
    let mut doc = extract(&upstream, &wanted, &operations_label)
        .map_err(|e| format!("{upstream_label}: {e}"))?;
    let empty = Object::new();
    let upstream_components = upstream
        .as_object()
        .and_then(|o| o.get("components"))
        .and_then(Json::as_object)
        .unwrap_or(&empty);

    // Step 3, leniently: what does not resolve is reported by the strict pass after the overlay,
    // which may well be what fixes it.
    let components = closure(&doc, &[upstream_components], false)?;
    set_components(&mut doc, components);

    let mut labels = vec![upstream_label.clone()];
    let mut notes = Vec::new();
    let mut overlay_components = Vec::new();
    if let Some(path) = inputs.overlay {
        let label = path.display().to_string();
        let overlay = read_json(path)?;
        if overlay.as_object().is_none() {
            return Err(format!(
                "{label}: an overlay is an RFC 7386 JSON Merge Patch of the whole document and \
                 must be a JSON object"
            ));
        }
        for at in json::replaced_arrays(&doc, &overlay) {
            notes.push(format!(
                "{label} replaces the whole array at {at} (a merge patch cannot change part of \
                 an array): review upstream's version of it by hand"
            ));
        }
        json::merge_patch(&mut doc, &overlay);
        for (kind, named) in overlay
            .pointer("/components")
            .and_then(Json::as_object)
            .into_iter()
            .flat_map(Object::iter)
        {
            // A `null` deletes: nothing to report if the result does not have it.
            for (name, _) in named
                .as_object()
                .into_iter()
                .flat_map(Object::iter)
                .filter(|(_, patch)| !patch.is_null())
            {
                overlay_components.push((label.clone(), kind.to_string(), name.to_string()));
            }
        }
        require_openapi_3_0(&doc).map_err(|e| format!("{label}: after this overlay, {e}"))?;
        labels.push(label);
    }

    let patched = match doc.as_object_mut().and_then(|o| o.remove("components")) {
        Some(Json::Object(components)) => components,
        _ => Object::new(),
    };
    let files = labels.join(" + ");
    let components = closure(&doc, &[&patched, upstream_components], true)
        .map_err(|e| format!("{files}: {e}"))?;
    for (label, kind, name) in overlay_components {
        if !components
            .get(kind.as_str())
            .is_some_and(|c| c.contains_key(&name))
        {
            notes.push(format!(
                "{label} patches `components.{kind}.{name}`, which the result does not reference: \
                 the patch was dropped (did upstream rename it?)"
            ));
        }
    }
    set_components(&mut doc, components);
    normalize(&mut doc);
    check_refs_resolve(&doc).map_err(|e| format!("{files}: {e}"))?;
    let text = doc
        .to_pretty()
        .map_err(|e| format!("cannot print the result: {e}"))?;
    Ok(Refreshed { text, notes })
}

/// Reads and parses a JSON file; the error names the file.
pub fn read_json(path: &Path) -> Result<Json, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Json::parse(&text).map_err(|e| format!("{}: not valid JSON: {e}", path.display()))
}

/// Reads the list of operationIds: one a line; `#` starts a comment; blank lines are ignored.
pub fn read_operations(path: &Path) -> Result<Vec<Wanted>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_operations(&text).map_err(|e| format!("{}{e}", path.display()))
}

/// [`read_operations`] on text; errors start with `:line: ` or `: `, to follow the file name.
pub fn parse_operations(text: &str) -> Result<Vec<Wanted>, String> {
    let mut wanted: Vec<Wanted> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let entry = raw.split('#').next().unwrap_or_default().trim();
        if entry.is_empty() {
            continue;
        }
        if entry.contains(char::is_whitespace) {
            return Err(format!(
                ":{line}: `{entry}` is not one operationId (one a line, `#` for comments)"
            ));
        }
        if let Some(first) = wanted.iter().find(|w| w.operation_id == entry) {
            return Err(format!(
                ":{line}: operationId `{entry}` is listed twice (first on line {})",
                first.line
            ));
        }
        wanted.push(Wanted {
            operation_id: entry.to_string(),
            line,
        });
    }
    if wanted.is_empty() {
        return Err(": lists no operationId".into());
    }
    Ok(wanted)
}

/// progenitor reads OpenAPI 3.0 only.
pub fn require_openapi_3_0(doc: &Json) -> Result<(), String> {
    match doc.as_object().and_then(|o| o.get("openapi")) {
        Some(Json::String(v)) if v.starts_with("3.0.") => Ok(()),
        Some(Json::String(v)) => Err(format!(
            "`openapi: {v}` is not supported: the generator (progenitor 0.15) reads OpenAPI 3.0.x only"
        )),
        Some(other) => Err(format!(
            "`openapi` is {}, not a version string such as \"3.0.3\"",
            compact(other)
        )),
        None => Err("no `openapi` version field; expected an OpenAPI 3.0.x document".into()),
    }
}

/// Steps 1–2: the header fields and the listed operations, without components. `listed_in`
/// names the operations file in messages.
fn extract(upstream: &Json, wanted: &[Wanted], listed_in: &str) -> Result<Json, String> {
    let root = upstream
        .as_object()
        .ok_or("the document is not a JSON object")?;
    let paths = root
        .get("paths")
        .and_then(Json::as_object)
        .ok_or("the document has no `paths` object")?;

    // operationId → every (path, method) that carries it.
    let mut found: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (path, item) in paths.iter() {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in METHODS {
            if let Some(id) = item
                .get(method)
                .and_then(Json::as_object)
                .and_then(|op| op.get("operationId"))
                .and_then(Json::as_str)
            {
                found.entry(id).or_default().push((path, method));
            }
        }
    }

    let mut missing = Vec::new();
    let mut selected: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for w in wanted {
        match found.get(w.operation_id.as_str()).map(Vec::as_slice) {
            None | Some([]) => {
                missing.push(format!("`{}` ({listed_in}:{})", w.operation_id, w.line));
            }
            Some([(path, method)]) => {
                let rank = METHODS.iter().position(|m| m == method).unwrap_or(0);
                selected.entry(path).or_default().insert(rank);
            }
            Some(places) => {
                let places: Vec<String> = places
                    .iter()
                    .map(|(path, method)| format!("{} {path}", method.to_uppercase()))
                    .collect();
                return Err(format!(
                    "operationId `{}` ({listed_in}:{}) is not unique in this document: {}",
                    w.operation_id,
                    w.line,
                    places.join(", ")
                ));
            }
        }
    }
    if !missing.is_empty() {
        let noun = if missing.len() == 1 {
            "operationId"
        } else {
            "operationIds"
        };
        return Err(format!(
            "no operation has the {noun} {}",
            missing.join(", ")
        ));
    }

    let mut out_paths = Object::new();
    for (path, ranks) in &selected {
        let Some(item) = paths.get(path).and_then(Json::as_object) else {
            continue;
        };
        // The path's own fields (`parameters`, `summary`, …), then the selected operations.
        let mut out_item: Object = item
            .iter()
            .filter(|(key, _)| !METHODS.contains(key))
            .map(|(key, value)| (key.to_string(), value.clone()))
            .collect();
        for rank in ranks {
            if let Some(method) = METHODS.get(*rank)
                && let Some(op) = item.get(method)
            {
                out_item.insert(*method, op.clone());
            }
        }
        out_paths.insert(*path, Json::Object(out_item));
    }

    let mut doc = Object::new();
    for key in HEADER {
        if let Some(value) = root.get(key) {
            doc.insert(key, value.clone());
        }
    }
    doc.insert("paths", Json::Object(out_paths));
    Ok(Json::Object(doc))
}

/// A `$ref` found in the document, and where.
struct Ref {
    target: String,
    at: String,
}

/// The components reachable from `doc` (everything but its `components`): every `$ref` into
/// `#/components/`, transitively, and the security schemes the security requirements name. Each
/// component is taken from the first of `sources` that has it. With `strict`, a reference that
/// cannot be followed is an error; without, it is skipped.
fn closure(
    doc: &Json,
    sources: &[&Object],
    strict: bool,
) -> Result<BTreeMap<&'static str, BTreeMap<String, Json>>, String> {
    let lookup = |kind: &str, name: &str| {
        sources.iter().find_map(|components| {
            components
                .get(kind)
                .and_then(Json::as_object)
                .and_then(|named| named.get(name))
        })
    };

    let mut found: BTreeMap<&'static str, BTreeMap<String, Json>> = BTreeMap::new();
    let mut queue = VecDeque::new();
    if let Some(root) = doc.as_object() {
        for (key, value) in root.iter().filter(|(key, _)| *key != "components") {
            let mut at = format!("/{}", json::escape(key));
            collect_refs(value, &mut at, &mut queue);
        }
    }

    for (name, at) in security_scheme_names(doc) {
        match lookup(SECURITY_SCHEMES, &name) {
            Some(scheme) => {
                let mut here = format!("/components/{SECURITY_SCHEMES}/{}", json::escape(&name));
                collect_refs(scheme, &mut here, &mut queue);
                found
                    .entry(SECURITY_SCHEMES)
                    .or_default()
                    .insert(name, scheme.clone());
            }
            None if strict => {
                return Err(format!(
                    "the security requirement at {at} names the scheme `{name}`, but there is \
                     no `components.{SECURITY_SCHEMES}` entry `{name}`"
                ));
            }
            None => {}
        }
    }

    while let Some(Ref { target, at }) = queue.pop_front() {
        let Some((kind, name)) = component_of(&target) else {
            if !strict {
                continue;
            }
            return Err(format!(
                "`$ref: {target}` at {at} is not supported: only local references into \
                 `#/components/<kind>/<name>` are"
            ));
        };
        if found
            .get(kind)
            .is_some_and(|named| named.contains_key(&name))
        {
            continue;
        }
        match lookup(kind, &name) {
            Some(component) => {
                let mut here = format!("/components/{kind}/{}", json::escape(&name));
                collect_refs(component, &mut here, &mut queue);
                found
                    .entry(kind)
                    .or_default()
                    .insert(name, component.clone());
            }
            None if strict => {
                return Err(format!(
                    "dangling `$ref: {target}` at {at}: there is no `components.{kind}` entry \
                     `{name}`"
                ));
            }
            None => {}
        }
    }
    Ok(found)
}

/// Every string `$ref` under `node`, with the JSON Pointer of the object that holds it.
fn collect_refs(node: &Json, at: &mut String, out: &mut VecDeque<Ref>) {
    match node {
        Json::Object(object) => {
            for (key, value) in object.iter() {
                if key == "$ref"
                    && let Json::String(target) = value
                {
                    out.push_back(Ref {
                        target: target.clone(),
                        at: at.clone(),
                    });
                    continue;
                }
                let len = at.len();
                at.push('/');
                at.push_str(&json::escape(key));
                collect_refs(value, at, out);
                at.truncate(len);
            }
        }
        Json::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{index}"));
                collect_refs(item, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// `#/components/schemas/a~1b/properties/c` → `("schemas", "a/b")`.
fn component_of(target: &str) -> Option<(&'static str, String)> {
    let rest = target.strip_prefix("#/components/")?;
    let mut segments = rest.split('/');
    let kind = segments.next()?;
    let kind = KINDS.iter().find(|k| **k == kind)?;
    let name = segments.next().filter(|name| !name.is_empty())?;
    Some((kind, json::unescape(name)))
}

/// The names of the security schemes that the top-level `security` and each operation's
/// `security` require, with where each was first named.
fn security_scheme_names(doc: &Json) -> Vec<(String, String)> {
    let mut requirements: Vec<(String, &Json)> = Vec::new();
    if let Some(security) = doc.pointer("/security") {
        requirements.push(("/security".into(), security));
    }
    if let Some(paths) = doc.pointer("/paths").and_then(Json::as_object) {
        for (path, item) in paths.iter() {
            for method in METHODS {
                if let Some(security) = item
                    .as_object()
                    .and_then(|i| i.get(method))
                    .and_then(|op| op.as_object().and_then(|op| op.get("security")))
                {
                    let at = format!("/paths/{}/{method}/security", json::escape(path));
                    requirements.push((at, security));
                }
            }
        }
    }
    let mut names: Vec<(String, String)> = Vec::new();
    for (at, security) in requirements {
        for (index, requirement) in security.as_array().unwrap_or_default().iter().enumerate() {
            for name in requirement
                .as_object()
                .map(Object::keys)
                .into_iter()
                .flatten()
            {
                if !names.iter().any(|(known, _)| known == name) {
                    names.push((name.to_string(), format!("{at}/{index}")));
                }
            }
        }
    }
    names
}

/// Puts the components into `doc` in output order: kinds in [`KINDS`] order, names sorted.
fn set_components(doc: &mut Json, found: BTreeMap<&'static str, BTreeMap<String, Json>>) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let mut components = Object::new();
    for kind in KINDS {
        if let Some(named) = found.get(kind).filter(|named| !named.is_empty()) {
            let named: Object = named
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            components.insert(kind, Json::Object(named));
        }
    }
    root.remove("components");
    if !components.is_empty() {
        root.insert("components", Json::Object(components));
    }
}

/// Puts the top level, the paths and each path's methods into output order, whatever order the
/// overlay added them in.
fn normalize(doc: &mut Json) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if let Some(Json::Object(paths)) = root.get_mut("paths") {
        let mut sorted: Vec<(String, Json)> = Vec::new();
        let keys: Vec<String> = paths.keys().map(str::to_string).collect();
        for key in keys {
            if let Some(item) = paths.remove(&key) {
                sorted.push((key, item));
            }
        }
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, item) in &mut sorted {
            if let Json::Object(item) = item {
                let mut ordered: Object = item
                    .iter()
                    .filter(|(key, _)| !METHODS.contains(key))
                    .map(|(key, value)| (key.to_string(), value.clone()))
                    .collect();
                for method in METHODS {
                    if let Some(op) = item.get(method) {
                        ordered.insert(method, op.clone());
                    }
                }
                *item = ordered;
            }
        }
        *paths = sorted.into_iter().collect();
    }
    let mut ordered = Object::new();
    for key in HEADER.iter().chain(&["paths", "components"]) {
        if let Some(value) = root.remove(key) {
            ordered.insert(*key, value);
        }
    }
    for (key, value) in root.iter() {
        ordered.insert(key, value.clone());
    }
    *root = ordered;
}

/// Every `$ref` of the result resolves inside the result.
fn check_refs_resolve(doc: &Json) -> Result<(), String> {
    let mut refs = VecDeque::new();
    collect_refs(doc, &mut String::new(), &mut refs);
    for Ref { target, at } in refs {
        let resolves = target
            .strip_prefix('#')
            .is_some_and(|pointer| doc.pointer(pointer).is_some());
        if !resolves {
            return Err(format!(
                "dangling `$ref: {target}` at {at}: the component exists, but not this part of it"
            ));
        }
    }
    Ok(())
}

/// Why the existing output differs from the new one: at most `limit` lines.
pub fn summarize_difference(old: &str, new: &str, limit: usize) -> Vec<String> {
    let old = match Json::parse(old) {
        Ok(old) => old,
        Err(e) => return vec![format!("the existing file is not valid JSON: {e}")],
    };
    let Ok(new) = Json::parse(new) else {
        return vec!["the new output is not valid JSON (a bug of this tool)".into()];
    };
    let mut lines = Vec::new();
    diff(&old, &new, &mut String::new(), &mut lines);
    if lines.is_empty() {
        return vec!["same JSON content; only the formatting or the key order differs".into()];
    }
    let total = lines.len();
    if total > limit {
        lines.truncate(limit);
        lines.push(format!("… and {} more", total - limit));
    }
    lines
}

fn diff(old: &Json, new: &Json, at: &mut String, out: &mut Vec<String>) {
    let here = |at: &str| {
        if at.is_empty() {
            "/".into()
        } else {
            at.to_string()
        }
    };
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, value) in a.iter() {
                let len = at.len();
                at.push('/');
                at.push_str(&json::escape(key));
                match b.get(key) {
                    Some(other) => diff(value, other, at, out),
                    None => out.push(format!("removed {at}")),
                }
                at.truncate(len);
            }
            for (key, _) in b.iter().filter(|(key, _)| !a.contains_key(key)) {
                out.push(format!("added   {}/{}", at, json::escape(key)));
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{index}"));
                diff(x, y, at, out);
                at.truncate(len);
            }
        }
        (Json::Array(a), Json::Array(b)) => out.push(format!(
            "changed {} (an array of {} items, now {})",
            here(at),
            a.len(),
            b.len()
        )),
        (a, b) if a == b => {}
        (a, b) => out.push(format!(
            "changed {}: {} → {}",
            here(at),
            compact(a),
            compact(b)
        )),
    }
}

/// A short one-line rendering of a value for messages.
fn compact(value: &Json) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_file_allows_comments_and_blank_lines() {
        let wanted = parse_operations("# header\n\n  op-a  # trailing\nop-b\n").unwrap();
        assert_eq!(
            wanted,
            [
                Wanted {
                    operation_id: "op-a".into(),
                    line: 3
                },
                Wanted {
                    operation_id: "op-b".into(),
                    line: 4
                },
            ]
        );
    }

    #[test]
    fn operations_file_errors_name_the_line() {
        assert_eq!(
            parse_operations("a\n\na\n").unwrap_err(),
            ":3: operationId `a` is listed twice (first on line 1)"
        );
        assert!(
            parse_operations("a b\n")
                .unwrap_err()
                .starts_with(":1: `a b`")
        );
        assert_eq!(
            parse_operations("# nothing\n").unwrap_err(),
            ": lists no operationId"
        );
    }

    #[test]
    fn component_of_reads_kind_and_unescaped_name() {
        assert_eq!(
            component_of("#/components/schemas/a~1b~0c/properties/x"),
            Some(("schemas", "a/b~c".to_string()))
        );
        assert_eq!(component_of("#/components/widgets/a"), None);
        assert_eq!(component_of("#/components/schemas/"), None);
        assert_eq!(component_of("other.json#/components/schemas/a"), None);
        assert_eq!(component_of("#/paths/~1a"), None);
    }

    #[test]
    fn summary_names_the_changed_places() {
        let old = r#"{"info": {"title": "a"}, "paths": {"/x": {}}, "list": [1]}"#;
        let new = r#"{"info": {"title": "b"}, "paths": {"/y": {}}, "list": [1, 2]}"#;
        assert_eq!(
            summarize_difference(old, new, 10),
            [
                r#"changed /info/title: "a" → "b""#,
                "removed /paths/~1x",
                "added   /paths/~1y",
                "changed /list (an array of 1 items, now 2)",
            ]
        );
        assert_eq!(summarize_difference(old, new, 2).len(), 3);
        assert_eq!(
            summarize_difference(r#"{"a":1,"b":2}"#, r#"{"b":2,"a":1}"#, 10),
            ["same JSON content; only the formatting or the key order differs"]
        );
    }
}
