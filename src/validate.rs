//! Checks a request against the spec before anything is sent.
//!
//! The checks themselves are generated at build time from `spec/` as typed code, field by field
//! and parameter by parameter (build/checks.rs, build/generate.rs); this file only knows how to
//! apply one bound to one value, and never names a field.

use crate::Error;

/// One operation of the spec, as the table of operations that build.rs writes (one `static` per
/// operation, `generated::operations`) describes it. (What build/ reads from progenitor's
/// builder of an operation is build/sends.rs's `BuilderParts`; the schemas the tests make values
/// from are tests/spec_values' `OperationSchemas`.)
#[derive(Debug)]
pub(crate) struct Operation {
    /// The method name (`account_edit`).
    pub id: &'static str,
    pub method: &'static str,
    /// The path template (`/accounts/{account_id}/dns_settings`).
    pub path: &'static str,
    /// May be sent again after a failure that may have reached the server.
    pub idempotent: bool,
}

/// A number against the spec's `minimum`/`maximum`.
pub(crate) fn range(
    field: &str,
    value: f64,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), Error> {
    let outside =
        min.is_some_and(|m| value < m) || max.is_some_and(|m| value > m) || value.is_nan();
    refuse_if(outside, field, || {
        format!("{value} is out of range; allowed {}", allowed(min, max))
    })
}

/// A string against the spec's `minLength`/`maxLength`, counted in characters.
pub(crate) fn length(
    field: &str,
    value: &str,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), Error> {
    let len = value.chars().count() as f64;
    let outside = min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m);
    refuse_if(outside, field, || {
        format!(
            "{len} characters is out of range; allowed {} characters",
            allowed(min, max)
        )
    })
}

/// The bytes of a plain identifier: ASCII letters and digits, `-` and `_`.
const PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        plain[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    plain
};

/// A path parameter is safe in a path: not empty, not `.` (which the URL parser would resolve
/// as a dot-segment and send the request elsewhere), and free of `/`, `..`, `?`, `#`, `%`, `\`,
/// whitespace and control characters.
pub(crate) fn path_param(field: &str, value: &str) -> Result<(), Error> {
    // The usual identifier, 32 hex characters, is decided byte by byte, each by a table.
    if !value.is_empty() && value.bytes().all(|b| PLAIN[usize::from(b)]) {
        return Ok(());
    }
    let problem = if value.is_empty() {
        Some("is empty".to_string())
    } else if value == "." || value.contains("..") {
        Some("is `.` or contains `..`, which would change the request's path".to_string())
    } else {
        value
            .chars()
            .find(|c| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control())
            .map(|c| {
                format!("contains {c:?}, which is not allowed in an identifier (expected e.g. 32 hex characters)")
            })
    };
    match problem {
        Some(problem) => Err(Error::invalid(field.to_string(), problem)),
        None => Ok(()),
    }
}

fn refuse_if(outside: bool, field: &str, problem: impl FnOnce() -> String) -> Result<(), Error> {
    if outside {
        Err(Error::invalid(field.to_string(), problem()))
    } else {
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ASCII character, alone between plain ones: refused exactly when it could change the
    /// request's path or is not text (the fast path and the slow one agree).
    #[test]
    fn each_ascii_character_in_an_identifier_is_judged_by_the_rule() {
        for c in (0u8..128).map(char::from) {
            let refused =
                matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control();
            let value = format!("ab{c}cd");
            assert_eq!(path_param("id", &value).is_err(), refused, "{value:?}");
        }
        assert!(path_param("id", "").is_err());
        assert!(path_param("id", ".").is_err());
        assert!(path_param("id", "a..b").is_err());
        assert!(path_param("id", "023e105f4ecef8ad9ca31a8372d0c353").is_ok());
        assert!(path_param("id", "é-ü_1").is_ok());
    }
}
