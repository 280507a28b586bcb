//! Checks a request against the spec's bounds and enums before anything is sent.
//!
//! The table of checks is generated at build time from `spec/` (build/rules.rs); this file only
//! knows how to apply a [`Check`] to a value, and never names a field.

use reqwest::Request;
use serde_json::Value;

use crate::Error;

pub(crate) struct OperationRules {
    pub operation_id: &'static str,
    #[allow(dead_code)]
    pub upstream_operation_id: &'static str,
    #[allow(dead_code)]
    pub method: &'static str,
    pub path_template: &'static str,
    /// The response is a page of a list: its envelope's `result_info` is kept.
    pub paginated: bool,
    pub path: &'static [Rule],
    pub query: &'static [Rule],
    pub body: &'static [Rule],
}

pub(crate) struct Rule {
    /// Dotted field path; `[]` stands for every item of an array.
    pub field: &'static str,
    pub check: Check,
}

pub(crate) enum Check {
    Range { min: Option<f64>, max: Option<f64> },
    Length { min: Option<u64>, max: Option<u64> },
    OneOf(&'static [&'static str]),
}

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// What build.rs found in the spec about `operation_id`.
pub(crate) fn operation(operation_id: &str) -> Option<&'static OperationRules> {
    OPERATIONS.iter().find(|op| op.operation_id == operation_id)
}

/// Checks the path parameters, query and JSON body of `request` for `operation_id`.
pub(crate) fn check_request(operation_id: &str, request: &Request) -> Result<(), Error> {
    let Some(op) = operation(operation_id) else {
        return Ok(());
    };
    check_path(op, request.url())?;
    for (name, value) in request.url().query_pairs() {
        let value = value
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(Value::String(value.into_owned()));
        for rule in op.query.iter().filter(|r| r.field == name) {
            check_value(rule.field, &rule.check, &value)?;
        }
    }
    if !op.body.is_empty()
        && let Some(bytes) = request.body().and_then(reqwest::Body::as_bytes)
    {
        let body: Value = serde_json::from_slice(bytes).map_err(|e| Error::InvalidInput {
            field: "body".into(),
            problem: format!("does not serialize to JSON: {e}"),
        })?;
        for rule in op.body {
            check_at(&body, rule.field, rule.field, &rule.check)?;
        }
    }
    Ok(())
}

/// Matches the URL's last segments against the path template and checks each parameter: the
/// spec's rules, and that it is safe in a path (no `/`, `..`, `?`, `#`, `%`, whitespace or
/// control characters, not empty).
fn check_path(op: &OperationRules, url: &reqwest::Url) -> Result<(), Error> {
    let template: Vec<&str> = op
        .path_template
        .trim_start_matches('/')
        .split('/')
        .collect();
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let tail = segments
        .len()
        .checked_sub(template.len())
        .map(|start| &segments[start..]);
    let shape_kept = tail.is_some_and(|tail| {
        template
            .iter()
            .zip(tail)
            .all(|(pattern, segment)| pattern.starts_with('{') || pattern == segment)
    });
    // The URL parser resolves a parameter of `.` or `..` as a dot-segment, removing a segment
    // of the path: the request would go elsewhere. Only those values can change the shape,
    // since every other character that could is percent-encoded by the generated code.
    let (Some(tail), true) = (tail, shape_kept) else {
        let names: Vec<&str> = template
            .iter()
            .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        return Err(Error::InvalidInput {
            field: names.join(" or "),
            problem: "is `.` or `..`, which would change the request's path".into(),
        });
    };
    for (pattern, raw) in template.iter().zip(tail) {
        let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            continue;
        };
        let value = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        safe_path_segment(name, &value)?;
        for rule in op.path.iter().filter(|r| r.field == name) {
            check_value(name, &rule.check, &Value::String(value.to_string()))?;
        }
    }
    Ok(())
}

fn safe_path_segment(name: &str, value: &str) -> Result<(), Error> {
    let problem = if value.is_empty() {
        Some("is empty".to_string())
    } else if value.contains("..") {
        Some("contains `..`".to_string())
    } else {
        value.chars().find(|c| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control()).map(
            |c| format!("contains {c:?}, which is not allowed in an identifier (expected e.g. 32 hex characters)"),
        )
    };
    match problem {
        Some(problem) => Err(Error::InvalidInput {
            field: name.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

/// Applies `check` to every value found at `path` (`a.b[].c`) in `node`.
fn check_at(node: &Value, path: &str, field: &str, check: &Check) -> Result<(), Error> {
    if path.is_empty() {
        return check_value(field, check, node);
    }
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let (key, each) = match head.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (head, false),
    };
    let child = if key.is_empty() {
        Some(node)
    } else {
        node.get(key)
    };
    match (child, each) {
        (None, _) => Ok(()),
        (Some(Value::Array(items)), true) => items
            .iter()
            .try_for_each(|item| check_at(item, rest, field, check)),
        (Some(_), true) => Ok(()),
        (Some(value), false) => check_at(value, rest, field, check),
    }
}

fn check_value(field: &str, check: &Check, value: &Value) -> Result<(), Error> {
    let problem = match (check, value) {
        (Check::Range { min, max }, Value::Number(n)) => {
            // A JSON number is always finite (serde_json writes NaN and infinities as null).
            let x = n.as_f64().unwrap_or_default();
            let below = min.is_some_and(|m| x < m);
            let above = max.is_some_and(|m| x > m);
            (below || above).then(|| format!("{n} is out of range; allowed {}", range(*min, *max)))
        }
        (Check::Length { min, max }, Value::String(s)) => {
            let len = s.chars().count() as u64;
            let short = min.is_some_and(|m| len < m);
            let long = max.is_some_and(|m| len > m);
            (short || long).then(|| {
                format!(
                    "{} characters is out of range; allowed {} characters",
                    len,
                    range(min.map(|m| m as f64), max.map(|m| m as f64))
                )
            })
        }
        (Check::OneOf(allowed), Value::String(s)) => (!allowed.contains(&s.as_str())).then(|| {
            format!(
                "{s:?} is not an allowed value; allowed: {}",
                allowed.join(", ")
            )
        }),
        _ => None,
    };
    match problem {
        Some(problem) => Err(Error::InvalidInput {
            field: field.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

fn range(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}..={b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any".into(),
    }
}

/// The generated table, for the snapshot test in `tests/`.
#[doc(hidden)]
pub const RULES_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/rules.rs"));
