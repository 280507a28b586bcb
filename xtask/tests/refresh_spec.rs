//! `refresh-spec` end to end, through the binary: on a cut of the real upstream file, on the
//! vendored upstream fragments (reproducing `spec/dns_settings.json`), and on small bad inputs.
//! Every input is inside the repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// The repository root (xtask's parent).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("refresh-spec")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `xtask refresh-spec` from the repository root with `--upstream`, `--operations`, `--out`
/// and `--overlay`, in that order, for as many `args` as given.
fn refresh_spec(args: &[&Path], flags: &[&str]) -> Output {
    let names = ["--upstream", "--operations", "--out", "--overlay"];
    let named: Vec<(&str, &Path)> = names.iter().copied().zip(args.iter().copied()).collect();
    xtask(&named, flags)
}

/// Runs `xtask refresh-spec` from the repository root with each `(--flag, file)`, with backtraces
/// on so that a panic would show.
fn xtask(named: &[(&str, &Path)], flags: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .current_dir(root())
        .env("RUST_BACKTRACE", "1")
        .arg("refresh-spec");
    for (name, path) in named {
        command.arg(name).arg(path);
    }
    command.args(flags);
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The operationIds of `spec/operations.txt`.
fn listed_operations() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("spec/operations.txt")).unwrap();
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `(operationId, path, method)` of every operation of a document.
fn operations(doc: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                out.insert((id.to_string(), path.clone(), method.clone()));
            }
        }
    }
    out
}

/// Every `$ref` string under `node`.
fn refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// `#/components/<kind>/<name>` of every component reachable from the paths and the security
/// requirements.
fn reachable_components(doc: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    refs(&doc["paths"], &mut todo);
    let mut requirements: Vec<&Value> = doc["security"].as_array().into_iter().flatten().collect();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            requirements.extend(
                op.get("security")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        }
    }
    for requirement in requirements {
        for name in requirement.as_object().unwrap().keys() {
            todo.push(format!("#/components/securitySchemes/{name}"));
        }
    }
    while let Some(target) = todo.pop() {
        let component: Vec<&str> = target.splitn(5, '/').take(4).collect();
        let component = component.join("/");
        if seen.insert(component.clone()) {
            refs(&doc.pointer(&component[1..]).unwrap().clone(), &mut todo);
        }
    }
    seen
}

/// A cut of Cloudflare's whole official OpenAPI file of 2024-08-06 (37 KB of its 4 MB, every
/// kept member verbatim); `fixtures/README.md` says how it was cut and what it holds.
const CUT_2024: &str = "xtask/tests/fixtures/openapi-2024-08-06-cut.json";

/// The operations of the cut that the test selects: `(operationId, path, method)`.
const SELECTED_2024: [(&str, &str, &str); 6] = [
    (
        "dns-settings-for-an-account-list-dns-settings",
        "/accounts/{account_id}/dns_settings",
        "get",
    ),
    (
        "dns-settings-for-an-account-update-dns-settings",
        "/accounts/{account_id}/dns_settings",
        "patch",
    ),
    (
        "dns-settings-for-a-zone-list-dns-settings",
        "/zones/{zone_id}/dns_settings",
        "get",
    ),
    (
        "dns-settings-for-a-zone-update-dns-settings",
        "/zones/{zone_id}/dns_settings",
        "patch",
    ),
    // A path with its own `parameters`, a `$ref` into `components.parameters`.
    (
        "api-shield-schema-validation-retrieve-zone-level-settings",
        "/zones/{zone_id}/api_gateway/settings/schema_validation",
        "get",
    ),
    (
        "api-shield-schema-validation-patch-zone-level-settings",
        "/zones/{zone_id}/api_gateway/settings/schema_validation",
        "patch",
    ),
];

/// What the cut holds that the selected operations do not reach: none of it may be copied.
const DECOY_OPERATIONS_2024: [&str; 2] = [
    // The same path as two selected operations.
    "api-shield-schema-validation-update-zone-level-settings",
    // Another path, with path-level parameters of its own.
    "api-shield-schema-delete-a-schema",
];
const DECOY_COMPONENTS_2024: [&str; 7] = [
    "#/components/schemas/dns-records_identifier",
    "#/components/schemas/api-shield_zone_schema_validation_settings_put",
    "#/components/parameters/api-shield_page",
    "#/components/parameters/api-shield_schema_id",
    "#/components/responses/rulesets_Empty",
    "#/components/requestBodies/workers_version-post",
    "#/components/examples/cache_origin_max_http_version_2",
];

#[test]
fn extracts_operations_from_a_cut_of_the_whole_2024_upstream_file() {
    let upstream_path = root().join(CUT_2024);
    let upstream: Value =
        serde_json::from_str(&std::fs::read_to_string(&upstream_path).unwrap()).unwrap();
    let selected: BTreeSet<(String, String, String)> = SELECTED_2024
        .iter()
        .map(|(id, path, method)| (id.to_string(), path.to_string(), method.to_string()))
        .collect();
    // The cut is what the test says it is: every selected operation and every decoy is in it.
    let in_cut = operations(&upstream);
    assert!(selected.is_subset(&in_cut), "{in_cut:?}");
    for decoy in DECOY_OPERATIONS_2024 {
        assert!(in_cut.iter().any(|(id, _, _)| id == decoy), "{decoy}");
    }
    for decoy in DECOY_COMPONENTS_2024 {
        assert!(upstream.pointer(&decoy[1..]).is_some(), "{decoy}");
    }
    // The four DNS-settings operations are ones this crate lists.
    for (id, _, _) in &SELECTED_2024[..4] {
        assert!(listed_operations().iter().any(|l| l == id), "{id}");
    }

    let dir = scratch("upstream_2024");
    let ops = dir.join("operations.txt");
    let ids: Vec<&str> = SELECTED_2024.iter().map(|(id, _, _)| *id).collect();
    std::fs::write(&ops, format!("# selected\n{}\n", ids.join("\n"))).unwrap();
    let (first, second) = (dir.join("first.json"), dir.join("second.json"));
    for out in [&first, &second] {
        let run = refresh_spec(&[&upstream_path, &ops, out], &[]);
        assert!(run.status.success(), "{}", stderr(&run));
    }

    // Determinism: the same input gives the same bytes.
    let text = std::fs::read_to_string(&first).unwrap();
    assert_eq!(text, std::fs::read_to_string(&second).unwrap());
    assert!(text.ends_with("}\n") && text.contains("\n  \"paths\": {\n"));

    let doc: Value = serde_json::from_str(&text).unwrap();
    // Exactly those operations, each under its upstream path and method.
    assert_eq!(operations(&doc), selected);
    // A path's own `parameters` come along, and what they reference.
    let gateway = "/zones/{zone_id}/api_gateway/settings/schema_validation";
    assert!(doc["paths"][gateway]["parameters"].is_array());
    assert_eq!(
        doc["paths"][gateway]["parameters"],
        upstream["paths"][gateway]["parameters"]
    );
    assert!(
        doc.pointer("/components/parameters/api-shield_zone_id")
            .is_some()
    );
    // No decoy.
    for decoy in DECOY_COMPONENTS_2024 {
        assert!(doc.pointer(&decoy[1..]).is_none(), "{decoy} was copied");
    }
    for key in ["openapi", "info", "servers", "security"] {
        assert_eq!(doc[key], upstream[key], "{key}");
    }
    // Top-level fields in the fixed order (upstream's 2024 file has them sorted by name).
    let positions: Vec<usize> = [
        "openapi",
        "info",
        "servers",
        "security",
        "paths",
        "components",
    ]
    .iter()
    .map(|key| text.find(&format!("\n  \"{key}\": ")).unwrap())
    .collect();
    assert!(positions.is_sorted(), "{positions:?}");

    // Closure: every `$ref` resolves inside the output, and the components are exactly the ones
    // reachable from the operations (each one verbatim from upstream).
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for target in &all {
        assert!(
            doc.pointer(target.strip_prefix('#').unwrap()).is_some(),
            "`{target}` does not resolve in the output"
        );
    }
    let mut present = BTreeSet::new();
    for (kind, named) in doc["components"].as_object().unwrap() {
        for (name, value) in named.as_object().unwrap() {
            assert_eq!(value, &upstream["components"][kind][name], "{kind}/{name}");
            present.insert(format!("#/components/{kind}/{name}"));
        }
    }
    assert_eq!(present, reachable_components(&doc));

    // progenitor generates a client from it.
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text).unwrap();
    let mut generator = progenitor::Generator::new(&progenitor::GenerationSettings::default());
    let tokens = generator.generate_tokens(&spec);
    assert!(tokens.is_ok(), "progenitor: {}", tokens.unwrap_err());
}

/// The vendored upstream documents, in the order `.ci/run` and `spec/README.md` give them.
const VENDORED: [&str; 3] = [
    "spec/upstream/dns_settings_fragment.json",
    "spec/upstream/nameserver_sets_fragment.json",
    "spec/upstream/zones_fragment.json",
];

#[test]
fn vendored_upstreams_with_reconcile_and_overlay_reproduce_the_spec() {
    let dir = scratch("reproduce");
    let out = dir.join("dns_settings.json");
    let mut named: Vec<(&str, &Path)> = VENDORED
        .iter()
        .map(|path| ("--upstream", Path::new(path)))
        .collect();
    named.extend([
        ("--operations", Path::new("spec/operations.txt")),
        ("--reconcile", Path::new("spec/reconcile.json")),
        ("--overlay", Path::new("spec/overlay.json")),
        ("--out", out.as_path()),
    ]);
    let run = xtask(&named, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    // Byte for byte: the key order and the formatting are part of the tool's output.
    let made = std::fs::read_to_string(&out).unwrap();
    let spec = std::fs::read_to_string(root().join("spec/dns_settings.json")).unwrap();
    assert!(
        made == spec,
        "the refresh of spec/upstream/ is not spec/dns_settings.json; compare {} with it",
        out.display()
    );

    // Each replacement of spec/reconcile.json reconciles a real conflict (spec/README.md says
    // how and why); none is left over.
    let notes = notes(&run);
    for name in [
        "dns-settings_api-response-collection",
        "dns-settings_page",
        "dns-settings_per_page",
    ] {
        let expected = format!(
            "note: `components.schemas.{name}` is defined differently in {} and {}: \
             spec/reconcile.json replaces `components.schemas.{name}` whole",
            VENDORED[0], VENDORED[1]
        );
        assert!(notes.contains(&expected), "{expected}\nnot in {notes:#?}");
    }
    let reconciliations = notes
        .iter()
        .filter(|n| n.contains("spec/reconcile.json"))
        .count();
    assert_eq!(reconciliations, 3, "{notes:#?}");

    // Without the reconciliation, the vendored documents conflict.
    named.retain(|(flag, _)| *flag != "--reconcile");
    assert_error(
        &xtask(&named, &[]),
        &["is defined differently in", VENDORED[0], VENDORED[1]],
    );
}

/// A small upstream document: one operation whose response refers to `schema_ref`.
fn tiny_upstream(openapi: Value, schema_ref: &str) -> Value {
    json!({
        "openapi": openapi,
        "info": { "title": "t", "version": "1" },
        "security": [{ "token": [] }],
        "paths": {
            "/things/{id}": {
                "parameters": [{ "$ref": "#/components/parameters/id" }],
                "patch": {
                    "operationId": "edit-thing",
                    "responses": { "200": { "$ref": "#/components/responses/ok" } }
                },
                "get": {
                    "operationId": "get-thing",
                    "responses": { "200": { "description": "ok", "content": {
                        "application/json": { "schema": { "$ref": schema_ref } }
                    } } }
                }
            },
            "/others": { "get": { "operationId": "other", "responses": {} } }
        },
        "components": {
            "schemas": {
                "zeta": { "type": "object", "properties": { "a": { "$ref": "#/components/schemas/alpha" } } },
                "alpha": { "type": "string", "description": "kept in upstream's key order" },
                "unused": { "type": "integer" }
            },
            "parameters": { "id": { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } },
            "responses": { "ok": { "description": "ok" } },
            "securitySchemes": {
                "token": { "type": "http", "scheme": "bearer" },
                "other": { "type": "http", "scheme": "basic" }
            }
        }
    })
}

struct Case {
    dir: PathBuf,
    upstream: PathBuf,
    operations: PathBuf,
    out: PathBuf,
}

fn new_case(test: &str, upstream: &str, operations: &str) -> Case {
    let dir = scratch(test);
    let case = Case {
        upstream: dir.join("upstream.json"),
        operations: dir.join("operations.txt"),
        out: dir.join("out.json"),
        dir,
    };
    std::fs::write(&case.upstream, upstream).unwrap();
    std::fs::write(&case.operations, operations).unwrap();
    case
}

fn run_case(case: &Case, overlay: Option<&Value>) -> Output {
    let mut args = vec![case.upstream.as_path(), &case.operations, &case.out];
    let overlay_path = case.dir.join("overlay.json");
    if let Some(overlay) = overlay {
        std::fs::write(&overlay_path, overlay.to_string()).unwrap();
        args.push(&overlay_path);
    }
    refresh_spec(&args, &[])
}

/// Fails with exit code 2 and a one-line message containing every `needle`; never a panic.
fn assert_error(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }
}

#[test]
fn small_document_keeps_order_and_takes_only_what_is_referenced() {
    // `json!` sorts keys: put `type` before `description` by hand, to see that order kept.
    let upstream = tiny_upstream(json!("3.0.3"), "#/components/schemas/zeta").to_string();
    let sorted = r#"{"description":"kept in upstream's key order","type":"string"}"#;
    assert!(upstream.contains(sorted));
    let upstream = upstream.replace(
        sorted,
        r#"{"type":"string","description":"kept in upstream's key order"}"#,
    );
    let case = new_case("small", &upstream, "get-thing\nedit-thing\n");
    let run = run_case(&case, None);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = std::fs::read_to_string(&case.out).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();

    // The path's own `parameters` first, then the methods in the fixed order (get before patch).
    let item = text.find("\"/things/{id}\"").unwrap();
    let order: Vec<usize> = ["\"parameters\"", "\"get\"", "\"patch\""]
        .iter()
        .map(|k| item + text[item..].find(k).unwrap())
        .collect();
    assert!(order.is_sorted(), "{text}");
    assert!(doc["paths"].get("/others").is_none());
    // Names sorted; inside each object upstream's order (`type` before `description`).
    let schemas: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(schemas, ["alpha", "zeta"]);
    assert!(
        text.contains("\"type\": \"string\",\n        \"description\""),
        "{text}"
    );
    assert_eq!(doc["components"]["parameters"]["id"]["name"], "id");
    assert_eq!(doc["components"]["responses"]["ok"]["description"], "ok");
    let schemes: Vec<&String> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(schemes, ["token"]);
    assert_eq!(doc["components"].as_object().unwrap().len(), 4);
    let kinds: Vec<usize> = ["schemas", "responses", "parameters", "securitySchemes"]
        .iter()
        .map(|kind| text.find(&format!("\n    \"{kind}\": {{")).unwrap())
        .collect();
    assert!(kinds.is_sorted(), "{text}");
}

#[test]
fn overlay_patches_pulls_in_and_prunes() {
    let upstream = tiny_upstream(json!("3.0.3"), "#/components/schemas/zeta");
    let case = new_case("overlay", &upstream.to_string(), "get-thing\n");
    // Replace zeta's reference to alpha by one to `unused`, which comes in from upstream; alpha
    // is then referenced by nothing and goes.
    let overlay = json!({
        "info": { "title": "ours", "x-note": "added" },
        "components": { "schemas": { "zeta": { "properties": {
            "a": { "$ref": "#/components/schemas/unused" }
        } } } }
    });
    let run = run_case(&case, Some(&overlay));
    assert!(run.status.success(), "{}", stderr(&run));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&case.out).unwrap()).unwrap();
    assert_eq!(
        doc["info"],
        json!({ "title": "ours", "version": "1", "x-note": "added" })
    );
    let schemas: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(schemas, ["unused", "zeta"]);

    // An overlay that patches something the result does not keep says so.
    let overlay = json!({ "components": { "schemas": { "renamed": { "title": "x" } } } });
    let run = run_case(&case, Some(&overlay));
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("`components.schemas.renamed`"),
        "{}",
        stderr(&run)
    );

    // An overlay that is not an object is refused.
    let run = run_case(&case, Some(&json!([1])));
    assert_error(&run, &["overlay.json", "must be a JSON object"]);
}

#[test]
fn missing_operation_id_is_a_clear_error() {
    let upstream = tiny_upstream(json!("3.0.3"), "#/components/schemas/zeta");
    let case = new_case(
        "missing_operation",
        &upstream.to_string(),
        "get-thing\n# gone\nno-such-op\n",
    );
    assert_error(
        &run_case(&case, None),
        &[
            "`no-such-op` (",
            "operations.txt:3)",
            "upstream.json",
            "operations.txt",
        ],
    );
    assert!(!case.out.exists());
}

#[test]
fn dangling_ref_is_a_clear_error() {
    let upstream = tiny_upstream(json!("3.0.3"), "#/components/schemas/nowhere");
    let case = new_case("dangling_ref", &upstream.to_string(), "get-thing\n");
    assert_error(
        &run_case(&case, None),
        &[
            "#/components/schemas/nowhere",
            "upstream.json",
            "/paths/~1things~1{id}/get/",
        ],
    );

    // Also when the dangling one is deep inside a component.
    let mut upstream = tiny_upstream(json!("3.0.3"), "#/components/schemas/zeta");
    upstream["components"]["schemas"]["alpha"] = json!({ "$ref": "#/components/schemas/gone" });
    let case = new_case("dangling_ref_deep", &upstream.to_string(), "get-thing\n");
    assert_error(
        &run_case(&case, None),
        &["#/components/schemas/gone", "at /components/schemas/alpha"],
    );
}

#[test]
fn openapi_3_1_or_no_version_is_a_clear_error() {
    for (test, version, needle) in [
        ("openapi_3_1", json!("3.1.0"), "3.1.0"),
        ("openapi_missing", Value::Null, "no `openapi` version"),
    ] {
        let mut upstream = tiny_upstream(version, "#/components/schemas/zeta");
        if upstream["openapi"].is_null() {
            upstream.as_object_mut().unwrap().remove("openapi");
        }
        let case = new_case(test, &upstream.to_string(), "get-thing\n");
        assert_error(&run_case(&case, None), &[needle, "upstream.json"]);
    }
}

#[test]
fn unreadable_or_invalid_json_is_a_clear_error() {
    let case = new_case("invalid_json", "{\"openapi\": \"3.0.3\",", "get-thing\n");
    assert_error(
        &run_case(&case, None),
        &["upstream.json", "not valid JSON", "line 1"],
    );

    std::fs::remove_file(&case.upstream).unwrap();
    assert_error(&run_case(&case, None), &["cannot read", "upstream.json"]);

    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["refresh-spec", "--upstream", "x.json"])
        .output()
        .unwrap();
    assert_error(&run, &["--operations <file>` is required"]);

    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["refresh-spec", "--help"])
        .output()
        .unwrap();
    assert!(run.status.success());
    assert!(String::from_utf8_lossy(&run.stdout).contains("--check"));
}

#[test]
fn check_reports_a_difference_without_writing() {
    let upstream = tiny_upstream(json!("3.0.3"), "#/components/schemas/zeta");
    let case = new_case("check", &upstream.to_string(), "get-thing\n");
    let args = [case.upstream.as_path(), &case.operations, &case.out];

    let run = refresh_spec(&args, &["--check"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(!case.out.exists());

    assert!(refresh_spec(&args, &[]).status.success());
    let run = refresh_spec(&args, &["--check"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );

    let stale = std::fs::read_to_string(&case.out)
        .unwrap()
        .replace("kept in upstream's key order", "stale");
    std::fs::write(&case.out, &stale).unwrap();
    let run = refresh_spec(&args, &["--check"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("changed /components/schemas/alpha/description"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&case.out).unwrap(), stale);
}

// --- Several upstream documents ---------------------------------------------------------------

/// A second upstream document to go with [`tiny_upstream`]: a `DELETE` on its path (with the same
/// path-level `parameters`) and a path of its own. It defines `alpha`, `id`, `ok` and `token` as
/// `tiny_upstream` does, and `widget` of its own.
fn second_upstream() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": { "title": "second", "version": "2" },
        "security": [{ "token": [] }],
        "paths": {
            "/things/{id}": {
                "parameters": [{ "$ref": "#/components/parameters/id" }],
                "delete": {
                    "operationId": "delete-thing",
                    "responses": { "200": { "$ref": "#/components/responses/ok" } }
                }
            },
            "/widgets": {
                "get": {
                    "operationId": "list-widgets",
                    "responses": { "200": { "description": "ok", "content": {
                        "application/json": { "schema": { "$ref": "#/components/schemas/widget" } }
                    } } }
                }
            }
        },
        "components": {
            "schemas": {
                "widget": { "type": "object", "properties": { "name": { "$ref": "#/components/schemas/alpha" } } },
                "alpha": { "type": "string", "description": "kept in upstream's key order" }
            },
            "parameters": { "id": { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } } },
            "responses": { "ok": { "description": "ok" } },
            "securitySchemes": { "token": { "type": "http", "scheme": "bearer" } }
        }
    })
}

/// The files of a run on several upstream documents: `a.json`, `b.json`, … in a scratch folder.
struct Multi {
    dir: PathBuf,
    upstreams: Vec<PathBuf>,
    operations: PathBuf,
    out: PathBuf,
}

fn new_multi(test: &str, upstreams: &[String], operations: &str) -> Multi {
    let dir = scratch(test);
    let upstreams = upstreams
        .iter()
        .zip('a'..)
        .map(|(text, letter)| {
            let path = dir.join(format!("{letter}.json"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let operations_path = dir.join("operations.txt");
    std::fs::write(&operations_path, operations).unwrap();
    Multi {
        out: dir.join("out.json"),
        operations: operations_path,
        upstreams,
        dir,
    }
}

/// Runs the tool on every upstream of `case`, in order, with the reconciliation file and the
/// overlay when given.
fn run_multi(case: &Multi, reconcile: Option<&Value>, overlay: Option<&Value>) -> Output {
    let mut named: Vec<(&str, &Path)> = case
        .upstreams
        .iter()
        .map(|path| ("--upstream", path.as_path()))
        .collect();
    named.push(("--operations", &case.operations));
    named.push(("--out", &case.out));
    let (reconcile_path, overlay_path) = (
        case.dir.join("reconcile.json"),
        case.dir.join("overlay.json"),
    );
    if let Some(reconcile) = reconcile {
        std::fs::write(&reconcile_path, reconcile.to_string()).unwrap();
        named.push(("--reconcile", &reconcile_path));
    }
    if let Some(overlay) = overlay {
        std::fs::write(&overlay_path, overlay.to_string()).unwrap();
        named.push(("--overlay", &overlay_path));
    }
    xtask(&named, &[])
}

fn notes(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|line| line.starts_with("note: "))
        .map(str::to_string)
        .collect()
}

/// `tiny_upstream` with `alpha`'s members in upstream order (`type` first; `json!` sorts them).
fn tiny_upstream_text() -> String {
    let text = tiny_upstream(json!("3.0.3"), "#/components/schemas/zeta").to_string();
    let sorted = r#"{"description":"kept in upstream's key order","type":"string"}"#;
    assert!(text.contains(sorted));
    text.replace(
        sorted,
        r#"{"type":"string","description":"kept in upstream's key order"}"#,
    )
}

#[test]
fn operations_come_from_every_upstream_and_identical_components_merge_silently() {
    // Both define `alpha`, `id`, `ok` and `token` identically (`alpha` in another member order),
    // and the operations of the shared path come from both.
    let ops = "get-thing\ndelete-thing\nlist-widgets\n";
    let case = new_multi(
        "multi_merge",
        &[tiny_upstream_text(), second_upstream().to_string()],
        ops,
    );
    let run = run_multi(&case, None, None);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(notes(&run), Vec::<String>::new(), "{}", stderr(&run));
    let text = std::fs::read_to_string(&case.out).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let found: Vec<(String, String, String)> = operations(&doc).into_iter().collect();
    let expected = [
        ("delete-thing", "/things/{id}", "delete"),
        ("get-thing", "/things/{id}", "get"),
        ("list-widgets", "/widgets", "get"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(found, expected);
    // One path item: its own `parameters`, then `get` before `delete`.
    let item = text.find("\"/things/{id}\"").unwrap();
    let order: Vec<usize> = ["\"parameters\"", "\"get\"", "\"delete\""]
        .iter()
        .map(|k| item + text[item..].find(k).unwrap())
        .collect();
    assert!(order.is_sorted(), "{text}");
    let schemas: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(schemas, ["alpha", "widget", "zeta"]);
    // `openapi` and `info` from the first document; a shared component in its member order.
    assert_eq!(doc["info"]["title"], "t");
    assert!(
        text.contains("\"type\": \"string\",\n        \"description\""),
        "{text}"
    );

    // The other way round: the same content, `info` and `alpha`'s order from the second.
    let case = new_multi(
        "multi_merge_swapped",
        &[second_upstream().to_string(), tiny_upstream_text()],
        ops,
    );
    let run = run_multi(&case, None, None);
    assert!(run.status.success(), "{}", stderr(&run));
    let swapped = std::fs::read_to_string(&case.out).unwrap();
    let other: Value = serde_json::from_str(&swapped).unwrap();
    assert_eq!(other["info"]["title"], "second");
    assert_eq!(other["paths"], doc["paths"]);
    assert_eq!(other["components"], doc["components"]);
    assert!(
        swapped.contains("\"description\": \"kept in upstream's key order\",\n        \"type\""),
        "{swapped}"
    );
}

#[test]
fn a_component_two_upstreams_define_differently_is_an_error_naming_it_and_both_files() {
    for (kind, name, change) in [
        ("schemas", "alpha", json!({ "type": "integer" })),
        ("parameters", "id", json!({ "description": "the thing" })),
        ("responses", "ok", json!({ "description": "fine" })),
        (
            "securitySchemes",
            "token",
            json!({ "bearerFormat": "opaque" }),
        ),
    ] {
        let mut second = second_upstream();
        let target = second["components"][kind][name].as_object_mut().unwrap();
        for (key, value) in change.as_object().unwrap() {
            target.insert(key.clone(), value.clone());
        }
        let case = new_multi(
            &format!("multi_conflict_{name}"),
            &[tiny_upstream_text(), second.to_string()],
            "get-thing\nedit-thing\nlist-widgets\n",
        );
        let run = run_multi(&case, None, None);
        assert_error(
            &run,
            &[
                &format!("`components.{kind}.{name}`"),
                "is defined differently in",
                &case.upstreams[0].display().to_string(),
                &case.upstreams[1].display().to_string(),
                "--reconcile",
            ],
        );
        assert!(!case.out.exists());
    }

    // A difference in a component the output does not need is not an error: nothing is picked.
    let mut second = second_upstream();
    second["components"]["schemas"]["zeta"] = json!({ "type": "boolean" });
    let case = new_multi(
        "multi_conflict_unused",
        &[tiny_upstream_text(), second.to_string()],
        "edit-thing\nlist-widgets\n",
    );
    let run = run_multi(&case, None, None);
    assert!(run.status.success(), "{}", stderr(&run));
    // Needed, it is.
    std::fs::write(&case.operations, "get-thing\n").unwrap();
    assert_error(
        &run_multi(&case, None, None),
        &["`components.schemas.zeta`", "b.json"],
    );

    // Top-level `servers` and `security` must agree too.
    let mut second = second_upstream();
    second["security"] = json!([{ "token": [] }, {}]);
    let case = new_multi(
        "multi_conflict_security",
        &[tiny_upstream_text(), second.to_string()],
        "get-thing\n",
    );
    assert_error(
        &run_multi(&case, None, None),
        &["`security` is defined differently", "a.json and ", "b.json"],
    );
}

#[test]
fn a_reconciled_component_is_replaced_whole_with_a_note() {
    let mut second = second_upstream();
    second["components"]["schemas"]["alpha"] = json!({ "type": "integer", "description": "n" });
    second["security"] = json!([{ "token": [] }, {}]);
    let case = new_multi(
        "multi_reconciled",
        &[tiny_upstream_text(), second.to_string()],
        "get-thing\nlist-widgets\n",
    );
    // The replacement is complete: it has no `description`, and the result has none.
    let reconcile = json!({
        "security": [{ "token": [] }],
        "components": { "schemas": {
            "alpha": { "type": "string", "minLength": 1 },
            // Only b.json defines `widget`: its replacement is said to be needless, and applies.
            "widget": { "type": "object" },
            "nowhere": { "type": "object" }
        } }
    });
    let run = run_multi(&case, Some(&reconcile), None);
    assert!(run.status.success(), "{}", stderr(&run));
    let notes = notes(&run);
    let reconciled: Vec<&String> = notes
        .iter()
        .filter(|n| n.contains("is defined differently in"))
        .collect();
    assert_eq!(reconciled.len(), 2, "{notes:#?}");
    assert!(
        reconciled
            .iter()
            .any(|n| n.contains("`components.schemas.alpha`")
                && n.contains("a.json and ")
                && n.contains("b.json")
                && n.contains("reconcile.json replaces")),
        "{notes:#?}"
    );
    assert!(
        reconciled.iter().any(|n| n.contains("`security`")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`components.schemas.widget`") && n.contains("only")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`components.schemas.nowhere`") && n.contains("no upstream")),
        "{notes:#?}"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&case.out).unwrap()).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["alpha"],
        json!({ "type": "string", "minLength": 1 })
    );
    assert_eq!(
        doc["components"]["schemas"]["widget"],
        json!({ "type": "object" })
    );
    assert!(doc["components"]["schemas"].get("nowhere").is_none());
    assert_eq!(doc["security"], json!([{ "token": [] }]));

    // The overlay still applies on top of a replacement.
    let overlay = json!({ "components": { "schemas": { "alpha": { "maxLength": 9 } } } });
    let run = run_multi(&case, Some(&reconcile), Some(&overlay));
    assert!(run.status.success(), "{}", stderr(&run));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&case.out).unwrap()).unwrap();
    assert_eq!(
        doc["components"]["schemas"]["alpha"],
        json!({ "type": "string", "minLength": 1, "maxLength": 9 })
    );

    // An overlay that patches a conflicting component does not reconcile it.
    let overlay = json!({ "components": { "schemas": { "alpha": { "type": "string" } } } });
    let reconcile = json!({ "security": [{ "token": [] }] });
    assert_error(
        &run_multi(&case, Some(&reconcile), Some(&overlay)),
        &["`components.schemas.alpha`", "defined differently"],
    );

    // A reconciliation file holds complete replacements of those parts only.
    for (bad, needle) in [
        (json!({ "paths": {} }), "`paths` cannot be reconciled"),
        (
            json!({ "components": { "widgets": {} } }),
            "`components.widgets`",
        ),
        (
            json!({ "components": { "schemas": { "alpha": "string" } } }),
            "must be the complete component",
        ),
        (json!([]), "must be a JSON object"),
    ] {
        assert_error(
            &run_multi(&case, Some(&bad), None),
            &["reconcile.json", needle],
        );
    }
}

#[test]
fn the_same_operation_id_in_two_upstreams_is_an_error_naming_both_files() {
    let mut second = second_upstream();
    second["paths"]["/widgets"]["get"]["operationId"] = json!("get-thing");
    let case = new_multi(
        "multi_same_operation",
        &[tiny_upstream_text(), second.to_string()],
        "edit-thing\nget-thing\n",
    );
    assert_error(
        &run_multi(&case, None, None),
        &[
            "`get-thing` (",
            "operations.txt:2)",
            "more than one upstream document",
            "a.json (GET /things/{id})",
            "b.json (GET /widgets)",
        ],
    );
    assert!(!case.out.exists());

    // One missing from all of them names every file.
    let case = new_multi(
        "multi_missing_operation",
        &[tiny_upstream_text(), second_upstream().to_string()],
        "nowhere\n",
    );
    assert_error(
        &run_multi(&case, None, None),
        &["`nowhere` (", "a.json + ", "b.json"],
    );
}

#[test]
fn a_path_with_operations_in_two_upstreams_must_have_the_same_own_fields() {
    let mut second = second_upstream();
    second["paths"]["/things/{id}"]["summary"] = json!("things");
    let case = new_multi(
        "multi_path_fields",
        &[tiny_upstream_text(), second.to_string()],
        "get-thing\ndelete-thing\n",
    );
    assert_error(
        &run_multi(&case, None, None),
        &["path `/things/{id}`", "a.json", "b.json", "differ"],
    );
}
