//! When to send a request again, and how long to wait first.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

use crate::error::retryable_status;

/// Retries: how many, and the backoff between them.
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// First backoff; doubled on each retry.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Longest wait a `retry-after` header may ask for; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): the server's `retry-after-ms` or
    /// `retry-after` (seconds or an HTTP date) up to the cap, else exponential backoff with
    /// jitter (between half and all of `initial × 2^(retry-1)`, at most `max_backoff`).
    pub fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        if let Some(asked) = headers.and_then(retry_after) {
            return asked.min(self.max_retry_after);
        }
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16));
        let full = exp.min(self.max_backoff);
        full.mul_f64(0.5 + 0.5 * jitter())
    }
}

/// Why a response is worth retrying, or `None`. `x-should-retry: true|false` overrides the
/// status rule (408, 409, 429, 5xx).
pub(crate) fn retry_reason(status: StatusCode, headers: &HeaderMap) -> Option<String> {
    static X_SHOULD_RETRY: HeaderName = HeaderName::from_static("x-should-retry");
    match headers.get(&X_SHOULD_RETRY).and_then(|v| v.to_str().ok()) {
        Some(v) if v.eq_ignore_ascii_case("true") => Some(format!(
            "HTTP {} with x-should-retry: true",
            status.as_u16()
        )),
        Some(v) if v.eq_ignore_ascii_case("false") => None,
        _ => retryable_status(status).then(|| format!("HTTP {}", status.as_u16())),
    }
}

/// Whether a transport error is worth retrying: connection failures, resets and timeouts, but
/// not an invalid request.
pub(crate) fn retryable_error(error: &reqwest::Error) -> bool {
    !(error.is_builder() || error.is_redirect() || error.is_status() || error.is_decode())
}

/// The wait a response asks for: `retry-after-ms`, else `retry-after` in seconds or as an
/// HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
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
            let d1 = p.delay(1, None);
            assert!(
                d1 >= Duration::from_millis(250) && d1 <= Duration::from_millis(500),
                "{d1:?}"
            );
            let d2 = p.delay(2, None);
            assert!(
                d2 >= Duration::from_millis(500) && d2 <= Duration::from_millis(1000),
                "{d2:?}"
            );
            assert!(p.delay(30, None) <= Duration::from_secs(8));
        }
    }

    #[test]
    fn retry_after_forms_are_honoured_up_to_the_cap() {
        let p = policy();
        assert_eq!(
            p.delay(1, Some(&headers(&[("retry-after-ms", "1500")]))),
            Duration::from_millis(1500)
        );
        assert_eq!(
            p.delay(1, Some(&headers(&[("retry-after", "3")]))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(1, Some(&headers(&[("retry-after", "300")]))),
            Duration::from_secs(60)
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
        let d = p.delay(1, Some(&headers(&[("retry-after", soon.as_str())])));
        assert!(
            d <= Duration::from_secs(5) && d >= Duration::from_secs(3),
            "{d:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(50));
        assert_eq!(
            p.delay(1, Some(&headers(&[("retry-after", past.as_str())]))),
            Duration::ZERO
        );
    }

    #[test]
    fn statuses_and_the_override_header_decide() {
        let none = HeaderMap::new();
        for code in [408, 409, 429, 500, 502, 503, 504] {
            assert!(
                retry_reason(StatusCode::from_u16(code).unwrap(), &none).is_some(),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 422] {
            assert!(
                retry_reason(StatusCode::from_u16(code).unwrap(), &none).is_none(),
                "{code}"
            );
        }
        assert!(
            retry_reason(
                StatusCode::SERVICE_UNAVAILABLE,
                &headers(&[("x-should-retry", "false")])
            )
            .is_none()
        );
        assert!(
            retry_reason(
                StatusCode::BAD_REQUEST,
                &headers(&[("x-should-retry", "true")])
            )
            .is_some()
        );
    }
}
