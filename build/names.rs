//! The names users see: method names for operations and type names for schemas, each made by
//! one stated rule (spec/README.md, "Names") from what the spec says, never written per endpoint.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::spec::{
    component, components, components_mut, each_object, operations_mut, ref_name, rename_refs,
};

/// Gives every operation a method name, kept as its `operationId` for progenitor; upstream's id
/// moves to `x-upstream-operation-id`.
///
/// - With upstream's SDK hints (`x-fern-sdk-group-name` `dns.settings.account.views`,
///   `x-fern-sdk-method-name` `list`): the group's words after the prefix that every hinted
///   group shares, then the method (`account_views_list`).
/// - Without them: the path's fixed segments, a collection segment made singular when an
///   identifier follows it (`/zones/{zone_id}/dns_records` is `zone_dns_records`), then a verb
///   from the method and whether the path ends at an identifier: `GET` of a collection `list`,
///   `GET` of an item `get`, `POST` `create`, `PUT` `update`, `PATCH` `edit`, `DELETE` `delete`.
///
/// Two operations getting the same name is an error naming both.
pub fn operation_names(spec: &mut Value) -> Result<(), String> {
    let hinted: Vec<Vec<String>> = operations_mut(spec)
        .into_iter()
        .filter_map(|(_, _, op)| Some(words(&hints(op)?.0)))
        .collect();
    let shared = common_prefix(hinted.iter().map(Vec::as_slice));
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for (path, method, op) in operations_mut(spec) {
        let upstream = op["operationId"].as_str().unwrap_or_default().to_string();
        let name = match hints(op) {
            Some((group, method_name)) => {
                let group = words(&group);
                let mut parts = group[shared.min(group.len().saturating_sub(1))..].to_vec();
                parts.extend(words(&method_name));
                parts.join("_")
            }
            None => name_from_path(&path, &method),
        };
        if !is_identifier(&name) {
            return Err(format!(
                "operation `{upstream}` would be named `{name}`, which is not a Rust identifier \
                 (empty, a keyword or starting with a digit); give it \
                 x-fern-sdk-group-name/x-fern-sdk-method-name in spec/overlay.json"
            ));
        }
        if let Some(other) = taken.insert(name.clone(), upstream.clone()) {
            return Err(format!(
                "operations `{other}` and `{upstream}` would both be named `{name}`; give one \
                 of them x-fern-sdk-group-name/x-fern-sdk-method-name in spec/overlay.json"
            ));
        }
        // An operation is an object (`operations_mut`): indexing inserts.
        op["operationId"] = Value::String(name);
        op["x-upstream-operation-id"] = Value::String(upstream);
    }
    Ok(())
}

fn hints(op: &Value) -> Option<(String, String)> {
    let group = op.get("x-fern-sdk-group-name").and_then(Value::as_str)?;
    let method = op.get("x-fern-sdk-method-name").and_then(Value::as_str)?;
    Some((group.to_string(), method.to_string()))
}

fn name_from_path(path: &str, method: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_param = |s: &str| s.starts_with('{');
    let mut parts = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if is_param(segment) {
            continue;
        }
        let before_param = segments.get(i + 1).is_some_and(|next| is_param(next));
        let segment = if before_param {
            singular(segment)
        } else {
            segment
        };
        parts.extend(words(segment));
    }
    let item = segments.last().is_some_and(|s| is_param(s));
    let verb = match (method, item) {
        ("get", false) => "list",
        ("get", true) => "get",
        ("post", _) => "create",
        ("put", _) => "update",
        ("patch", _) => "edit",
        ("delete", _) => "delete",
        (other, _) => other,
    };
    parts.push(verb.to_string());
    parts.join("_")
}

fn singular(word: &str) -> &str {
    word.strip_suffix('s')
        .filter(|w| !w.is_empty())
        .unwrap_or(word)
}

/// Lower-case words of a name written with `-`, `_`, `.`, spaces or other punctuation.
pub fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
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

/// Which side of the API each component is on, after requests and responses were given
/// separate components (`separate_response_schemas` in adjust.rs).
#[derive(Debug, Default)]
pub struct Sides {
    /// Reached from a 2xx response.
    pub response: BTreeSet<String>,
    /// Reached from a request body, with the HTTP methods of those requests.
    pub request: BTreeMap<String, BTreeSet<String>>,
}

/// Words that say which side or which step a schema is for, not what it is.
const ROLE_WORDS: &[&str] = &[
    "base", "response", "request", "patch", "post", "put", "create", "update", "edit",
];

/// Renames every component to the type name users see:
///
/// 1. The noun: a schema with a `title` is named by it (`A Record` is `ARecord`); a component
///    that is only ever the value of properties of one name is named for that property
///    (`zone_defaults` is `ZoneDefaults`, `soa` is `Soa`); any other is its component name
///    without its upstream namespace (`dns-settings_`, `zones_`) and without words that name a
///    role rather than a thing (`base`, `response`, `patch`, `post`, …):
///    `dns-settings_dns-view-response` is `DnsView`.
/// 2. A request type adds what the request does: `Patch` (a `PATCH` body), `Create` (`POST`),
///    `Update` (`PUT`), or `Request` when bodies of several methods use it. Response types and
///    parameters keep the noun alone.
///
/// Two components getting the same name first fall back from property names to component
/// names; if they still collide, it is an error naming both.
pub fn type_names(spec: &mut Value, sides: &Sides) -> Result<BTreeMap<String, String>, String> {
    let names: Vec<String> = components(spec).map(|(name, _)| name.clone()).collect();
    let namespaced = all_namespaced(&names);
    // How each component is referenced: by how many `$ref`s in all, and as the value of which
    // properties.
    let (mut refs, mut as_property) = (BTreeMap::new(), BTreeMap::new());
    each_object(spec, &mut |object| {
        if let Some(name) = ref_name(object.get("$ref")) {
            *refs.entry(name.to_string()).or_insert(0) += 1;
        }
        let props = object.get("properties").and_then(Value::as_object);
        for (property, schema) in props.into_iter().flatten() {
            if let Some(name) = ref_name(schema.get("$ref")) {
                let uses: &mut Vec<String> = as_property.entry(name.to_string()).or_default();
                uses.push(property.clone());
            }
        }
    });

    let suffix = |name: &str| -> &'static str {
        let methods = sides.request.get(name).into_iter().flatten();
        match methods.map(String::as_str).collect::<Vec<_>>()[..] {
            _ if sides.response.contains(name) => "",
            [] => "",
            ["patch"] => "Patch",
            ["post"] => "Create",
            ["put"] => "Update",
            _ => "Request",
        }
    };
    let by_component = |name: &str| -> String {
        let rest = match name.split_once('_') {
            Some((_, rest)) if namespaced => rest,
            _ => name,
        };
        let all = words(rest);
        let kept: Vec<String> = all
            .iter()
            .filter(|w| !ROLE_WORDS.contains(&w.as_str()) && w.parse::<u32>().is_err())
            .cloned()
            .collect();
        camel(if kept.is_empty() { &all } else { &kept })
    };
    let by_title = |name: &str| -> Option<String> {
        let title = component(spec, name)?.get("title")?.as_str()?;
        Some(camel(&words(title))).filter(|t| !t.is_empty())
    };
    // Only ever the value of properties of one name.
    let by_property = |name: &str| -> Option<String> {
        let used = as_property.get(name)?;
        let first = used.first()?;
        (refs.get(name) == Some(&used.len()) && used.iter().all(|p| p == first))
            .then(|| camel(&words(first)))
    };

    let mut chosen: BTreeMap<String, String> = names
        .iter()
        .map(|name| {
            let noun = by_title(name)
                .or_else(|| by_property(name))
                .unwrap_or_else(|| by_component(name));
            (name.clone(), format!("{noun}{}", suffix(name)))
        })
        .collect();
    for pass in 0..2 {
        let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (component, rust) in &chosen {
            let owned: &mut Vec<String> = owners.entry(rust.clone()).or_default();
            owned.push(component.clone());
        }
        let clashes: Vec<Vec<String>> = owners.into_values().filter(|c| c.len() > 1).collect();
        if clashes.is_empty() {
            break;
        }
        if pass == 1 {
            let clash = &clashes[0];
            return Err(format!(
                "schemas `{}` would all be named `{}`; rename one of them in spec/overlay.json",
                clash.join("`, `"),
                chosen[&clash[0]]
            ));
        }
        for component in clashes.into_iter().flatten() {
            let name = format!("{}{}", by_component(&component), suffix(&component));
            chosen.insert(component, name);
        }
    }
    if let Some((component, name)) = chosen.iter().find(|(_, name)| !is_identifier(name)) {
        return Err(format!(
            "schema `{component}` would be named `{name}`, which is not a Rust identifier \
             (empty, a keyword or starting with a digit); give it a `title` in spec/overlay.json"
        ));
    }
    rename_components(spec, &chosen);
    Ok(chosen)
}

/// A name usable as it is in Rust: not empty, not a keyword, not starting with a digit.
fn is_identifier(name: &str) -> bool {
    syn::parse_str::<syn::Ident>(name).is_ok()
}

/// Whether every component name starts with an upstream namespace, up to its first `_`
/// (`dns-settings_`, `zones_`), as every schema of upstream's file does: then each name is read
/// without its own. A spec of several upstream groups has several namespaces.
fn all_namespaced(names: &[String]) -> bool {
    names.iter().all(|n| {
        n.split_once('_')
            .is_some_and(|(ns, rest)| !ns.is_empty() && !rest.is_empty())
    })
}

fn camel(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Renames components and every `$ref` to them.
pub fn rename_components(spec: &mut Value, renames: &BTreeMap<String, String>) {
    rename_refs(spec, renames);
    if let Some(schemas) = components_mut(spec) {
        for (name, schema) in std::mem::take(schemas) {
            schemas.insert(renames.get(&name).cloned().unwrap_or(name), schema);
        }
    }
}
