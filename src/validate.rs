//! Checks a request against the spec's bounds and enums before anything is sent.
//!
//! The table of operations and their checks is generated at build time from `spec/`
//! (build/rules.rs), and so are the typed walks over request bodies (build/checks.rs); this file
//! only knows how to apply a [`Check`] to a value, and never names a field.

use crate::Error;

/// What build.rs found in the spec about one operation.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The method name (`account_edit`).
    pub id: &'static str,
    /// Upstream's `operationId`.
    #[allow(dead_code)]
    pub upstream_id: &'static str,
    pub method: &'static str,
    /// The path template (`/accounts/{account_id}/dns_settings`).
    pub path: &'static str,
    /// May be sent again after a failure that may have reached the server.
    pub idempotent: bool,
    pub path_rules: &'static [Rule],
    pub query_rules: &'static [Rule],
}

#[derive(Debug)]
pub(crate) struct Rule {
    /// Dotted field path; `[]` stands for every item of an array.
    pub field: &'static str,
    pub check: Check,
}

#[derive(Debug)]
pub(crate) enum Check {
    Range { min: Option<f64>, max: Option<f64> },
    Length { min: Option<u64>, max: Option<u64> },
    OneOf(&'static [&'static str]),
}

/// Checks the path parameters and the query of a request's URL.
pub(crate) fn check_url(op: &Operation, url: &reqwest::Url) -> Result<(), Error> {
    check_path(op, url)?;
    if !op.query_rules.is_empty() {
        for (name, value) in url.query_pairs() {
            let leaf = value.parse::<f64>().map_or(Leaf::Str(&value), Leaf::Float);
            for rule in op.query_rules.iter().filter(|r| r.field == name) {
                check_value(rule.field, &rule.check, leaf)?;
            }
        }
    }
    Ok(())
}

/// A number of a request body against the spec's `minimum`/`maximum` (the generated checks call
/// this and [`length`] field by field; an `enum` is a Rust enum there, checked by its type).
pub(crate) fn range(
    field: &str,
    value: f64,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), Error> {
    check_value(field, &Check::Range { min, max }, Leaf::Float(value))
}

/// A string of a request body against the spec's `minLength`/`maxLength`.
pub(crate) fn length(
    field: &str,
    value: &str,
    min: Option<u64>,
    max: Option<u64>,
) -> Result<(), Error> {
    check_value(field, &Check::Length { min, max }, Leaf::Str(value))
}

/// A value to check, borrowed from wherever it was found.
#[derive(Clone, Copy)]
enum Leaf<'a> {
    Float(f64),
    Str(&'a str),
}

impl std::fmt::Display for Leaf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Leaf::Float(n) => n.fmt(f),
            Leaf::Str(s) => s.fmt(f),
        }
    }
}

/// Matches the URL's last segments against the path template and checks each parameter: the
/// spec's rules, and that it is safe in a path (no `/`, `..`, `?`, `#`, `%`, whitespace or
/// control characters, not empty).
fn check_path(op: &Operation, url: &reqwest::Url) -> Result<(), Error> {
    let template = || op.path.trim_start_matches('/').split('/');
    let wanted = template().count();
    let segments = || url.path_segments().into_iter().flatten();
    let skip = segments().count().checked_sub(wanted);
    // The URL parser resolves a parameter of `.` or `..` as a dot-segment, removing a segment
    // of the path: the request would go elsewhere. Only those values can change the shape,
    // since every other character that could is percent-encoded by the generated code.
    let shape_kept = skip.is_some_and(|skip| {
        template()
            .zip(segments().skip(skip))
            .all(|(pattern, segment)| pattern.starts_with('{') || pattern == segment)
    });
    let (Some(skip), true) = (skip, shape_kept) else {
        let names: Vec<&str> = template()
            .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        return Err(Error::InvalidInput {
            field: names.join(" or "),
            problem: "is `.` or `..`, which would change the request's path".into(),
        });
    };
    for (pattern, raw) in template().zip(segments().skip(skip)) {
        let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            continue;
        };
        let value = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        safe_path_segment(name, &value)?;
        for rule in op.path_rules.iter().filter(|r| r.field == name) {
            check_value(name, &rule.check, Leaf::Str(&value))?;
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
        value
            .chars()
            .find(|c| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control())
            .map(|c| {
                format!(
                    "contains {c:?}, which is not allowed in an identifier (expected e.g. 32 hex characters)"
                )
            })
    };
    match problem {
        Some(problem) => Err(Error::InvalidInput {
            field: name.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

fn check_value(field: &str, check: &Check, value: Leaf<'_>) -> Result<(), Error> {
    let problem = match (check, value) {
        (Check::Range { min, max }, Leaf::Float(x)) => {
            let below = min.is_some_and(|m| x < m);
            let above = max.is_some_and(|m| x > m);
            (below || above || x.is_nan())
                .then(|| format!("{value} is out of range; allowed {}", allowed(*min, *max)))
        }
        (Check::Length { min, max }, Leaf::Str(s)) => {
            let len = s.chars().count() as u64;
            let short = min.is_some_and(|m| len < m);
            let long = max.is_some_and(|m| len > m);
            (short || long).then(|| {
                format!(
                    "{} characters is out of range; allowed {} characters",
                    len,
                    allowed(min.map(|m| m as f64), max.map(|m| m as f64))
                )
            })
        }
        (Check::OneOf(allowed), Leaf::Str(s)) => (!allowed.contains(&s)).then(|| {
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

fn allowed(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a}..={b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any".into(),
    }
}
