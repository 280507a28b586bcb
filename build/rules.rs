//! Extracts, from the spec, every bound and enum that applies to what a request sends: path and
//! query parameters and the JSON body. build.rs renders them as a static table (`rules.rs` in
//! `OUT_DIR`) that src/validate.rs checks before any network I/O. Changing a bound in `spec/`
//! changes the check; nothing here is written per endpoint.

use serde_json::Value;

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

/// `$ref` chains deeper than this are taken as a cycle in the spec.
const MAX_DEPTH: usize = 32;

pub fn extract(spec: &Value) -> Result<Vec<OperationRules>, String> {
    let mut out = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return Err("no `paths` object".into());
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared_params = item.get("parameters").and_then(Value::as_array);
        for (method, op) in item {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let upstream = op
                .get("x-upstream-operation-id")
                .and_then(Value::as_str)
                .unwrap_or(id);
            let mut rules = OperationRules {
                operation_id: id.to_string(),
                upstream_operation_id: upstream.to_string(),
                method: method.to_uppercase(),
                path_template: path.clone(),
                idempotent: idempotent(method, op),
                path: Vec::new(),
                query: Vec::new(),
                body: Vec::new(),
            };
            let params = shared_params.into_iter().flatten().chain(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
            for param in params {
                let param = resolve(param, spec, 0)?;
                let (Some(name), Some(place)) = (
                    param.get("name").and_then(Value::as_str),
                    param.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let target = match place {
                    "path" => &mut rules.path,
                    "query" => &mut rules.query,
                    _ => continue,
                };
                if let Some(schema) = param.get("schema") {
                    walk(schema, name, spec, target, 0)?;
                }
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                walk(schema, "", spec, &mut rules.body, 0)?;
            }
            out.push(rules);
        }
    }
    Ok(out)
}

fn resolve<'a>(node: &'a Value, spec: &'a Value, depth: usize) -> Result<&'a Value, String> {
    match node.get("$ref").and_then(Value::as_str) {
        None => Ok(node),
        Some(_) if depth > MAX_DEPTH => Err("a `$ref` chain is too deep (a cycle?)".into()),
        Some(r) => {
            let target = r
                .strip_prefix('#')
                .and_then(|pointer| spec.pointer(pointer))
                .ok_or_else(|| format!("`$ref: {r}` points at nothing"))?;
            resolve(target, spec, depth + 1)
        }
    }
}

fn walk(
    schema: &Value,
    field: &str,
    spec: &Value,
    out: &mut Vec<Rule>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("schema of `{field}` nests too deeply (a cycle?)"));
    }
    let schema = resolve(schema, spec, 0)?;
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    let int = |k: &str| schema.get(k).and_then(Value::as_u64);
    if num("minimum").is_some() || num("maximum").is_some() {
        add(
            out,
            field,
            Check::Range {
                min: num("minimum"),
                max: num("maximum"),
            },
        );
    }
    if int("minLength").is_some() || int("maxLength").is_some() {
        add(
            out,
            field,
            Check::Length {
                min: int("minLength"),
                max: int("maxLength"),
            },
        );
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for part in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(part, field, spec, out, depth + 1)?;
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let child = if field.is_empty() {
                name.clone()
            } else {
                format!("{field}.{name}")
            };
            walk(prop, &child, spec, out, depth + 1)?;
        }
    }
    if let Some(items) = schema.get("items") {
        walk(items, &format!("{field}[]"), spec, out, depth + 1)?;
    }
    Ok(())
}

fn add(out: &mut Vec<Rule>, field: &str, check: Check) {
    let rule = Rule {
        field: field.to_string(),
        check,
    };
    if !out.contains(&rule) {
        out.push(rule);
    }
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
