//! `refresh-spec`: cuts the crate's operations, and exactly the components they need, out of
//! upstream's OpenAPI documents (one, or several that each hold part of the API), then applies
//! the crate's overlay.
//!
//! Steps:
//! 1. Read the upstream documents (OpenAPI 3.0.x only), the list of operationIds, and the
//!    reconciliation file and the overlay when given.
//! 2. Copy `openapi` and `info` from the first document, and `servers` and `security`, which
//!    must be the same in every document that has them unless the reconciliation file gives
//!    them. Look each listed operation up across all the documents (in exactly one of them) and
//!    copy it under its path and method, with the path's own fields such as `parameters`.
//! 3. Pool the documents' components: one that several documents define identically is taken
//!    once; one they define differently is a conflict, an error as soon as the output needs it,
//!    unless the reconciliation file gives its complete replacement (then a `note:` says so).
//!    Copy the components the operations reach through `$ref`s (transitively), and the ones the
//!    overlay patches, so that the overlay patches upstream's version of them.
//! 4. Apply the overlay, an RFC 7386 JSON Merge Patch.
//! 5. Rebuild `components` as exactly the closure of the result: every component reached from the
//!    paths and the top-level fields through `$ref`s, taken from the patched copy first and from
//!    the pool otherwise, plus the security schemes the security requirements name. A component
//!    the overlay added but nothing references is dropped; one it newly references is pulled in
//!    from the pool. Then check that every `$ref` of the result resolves inside the result.
//!
//! The output order does not depend on upstream's: top-level fields in a fixed order, paths
//! sorted, methods in a fixed order, component kinds in a fixed order and names sorted. Inside
//! each copied object its source's member order is kept (see `json.rs`); a component that
//! several documents define identically keeps the first document's order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::json::{self, Json, Object};
use crate::spec_reader::{self, Unfollowed};

/// The HTTP methods of an OpenAPI 3.0 Path Item, in the order the output lists them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The top-level fields copied from upstream, in output order (`paths` and `components` follow).
const HEADER: [&str; 4] = ["openapi", "info", "servers", "security"];

/// The top-level fields that must agree across the upstream documents (or be reconciled).
/// `openapi` and `info` describe a document rather than the API: the first document's are taken.
const SHARED_HEADER: [&str; 2] = ["servers", "security"];

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

/// What to tell a user whose upstream documents disagree.
const HOW_TO_RECONCILE: &str = "give its complete replacement in the file passed as \
    `--reconcile` (spec/reconcile.json; see spec/README.md)";

/// The files `refresh-spec` reads.
pub struct Inputs<'a> {
    /// One or more upstream documents; the first gives `openapi` and `info`.
    pub upstreams: &'a [PathBuf],
    pub operations: &'a Path,
    /// Complete replacements for what the upstream documents define differently.
    pub reconcile: Option<&'a Path>,
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

/// An upstream document and the file name it is reported under.
struct Upstream {
    label: String,
    doc: Json,
}

impl Upstream {
    fn components(&self) -> impl Iterator<Item = (&str, &Object)> {
        self.doc
            .pointer("/components")
            .and_then(Json::as_object)
            .into_iter()
            .flat_map(Object::iter)
            .filter_map(|(kind, named)| Some((kind, named.as_object()?)))
    }
}

/// The reconciliation file: complete replacements, each for a part that the upstream documents
/// define differently. It has the shape of an OpenAPI document restricted to `servers`,
/// `security` and `components.<kind>.<name>`.
struct Reconcile {
    label: String,
    header: BTreeMap<&'static str, Json>,
    components: BTreeMap<(usize, String), Json>,
}

/// Builds the fragment.
pub fn refresh(inputs: &Inputs) -> Result<Refreshed, String> {
    let operations_label = inputs.operations.display().to_string();
    if inputs.upstreams.is_empty() {
        return Err("no upstream document given".into());
    }
    let mut upstreams = Vec::new();
    for path in inputs.upstreams {
        let label = path.display().to_string();
        let doc = read_json(path)?;
        require_openapi_3_0(&doc).map_err(|e| format!("{label}: {e}"))?;
        upstreams.push(Upstream { label, doc });
    }
    let wanted = read_operations(inputs.operations)?;
    let reconcile = inputs.reconcile.map(read_reconcile).transpose()?;
    let overlay = match inputs.overlay {
        Some(path) => {
            let label = path.display().to_string();
            let overlay = read_json(path)?;
            if overlay.as_object().is_none() {
                return Err(format!(
                    "{label}: an overlay is an RFC 7386 JSON Merge Patch of the whole document \
                     and must be a JSON object"
                ));
            }
            Some((label, overlay))
        }
        None => None,
    };

    let mut notes = Vec::new();
    let mut doc = merge_header(&upstreams, reconcile.as_ref(), &mut notes)?;
    let paths = extract(&upstreams, &wanted, &operations_label)?;
    if let Some(root) = doc.as_object_mut() {
        root.insert("paths", Json::Object(paths));
    }
    let pool = Pool::new(&upstreams, reconcile.as_ref(), &mut notes);

    let mut labels: Vec<String> = upstreams.iter().map(|u| u.label.clone()).collect();
    labels.extend(reconcile.as_ref().map(|r| r.label.clone()));
    let mut overlay_components = Vec::new();
    if let Some((label, overlay)) = &overlay {
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
        labels.push(label.clone());
    }
    let files = labels.join(" + ");

    // Step 3, leniently: what does not resolve is reported by the strict pass after the overlay,
    // which may well be what fixes it. The components the overlay patches come too, so that it
    // patches upstream's version of them rather than nothing.
    let seeds: Vec<(&'static str, String)> = overlay_components
        .iter()
        .filter_map(|(_, kind, name)| Some((*KINDS.iter().find(|k| *k == kind)?, name.clone())))
        .collect();
    let components = closure(&doc, None, &pool, &seeds, None)?;
    set_components(&mut doc, components);

    if let Some((label, overlay)) = &overlay {
        for at in json::replaced_arrays(&doc, overlay) {
            notes.push(format!(
                "{label} replaces the whole array at {at} (a merge patch cannot change part of \
                 an array): review upstream's version of it by hand"
            ));
        }
        json::merge_patch(&mut doc, overlay);
        require_openapi_3_0(&doc).map_err(|e| format!("{label}: after this overlay, {e}"))?;
    }

    let patched = match doc.as_object_mut().and_then(|o| o.remove("components")) {
        Some(Json::Object(components)) => components,
        _ => Object::new(),
    };
    let components = closure(&doc, Some(&patched), &pool, &[], Some(&files))?;
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

/// "a", "a and b", "a, b and c".
fn list_files(files: &[&str]) -> String {
    match files {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Reads the reconciliation file; anything but complete replacements of `servers`, `security`
/// or `components.<kind>.<name>` is refused, so that a typo cannot go unnoticed.
fn read_reconcile(path: &Path) -> Result<Reconcile, String> {
    let label = path.display().to_string();
    let doc = read_json(path)?;
    let root = doc.as_object().ok_or_else(|| {
        format!(
            "{label}: a reconciliation file must be a JSON object shaped like an OpenAPI document"
        )
    })?;
    let mut reconcile = Reconcile {
        label: label.clone(),
        header: BTreeMap::new(),
        components: BTreeMap::new(),
    };
    for (key, value) in root.iter() {
        if let Some(field) = SHARED_HEADER.iter().find(|f| **f == key) {
            reconcile.header.insert(field, value.clone());
            continue;
        }
        if key != "components" {
            return Err(format!(
                "{label}: `{key}` cannot be reconciled: only `servers`, `security` and \
                 `components.<kind>.<name>` can (the overlay changes anything else)"
            ));
        }
        let kinds = value
            .as_object()
            .ok_or_else(|| format!("{label}: `components` must be an object"))?;
        for (kind, named) in kinds.iter() {
            let rank = KINDS.iter().position(|k| *k == kind).ok_or_else(|| {
                format!("{label}: `components.{kind}` is not a kind of OpenAPI 3.0 component")
            })?;
            let named = named
                .as_object()
                .ok_or_else(|| format!("{label}: `components.{kind}` must be an object"))?;
            for (name, component) in named.iter() {
                if component.as_object().is_none() {
                    return Err(format!(
                        "{label}: `components.{kind}.{name}` must be the complete component, \
                         an object"
                    ));
                }
                reconcile
                    .components
                    .insert((rank, name.to_string()), component.clone());
            }
        }
    }
    Ok(reconcile)
}

/// The reconciliation's part of a note: why a replacement applies.
fn replaced_note(reconcile: &Reconcile, what: &str, definers: &[&str], differ: bool) -> String {
    let replaces = format!("{} replaces {what} whole", reconcile.label);
    match (definers, differ) {
        (_, true) => format!(
            "{what} is defined differently in {}: {replaces}",
            list_files(definers)
        ),
        ([], _) => format!(
            "{} gives {what}, which no upstream document defines: it is not used; delete it",
            reconcile.label
        ),
        ([one], _) => format!(
            "{replaces}, though only {one} defines it (nothing to reconcile): review it, then \
             delete it or move the change to the overlay"
        ),
        (_, false) => format!(
            "{replaces}, though {} now define it identically (nothing to reconcile): review it, \
             then delete it",
            list_files(definers)
        ),
    }
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

/// The generator's own check (build/spec.rs), on this tree's `openapi` field.
pub fn require_openapi_3_0(doc: &Json) -> Result<(), String> {
    use crate::spec_reader::{OpenApiVersion, require_openapi_3_0};
    require_openapi_3_0(match doc.as_object().and_then(|o| o.get("openapi")) {
        Some(Json::String(v)) => OpenApiVersion::Is(v),
        Some(other) => OpenApiVersion::NotAString(compact(other)),
        None => OpenApiVersion::Missing,
    })
}

/// Step 2, the header: `openapi` and `info` from the first document that has them; `servers` and
/// `security` the same in every document that has them, or the reconciliation's replacement.
fn merge_header(
    upstreams: &[Upstream],
    reconcile: Option<&Reconcile>,
    notes: &mut Vec<String>,
) -> Result<Json, String> {
    let mut header = Object::new();
    for key in HEADER {
        let defined: Vec<(&str, &Json)> = upstreams
            .iter()
            .filter_map(|u| Some((u.label.as_str(), u.doc.as_object()?.get(key)?)))
            .collect();
        let replacement = reconcile.and_then(|r| Some((r, r.header.get(key)?)));
        let differ = SHARED_HEADER.contains(&key)
            && defined.iter().any(|(_, v)| !json::same(v, defined[0].1));
        let definers: Vec<&str> = defined.iter().map(|(label, _)| *label).collect();
        let value = match replacement {
            Some((reconcile, value)) => {
                notes.push(replaced_note(
                    reconcile,
                    &format!("`{key}`"),
                    &definers,
                    differ,
                ));
                (!definers.is_empty()).then_some(value)
            }
            None if differ => {
                return Err(format!(
                    "`{key}` is defined differently in {}: {}",
                    list_files(&definers),
                    HOW_TO_RECONCILE
                ));
            }
            None => defined.first().map(|(_, value)| *value),
        };
        if let Some(value) = value {
            header.insert(key, value.clone());
        }
    }
    Ok(Json::Object(header))
}

/// Step 2, the paths: each listed operation, looked up across all the documents, under its path
/// and method, with the path's own fields. `listed_in` names the operations file in messages.
fn extract(upstreams: &[Upstream], wanted: &[Wanted], listed_in: &str) -> Result<Object, String> {
    // operationId → every (document, path, method) that carries it.
    let mut found: BTreeMap<&str, Vec<(usize, &str, &str)>> = BTreeMap::new();
    for (index, upstream) in upstreams.iter().enumerate() {
        let label = &upstream.label;
        let root = upstream
            .doc
            .as_object()
            .ok_or_else(|| format!("{label}: the document is not a JSON object"))?;
        let paths = root
            .get("paths")
            .and_then(Json::as_object)
            .ok_or_else(|| format!("{label}: the document has no `paths` object"))?;
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
                    found.entry(id).or_default().push((index, path, method));
                }
            }
        }
    }

    let place = |(path, method): (&str, &str)| format!("{} {path}", method.to_uppercase());
    let mut missing = Vec::new();
    // path → the document it comes from and the ranks of its selected methods.
    let mut selected: BTreeMap<&str, BTreeMap<usize, BTreeSet<usize>>> = BTreeMap::new();
    for w in wanted {
        let places = found
            .get(w.operation_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let documents: BTreeSet<usize> = places.iter().map(|(index, _, _)| *index).collect();
        match (places, documents.len()) {
            ([], _) => missing.push(format!("`{}` ({listed_in}:{})", w.operation_id, w.line)),
            ([(index, path, method)], _) => {
                let rank = METHODS.iter().position(|m| m == method).unwrap_or(0);
                selected
                    .entry(path)
                    .or_default()
                    .entry(*index)
                    .or_default()
                    .insert(rank);
            }
            ([(index, ..), ..], 1) => {
                let places: Vec<String> = places
                    .iter()
                    .map(|(_, path, method)| place((path, method)))
                    .collect();
                return Err(format!(
                    "{}: operationId `{}` ({listed_in}:{}) is not unique in this document: {}",
                    upstreams[*index].label,
                    w.operation_id,
                    w.line,
                    places.join(", ")
                ));
            }
            _ => {
                let places: Vec<String> = places
                    .iter()
                    .map(|(index, path, method)| {
                        format!("{} ({})", upstreams[*index].label, place((path, method)))
                    })
                    .collect();
                return Err(format!(
                    "operationId `{}` ({listed_in}:{}) is in more than one upstream document: \
                     {}; it must be in exactly one",
                    w.operation_id,
                    w.line,
                    list_files(&places.iter().map(String::as_str).collect::<Vec<_>>())
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
        let files: Vec<&str> = upstreams.iter().map(|u| u.label.as_str()).collect();
        return Err(format!(
            "{}: no operation has the {noun} {}",
            files.join(" + "),
            missing.join(", ")
        ));
    }

    let mut out_paths = Object::new();
    for (path, by_document) in &selected {
        let mut out_item: Option<(usize, Object)> = None;
        for (index, ranks) in by_document {
            let Some(item) = upstreams[*index]
                .doc
                .pointer("/paths")
                .and_then(Json::as_object)
                .and_then(|paths| paths.get(path))
                .and_then(Json::as_object)
            else {
                continue;
            };
            // The path's own fields (`parameters`, `summary`, …), then the selected operations.
            // Two documents with operations on the same path must agree on its own fields.
            let own = own_fields(item);
            let (first, out) = out_item.get_or_insert_with(|| (*index, own.clone()));
            if !json::same(&Json::Object(own), &Json::Object(own_fields(out))) {
                return Err(format!(
                    "path `{path}` has operations in {} and in {}, whose path-level fields \
                     (`parameters`, `summary`, …) differ: the path cannot be merged",
                    upstreams[*first].label, upstreams[*index].label
                ));
            }
            for rank in ranks {
                if let Some(method) = METHODS.get(*rank)
                    && let Some(op) = item.get(method)
                {
                    out.insert(*method, op.clone());
                }
            }
        }
        if let Some((_, item)) = out_item {
            out_paths.insert(*path, Json::Object(item));
        }
    }
    Ok(out_paths)
}

/// A Path Item's own fields, without its operations.
fn own_fields(item: &Object) -> Object {
    item.iter()
        .filter(|(key, _)| !METHODS.contains(key))
        .map(|(key, value)| (key.to_string(), value.clone()))
        .collect()
}

/// One name in the pool of components.
enum Pooled {
    /// Defined by one document, identically by several, or replaced by the reconciliation.
    One(Json),
    /// Defined differently by these documents, and not reconciled.
    Conflict(Vec<String>),
}

/// Step 3: the components of all the upstream documents, merged.
struct Pool {
    components: BTreeMap<&'static str, BTreeMap<String, Pooled>>,
}

impl Pool {
    /// Merges the documents' components. Notes every replacement the reconciliation makes.
    fn new(upstreams: &[Upstream], reconcile: Option<&Reconcile>, notes: &mut Vec<String>) -> Pool {
        // (kind's rank, name) → every (document, definition).
        let mut defined: BTreeMap<(usize, &str), Vec<(&str, &Json)>> = BTreeMap::new();
        for upstream in upstreams {
            for (kind, named) in upstream.components() {
                let Some(rank) = KINDS.iter().position(|k| *k == kind) else {
                    continue;
                };
                for (name, value) in named.iter() {
                    defined
                        .entry((rank, name))
                        .or_default()
                        .push((upstream.label.as_str(), value));
                }
            }
        }
        let mut components: BTreeMap<&'static str, BTreeMap<String, Pooled>> = BTreeMap::new();
        for ((rank, name), definitions) in &defined {
            let kind = KINDS[*rank];
            let differ = definitions
                .iter()
                .any(|(_, value)| !json::same(value, definitions[0].1));
            let definers: Vec<&str> = definitions.iter().map(|(label, _)| *label).collect();
            let replacement =
                reconcile.and_then(|r| Some((r, r.components.get(&(*rank, name.to_string()))?)));
            let pooled = match replacement {
                Some((reconcile, value)) => {
                    let what = format!("`components.{kind}.{name}`");
                    notes.push(replaced_note(reconcile, &what, &definers, differ));
                    Pooled::One(value.clone())
                }
                None if differ => {
                    Pooled::Conflict(definers.iter().map(|label| label.to_string()).collect())
                }
                None => Pooled::One(definitions[0].1.clone()),
            };
            components
                .entry(kind)
                .or_default()
                .insert(name.to_string(), pooled);
        }
        // Replacements of what no document defines are not used, but said.
        if let Some(reconcile) = reconcile {
            for (rank, name) in reconcile.components.keys() {
                if !defined.contains_key(&(*rank, name.as_str())) {
                    let what = format!("`components.{}.{name}`", KINDS[*rank]);
                    notes.push(replaced_note(reconcile, &what, &[], false));
                }
            }
        }
        Pool { components }
    }

    /// The component, `None` if no document defines it, an error if they disagree on it.
    /// `at` says where it was referenced, for the error.
    fn get(&self, kind: &str, name: &str, at: &str) -> Result<Option<&Json>, String> {
        match self.components.get(kind).and_then(|named| named.get(name)) {
            None => Ok(None),
            Some(Pooled::One(value)) => Ok(Some(value)),
            Some(Pooled::Conflict(files)) => {
                let files: Vec<&str> = files.iter().map(String::as_str).collect();
                Err(format!(
                    "`components.{kind}.{name}` (needed at {at}) is defined differently in {}: \
                     {HOW_TO_RECONCILE}",
                    list_files(&files)
                ))
            }
        }
    }
}

/// A `$ref` found in the document, and where.
struct Ref {
    target: String,
    at: String,
}

/// The components reachable from `doc` (everything but its `components`) and from `seeds`:
/// every `$ref` into `#/components/`, transitively, and the security schemes the security
/// requirements name. Each component is taken from `patched` if it has it, from the pool
/// otherwise. With `strict` (the files to name in messages), a reference that cannot be followed
/// is an error; without, it is skipped. A component the documents disagree on is an error either
/// way.
fn closure(
    doc: &Json,
    patched: Option<&Object>,
    pool: &Pool,
    seeds: &[(&'static str, String)],
    strict: Option<&str>,
) -> Result<BTreeMap<&'static str, BTreeMap<String, Json>>, String> {
    let lookup = |kind: &str, name: &str, at: &str| -> Result<Option<Json>, String> {
        let mine = patched
            .and_then(|components| components.get(kind))
            .and_then(Json::as_object)
            .and_then(|named| named.get(name));
        match mine {
            Some(component) => Ok(Some(component.clone())),
            None => Ok(pool.get(kind, name, at)?.cloned()),
        }
    };

    let mut found: BTreeMap<&'static str, BTreeMap<String, Json>> = BTreeMap::new();
    let mut queue = VecDeque::new();
    if let Some(root) = doc.as_object() {
        for (key, value) in root.iter().filter(|(key, _)| *key != "components") {
            let mut at = format!("/{}", json::escape(key));
            collect_refs(value, &mut at, &mut queue);
        }
    }
    for (kind, name) in seeds {
        queue.push_back(Ref {
            target: format!("#/components/{kind}/{}", json::escape(name)),
            at: "the overlay".into(),
        });
    }

    for (name, at) in security_scheme_names(doc) {
        match lookup(SECURITY_SCHEMES, &name, &at)? {
            Some(scheme) => {
                let mut here = format!("/components/{SECURITY_SCHEMES}/{}", json::escape(&name));
                collect_refs(&scheme, &mut here, &mut queue);
                found
                    .entry(SECURITY_SCHEMES)
                    .or_default()
                    .insert(name, scheme);
            }
            None => {
                if let Some(files) = strict {
                    return Err(format!(
                        "{files}: the security requirement at {at} names the scheme `{name}`, \
                         but there is no `components.{SECURITY_SCHEMES}` entry `{name}`"
                    ));
                }
            }
        }
    }

    // The walk itself is the reader's (build/spec.rs, `reference_closure`), the generator's too.
    let start = queue.into_iter().map(|Ref { target, at }| (target, at));
    spec_reader::reference_closure(
        start,
        &mut |kind, name, at| {
            // Not a kind of component at all: `unfollowed` says so.
            let Some(kind) = KINDS.iter().find(|k| **k == kind) else {
                return Ok(None);
            };
            if found
                .get(kind)
                .is_some_and(|named| named.contains_key(name))
            {
                return Ok(Some(Vec::new()));
            }
            Ok(match lookup(kind, name, at)? {
                Some(component) => {
                    let mut refs = VecDeque::new();
                    let mut here = format!("/components/{kind}/{}", json::escape(name));
                    collect_refs(&component, &mut here, &mut refs);
                    found
                        .entry(kind)
                        .or_default()
                        .insert(name.to_string(), component);
                    Some(
                        refs.into_iter()
                            .map(|Ref { target, at }| (target, at))
                            .collect(),
                    )
                }
                None => None,
            })
        },
        &mut |target, at, why| {
            let Some(files) = strict else {
                return Ok(());
            };
            Err(match why {
                Unfollowed::Missing { kind, name } if KINDS.contains(&kind) => format!(
                    "{files}: dangling `$ref: {target}` at {at}: there is no \
                     `components.{kind}` entry `{name}`"
                ),
                _ => format!(
                    "{files}: `$ref: {target}` at {at} is not supported: only local references \
                     into `#/components/<kind>/<name>` are"
                ),
            })
        },
    )?;
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
    fn component_ref_reads_kind_and_unescaped_name() {
        use crate::spec_reader::component_ref;
        assert_eq!(
            component_ref("#/components/schemas/a~1b~0c/properties/x"),
            Some(("schemas", "a/b~c".to_string()))
        );
        // Read, and refused by the refresh: not a kind of OpenAPI 3.0 component.
        assert_eq!(
            component_ref("#/components/widgets/a"),
            Some(("widgets", "a".to_string()))
        );
        assert!(!KINDS.contains(&"widgets"));
        assert_eq!(component_ref("#/components/schemas/"), None);
        assert_eq!(component_ref("other.json#/components/schemas/a"), None);
        assert_eq!(component_ref("#/paths/~1a"), None);
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
