//! `audit-sdk`: compares `spec/dns_settings.json` with a normalized snapshot of the official
//! Python SDK's models (`spec/sdk/cloudflare-python-<version>.json`, written by
//! `.ci/sdk-audit/extract.py`), every operation's request and response field by field, and
//! says which differences `spec/sdk-audit.json` explains.
//!
//! Both sides are brought into the snapshot's small schema language (see extract.py): objects
//! with fields (`required`, `schema`), arrays, scalars with a `format`, `enum`s, `oneOf` unions,
//! and `nullable`. The spec side resolves `$ref`s, merges `allOf`, and leaves out `readOnly`
//! fields from requests and `writeOnly` fields from responses.
//!
//! A difference is named `<METHOD> <path> <where>: <kind>`, e.g.
//! `GET /zones/{zone_id}/dns_settings result.soa.mname: required`, where `<where>` is
//! `body.…`, `query.<name>`, `path`, `result…` or `result_info…` (`[]` for an array's items,
//! `(type=custom.account|custom.tenant)` for a union's variant of those kinds, `#2` for the
//! second variant of a union whose variants no property tells apart) and `<kind>` one of `operation`, `parameter`, `field`,
//! `required`, `nullable`, `optional-null`, `type`, `enum`, `union`, `format`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

/// One difference between spec/ and the SDK.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// `<METHOD> <path>`.
    pub operation: String,
    /// Where in the operation: `body.soa.mname`, `result[]`, `query.page`, ….
    pub at: String,
    pub kind: &'static str,
    /// What the spec says there.
    pub spec: String,
    /// What the SDK says there.
    pub sdk: String,
}

impl Difference {
    /// The name explanations match: `<METHOD> <path> <where>: <kind>`.
    pub fn id(&self) -> String {
        format!("{} {}: {}", self.operation, self.at, self.kind)
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n      spec: {}\n      SDK:  {}",
            self.id(),
            self.spec,
            self.sdk
        )
    }
}

/// Which way a schema is read: requests leave out `readOnly` fields, responses `writeOnly` ones.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Side {
    Request,
    Response,
}

/// The spec's operations in the snapshot's language: `"<METHOD> <path>"` → the same object as a
/// snapshot operation (`path_parameters`, `query`, `body`, `response`).
pub fn spec_operations(spec: &Value) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the spec has no `paths`")?;
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in crate::refresh::METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let key = format!("{} {path}", method.to_uppercase());
            let mut path_parameters = BTreeSet::new();
            let mut query = Map::new();
            let shared = item.get("parameters").and_then(Value::as_array);
            let own = op.get("parameters").and_then(Value::as_array);
            for parameter in shared.into_iter().chain(own).flatten() {
                let parameter = resolve(spec, parameter)?;
                let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                match parameter.get("in").and_then(Value::as_str) {
                    Some("path") => {
                        path_parameters.insert(name.to_string());
                    }
                    Some("query") => {
                        let schema = parameter.get("schema").cloned().unwrap_or(json!({}));
                        let required = parameter.get("required") == Some(&json!(true));
                        query.insert(
                            name.to_string(),
                            json!({"required": required,
                                   "schema": normalize(spec, &schema, Side::Request)?}),
                        );
                    }
                    _ => {}
                }
            }
            let body = match op.pointer("/requestBody/content/application~1json/schema") {
                Some(schema) => normalize(spec, schema, Side::Request)?,
                None => Value::Null,
            };
            let mut response = Map::new();
            if let Some(schema) = op.pointer("/responses/200/content/application~1json/schema") {
                let envelope = normalize(spec, schema, Side::Response)?;
                for member in ["result", "result_info"] {
                    if let Some(field) = envelope.pointer(&format!("/fields/{member}")) {
                        response.insert(member.to_string(), field.clone());
                    }
                }
            }
            out.insert(
                key,
                json!({
                    "path_parameters": path_parameters.into_iter().collect::<Vec<_>>(),
                    "query": if query.is_empty() { Value::Null } else { Value::Object(query) },
                    "body": body,
                    "response": response,
                }),
            );
        }
    }
    Ok(out)
}

/// Follows `$ref`s (local ones only), with the generator's depth limit (build/spec.rs).
fn resolve<'a>(spec: &'a Value, node: &'a Value) -> Result<&'a Value, String> {
    crate::spec_reader::resolve(node, spec)
}

/// A schema with its `$ref`s resolved and its `allOf` merged into one object, by the generator's
/// own merge (build/spec.rs, `merged_all_of`): what the spec means is read once, the same way.
fn flatten(spec: &Value, schema: &Value) -> Result<Map<String, Value>, String> {
    let schema = resolve(spec, schema)?;
    let Some(object) = schema.as_object() else {
        return Err(format!("a schema is not an object: {schema}"));
    };
    if !object.contains_key("allOf") {
        return Ok(object.clone());
    }
    crate::spec_reader::merged_all_of(object, spec).ok_or_else(|| {
        format!("an `allOf` whose parts are not plain objects (the generator keeps it): {schema}")
    })
}

/// An OpenAPI schema in the snapshot's language.
fn normalize(spec: &Value, schema: &Value, side: Side) -> Result<Value, String> {
    let schema = flatten(spec, schema)?;
    let mut out = Map::new();
    if let Some(variants) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let variants = variants
            .iter()
            .map(|v| normalize(spec, v, side))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert("oneOf".into(), Value::Array(variants));
    } else if let Some(values) = schema.get("enum") {
        out.insert("enum".into(), values.clone());
    } else {
        let properties = schema.get("properties").and_then(Value::as_object);
        let kind = schema
            .get("type")
            .and_then(Value::as_str)
            .or(match properties {
                Some(_) => Some("object"),
                None => None,
            });
        match kind {
            Some("object") => {
                out.insert("type".into(), json!("object"));
                let required: BTreeSet<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let hidden = match side {
                    Side::Request => "readOnly",
                    Side::Response => "writeOnly",
                };
                let mut fields = Map::new();
                for (name, property) in properties.into_iter().flatten() {
                    let flat = flatten(spec, property)?;
                    if flat.get(hidden) == Some(&json!(true)) {
                        continue;
                    }
                    fields.insert(
                        name.clone(),
                        json!({"required": required.contains(name.as_str()),
                               "schema": normalize(spec, property, side)?}),
                    );
                }
                if properties.is_some() {
                    out.insert("fields".into(), Value::Object(fields));
                }
            }
            Some("array") => {
                out.insert("type".into(), json!("array"));
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                out.insert("items".into(), normalize(spec, &items, side)?);
            }
            Some(scalar) => {
                out.insert("type".into(), json!(scalar));
                if let Some(format @ ("date-time" | "date")) =
                    schema.get("format").and_then(Value::as_str)
                {
                    out.insert("format".into(), json!(format));
                }
            }
            None => {}
        }
    }
    if schema.get("nullable") == Some(&json!(true)) {
        out.insert("nullable".into(), json!(true));
    }
    Ok(Value::Object(out))
}

/// Every difference between the spec's operations and the snapshot's, in a stable order.
pub fn compare(spec: &Value, snapshot: &Value) -> Result<Vec<Difference>, String> {
    let ours = spec_operations(spec)?;
    compare_operations(&ours, &snapshot_operations(snapshot)?)
}

/// Every difference between two snapshots (an older SDK's, then a newer one's, in the `spec` and
/// `sdk` sides of each [`Difference`]): what changed upstream between them.
pub fn compare_snapshots(older: &Value, newer: &Value) -> Result<Vec<Difference>, String> {
    let older: BTreeMap<String, Value> = snapshot_operations(older)?
        .into_iter()
        .map(|(key, op)| (key, op.clone()))
        .collect();
    compare_operations(&older, &snapshot_operations(newer)?)
}

/// A snapshot's operations by `"<METHOD> <path>"`.
fn snapshot_operations(snapshot: &Value) -> Result<BTreeMap<String, &Value>, String> {
    let mut theirs = BTreeMap::new();
    for op in snapshot
        .get("operations")
        .and_then(Value::as_array)
        .ok_or("the SDK snapshot has no `operations`")?
    {
        let method = op.get("method").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        theirs.insert(format!("{method} {path}"), op);
    }
    Ok(theirs)
}

fn compare_operations(
    ours: &BTreeMap<String, Value>,
    theirs: &BTreeMap<String, &Value>,
) -> Result<Vec<Difference>, String> {
    let mut out = Vec::new();
    let keys: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for key in keys {
        let mut d = Diff {
            operation: key,
            out: &mut out,
        };
        match (ours.get(key), theirs.get(key)) {
            (Some(_), None) => d.push("", "operation", "has it", "has no such operation"),
            (None, Some(op)) => {
                let sdk = op.get("sdk").and_then(Value::as_str).unwrap_or("?");
                d.push(
                    "",
                    "operation",
                    "has no such operation",
                    &format!("has it ({sdk})"),
                );
            }
            (Some(mine), Some(sdk)) => d.operation(mine, sdk),
            (None, None) => {}
        }
    }
    Ok(out)
}

struct Diff<'a> {
    operation: &'a str,
    out: &'a mut Vec<Difference>,
}

impl Diff<'_> {
    fn push(&mut self, at: &str, kind: &'static str, spec: &str, sdk: &str) {
        self.out.push(Difference {
            operation: self.operation.to_string(),
            at: at.to_string(),
            kind,
            spec: spec.to_string(),
            sdk: sdk.to_string(),
        });
    }

    fn operation(&mut self, spec: &Value, sdk: &Value) {
        let names = |op: &Value| -> Vec<String> {
            op.get("path_parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        let (mine, theirs) = (names(spec), names(sdk));
        if mine != theirs {
            self.push(
                "path",
                "parameter",
                &format!("path parameters {}", mine.join(", ")),
                &format!("path parameters {}", theirs.join(", ")),
            );
        }
        let empty = Map::new();
        let query = |op: &Value| op.get("query").and_then(Value::as_object).cloned();
        let (mine, theirs) = (query(spec), query(sdk));
        self.fields(
            "query.",
            mine.as_ref().unwrap_or(&empty),
            theirs.as_ref().unwrap_or(&empty),
            Side::Request,
            "parameter",
        );
        match (spec.get("body"), sdk.get("body")) {
            (Some(mine), Some(theirs)) if !mine.is_null() && !theirs.is_null() => {
                self.schema("body", mine, theirs, Side::Request, true)
            }
            (mine, theirs) => {
                let has = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
                if has(mine) != has(theirs) {
                    let say = |h: bool| if h { "a JSON body" } else { "no body" };
                    self.push("body", "field", say(has(mine)), say(has(theirs)));
                }
            }
        }
        let envelope = |op: &Value| op.get("response").and_then(Value::as_object).cloned();
        let (mine, theirs) = (envelope(spec), envelope(sdk));
        self.fields(
            "",
            mine.as_ref().unwrap_or(&empty),
            theirs.as_ref().unwrap_or(&empty),
            Side::Response,
            "field",
        );
    }

    /// Compares two field maps (`name` → `{required, schema}`), prefixing names with `prefix`.
    fn fields(
        &mut self,
        prefix: &str,
        mine: &Map<String, Value>,
        theirs: &Map<String, Value>,
        side: Side,
        missing: &'static str,
    ) {
        let names: BTreeSet<&String> = mine.keys().chain(theirs.keys()).collect();
        for name in names {
            let at = format!("{prefix}{name}");
            match (mine.get(name), theirs.get(name)) {
                (Some(m), None) => self.push(&at, missing, &field_summary(m), "has no such field"),
                (None, Some(t)) => self.push(&at, missing, "has no such field", &field_summary(t)),
                (Some(m), Some(t)) => {
                    let required = |f: &Value| f.get("required") == Some(&json!(true));
                    let (m_req, t_req) = (required(m), required(t));
                    if m_req != t_req {
                        let say = |r: bool| if r { "required" } else { "optional" };
                        self.push(&at, "required", say(m_req), say(t_req));
                    }
                    let schema = |f: &Value| f.get("schema").cloned().unwrap_or(json!({}));
                    // Stainless's Python models type every optional response field
                    // `Optional[T] = None`: the SDK cannot say "may be absent, never null".
                    let optional = side == Side::Response && !m_req && !t_req;
                    self.schema(&at, &schema(m), &schema(t), side, !optional);
                }
                (None, None) => {}
            }
        }
    }

    /// Compares two schemas at `at`. `strict_null`: a nullability difference is `nullable`;
    /// otherwise (an optional response field) an SDK-only null is `optional-null`.
    fn schema(&mut self, at: &str, mine: &Value, theirs: &Value, side: Side, strict_null: bool) {
        let nullable = |s: &Value| s.get("nullable") == Some(&json!(true));
        let (m_null, t_null) = (nullable(mine), nullable(theirs));
        if m_null != t_null {
            let say = |n: bool| if n { "nullable" } else { "not nullable" };
            let kind = if strict_null || m_null {
                "nullable"
            } else {
                "optional-null"
            };
            self.push(at, kind, say(m_null), say(t_null));
        }
        match (mine.get("oneOf"), theirs.get("oneOf")) {
            (Some(Value::Array(m)), Some(Value::Array(t))) => {
                if let Some(property) = discriminator(m, t) {
                    self.union_by_kind(at, &property, m, t, side);
                    return;
                }
                if m.len() != t.len() {
                    self.push(
                        at,
                        "union",
                        &format!("{} variants", m.len()),
                        &format!("{} variants", t.len()),
                    );
                }
                for (index, (m, t)) in m.iter().zip(t).enumerate() {
                    self.schema(&format!("{at}#{}", index + 1), m, t, side, true);
                }
                return;
            }
            (None, None) => {}
            _ => {
                self.push(at, "union", &describe_kind(mine), &describe_kind(theirs));
                return;
            }
        }
        match (mine.get("enum"), theirs.get("enum")) {
            (Some(Value::Array(m)), Some(Value::Array(t))) => {
                let only = |a: &[Value], b: &[Value]| -> Vec<String> {
                    a.iter()
                        .filter(|v| !b.contains(v))
                        .map(Value::to_string)
                        .collect()
                };
                let (extra, lacking) = (only(m, t), only(t, m));
                if !extra.is_empty() || !lacking.is_empty() {
                    self.push(
                        at,
                        "enum",
                        &format!(
                            "{} (not in the SDK: {})",
                            describe_kind(mine),
                            none_if_empty(&extra)
                        ),
                        &format!(
                            "{} (not in spec: {})",
                            describe_kind(theirs),
                            none_if_empty(&lacking)
                        ),
                    );
                }
                return;
            }
            (None, None) => {}
            _ => {
                self.push(at, "enum", &describe_kind(mine), &describe_kind(theirs));
                return;
            }
        }
        let kind = |s: &Value| s.get("type").and_then(Value::as_str).map(String::from);
        let (m_kind, t_kind) = (kind(mine), kind(theirs));
        if m_kind != t_kind {
            self.push(at, "type", &describe_kind(mine), &describe_kind(theirs));
            return;
        }
        if mine.get("format") != theirs.get("format") {
            self.push(at, "format", &describe_kind(mine), &describe_kind(theirs));
        }
        match m_kind.as_deref() {
            Some("array") => {
                let items = |s: &Value| s.get("items").cloned().unwrap_or(json!({}));
                self.schema(&format!("{at}[]"), &items(mine), &items(theirs), side, true);
            }
            Some("object") => {
                let fields = |s: &Value| s.get("fields").and_then(Value::as_object).cloned();
                match (fields(mine), fields(theirs)) {
                    (Some(m), Some(t)) => self.fields(&format!("{at}."), &m, &t, side, "field"),
                    (None, None) => {}
                    _ => self.push(at, "type", &describe_kind(mine), &describe_kind(theirs)),
                }
            }
            _ => {}
        }
    }
}

impl Diff<'_> {
    /// Compares two unions whose variants `property` tells apart, kind by kind: each variant is
    /// matched with the other side's variant of the same kinds, whatever their order. The kinds
    /// of a variant on one side only are one `union` difference at `<at>(<property>=<kinds>)`
    /// naming them; a matched pair is compared at `<at>(<property>=<shared kinds>)`, without
    /// `property` (its values were just compared).
    fn union_by_kind(
        &mut self,
        at: &str,
        property: &str,
        mine: &[Value],
        theirs: &[Value],
        side: Side,
    ) {
        let (m_kinds, t_kinds) = (kinds(mine, property), kinds(theirs, property));
        let label = |kinds: &[String]| format!("{at}({property}={})", kinds.join("|"));
        // The kinds one side lacks, grouped by the variant that has them.
        let mut one_sided: BTreeMap<String, (Option<usize>, Option<usize>)> = BTreeMap::new();
        let mut pairs: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        let mut lacking: BTreeMap<(bool, usize), Vec<String>> = BTreeMap::new();
        for (kind, m) in &m_kinds {
            match t_kinds.get(kind) {
                Some(t) => pairs.entry((*m, *t)).or_default().push(kind.clone()),
                None => lacking.entry((true, *m)).or_default().push(kind.clone()),
            }
        }
        for (kind, t) in &t_kinds {
            if !m_kinds.contains_key(kind) {
                lacking.entry((false, *t)).or_default().push(kind.clone());
            }
        }
        for ((ours, index), kinds) in lacking {
            let entry = (ours.then_some(index), (!ours).then_some(index));
            one_sided.insert(label(&kinds), entry);
        }
        for (at, (m, t)) in one_sided {
            let say = |variant: Option<usize>, variants: &[Value]| match variant {
                Some(i) => format!("has it: {}", describe_kind(&variants[i])),
                None => "has no such kind".to_string(),
            };
            self.push(&at, "union", &say(m, mine), &say(t, theirs));
        }
        // Each pair once, by its label, so that the order of the variants changes nothing.
        let by_label: BTreeMap<String, (usize, usize)> = pairs
            .into_iter()
            .map(|(pair, kinds)| (label(&kinds), pair))
            .collect();
        for (at, (m, t)) in by_label {
            let (m, t) = (
                without_field(&mine[m], property),
                without_field(&theirs[t], property),
            );
            self.schema(&at, &m, &t, side, true);
        }
    }
}

/// The property whose values tell the variants of both unions apart: every variant of each
/// side is an object with that field as an `enum`, and no value is in two variants of a side.
/// `type` first, then `advanced` (a nameserver set), then any other, by name.
fn discriminator(mine: &[Value], theirs: &[Value]) -> Option<String> {
    let fields = |v: &Value| v.get("fields").and_then(Value::as_object).cloned();
    let mut candidates: Vec<String> = fields(mine.first()?)?.keys().cloned().collect();
    candidates.sort_by_key(|p| (p != "type", p != "advanced", p.clone()));
    candidates.into_iter().find(|property| {
        [mine, theirs].iter().all(|variants| {
            let mut seen = BTreeSet::new();
            variants.iter().all(|variant| {
                let values = variant
                    .pointer(&format!("/fields/{}/schema/enum", pointer_escape(property)))
                    .and_then(Value::as_array);
                values.is_some_and(|values| {
                    !values.is_empty() && values.iter().all(|v| seen.insert(kind_name(v)))
                })
            })
        })
    })
}

/// Each kind (a value of `property`) of a union, with the index of its variant.
fn kinds(variants: &[Value], property: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (index, variant) in variants.iter().enumerate() {
        let pointer = format!("/fields/{}/schema/enum", pointer_escape(property));
        for value in variant
            .pointer(&pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.insert(kind_name(value), index);
        }
    }
    out
}

/// A kind as a difference names it: a string as it is (`custom.account`), anything else as JSON
/// (`true`).
fn kind_name(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// An object schema without one of its fields.
fn without_field(schema: &Value, name: &str) -> Value {
    let mut out = schema.clone();
    if let Some(fields) = out.get_mut("fields").and_then(Value::as_object_mut) {
        fields.remove(name);
    }
    out
}

fn none_if_empty(values: &[String]) -> String {
    if values.is_empty() {
        "none".into()
    } else {
        values.join(", ")
    }
}

/// A short description of a schema of the snapshot's language.
fn describe(schema: &Value) -> String {
    let mut text = describe_kind(schema);
    if schema.get("nullable") == Some(&json!(true)) {
        text.push_str(", nullable");
    }
    text
}

/// [`describe`] without nullability (reported on its own).
fn describe_kind(schema: &Value) -> String {
    if let Some(Value::Array(variants)) = schema.get("oneOf") {
        format!("a union of {} variants", variants.len())
    } else if let Some(Value::Array(values)) = schema.get("enum") {
        let values: Vec<String> = values.iter().map(Value::to_string).collect();
        format!("one of {}", values.join(", "))
    } else {
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => match schema.get("fields").and_then(Value::as_object) {
                Some(fields) => format!(
                    "an object of {}",
                    fields.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => "any object".into(),
            },
            Some("array") => format!(
                "an array of {}",
                describe(schema.get("items").unwrap_or(&json!({})))
            ),
            Some(scalar) => match schema.get("format").and_then(Value::as_str) {
                Some(format) => format!("{scalar} ({format})"),
                None => scalar.to_string(),
            },
            None => "anything".into(),
        }
    }
}

fn field_summary(field: &Value) -> String {
    let required = if field.get("required") == Some(&json!(true)) {
        "required"
    } else {
        "optional"
    };
    format!(
        "{required}, {}",
        describe(field.get("schema").unwrap_or(&json!({})))
    )
}

/// One entry of the explanations file.
#[derive(Debug)]
pub struct Explanation {
    /// Patterns over [`Difference::id`]; `*` matches any run of characters.
    pub differences: Vec<String>,
    /// When given, the difference's `spec` / `SDK` text must be exactly this.
    pub spec: Option<String>,
    pub sdk: Option<String>,
    pub why: String,
}

/// Reads the explanations file: `{"explained": [{"differences": [...], "spec"?, "sdk"?, "why"}]}`.
pub fn read_explanations(doc: &Value) -> Result<Vec<Explanation>, String> {
    let entries = doc
        .get("explained")
        .and_then(Value::as_array)
        .ok_or("has no `explained` array")?;
    let mut out = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let known = ["differences", "spec", "sdk", "why", "source"];
        if let Some(key) = entry
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .find(|k| !known.contains(&k.as_str()))
        {
            return Err(format!(
                "`explained[{index}]` has an unknown member `{key}` (known: {})",
                known.join(", ")
            ));
        }
        let string = |key: &str| entry.get(key).and_then(Value::as_str).map(String::from);
        let differences: Vec<String> = entry
            .get("differences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        let why = string("why").unwrap_or_default();
        if differences.is_empty() || why.trim().is_empty() {
            return Err(format!(
                "`explained[{index}]` needs a non-empty `differences` array of strings and a `why`"
            ));
        }
        out.push(Explanation {
            differences,
            spec: string("spec"),
            sdk: string("sdk"),
            why,
        });
    }
    Ok(out)
}

/// `*` matches any run of characters (none included); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The outcome of an audit.
pub struct Audit {
    /// Each difference with the index of the explanation that covers it.
    pub explained: Vec<(Difference, usize)>,
    pub unexplained: Vec<Difference>,
    /// Patterns that match no difference, as `(explanation index, pattern)`.
    pub unused: Vec<(usize, String)>,
}

impl Audit {
    pub fn passed(&self) -> bool {
        self.unexplained.is_empty() && self.unused.is_empty()
    }
}

/// Sorts the differences into explained and not, and finds the patterns that explain nothing.
pub fn audit(differences: Vec<Difference>, explanations: &[Explanation]) -> Audit {
    let mut used: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut result = Audit {
        explained: Vec::new(),
        unexplained: Vec::new(),
        unused: Vec::new(),
    };
    for difference in differences {
        let id = difference.id();
        let found = explanations
            .iter()
            .enumerate()
            .find_map(|(e, explanation)| {
                let values_match = explanation
                    .spec
                    .as_ref()
                    .is_none_or(|s| *s == difference.spec)
                    && explanation
                        .sdk
                        .as_ref()
                        .is_none_or(|s| *s == difference.sdk);
                if !values_match {
                    return None;
                }
                let p = explanation.differences.iter().position(|p| glob(p, &id))?;
                Some((e, p))
            });
        match found {
            Some((e, p)) => {
                used.insert((e, p));
                result.explained.push((difference, e));
            }
            None => result.unexplained.push(difference),
        }
    }
    for (e, explanation) in explanations.iter().enumerate() {
        for (p, pattern) in explanation.differences.iter().enumerate() {
            if !used.contains(&(e, p)) {
                result.unused.push((e, pattern.clone()));
            }
        }
    }
    result
}

/// The report printed by `audit-sdk`.
pub fn report(audit: &Audit, explanations: &[Explanation], sdk: &str) -> String {
    let mut out = String::new();
    let first_line = |text: &str| text.lines().next().unwrap_or("").to_string();
    out.push_str(&format!(
        "spec/ against {sdk}: {} differences, {} explained, {} not\n",
        audit.explained.len() + audit.unexplained.len(),
        audit.explained.len(),
        audit.unexplained.len()
    ));
    for (e, explanation) in explanations.iter().enumerate() {
        let covered: Vec<&Difference> = audit
            .explained
            .iter()
            .filter(|(_, i)| *i == e)
            .map(|(d, _)| d)
            .collect();
        if covered.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\nexplained ({}): {}\n",
            covered.len(),
            first_line(&explanation.why)
        ));
        for difference in covered {
            out.push_str(&format!("  {}\n", difference.id()));
        }
    }
    if !audit.unexplained.is_empty() {
        out.push_str(&format!(
            "\nNOT EXPLAINED ({}): change spec/ (overlay.json or reconcile.json) to agree with \
             the SDK, or explain the difference in spec/sdk-audit.json\n",
            audit.unexplained.len()
        ));
        for difference in &audit.unexplained {
            out.push_str(&format!("  {difference}\n"));
        }
    }
    if !audit.unused.is_empty() {
        out.push_str(&format!(
            "\nEXPLAIN NOTHING ({}): these patterns of spec/sdk-audit.json match no difference \
             any more; delete them\n",
            audit.unused.len()
        ));
        for (e, pattern) in &audit.unused {
            out.push_str(&format!("  explained[{e}]: {pattern}\n"));
        }
    }
    out
}

/// The patterns no audit used, when several SDKs are audited with one explanations file: a
/// pattern must explain something in at least one of them.
pub fn unused_everywhere(audits: &[&Audit]) -> Vec<(usize, String)> {
    let Some((first, rest)) = audits.split_first() else {
        return Vec::new();
    };
    first
        .unused
        .iter()
        .filter(|pattern| rest.iter().all(|a| a.unused.contains(pattern)))
        .cloned()
        .collect()
}

/// The report of patterns that explain nothing.
pub fn report_unused(unused: &[(usize, String)]) -> String {
    let mut out = format!(
        "EXPLAIN NOTHING ({}): these patterns of spec/sdk-audit.json match no difference \
         any more; delete them\n",
        unused.len()
    );
    for (e, pattern) in unused {
        out.push_str(&format!("  explained[{e}]: {pattern}\n"));
    }
    out
}

/// Where two SDKs disagree ([`compare_snapshots`] of the two, `first` on the `spec` side of each
/// difference): upstream drift in itself, said and never failed (each SDK is audited against
/// spec/ on its own). What only the languages' type systems make different is counted, not
/// listed ([`language_artefact`]), so that a real disagreement stands out.
pub fn report_disagreements(first: &str, second: &str, differences: &[Difference]) -> String {
    let python_first = first.contains("PyPI");
    let (artefacts, real): (Vec<&Difference>, Vec<&Difference>) = differences
        .iter()
        .partition(|d| language_artefact(d, python_first));
    let mut out = format!(
        "{first} and {second} disagree in {} place(s) (upstream's own drift, for the record; not \
         a failure), and in {} more only as their languages do (TypeScript has no integer and no \
         date-time format; Stainless's Python models make every optional response field and \
         every result nullable)\n",
        real.len(),
        artefacts.len()
    );
    for d in real {
        out.push_str(&format!(
            "  {}\n      {first}: {}\n      {second}: {}\n",
            d.id(),
            d.spec,
            d.sdk
        ));
    }
    out
}

/// Whether a disagreement between two SDKs is only their languages': an `integer` against a
/// `number`, a string's `date-time` format against none, or a `null` only the Python SDK takes
/// (`python_first`: the Python SDK is the `spec` side of the difference).
pub fn language_artefact(d: &Difference, python_first: bool) -> bool {
    let either = |a: &str, b: &str| (d.spec == a && d.sdk == b) || (d.spec == b && d.sdk == a);
    let (python, other) = if python_first {
        (&d.spec, &d.sdk)
    } else {
        (&d.sdk, &d.spec)
    };
    match d.kind {
        "type" => either("integer", "number"),
        "format" => d.spec.starts_with("string") && d.sdk.starts_with("string"),
        "nullable" | "optional-null" => python == "nullable" && other == "not nullable",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(result: Value, body: Option<Value>) -> Value {
        let mut op = json!({
            "parameters": [{"name": "zone_id", "in": "path", "required": true,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"content": {"application/json": {"schema": {
                "allOf": [
                    {"$ref": "#/components/schemas/envelope"},
                    {"properties": {"result": result}, "required": ["result"]}
                ]
            }}}}}
        });
        if let Some(body) = body {
            op["requestBody"] = json!({"content": {"application/json": {"schema": body}}});
        }
        json!({
            "paths": {"/zones/{zone_id}/x": {"get": op}},
            "components": {"schemas": {
                "envelope": {"type": "object", "required": ["success"],
                             "properties": {"success": {"type": "boolean"}}},
                "soa": {"type": "object", "properties": {
                    "mname": {"type": "string", "nullable": true},
                    "ttl": {"type": "integer", "readOnly": true}
                }}
            }}
        })
    }

    fn sdk_with(result: Value, body: Value) -> Value {
        json!({"operations": [{
            "method": "GET", "path": "/zones/{zone_id}/x", "sdk": "x.get",
            "path_parameters": ["zone_id"], "query": null, "body": body,
            "response": {"result": {"required": true, "schema": result}}
        }]})
    }

    fn ids(differences: &[Difference]) -> Vec<String> {
        differences.iter().map(Difference::id).collect()
    }

    #[test]
    fn identical_models_have_no_difference() {
        let spec = spec_with(
            json!({"type": "object", "required": ["soa"], "properties": {
                "soa": {"$ref": "#/components/schemas/soa"}}}),
            None,
        );
        let sdk = sdk_with(
            json!({"type": "object", "fields": {"soa": {"required": true, "schema": {
                "type": "object", "fields": {
                    "mname": {"required": false, "schema": {"type": "string", "nullable": true}},
                    "ttl": {"required": false, "schema": {"type": "integer"}}}}}}}),
            Value::Null,
        );
        assert_eq!(compare(&spec, &sdk).unwrap(), []);
    }

    #[test]
    fn each_kind_of_difference_is_found_and_named() {
        let spec = spec_with(
            json!({"type": "object", "required": ["a", "e"], "properties": {
                "a": {"type": "integer"},
                "b": {"type": "string", "enum": ["x", "y"]},
                "c": {"type": "array", "items": {"type": "string"}},
                "d": {"oneOf": [{"type": "string"}]},
                "e": {"type": "string"},
                "only_spec": {"type": "boolean"},
                "f": {"type": "boolean"}
            }}),
            Some(json!({"type": "object", "properties": {
                "ttl": {"type": "integer", "readOnly": true},
                "n": {"type": "string"}}})),
        );
        let sdk = sdk_with(
            json!({"type": "object", "fields": {
                "a": {"required": true, "schema": {"type": "number"}},
                "b": {"required": false, "schema": {"enum": ["x", "z"]}},
                "c": {"required": false, "schema": {"type": "object", "fields": {}}},
                "d": {"required": false, "schema": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                "e": {"required": true, "schema": {"type": "string", "nullable": true}},
                "f": {"required": false, "schema": {"type": "boolean", "nullable": true}},
                "only_sdk": {"required": false, "schema": {"type": "string", "format": "date-time"}}
            }}),
            json!({"type": "object", "fields": {"n": {"required": true, "schema": {"type": "string"}}}}),
        );
        let found = compare(&spec, &sdk).unwrap();
        let op = "GET /zones/{zone_id}/x";
        assert_eq!(
            ids(&found),
            [
                format!("{op} body.n: required"),
                format!("{op} result.a: type"),
                format!("{op} result.b: enum"),
                format!("{op} result.c: type"),
                format!("{op} result.d: union"),
                format!("{op} result.e: nullable"),
                format!("{op} result.f: optional-null"),
                format!("{op} result.only_sdk: field"),
                format!("{op} result.only_spec: field"),
            ]
        );
        assert_eq!(found[1].spec, "integer");
        assert_eq!(found[1].sdk, "number");
        assert_eq!(found[2].spec, r#"one of "x", "y" (not in the SDK: "y")"#);
        assert_eq!(found[2].sdk, r#"one of "x", "z" (not in spec: "z")"#);
        assert_eq!(found[4].spec, "1 variants");
        assert_eq!(found[7].sdk, "optional, string (date-time)");
    }

    #[test]
    fn bodies_arrays_free_objects_and_one_sided_enums() {
        let spec = spec_with(
            json!({"type": "object", "required": ["a", "b", "c", "d", "e"], "properties": {
                "a": {"type": "array", "items": {"type": "string"}},
                "b": {"type": "object"},
                "c": {"type": "object", "properties": {}},
                "d": {"type": "string", "enum": ["x", "y"]},
                "e": {"type": "object"}
            }}),
            Some(json!({"type": "object", "properties": {}})),
        );
        let field = |schema: Value| json!({"required": true, "schema": schema});
        let sdk = sdk_with(
            json!({"type": "object", "fields": {
                "a": field(json!({"type": "array", "items": {"type": "integer"}})),
                "b": field(json!({"type": "object"})),
                "c": field(json!({"type": "object", "fields": {}})),
                "d": field(json!({"enum": ["x"]})),
                "e": field(json!({"type": "object", "fields": {}}))
            }}),
            Value::Null,
        );
        let found = compare(&spec, &sdk).unwrap();
        let op = "GET /zones/{zone_id}/x";
        assert_eq!(
            ids(&found),
            [
                format!("{op} body: field"),
                format!("{op} result.a[]: type"),
                format!("{op} result.d: enum"),
                format!("{op} result.e: type"),
            ]
        );
        assert_eq!(
            (found[0].spec.as_str(), found[0].sdk.as_str()),
            ("a JSON body", "no body")
        );
        assert_eq!(found[2].sdk, r#"one of "x" (not in spec: none)"#);
        assert_eq!(
            (found[3].spec.as_str(), found[3].sdk.as_str()),
            ("any object", "an object of ")
        );
        // Neither side with a body: nothing to say.
        let spec = spec_with(json!({"type": "string"}), None);
        let sdk = sdk_with(json!({"type": "string"}), Value::Null);
        assert_eq!(compare(&spec, &sdk).unwrap(), []);
    }

    #[test]
    fn operations_and_parameters_on_one_side_only_are_differences() {
        let spec = spec_with(json!({"type": "string"}), None);
        let mut sdk = sdk_with(json!({"type": "string"}), Value::Null);
        sdk["operations"][0]["path_parameters"] = json!(["account_id"]);
        sdk["operations"][0]["query"] =
            json!({"page": {"required": false, "schema": {"type": "integer"}}});
        let mut other = sdk["operations"][0].clone();
        other["method"] = json!("DELETE");
        sdk["operations"].as_array_mut().unwrap().push(other);
        let found = compare(&spec, &sdk).unwrap();
        assert_eq!(
            ids(&found),
            [
                "DELETE /zones/{zone_id}/x : operation",
                "GET /zones/{zone_id}/x path: parameter",
                "GET /zones/{zone_id}/x query.page: parameter",
            ]
        );
    }

    /// spec/dns_settings.json as an SDK snapshot: what an SDK that agrees with it in everything
    /// would give. The tests below change it the way an upstream release could.
    fn snapshot_of_the_spec() -> (Value, Value) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/dns_settings.json");
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let operations: Vec<Value> = spec_operations(&spec)
            .unwrap()
            .into_iter()
            .map(|(key, mut op)| {
                let (method, path) = key.split_once(' ').unwrap();
                op["method"] = json!(method);
                op["path"] = json!(path);
                op
            })
            .collect();
        (spec, json!({ "operations": operations }))
    }

    /// The JSON pointer of every union (`oneOf`) in a snapshot.
    fn unions(node: &Value, at: &str, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                    if key == "oneOf" {
                        out.push(here.clone());
                    }
                    unions(child, &here, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    unions(child, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    /// Every union of the generated snapshot, with the property that tells its kinds apart.
    fn every_union(snapshot: &Value) -> Vec<(String, String)> {
        let mut pointers = Vec::new();
        unions(snapshot, "", &mut pointers);
        pointers
            .into_iter()
            .map(|p| {
                let variants = snapshot.pointer(&p).unwrap().as_array().unwrap();
                let property = discriminator(variants, variants).expect("a discriminated union");
                (p, property)
            })
            .collect()
    }

    #[test]
    fn the_spec_against_itself_has_no_difference() {
        let (spec, snapshot) = snapshot_of_the_spec();
        assert_eq!(compare(&spec, &snapshot).unwrap(), []);
        // The zone's nameservers (by `type`) in three operations, the nameserver set (by
        // `advanced`) in three: the tests below change each of them.
        let found = every_union(&snapshot);
        assert!(found.len() >= 6, "{found:?}");
        assert!(found.iter().any(|(_, p)| p == "type"), "{found:?}");
        assert!(found.iter().any(|(_, p)| p == "advanced"), "{found:?}");
    }

    #[test]
    fn reordered_variants_are_no_difference() {
        let (spec, snapshot) = snapshot_of_the_spec();
        for (pointer, _) in every_union(&snapshot) {
            for turn in [1, 2] {
                let mut changed = snapshot.clone();
                let variants = changed
                    .pointer_mut(&pointer)
                    .unwrap()
                    .as_array_mut()
                    .unwrap();
                variants.reverse();
                let len = variants.len();
                variants.rotate_left(turn % len);
                assert_eq!(
                    compare(&spec, &changed).unwrap(),
                    [],
                    "{pointer}, turn {turn}"
                );
            }
        }
    }

    #[test]
    fn a_kind_added_or_removed_is_one_difference_naming_it() {
        let (spec, snapshot) = snapshot_of_the_spec();
        for (pointer, property) in every_union(&snapshot) {
            // Added: a variant of a new kind.
            let mut added = snapshot.clone();
            let variants = added.pointer_mut(&pointer).unwrap().as_array_mut().unwrap();
            variants.push(json!({"type": "object", "fields": {
                property.as_str(): {"required": true, "schema": {"enum": ["brand.new"]}},
                "pool": {"required": true, "schema": {"type": "string"}}}}));
            let found = compare(&spec, &added).unwrap();
            assert_eq!(found.len(), 1, "{pointer}: {found:#?}");
            assert!(
                found[0].at.ends_with(&format!("({property}=brand.new)")),
                "{found:?}"
            );
            assert_eq!(
                (found[0].kind, found[0].spec.as_str()),
                ("union", "has no such kind")
            );
            assert!(found[0].sdk.contains("pool"), "{found:?}");
            // Removed: each variant in turn, all its kinds named in one difference.
            let count = snapshot
                .pointer(&pointer)
                .unwrap()
                .as_array()
                .unwrap()
                .len();
            for index in 0..count {
                let mut removed = snapshot.clone();
                let variants = removed
                    .pointer_mut(&pointer)
                    .unwrap()
                    .as_array_mut()
                    .unwrap();
                let gone = variants.remove(index);
                let mut kinds: Vec<String> = gone["fields"][&property]["schema"]["enum"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(kind_name)
                    .collect();
                kinds.sort();
                let found = compare(&spec, &removed).unwrap();
                assert_eq!(found.len(), 1, "{pointer} without #{index}: {found:#?}");
                assert!(
                    found[0]
                        .at
                        .ends_with(&format!("({property}={})", kinds.join("|"))),
                    "{found:?}"
                );
                assert_eq!(
                    (found[0].kind, found[0].sdk.as_str()),
                    ("union", "has no such kind")
                );
            }
            // A new value of an existing variant: that kind alone.
            let mut widened = snapshot.clone();
            let values = widened
                .pointer_mut(&format!("{pointer}/0/fields/{property}/schema/enum"))
                .unwrap()
                .as_array_mut()
                .unwrap();
            values.insert(0, json!("brand.new"));
            let found = compare(&spec, &widened).unwrap();
            assert_eq!(found.len(), 1, "{pointer}: {found:#?}");
            assert!(found[0].at.ends_with(&format!("({property}=brand.new)")));
        }
    }

    #[test]
    fn a_field_added_or_retyped_in_a_variant_is_found_there_whatever_the_order() {
        let (spec, snapshot) = snapshot_of_the_spec();
        for (pointer, property) in every_union(&snapshot) {
            let count = snapshot
                .pointer(&pointer)
                .unwrap()
                .as_array()
                .unwrap()
                .len();
            for index in 0..count {
                let mut changed = snapshot.clone();
                let variants = changed
                    .pointer_mut(&pointer)
                    .unwrap()
                    .as_array_mut()
                    .unwrap();
                let fields = variants[index]["fields"].as_object_mut().unwrap();
                fields.insert(
                    "zz_new".into(),
                    json!({"required": false, "schema": {"type": "string"}}),
                );
                // Retype a field of the variant besides the kind, if it has one.
                let retyped = fields
                    .iter_mut()
                    .find(|(name, f)| {
                        **name != property && *name != "zz_new" && f["schema"]["type"] == "string"
                    })
                    .map(|(name, f)| {
                        f["schema"]["type"] = json!("integer");
                        name.clone()
                    });
                variants.reverse();
                let found = compare(&spec, &changed).unwrap();
                let mut expected = vec!["zz_new: field".to_string()];
                if let Some(name) = &retyped {
                    expected.push(format!("{name}: type"));
                }
                let tails: Vec<String> = found
                    .iter()
                    .map(|d| {
                        d.id()
                            .rsplit_once(").")
                            .map(|(_, t)| t.to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                let mut tails_sorted = tails.clone();
                tails_sorted.sort();
                expected.sort();
                assert_eq!(tails_sorted, expected, "{pointer} #{index}: {found:#?}");
                assert!(
                    found
                        .iter()
                        .all(|d| d.at.contains(&format!("({property}=")))
                );
            }
        }
    }

    #[test]
    fn two_sdks_each_alone_and_where_they_disagree() {
        let (spec, python) = snapshot_of_the_spec();
        let mut python = python;
        python["provenance"] = json!({"package": "cloudflare", "version": "1", "registry": "PyPI"});
        // The other SDK: a field only it has, and an integer it types `number` (its language's).
        let mut typescript = python.clone();
        let op = typescript["operations"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|op| op["method"] == "GET" && op["path"] == "/zones/{zone_id}/dns_settings")
            .unwrap();
        op["response"]["result"]["schema"]["fields"]["dnssec_mode"] =
            json!({"required": false, "schema": {"type": "string"}});
        let ns_ttl = &mut op["response"]["result"]["schema"]["fields"]["ns_ttl"]["schema"];
        assert_eq!(ns_ttl["type"], "integer");
        ns_ttl["type"] = json!("number");

        // Each alone against spec/: the first agrees, the second has its two differences.
        assert_eq!(compare(&spec, &python).unwrap(), []);
        let alone = ids(&compare(&spec, &typescript).unwrap());
        let op = "GET /zones/{zone_id}/dns_settings";
        assert_eq!(
            alone,
            [
                format!("{op} result.dnssec_mode: field"),
                format!("{op} result.ns_ttl: type")
            ]
        );

        // Where they disagree: the field is listed, the integer only counted.
        let disagreements = compare_snapshots(&python, &typescript).unwrap();
        assert_eq!(ids(&disagreements), alone);
        let text = report_disagreements(
            "cloudflare 1 of PyPI",
            "cloudflare 2 of npm",
            &disagreements,
        );
        assert!(
            text.starts_with("cloudflare 1 of PyPI and cloudflare 2 of npm disagree in 1 place(s)"),
            "{text}"
        );
        assert!(
            text.contains("and in 1 more only as their languages do"),
            "{text}"
        );
        assert!(
            text.contains(&format!("  {op} result.dnssec_mode: field\n")),
            "{text}"
        );
        assert!(!text.contains("ns_ttl"), "{text}");

        // A pattern is unused only if no SDK's audit uses it.
        let explanations = read_explanations(&json!({"explained": [
            {"differences": ["* result.dnssec_mode: field"], "why": "only the second has it"},
            {"differences": ["* result.nothing: field"], "why": "no SDK has it"}
        ]}))
        .unwrap();
        let first = audit(compare(&spec, &python).unwrap(), &explanations);
        let second = audit(compare(&spec, &typescript).unwrap(), &explanations);
        assert_eq!(first.unused.len(), 2);
        assert_eq!(
            unused_everywhere(&[&first, &second]),
            [(1, "* result.nothing: field".to_string())]
        );
    }

    #[test]
    fn language_artefacts_are_only_integer_number_date_time_and_python_nulls() {
        let d = |kind: &'static str, spec: &str, sdk: &str| Difference {
            operation: "GET /x".into(),
            at: "result.a".into(),
            kind,
            spec: spec.into(),
            sdk: sdk.into(),
        };
        assert!(language_artefact(&d("type", "integer", "number"), true));
        assert!(language_artefact(&d("type", "number", "integer"), false));
        assert!(!language_artefact(&d("type", "string", "number"), true));
        assert!(language_artefact(
            &d("format", "string (date-time)", "string"),
            true
        ));
        assert!(language_artefact(
            &d("nullable", "nullable", "not nullable"),
            true
        ));
        assert!(!language_artefact(
            &d("nullable", "nullable", "not nullable"),
            false
        ));
        assert!(!language_artefact(
            &d("nullable", "not nullable", "nullable"),
            true
        ));
        assert!(!language_artefact(
            &d("field", "has no such field", "optional, string"),
            true
        ));
        assert!(!language_artefact(
            &d("required", "optional", "required"),
            true
        ));
    }

    #[test]
    fn glob_matches_runs_of_characters() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a*c", "ac"));
        assert!(glob("*", ""));
        assert!(glob(
            "* result.*soa.ttl: type",
            "GET /x result.zone_defaults.soa.ttl: type"
        ));
        assert!(!glob("a*c", "abcd"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("a*b*a", "aba"));
        assert!(!glob("a*b*a", "ab"));
        assert!(!glob("a*a", "a"));
    }

    #[test]
    fn explanations_cover_matching_differences_and_unused_patterns_fail() {
        let difference = |at: &str, spec: &str| Difference {
            operation: "GET /x".into(),
            at: at.into(),
            kind: "type",
            spec: spec.into(),
            sdk: "number".into(),
        };
        let explanations = read_explanations(&json!({"explained": [
            {"differences": ["GET /x result.*: type", "PUT *"], "spec": "integer",
             "sdk": "number", "why": "whole seconds"}
        ]}))
        .unwrap();
        let found = audit(
            vec![
                difference("result.ttl", "integer"),
                difference("result.s", "string"),
            ],
            &explanations,
        );
        assert_eq!(found.explained.len(), 1);
        assert_eq!(found.unexplained, [difference("result.s", "string")]);
        assert_eq!(found.unused, [(0, "PUT *".to_string())]);
        assert!(!found.passed());
        let text = report(&found, &explanations, "cloudflare 5.9.0");
        assert!(text.contains("explained (1): whole seconds\n  GET /x result.ttl: type\n"));
        assert!(text.contains("NOT EXPLAINED (1)"));
        assert!(text.contains("GET /x result.s: type\n      spec: string\n      SDK:  number"));
        assert!(text.contains("explained[0]: PUT *"));
        assert!(
            read_explanations(&json!({"explained": [{"differences": [], "why": "x"}]})).is_err()
        );
        assert!(read_explanations(&json!({"explained": [{"differences": ["a"]}]})).is_err());
        assert!(
            read_explanations(
                &json!({"explained": [{"differences": ["a"], "why": "w", "sdkk": "x"}]})
            )
            .unwrap_err()
            .contains("unknown member `sdkk`")
        );
    }
}
