//! Reading what a response says of the rate limit: `Ratelimit`, `Ratelimit-Policy` and
//! `X-RateLimit-*`, each value checked (a number too large for a `u64`, a negative or malformed
//! one, is no number). What the values mean for the budget is `budget.rs`'s.

use std::time::SystemTime;

use reqwest::header::HeaderMap;

/// What one response says of the rate limit.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Reading {
    pub(super) remaining: Option<u64>,
    pub(super) reset: Option<Reset>,
    pub(super) limit: Option<u64>,
    pub(super) window: Option<u64>,
}

#[derive(Debug, PartialEq)]
pub(super) enum Reset {
    After(u64),
    At(SystemTime),
    /// Present but neither seconds nor a date (`-1`, `NaN`, …).
    Unreadable,
}

impl Reading {
    /// Reads `Ratelimit` (`"default";r=50;t=30`, or the older `limit=100, remaining=50,
    /// reset=30`), `Ratelimit-Policy` (`"default";q=100;w=60`, or `100;w=60`; skipped when it is
    /// `seen_policy`, the one already applied, which a new one replaces) and
    /// `X-RateLimit-{Limit,Remaining,Reset}` (the reset in seconds or as an HTTP date). `None`
    /// when there is none of them.
    pub(super) fn of(headers: &HeaderMap, seen_policy: &mut Vec<u8>) -> Option<Reading> {
        // One pass over the headers (a response has a handful) rather than a hashed lookup each.
        let (mut ratelimit, mut policy, mut x_limit, mut x_remaining, mut x_reset) =
            (None, None, None, None, None);
        for (name, value) in headers {
            let slot = match name.as_str() {
                "ratelimit" => &mut ratelimit,
                "ratelimit-policy" => &mut policy,
                "x-ratelimit-limit" => &mut x_limit,
                "x-ratelimit-remaining" => &mut x_remaining,
                "x-ratelimit-reset" => &mut x_reset,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        if ratelimit.is_none() && policy.is_none() && x_limit.is_none() && x_remaining.is_none() {
            return None;
        }
        let now = ratelimit
            .map(|v| Params::of(v.as_bytes()))
            .unwrap_or_default();
        let policy = match policy.map(|v| v.as_bytes()) {
            Some(new) if new != seen_policy.as_slice() => {
                seen_policy.clear();
                seen_policy.extend_from_slice(new);
                Params::of(new)
            }
            _ => Params::default(),
        };
        let x_reset = x_reset.map(|v: &reqwest::header::HeaderValue| {
            match (
                number(v.as_bytes()),
                v.to_str().map(|v| httpdate::parse_http_date(v.trim())),
            ) {
                (Some(secs), _) => Reset::After(secs),
                (None, Ok(Ok(at))) => Reset::At(at),
                _ => Reset::Unreadable,
            }
        });
        Some(Reading {
            remaining: now
                .r
                .or(now.remaining)
                .or_else(|| number(x_remaining?.as_bytes())),
            reset: now.t.or(now.reset).map(Reset::After).or(x_reset),
            limit: policy
                .q
                .or(policy.first)
                .or(now.limit)
                .or_else(|| number(x_limit?.as_bytes())),
            window: policy.w,
        })
    }
}

/// The numeric parameters of a rate-limit header, read in one pass, the first of each kept.
#[derive(Default)]
struct Params {
    r: Option<u64>,
    t: Option<u64>,
    q: Option<u64>,
    w: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    limit: Option<u64>,
    /// A bare number leading the value (`100;w=60`).
    first: Option<u64>,
}

impl Params {
    fn of(value: &[u8]) -> Params {
        let mut p = Params::default();
        for (i, part) in value.split(|b| *b == b';' || *b == b',').enumerate() {
            let Some(eq) = part.iter().position(|b| *b == b'=') else {
                if i == 0 {
                    p.first = number(part);
                }
                continue;
            };
            let slot = match trim(&part[..eq]) {
                b"r" => &mut p.r,
                b"t" => &mut p.t,
                b"q" => &mut p.q,
                b"w" => &mut p.w,
                b"remaining" => &mut p.remaining,
                b"reset" => &mut p.reset,
                b"limit" => &mut p.limit,
                _ => continue,
            };
            if slot.is_none() {
                *slot = number(&part[eq + 1..]);
            }
        }
        p
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// A whole number, possibly quoted; `None` for anything else or one too large for a `u64`.
fn number(bytes: &[u8]) -> Option<u64> {
    let bytes = trim(bytes);
    let bytes = bytes
        .strip_prefix(b"\"")
        .and_then(|b| b.strip_suffix(b"\""))
        .unwrap_or(bytes);
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// A header map of `pairs` (shared with the pacer's tests).
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn reading(
        remaining: u64,
        reset: u64,
        limit: Option<u64>,
        window: Option<u64>,
    ) -> Option<Reading> {
        Some(Reading {
            remaining: Some(remaining),
            reset: Some(Reset::After(reset)),
            limit,
            window,
        })
    }

    #[test]
    fn reads_every_header_form() {
        let h = headers(&[
            ("ratelimit", r#""default";r=50;t=30"#),
            ("ratelimit-policy", r#""burst";q=100;w=60"#),
        ]);
        assert_eq!(
            Reading::of(&h, &mut Vec::new()),
            reading(50, 30, Some(100), Some(60))
        );
        let h = headers(&[("ratelimit", "limit=100, remaining=5, reset=7")]);
        assert_eq!(
            Reading::of(&h, &mut Vec::new()),
            reading(5, 7, Some(100), None)
        );
        let h = headers(&[
            ("x-ratelimit-limit", "1200"),
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", "12"),
        ]);
        assert_eq!(
            Reading::of(&h, &mut Vec::new()),
            reading(3, 12, Some(1200), None)
        );
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ]);
        let at = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            Reading::of(&h, &mut Vec::new()).unwrap().reset,
            Some(Reset::At(at))
        );
        assert_eq!(Reading::of(&HeaderMap::new(), &mut Vec::new()), None);
    }
}
