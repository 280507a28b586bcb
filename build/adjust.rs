//! Adjustments made to a copy of the spec before progenitor sees it.
//!
//! `spec/` stays as upstream writes it, so that a refresh is mechanical; everything the generator
//! needs help with is done here, one function per adjustment, each saying why. Generation itself
//! is in generate.rs and the steps it runs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::contract::{self, CRATE};
use crate::names::{self, Sides};
use crate::spec::{
    MAX_DEPTH, SCHEMAS, component, components, components_mut, each_object, follow, join, list,
    merged_all_of, operations_mut, properties, ref_name, reference_closure, refs_in, rename_ref,
    says, type_of, walk,
};

/// A `oneOf` whose variants are told apart by the value of one property (the zone's
/// `nameservers` by `type`, a nameserver set by `advanced`): decoded by that value, never by
/// trying variants in turn (build/unions.rs).
#[derive(Debug, Clone)]
pub struct Union {
    /// The union's component (and Rust type) name.
    pub name: String,
    pub property: String,
    /// Each variant, in `oneOf` order: its component (and Rust type) name and the values of
    /// `property` it allows.
    pub variants: Vec<(String, Vec<Value>)>,
    /// A response union: any object of no known kind is kept whole (`UnknownKind`). A request
    /// union takes a kind it does not know too, sent as given, but only one that says its kind
    /// (`property` is there).
    pub received: bool,
}

/// A property the spec marks `deprecated`, as a field of a generated struct.
#[derive(Debug, Clone)]
pub struct Deprecated {
    /// The struct (a component's Rust name).
    pub type_name: String,
    /// The field's name in JSON.
    pub field: String,
    /// What the spec says about it: the description from its "Deprecated" on.
    pub note: String,
}

/// What the syntax pass needs to know of the adjusted spec (build/generate.rs).
pub struct Adjusted {
    /// The unions that decode by a discriminating property.
    pub unions: Vec<Union>,
    pub deprecated: Vec<Deprecated>,
}

/// Every adjustment, in order, on a spec whose operations were already named
/// ([`names::operation_names`]).
pub fn for_generator(spec: &mut Value) -> Result<Adjusted, String> {
    responses_carry_result_only(spec)?;
    inline_scalar_components(spec);
    let root = spec.clone();
    for_each_schema(spec, &mut |schema| {
        any_of_scalars_is_one_scalar(schema, &root);
        strip_defaults(schema);
        whole_numbers_as_integers(schema);
        constraints_checked_by_the_client(schema);
        timestamps_as_strings(schema);
        drop_examples(schema);
    });
    separate_response_schemas(spec);
    merge_all_of_objects(spec);
    unions_and_their_variants_are_components(spec);
    drop_unreferenced_components(spec);
    let sides = sides(spec, &["requestBody"]);
    requests_omit_read_only_fields(spec, &sides);
    deprecated_response_fields_are_optional(spec, &sides);
    let sides = sides_after(&sides, &names::type_names(spec, &sides)?);
    let unions = discriminated_unions(spec, &sides.response);
    nullable_fields_keep_explicit_null(spec);
    optional_lists_keep_absent_apart_from_empty(spec);
    open_enums(spec, &unions);
    visit_schemas(spec, Some(&sides.response), &mut |_, _, schema| {
        open_unions(schema);
        keep_unknown_fields(schema);
    });
    drop_unreferenced_components(spec);
    let deprecated = deprecated_properties(spec);
    Ok(Adjusted { unions, deprecated })
}

/// The properties of components marked `deprecated: true` (on the property or on the schema it
/// references), with the spec's note: the description from its "Deprecated" on, else all of it.
fn deprecated_properties(spec: &Value) -> Vec<Deprecated> {
    let mut out = Vec::new();
    for (name, schema) in components(spec) {
        for (field, property) in properties(schema) {
            if !says(property, spec, "deprecated") {
                continue;
            }
            let description = [property, follow(property, spec)]
                .iter()
                .find_map(|s| s.get("description")?.as_str())
                .unwrap_or("deprecated in the API's spec");
            let note = description
                .split_once("Deprecated")
                .map_or(description, |(_, note)| note.trim_start_matches([':', ' ']));
            out.push(Deprecated {
                type_name: name.clone(),
                field: field.clone(),
                note: note.to_string(),
            });
        }
    }
    out
}

/// A union written inline (the zone's `nameservers`) and a variant written inline (each kind of
/// nameservers) become components of their own, so that each is a named type: a variant is a
/// struct the union's decoder can decode into, named by its `title` when it has one
/// (build/names.rs). A union is named `{owner}_{property path}`, a variant `{union}_{index}`.
fn unions_and_their_variants_are_components(spec: &mut Value) {
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    visit_properties(spec, None, &mut |owner, path, property, _| {
        if property.contains_key("oneOf") {
            let union = Value::Object(property.clone());
            replace_with_ref(
                property,
                hoist(&mut hoisted, &format!("{owner}_{path}"), union),
            );
        }
    });
    add_components(spec, hoisted);
    let mut variants: Vec<(String, Value)> = Vec::new();
    for (name, schema) in components_mut(spec).into_iter().flatten() {
        let inline = schema.get_mut("oneOf").and_then(Value::as_array_mut);
        for (i, variant) in inline.into_iter().flatten().enumerate() {
            if variant.get("$ref").is_none() && variant.get("properties").is_some() {
                let reference = json!({ "$ref": format!("{SCHEMAS}{name}_{i}") });
                variants.push((format!("{name}_{i}"), std::mem::replace(variant, reference)));
            }
        }
    }
    add_components(spec, variants);
}

/// The unions whose variants are all objects with one property (the same in each) whose
/// `enum` values (strings or booleans) tell the variants apart: disjoint, and required in each.
fn discriminated_unions(spec: &Value, received: &BTreeSet<String>) -> Vec<Union> {
    let mut out = Vec::new();
    for (name, schema) in components(spec) {
        // Every variant is a component by now (unions_and_their_variants_are_components).
        let names: Option<Vec<String>> = list(schema, "oneOf")
            .map(|v| Some(ref_name(v.get("$ref"))?.to_string()))
            .collect();
        let variants: Vec<&Value> = list(schema, "oneOf").map(|v| follow(v, spec)).collect();
        let (Some(names), Some(first)) = (names, variants.first()) else {
            continue;
        };
        for (property, _) in properties(first) {
            let values: Option<Vec<Vec<Value>>> = variants
                .iter()
                .map(|v| {
                    let required = list(v, "required").any(|r| r == property);
                    let allowed = follow(v.pointer(&format!("/properties/{property}"))?, spec)
                        .get("enum")?
                        .as_array()?
                        .clone();
                    (required && allowed.iter().all(|a| a.is_string() || a.is_boolean()))
                        .then_some(allowed)
                })
                .collect();
            let Some(values) = values else { continue };
            let all: Vec<&Value> = values.iter().flatten().collect();
            let disjoint = all
                .iter()
                .enumerate()
                .all(|(i, a)| !all[i + 1..].contains(a));
            if disjoint {
                out.push(Union {
                    name: name.clone(),
                    property: property.clone(),
                    variants: names.into_iter().zip(values).collect(),
                    received: received.contains(name),
                });
                break;
            }
        }
    }
    out
}

/// Every Cloudflare response is an envelope `{success, errors, messages, result}`, decoded in
/// one generic place at run time (src/envelope.rs) into the operation's result type. So each
/// 2xx response schema becomes the schema of its `result` property, and error responses are
/// dropped: they are envelopes too, decoded by the same generic code into [`Error`]s (and
/// progenitor cannot type them anyway: `allOf` of `success: true` and `success: false`).
/// A list's envelope also carries `result_info`; its response becomes `Page<Item>`
/// (src/pagination.rs), which keeps both, for the generic paginator.
fn responses_carry_result_only(spec: &mut Value) -> Result<(), String> {
    let root = spec.clone();
    for (path, method, op) in operations_mut(spec) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        responses.retain(|status, _| status.starts_with('2'));
        for response in responses.values_mut() {
            let Some(schema) = response.pointer_mut("/content/application~1json/schema") else {
                continue;
            };
            let result = envelope_property(schema, &root, "result").ok_or_else(|| {
                format!("{method} {path}: the 2xx response has no `result` property to unwrap")
            })?;
            *schema = match envelope_property(schema, &root, "result_info") {
                Some(_) => {
                    let item = follow(&result, &root).get("items").cloned().ok_or_else(|| {
                        format!("{method} {path}: a response with `result_info` has no `result` array")
                    })?;
                    json!({ "x-rust-type": rust_type(contract::PAGE, item) })
                }
                None => result,
            };
        }
    }
    Ok(())
}

/// The schema of the envelope's property `name` (`result`, `result_info`), through `allOf`: the
/// last definition, as written.
fn envelope_property(schema: &Value, root: &Value, name: &str) -> Option<Value> {
    let mut found = None;
    let _ = walk(schema, root, "", &mut |path, written, _| {
        if path == name {
            found = Some(written.clone());
        }
        path.is_empty()
    });
    found
}

/// Named scalar components (`dns-settings_ns_ttl`, `dns-settings_identifier`) and arrays of
/// scalars or enum values (`dns-settings_zones`) would become newtypes (`NsTtl(f64)`, `Zones(Vec<String>)`)
/// that users must wrap by hand; inlined, a field is a plain `i64`, `bool` or `Vec<String>`.
/// Their bounds are still checked, from the original spec (see build/rules.rs).
fn inline_scalar_components(spec: &mut Value) {
    let root = spec.clone();
    let scalar = |s: &Value| {
        matches!(
            type_of(s),
            Some("boolean" | "number" | "integer" | "string")
        )
    };
    // A scalar, or an array of scalars or of string enum values.
    let inlinable = |s: &Value| {
        let item = s.get("items").map(|i| follow(i, &root));
        (scalar(s) && s.get("enum").is_none())
            || (type_of(s) == Some("array")
                && item.is_some_and(|i| {
                    scalar(i) && (i.get("enum").is_none() || type_of(i) == Some("string"))
                }))
    };
    // What an inlined component brings may reference one too (array items): until none is left.
    for _ in 0..MAX_DEPTH {
        let mut inlined = false;
        each_object(spec, &mut |node| {
            let target = ref_name(node.get("$ref")).and_then(|name| component(&root, name));
            if let Some(Value::Object(target)) = target.filter(|t| inlinable(t)) {
                let mut target = target.clone();
                // A property's own description says more than the shared one.
                if let Some(d) = node.get("description") {
                    target.insert("description".into(), d.clone());
                }
                *node = target;
                inlined = true;
            }
        });
        if !inlined {
            break;
        }
    }
}

/// typify makes a struct with an optional field per branch of an `anyOf`, which no scalar fits:
/// a record's `ttl` is `anyOf: [integer, {integer, enum: [1]}]` ("1 means automatic"), and `1`
/// would fail to decode. An `anyOf` whose branches are all scalars of one type is that type; of
/// several scalar types, a `oneOf` of them (an untagged enum).
fn any_of_scalars_is_one_scalar(schema: &mut Map<String, Value>, root: &Value) {
    let scalar = |branch: &Value| {
        let t = type_of(follow(branch, root))?;
        matches!(t, "boolean" | "integer" | "number" | "string").then(|| t.to_string())
    };
    let Some(Value::Array(branches)) = schema.get("anyOf") else {
        return;
    };
    let Some(types) = branches.iter().map(scalar).collect::<Option<BTreeSet<_>>>() else {
        return;
    };
    let branches = schema.remove("anyOf").unwrap_or_default();
    if let (1, Some(only)) = (types.len(), types.first()) {
        schema.insert("type".into(), Value::String(only.clone()));
    } else {
        schema.insert("oneOf".into(), branches);
    }
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
    let bounds = "minimum maximum exclusiveMinimum exclusiveMaximum minLength maxLength minItems \
                  maxItems pattern";
    for key in bounds.split_whitespace() {
        schema.remove(key);
    }
}

/// typify maps `format: date-time` to `chrono::DateTime` and `ipv4` to `Ipv4Addr`; a plain
/// `String` keeps whatever Cloudflare sends (and round-trips it byte for byte) without a chrono
/// dependency, and a future address form does not fail a whole response.
fn timestamps_as_strings(schema: &mut Map<String, Value>) {
    if schema.get("type").and_then(Value::as_str) == Some("string") {
        schema.remove("format");
    }
}

/// Examples do not shape types; upstream has one that is an object where a string is expected,
/// which only confuses the generator.
fn drop_examples(schema: &mut Map<String, Value>) {
    schema.remove("example");
}

/// Requests are closed and responses open: a request can hold only what the spec allows, while
/// a response keeps whatever Cloudflare sends (unknown fields, enum values, union kinds). The two
/// share component schemas upstream (the SOA, the settings base), so every component a 2xx
/// response reaches that a request also reaches is cloned under a `-response` name for the
/// response side. Leaf enums stay shared: the property that holds one is opened instead.
fn separate_response_schemas(spec: &mut Value) {
    let root = spec.clone();
    let Sides { response, request } = sides(spec, &["requestBody", "parameters"]);
    let request: BTreeSet<String> = request.into_keys().collect();
    let is_leaf = |name: &String| component(&root, name).is_some_and(|s| s.get("enum").is_some());
    let taken = |candidate: &str| component(&root, candidate).is_some();
    let renames: BTreeMap<String, String> = response
        .intersection(&request)
        .filter(|name| !is_leaf(name))
        .map(|name| {
            let mut new = format!("{name}-response");
            let mut n = 1;
            while taken(&new) {
                n += 1;
                new = format!("{name}-response-{n}");
            }
            (name.clone(), new)
        })
        .collect();
    if let Some(schemas) = components_mut(spec) {
        for (old, new) in &renames {
            if let Some(schema) = schemas.get(old).cloned() {
                schemas.insert(new.clone(), schema);
            }
        }
    }
    // The response side: the components only responses reach, the copies, the responses.
    let only = response.difference(&request).chain(renames.values());
    let response_side: BTreeSet<String> = only.cloned().collect();
    visit_schemas(spec, Some(&response_side), &mut |_, _, schema| {
        rename_ref(schema, &renames);
    });
}

/// Which components the responses and the requests (their parts `request`: the body, the
/// parameters) reach, with the requests' methods.
fn sides(spec: &mut Value, request: &[&str]) -> Sides {
    let root = spec.clone();
    let mut sides = Sides::default();
    for (_, method, op) in operations_mut(spec) {
        closure(&op["responses"], &root, &mut sides.response);
        let mut body = BTreeSet::new();
        for part in request.iter().filter_map(|key| op.get(*key)) {
            closure(part, &root, &mut body);
        }
        for name in body {
            let methods: &mut BTreeSet<String> = sides.request.entry(name).or_default();
            methods.insert(method.clone());
        }
    }
    sides
}

fn sides_after(sides: &Sides, renames: &BTreeMap<String, String>) -> Sides {
    let rename = |n: &String| renames.get(n).unwrap_or(n).clone();
    let request = sides.request.iter().map(|(n, m)| (rename(n), m.clone()));
    Sides {
        response: sides.response.iter().map(rename).collect(),
        request: request.collect(),
    }
}

/// A `readOnly` field (a view's `created_time`) is set by the server: a request type that has it
/// invites sending it (`created_time: None` in every create body). Request-side schemas lose their
/// `readOnly` properties, response-side ones their `writeOnly` properties.
fn requests_omit_read_only_fields(spec: &mut Value, sides: &Sides) {
    let root = spec.clone();
    // The flagged properties go, and so do their names from every `required` list.
    let strip = |schema: &mut Value, flag: &str| {
        let mut removed = BTreeSet::new();
        each_object(schema, &mut |object| {
            if let Some(Value::Object(props)) = object.get_mut("properties") {
                props.retain(|name, prop| {
                    let flagged = says(prop, &root, flag);
                    if flagged {
                        removed.insert(name.clone());
                    }
                    !flagged
                });
            }
        });
        each_object(schema, &mut |object| {
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.retain(|r| r.as_str().is_none_or(|r| !removed.contains(r)));
            }
        });
    };
    if let Some(schemas) = components_mut(spec) {
        for (name, schema) in schemas.iter_mut() {
            match (
                sides.response.contains(name),
                sides.request.contains_key(name),
            ) {
                (false, true) => strip(schema, "readOnly"),
                (true, false) => strip(schema, "writeOnly"),
                _ => {}
            }
        }
    }
    for (_, _, op) in operations_mut(spec) {
        if let Some(body) = op.pointer_mut("/requestBody/content/application~1json/schema") {
            strip(body, "readOnly");
        }
        if let Some(responses) = op.get_mut("responses") {
            strip(responses, "writeOnly");
        }
    }
}

/// Cloudflare removes deprecated fields (cloudflare-rs #251, #236), and the spec may still call
/// one required in a response (`foundation_dns`, "use `nameservers.type`"): the day it goes,
/// every response carrying it would fail to decode. A response-side property the spec marks
/// `deprecated` (itself or the schema it references) is optional whatever `required` says, so
/// its absence decodes. Requests keep what the spec says.
fn deprecated_response_fields_are_optional(spec: &mut Value, sides: &Sides) {
    let root = spec.clone();
    let loosen = |schema: &mut Value| {
        each_object(schema, &mut |object| {
            let deprecated: BTreeSet<String> = object
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, property)| says(property, &root, "deprecated"))
                .map(|(name, _)| name.clone())
                .collect();
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.retain(|r| r.as_str().is_none_or(|r| !deprecated.contains(r)));
            }
        });
    };
    if let Some(schemas) = components_mut(spec) {
        for (name, schema) in schemas.iter_mut() {
            if sides.response.contains(name) && !sides.request.contains_key(name) {
                loosen(schema);
            }
        }
    }
    for (_, _, op) in operations_mut(spec) {
        if let Some(responses) = op.get_mut("responses") {
            loosen(responses);
        }
    }
}

/// Upstream builds most objects as an `allOf` of parts: a shared base, then the properties and
/// `required` list of one use (`dns-view-post` is `allOf: [dns-view, {required: [name, zones]}]`),
/// sometimes narrowing a base property (`soa: soa-base` in the base, `soa: soa-response`, itself
/// `allOf: [soa-base, …]`, in the response). Left to the generator, every part becomes a type of its
/// own and every narrowed property a third, merged one (`DnsViewResponse2`, `ZoneDefaultsSoa`
/// beside `Soa`). Each `allOf` of objects is merged here into the one object it means: the union
/// of the properties and of `required`; a property defined twice keeps the narrower definition
/// (the one whose `allOf` includes the other) or, when neither is, both as an `allOf`. The parts
/// are then referenced by nothing and go.
fn merge_all_of_objects(spec: &mut Value) {
    let root = spec.clone();
    each_object(spec, &mut |object| {
        if object.contains_key("allOf")
            && let Some(merged) = merged_all_of(object, &root)
        {
            *object = merged;
        }
    });
}

/// A nullable optional field has three states in a PATCH: omitted (leave unchanged), `null`
/// (e.g. SOA `mname`: "let Cloudflare assign it") and a value. typify would make it `Option<T>`
/// and skip `None`, so `null` could never be sent. It becomes `Option<Nullable<T>>` instead
/// (src/wrappers.rs), through typify's `x-rust-type` extension.
fn nullable_fields_keep_explicit_null(spec: &mut Value) {
    let mut hoisted = Vec::new();
    visit_properties(spec, None, &mut |owner, path, property, _| {
        if property.get("nullable").and_then(Value::as_bool) == Some(true) {
            let mut inner = property.clone();
            inner.remove("nullable");
            inner.remove("description");
            let wrapper =
                json!({ "x-rust-type": rust_type(contract::NULLABLE, Value::Object(inner)) });
            replace_with_ref(
                property,
                hoist(&mut hoisted, &format!("{owner}_{path}-nullable"), wrapper),
            );
        }
    });
    add_components(spec, hoisted);
}

/// typify makes an optional array a plain `Vec` that is skipped when empty, so absent and `[]`
/// would be one value: a PATCH could not send `"zones": []` (unlink every zone), and a response's
/// `[]` would not round-trip. An optional array becomes `Option<Vec<T>>` instead: `None` omits
/// the key, `Some(vec![])` sends `[]`.
fn optional_lists_keep_absent_apart_from_empty(spec: &mut Value) {
    let mut hoisted = Vec::new();
    visit_properties(spec, None, &mut |owner, path, property, required| {
        if !required && property.get("type").and_then(Value::as_str) == Some("array") {
            let items = property.get("items").cloned().unwrap_or(json!({}));
            let list = json!({ "x-rust-type": {
                "crate": "std", "version": "*", "path": "std::vec::Vec", "parameters": [items]
            }});
            replace_with_ref(
                property,
                hoist(&mut hoisted, &format!("{owner}_{path}-list"), list),
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

/// The property becomes a `$ref`, keeping its description and whether it is deprecated.
fn replace_with_ref(property: &mut Map<String, Value>, reference: String) {
    let kept: Vec<(String, Value)> = ["description", "deprecated"]
        .into_iter()
        .filter_map(|k| Some((k.to_string(), property.remove(k)?)))
        .collect();
    property.clear();
    property.insert("$ref".into(), Value::String(reference));
    property.extend(kept);
}

fn add_components(spec: &mut Value, hoisted: Vec<(String, Value)>) {
    if let Some(schemas) = components_mut(spec) {
        for (name, schema) in hoisted {
            schemas.entry(name).or_insert(schema);
        }
    }
}

/// Adds to `seen` the schemas `node` reaches through `$ref`s, transitively (build/spec.rs,
/// [`reference_closure`]; through components of any kind). A reference that leads nowhere is
/// left to the steps that resolve it.
fn closure(node: &Value, root: &Value, seen: &mut BTreeSet<String>) {
    let start = refs_in(node).into_iter().map(|target| (target, ()));
    let reached = reference_closure(
        start,
        &mut |kind, name, _| {
            let component = root.get("components").and_then(|c| c.get(kind)?.get(name));
            Ok(component.map(|c| refs_in(c).into_iter().map(|t| (t, ())).collect()))
        },
        &mut |_, _, _| Ok(()),
    );
    let reached = reached.unwrap_or_default().into_iter();
    seen.extend(
        reached
            .filter(|(kind, _)| kind == "schemas")
            .map(|(_, name)| name),
    );
}

/// Cloudflare adds enum values without notice (`cloudflare.advanced` appeared in 2025); a closed
/// Rust enum would fail the whole response on a new one, and could not send a value added
/// upstream last week until the spec is refreshed and the crate released. Each string-enum
/// property, of a response or of a request body, and each string-enum parameter becomes
/// `OpenEnum<Known>` (src/wrappers.rs): a response keeps an unknown value as `Other(String)` and
/// serializes it back unchanged; a request sends `Other("…")` as given, while the spec's values
/// stay the typed path (`Known(…)`, or `.into()` from the known enum). The known values stay a
/// generated enum: a named component keeps its name, an inline enum is hoisted into a component
/// named for its owner and property path (`ZoneDefaultsNameserversType`). The property that
/// picks a union's variant stays closed: the union's `UnknownKind` carries a new kind whole.
fn open_enums(spec: &mut Value, unions: &[Union]) {
    let root = spec.clone();
    // The property that picks a union's variant stays closed: its value chose the variant.
    let discriminator = |owner: &str, path: &str| {
        let of = |u: &Union| u.property == path && u.variants.iter().any(|(v, _)| v == owner);
        unions.iter().any(of)
    };
    let mut hoisted: Vec<(String, Value)> = Vec::new();
    visit_properties(spec, None, &mut |owner, path, property, _| {
        if discriminator(owner, path) {
            return;
        }
        // An array of enum values (a nameserver's `ipv4_groups`) is opened item by item.
        if property.get("type").and_then(Value::as_str) == Some("array") {
            if let Some(items) = property.get_mut("items").and_then(Value::as_object_mut) {
                open_enum(items, &format!("{owner}_{path}_item"), &root, &mut hoisted);
            }
            return;
        }
        open_enum(property, &format!("{owner}_{path}"), &root, &mut hoisted);
    });
    // Parameters (a list's `direction`), of operations and of path items, named for them.
    let mut parameters: Vec<(String, &mut Value)> = Vec::new();
    for (path, item) in spec["paths"].as_object_mut().into_iter().flatten() {
        for (key, value) in item.as_object_mut().into_iter().flatten() {
            let owner = value["operationId"].as_str().unwrap_or(path).to_string();
            match (key.as_str(), value) {
                ("parameters", Value::Array(list)) => {
                    parameters.extend(list.iter_mut().map(|p| (path.clone(), p)))
                }
                (_, Value::Object(op)) => {
                    let list = op.get_mut("parameters").and_then(Value::as_array_mut);
                    parameters.extend(list.into_iter().flatten().map(|p| (owner.clone(), p)));
                }
                _ => {}
            }
        }
    }
    for (owner, parameter) in parameters {
        let name = format!(
            "{owner}_{}",
            parameter["name"].as_str().unwrap_or("parameter")
        );
        if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) {
            open_enum(schema, &name, &root, &mut hoisted);
        }
    }
    add_components(spec, hoisted);
}

/// Makes `schema`, a string enum inline or by reference, an `OpenEnum` of the known values.
fn open_enum(
    schema: &mut Map<String, Value>,
    name: &str,
    root: &Value,
    hoisted: &mut Vec<(String, Value)>,
) {
    let value = Value::Object(schema.clone());
    if follow(&value, root).get("enum").is_none() {
        return;
    }
    let known = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r.to_string(),
        None if type_of(&value) == Some("string") => {
            let mut known = schema.clone();
            known.remove("description");
            hoist(hoisted, name, Value::Object(known))
        }
        None => return,
    };
    let wrapper =
        json!({ "x-rust-type": rust_type(contract::OPEN_ENUM, json!({ "$ref": known })) });
    replace_with_ref(schema, hoist(hoisted, &format!("{name}-open"), wrapper));
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

/// typify generates a type for every component; the envelope schemas (decoded at run time) and
/// the inlined scalars are no longer used, and would only cost compile time.
fn drop_unreferenced_components(spec: &mut Value) {
    let root = spec.clone();
    let mut used = BTreeSet::new();
    closure(&root["paths"], &root, &mut used);
    if let Some(schemas) = components_mut(spec) {
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

/// Whether an object of the document is a schema.
fn is_schema(object: &Map<String, Value>) -> bool {
    let keys = "type properties allOf oneOf anyOf $ref enum";
    keys.split(' ').any(|k| object.contains_key(k))
}

/// Calls `f` on every object in the document that is a schema, innermost first.
fn for_each_schema(node: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    each_object(node, &mut |object| {
        if is_schema(object) {
            f(object);
        }
    });
}

/// `f(owner, property path, schema)`.
type SchemaVisitor<'a> = dyn FnMut(&str, &str, &mut Map<String, Value>) + 'a;

/// Calls `f(owner, path, schema)` for every schema of every component and of the operations'
/// bodies and responses, innermost first. `owner` is the nearest component name (or
/// `{operationId}_body`, `{operationId}_result`); `path` joins the property names from there to
/// the schema with `_` (`nameservers_type`). With `only`, just the response side: those
/// components and the operations' responses.
fn visit_schemas(spec: &mut Value, only: Option<&BTreeSet<String>>, f: &mut SchemaVisitor) {
    fn walk(node: &mut Value, owner: &str, path: &str, f: &mut SchemaVisitor) {
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match (key.as_str(), child) {
                        ("properties", Value::Object(props)) => {
                            for (name, prop) in props.iter_mut() {
                                walk(prop, owner, &join(path, "_", name), f);
                            }
                        }
                        (_, child) => walk(child, owner, path, f),
                    }
                }
                if is_schema(map) {
                    f(owner, path, map);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, owner, path, f)),
            _ => {}
        }
    }
    if let Some(schemas) = components_mut(spec) {
        for (name, schema) in schemas.iter_mut() {
            if only.is_none_or(|names| names.contains(name)) {
                walk(schema, name, "", f);
            }
        }
    }
    for (_, _, op) in operations_mut(spec) {
        let owner = op["operationId"]
            .as_str()
            .unwrap_or("operation")
            .to_string();
        if only.is_none()
            && let Some(body) = op.get_mut("requestBody")
        {
            walk(body, &format!("{owner}_body"), "", f);
        }
        if let Some(responses) = op.get_mut("responses") {
            walk(responses, &format!("{owner}_result"), "", f);
        }
    }
}

/// `f(owner, property path, property schema, whether it is required)`.
type PropertyVisitor<'a> = dyn FnMut(&str, &str, &mut Map<String, Value>, bool) + 'a;

/// Calls `f(owner, property path, property schema, whether it is required)` for every property
/// of every schema [`visit_schemas`] visits.
fn visit_properties(spec: &mut Value, only: Option<&BTreeSet<String>>, f: &mut PropertyVisitor) {
    visit_schemas(spec, only, &mut |owner, path, schema| {
        let required = schema.get("required").cloned().unwrap_or_default();
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            for (name, property) in props.iter_mut() {
                if let Some(property) = property.as_object_mut() {
                    let required = required
                        .as_array()
                        .is_some_and(|r| r.contains(&json!(name)));
                    f(owner, &join(path, "_", name), property, required);
                }
            }
        }
    });
}
