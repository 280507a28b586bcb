//! Checks a request against the spec's bounds and enums before anything is sent.
//!
//! The table of checks is generated at build time from `spec/` (build/rules.rs); this file only
//! knows how to apply a [`Check`] to a value, and never names a field.

use reqwest::Request;

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
    if !op.query.is_empty() {
        for (name, value) in request.url().query_pairs() {
            let leaf = value.parse::<f64>().map_or(Leaf::Str(&value), Leaf::Float);
            for rule in op.query.iter().filter(|r| r.field == name) {
                check_value(rule.field, &rule.check, leaf)?;
            }
        }
    }
    if !op.body.is_empty()
        && let Some(bytes) = request.body().and_then(reqwest::Body::as_bytes)
    {
        check_body(op.body, bytes)?;
    }
    Ok(())
}

/// Walks the serialized body once, keeping only the dotted path of where it is (`[]` for an
/// array item), and checks each leaf that a rule names: no tree of the body is built.
fn check_body(rules: &'static [Rule], bytes: &[u8]) -> Result<(), Error> {
    let mut path = String::new();
    let mut found = None;
    let walker = Walker {
        rules,
        path: &mut path,
        found: &mut found,
    };
    let walked = serde::de::DeserializeSeed::deserialize(
        walker,
        &mut serde_json::Deserializer::from_slice(bytes),
    );
    match (found, walked) {
        (Some(error), _) => Err(error),
        (None, Ok(())) => Ok(()),
        (None, Err(e)) => Err(Error::InvalidInput {
            field: "body".into(),
            problem: format!("is not JSON: {e}"),
        }),
    }
}

struct Walker<'a> {
    rules: &'static [Rule],
    path: &'a mut String,
    /// The first problem found; the walk stops there.
    found: &'a mut Option<Error>,
}

impl Walker<'_> {
    fn leaf<E: serde::de::Error>(self, leaf: Leaf<'_>) -> Result<(), E> {
        for rule in self.rules.iter().filter(|r| r.field == self.path.as_str()) {
            if let Err(error) = check_value(rule.field, &rule.check, leaf) {
                *self.found = Some(error);
                return Err(E::custom("invalid value"));
            }
        }
        Ok(())
    }

    fn child(&mut self) -> Walker<'_> {
        Walker {
            rules: self.rules,
            path: self.path,
            found: self.found,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walker<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walker<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.leaf(Leaf::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.leaf(Leaf::UInt(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.leaf(Leaf::Float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.leaf(Leaf::Str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let len = self.path.len();
        self.path.push_str("[]");
        while seq.next_element_seed(self.child())?.is_some() {}
        self.path.truncate(len);
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let len = self.path.len();
        loop {
            if len > 0 {
                self.path.push('.');
            }
            if map.next_key_seed(KeyInto(self.path))?.is_none() {
                break;
            }
            map.next_value_seed(self.child())?;
            self.path.truncate(len);
        }
        self.path.truncate(len);
        Ok(())
    }
}

/// Appends an object key to the path, without allocating for it.
struct KeyInto<'a>(&'a mut String);

impl<'de> serde::de::DeserializeSeed<'de> for KeyInto<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<(), E> {
        self.0.push_str(key);
        Ok(())
    }
}

/// A value to check, borrowed from wherever it was found.
#[derive(Clone, Copy)]
enum Leaf<'a> {
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
}

impl std::fmt::Display for Leaf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Leaf::Int(n) => n.fmt(f),
            Leaf::UInt(n) => n.fmt(f),
            Leaf::Float(n) => n.fmt(f),
            Leaf::Str(s) => s.fmt(f),
        }
    }
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

fn check_value(field: &str, check: &Check, value: Leaf<'_>) -> Result<(), Error> {
    let problem = match (check, value) {
        (Check::Range { min, max }, Leaf::Int(_) | Leaf::UInt(_) | Leaf::Float(_)) => {
            let x = match value {
                Leaf::Int(n) => n as f64,
                Leaf::UInt(n) => n as f64,
                Leaf::Float(n) => n,
                Leaf::Str(_) => return Ok(()),
            };
            let below = min.is_some_and(|m| x < m);
            let above = max.is_some_and(|m| x > m);
            (below || above)
                .then(|| format!("{value} is out of range; allowed {}", range(*min, *max)))
        }
        (Check::Length { min, max }, Leaf::Str(s)) => {
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
