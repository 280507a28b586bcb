//! When to send a request again, and how long to wait first.
//!
//! A request the server may already have applied is sent again only when sending it twice is
//! harmless (the operation is idempotent) or the caller opted in; otherwise only when it
//! certainly was not processed. Every wait read from a header is checked arithmetic: a huge,
//! negative or malformed value never panics, and a wait beyond the cap is not taken.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

/// Retries: how many, and the backoff between them.
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// First backoff; doubled on each retry.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Longest wait a `retry-after` header may ask for; a response asking for longer is final.
    pub max_retry_after: Duration,
    /// Treat every operation as idempotent (the caller accepts that a create may be applied
    /// twice).
    pub retry_non_idempotent: bool,
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1-based): between half and all of
    /// `initial × 2^(retry-1)`, at most `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let full = exp.min(self.max_backoff);
        Duration::try_from_secs_f64(full.as_secs_f64() * (0.5 + 0.5 * jitter())).unwrap_or(full)
    }
}

/// Statuses worth retrying: 408, 409, 429 and 5xx.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

static X_SHOULD_RETRY: HeaderName = HeaderName::from_static("x-should-retry");

/// Whether a response is worth sending again. `x-should-retry: true|false` decides when the
/// server sends it. Otherwise, for an idempotent operation: 408, 409, 429 and 5xx; for one that
/// is not: only 429, which says the request was refused before it was processed.
pub(crate) fn response_is_retryable(
    status: StatusCode,
    headers: &HeaderMap,
    idempotent: bool,
) -> bool {
    match headers.get(&X_SHOULD_RETRY).and_then(|v| v.to_str().ok()) {
        Some(v) if v.trim().eq_ignore_ascii_case("true") => true,
        Some(v) if v.trim().eq_ignore_ascii_case("false") => false,
        _ if idempotent => retryable_status(status),
        _ => status == StatusCode::TOO_MANY_REQUESTS,
    }
}

/// Whether a failed attempt is worth sending again. For an idempotent operation: any
/// connection failure, reset or timeout. For one that is not: only a failure to connect, when
/// nothing reached the server; a timeout or a dropped connection may come after the server
/// applied the request.
pub(crate) fn error_is_retryable(error: &reqwest::Error, idempotent: bool) -> bool {
    if error.is_builder() || error.is_redirect() || error.is_status() || error.is_decode() {
        return false;
    }
    idempotent || error.is_connect()
}

/// The wait a response asks for: `retry-after-ms`, else `retry-after` in seconds or as an HTTP
/// date. A value too large to represent is `Duration::MAX`; a negative, non-finite or malformed
/// one is ignored; a date in the past is zero.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX));
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        // All digits but too many for a u64.
        return Some(Duration::MAX);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A number in [0, 1), different on each call, from the standard library's random hasher keys.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            retry_non_idempotent: false,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        for _ in 0..100 {
            let d1 = p.backoff(1);
            assert!(
                d1 >= Duration::from_millis(250) && d1 <= Duration::from_millis(500),
                "{d1:?}"
            );
            let d2 = p.backoff(2);
            assert!(
                d2 >= Duration::from_millis(500) && d2 <= Duration::from_millis(1000),
                "{d2:?}"
            );
            assert!(p.backoff(30) <= Duration::from_secs(8));
        }
        let huge = RetryPolicy {
            initial_backoff: Duration::MAX,
            max_backoff: Duration::MAX,
            ..policy()
        };
        assert!(huge.backoff(u32::MAX) > Duration::from_secs(1));
    }

    #[test]
    fn retry_after_forms_are_read() {
        let read = |pairs: &[(&'static str, &str)]| retry_after(&headers(pairs));
        assert_eq!(
            read(&[("retry-after-ms", "1500")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(read(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
        // An HTTP date is read against the wall clock (`SystemTime`), which is what is under
        // test here, so tokio's paused clock cannot stand in for it: the date has whole seconds
        // (so at most 5 s, more than 4 s), and a second more of slack for a busy machine.
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
        let d = read(&[("retry-after", soon.as_str())]).unwrap();
        assert!(
            d <= Duration::from_secs(5) && d >= Duration::from_secs(3),
            "{d:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(50));
        assert_eq!(
            read(&[("retry-after", past.as_str())]),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn hostile_retry_after_values_never_panic() {
        let read = |pairs: &[(&'static str, &str)]| retry_after(&headers(pairs));
        assert_eq!(read(&[("retry-after-ms", "1e30")]), Some(Duration::MAX));
        assert_eq!(read(&[("retry-after-ms", "-5")]), None);
        assert_eq!(read(&[("retry-after-ms", "NaN")]), None);
        assert_eq!(read(&[("retry-after-ms", "inf")]), None);
        assert_eq!(
            read(&[("retry-after", "18446744073709551616")]),
            Some(Duration::MAX)
        );
        assert_eq!(read(&[("retry-after", "-1")]), None);
        assert_eq!(
            read(&[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")])
                .map(|d| d > Duration::from_secs(1 << 30)),
            Some(true)
        );
    }

    #[test]
    fn statuses_methods_and_the_override_header_decide() {
        let none = HeaderMap::new();
        for code in [408, 409, 429, 500, 502, 503, 504] {
            assert!(
                response_is_retryable(StatusCode::from_u16(code).unwrap(), &none, true),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 422] {
            assert!(
                !response_is_retryable(StatusCode::from_u16(code).unwrap(), &none, true),
                "{code}"
            );
        }
        // Not idempotent: only what was certainly not processed.
        assert!(response_is_retryable(
            StatusCode::TOO_MANY_REQUESTS,
            &none,
            false
        ));
        for code in [408, 409, 500, 502, 503, 504] {
            assert!(
                !response_is_retryable(StatusCode::from_u16(code).unwrap(), &none, false),
                "{code}"
            );
        }
        let yes = headers(&[("x-should-retry", "true")]);
        let no = headers(&[("x-should-retry", "false")]);
        assert!(response_is_retryable(
            StatusCode::SERVICE_UNAVAILABLE,
            &yes,
            false
        ));
        assert!(response_is_retryable(StatusCode::BAD_REQUEST, &yes, true));
        assert!(!response_is_retryable(
            StatusCode::SERVICE_UNAVAILABLE,
            &no,
            true
        ));
    }
}
