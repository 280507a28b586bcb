//! The table of operations (method, path, idempotency) and every bound that applies to what a
//! request sends: path and query parameters and the JSON body. The table is rendered as
//! `operations.rs` in `OUT_DIR` (one `static` per operation, for the transport); the bounds become
//! typed checks in the generated code (build/checks.rs, build/generate.rs), applied by
//! src/validate.rs before any network I/O. Changing a bound in `spec/` changes the check; nothing
//! here is written per endpoint.

use serde_json::Value;

use crate::spec::{list, resolve, walk};

#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Range { min: Option<f64>, max: Option<f64> },
    Length { min: Option<u64>, max: Option<u64> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Dotted path of the field (`zone_defaults.soa.refresh`); `[]` stands for any array item.
    pub field: String,
    pub check: Check,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OperationRules {
    pub operation_id: String,
    pub upstream_operation_id: String,
    pub method: String,
    pub path_template: String,
    /// Sending it twice has the effect of sending it once: it may be retried after a failure
    /// that it may have reached the server (see `idempotent`).
    pub idempotent: bool,
    pub path: Vec<Rule>,
    pub query: Vec<Rule>,
    pub body: Vec<Rule>,
}

/// Whether an operation may be sent again when it may already have been applied: the spec's
/// `x-idempotent: true|false` when it says, else by method. GET, HEAD, OPTIONS, PUT and DELETE
/// are idempotent by HTTP's definition; PATCH is too here, because every PATCH of this API sets
/// fields to the values sent (sending it twice leaves the same state). POST creates: not.
fn idempotent(method: &str, op: &Value) -> bool {
    op.get("x-idempotent")
        .and_then(Value::as_bool)
        .unwrap_or(matches!(
            method,
            "get" | "head" | "options" | "put" | "delete" | "patch"
        ))
}

pub fn extract(spec: &Value) -> Result<Vec<OperationRules>, String> {
    let mut out = Vec::new();
    let paths = spec.get("paths").and_then(Value::as_object);
    for (path, item) in paths.ok_or("no `paths` object")? {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let upstream = op.get("x-upstream-operation-id").and_then(Value::as_str);
            let mut rules = OperationRules {
                operation_id: id.to_string(),
                upstream_operation_id: upstream.unwrap_or(id).to_string(),
                method: method.to_uppercase(),
                path_template: path.clone(),
                idempotent: idempotent(method, op),
                path: Vec::new(),
                query: Vec::new(),
                body: Vec::new(),
            };
            for param in list(item, "parameters").chain(list(op, "parameters")) {
                let param = resolve(param, spec)?;
                let target = match param.get("in").and_then(Value::as_str) {
                    Some("path") => &mut rules.path,
                    Some("query") => &mut rules.query,
                    _ => continue,
                };
                if let (Some(name), Some(schema)) = (param["name"].as_str(), param.get("schema")) {
                    bounds(schema, name, spec, target)?;
                }
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                bounds(schema, "", spec, &mut rules.body)?;
            }
            out.push(rules);
        }
    }
    Ok(out)
}

/// The bounds in `schema` and every schema below it, by dotted path (`[]` for array items).
fn bounds(schema: &Value, field: &str, spec: &Value, out: &mut Vec<Rule>) -> Result<(), String> {
    walk(schema, spec, field, &mut |field, _, schema| {
        let num = |k: &str| schema.get(k).and_then(Value::as_f64);
        let int = |k: &str| schema.get(k).and_then(Value::as_u64);
        let mut checks = Vec::new();
        if num("minimum").is_some() || num("maximum").is_some() {
            checks.push(Check::Range {
                min: num("minimum"),
                max: num("maximum"),
            });
        }
        if int("minLength").is_some() || int("maxLength").is_some() {
            checks.push(Check::Length {
                min: int("minLength"),
                max: int("maxLength"),
            });
        }
        for check in checks {
            let rule = Rule {
                field: field.to_string(),
                check,
            };
            if !out.contains(&rule) {
                out.push(rule);
            }
        }
        true
    })
}

/// Renders the table as Rust source, one `static` per operation named for its method
/// (`ACCOUNT_EDIT`), for the generated operations to pass to the transport. (The checks are
/// generated as typed code: build/checks.rs and build/generate.rs.)
pub fn render(operations: &[OperationRules]) -> String {
    let mut s =
        String::from("// Generated by build.rs from spec/dns_settings.json. Do not edit.\n");
    for op in operations {
        s.push_str(&format!(
            "pub(crate) static {}: Operation = Operation {{\n    id: {:?},\n    method: {:?},\n    path: {:?},\n    idempotent: {},\n}};\n",
            static_name(&op.operation_id),
            op.operation_id,
            op.method,
            op.path_template,
            op.idempotent,
        ));
    }
    s
}

/// The name of an operation's `static` in the rendered table.
pub fn static_name(operation_id: &str) -> String {
    operation_id.to_ascii_uppercase()
}
