//! Rate-limit pacing: reads what the server says of its limit and holds requests back rather
//! than letting a bulk job run into a 429 (which at Cloudflare blocks the token for minutes).

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName};
use tokio::time::Instant;

/// The window the server last described.
#[derive(Debug, Default)]
struct Window {
    /// Requests still allowed in the window, counting those sent since the server said so.
    remaining: Option<u64>,
    /// When the window ends.
    reset_at: Option<Instant>,
    /// Requests per window, once known.
    limit: Option<u64>,
    /// Length of the window, once known (`Ratelimit-Policy: …;w=60`).
    length: Option<Duration>,
    /// Requests sent whose response has not come back: they may land in the next window.
    in_flight: u64,
}

/// Shared by every clone of a client (one token, one budget).
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    window: Mutex<Window>,
}

static RATE_LIMIT_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("ratelimit"),
    HeaderName::from_static("ratelimit-policy"),
    HeaderName::from_static("x-ratelimit-remaining"),
];

/// A request's place in the budget: in flight until dropped.
pub(crate) struct Turn<'a>(Option<&'a Pacer>);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(pacer) = self.0
            && let Ok(mut w) = pacer.window.lock()
        {
            w.in_flight = w.in_flight.saturating_sub(1);
        }
    }
}

/// What one response said: `(remaining, seconds until reset, limit, window length)`.
type Reading = (Option<u64>, Option<u64>, Option<u64>, Option<u64>);

impl Pacer {
    /// Waits, if the window is spent, until it resets (at most `max_wait` at a time), then
    /// takes one request from the budget. The request counts as in flight until the returned
    /// turn is dropped.
    pub async fn wait_turn(&self, max_wait: Duration) -> Turn<'_> {
        loop {
            let wait = {
                let Ok(mut w) = self.window.lock() else {
                    return Turn(None);
                };
                let now = Instant::now();
                if let Some(at) = w.reset_at.filter(|at| *at <= now) {
                    // A new window: the full limit, less what is still on its way and may be
                    // counted in it.
                    w.remaining = w.limit.map(|limit| limit.saturating_sub(w.in_flight));
                    w.reset_at = w.length.map(|len| at + len).filter(|next| *next > now);
                }
                match (w.remaining, w.reset_at) {
                    (Some(0), Some(at)) => Some((at - now).min(max_wait)),
                    // Spent, and the server has not yet said when the window ends: ask again
                    // shortly rather than send blind.
                    (Some(0), None) if w.in_flight > 0 => {
                        Some(Duration::from_millis(50).min(max_wait))
                    }
                    (remaining, _) => {
                        w.remaining = remaining.map(|n| n.saturating_sub(1));
                        w.in_flight += 1;
                        None
                    }
                }
            };
            match wait {
                None => return Turn(Some(self)),
                Some(d) => {
                    tracing::debug!(
                        wait_ms = d.as_millis() as u64,
                        "rate limit window spent; pacing"
                    );
                    tokio::time::sleep(d.max(Duration::from_millis(1))).await;
                }
            }
        }
    }

    /// Learns from a response's rate-limit headers. A 429's `retry-after` is left to the retry
    /// policy (and its cap); only what the rate-limit headers say paces later requests.
    pub fn observe(&self, headers: &HeaderMap) {
        // The common case, a server that says nothing of its limits, costs three lookups.
        if !RATE_LIMIT_HEADERS
            .iter()
            .any(|name| headers.contains_key(name))
        {
            return;
        }
        let (remaining, reset, limit, length) = read(headers);
        if remaining.is_none() && limit.is_none() {
            return;
        }
        let Ok(mut w) = self.window.lock() else {
            return;
        };
        let now = Instant::now();
        if let Some(limit) = limit {
            w.limit = Some(limit);
        }
        if let Some(length) = length {
            w.length = Some(Duration::from_secs(length));
        }
        let (Some(remaining), Some(reset)) = (remaining, reset) else {
            return;
        };
        let reset_at = now + Duration::from_secs(reset);
        let new_window = w
            .reset_at
            .is_none_or(|at| reset_at > at + Duration::from_secs(1));
        if new_window {
            w.remaining = Some(remaining);
            w.reset_at = Some(reset_at);
        } else {
            // Same window: requests sent since this response left count against it too.
            w.remaining = Some(w.remaining.map_or(remaining, |r| r.min(remaining)));
        }
        if w.limit.is_none() {
            w.limit = Some(remaining + 1);
        }
    }
}

/// Reads `Ratelimit` (`"default";r=50;t=30`, or the older `limit=100, remaining=50, reset=30`),
/// `Ratelimit-Policy` (`"default";q=100;w=60`) and `X-RateLimit-{Limit,Remaining,Reset}`.
fn read(headers: &HeaderMap) -> Reading {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let param = |value: &str, keys: &[&str]| {
        value.split([';', ',']).find_map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            keys.contains(&k.trim())
                .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
        })
    };
    let number = |name: &str| text(name).and_then(|v| v.trim().parse::<u64>().ok());
    let ratelimit = text("ratelimit").unwrap_or_default();
    let policy = text("ratelimit-policy").unwrap_or_default();
    let remaining =
        param(ratelimit, &["r", "remaining"]).or_else(|| number("x-ratelimit-remaining"));
    let reset = param(ratelimit, &["t", "reset"])
        .or_else(|| number("x-ratelimit-reset"))
        .map(|t| {
            // Some servers send the reset as a Unix time rather than a number of seconds.
            const EPOCH_2001: u64 = 1_000_000_000;
            if t > EPOCH_2001 {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                t.saturating_sub(now)
            } else {
                t
            }
        });
    let limit = param(policy, &["q"])
        .or_else(|| {
            policy
                .split([';', ','])
                .next()
                .and_then(|v| v.trim().parse().ok())
        })
        .or_else(|| param(ratelimit, &["limit"]))
        .or_else(|| number("x-ratelimit-limit"));
    let length = param(policy, &["w"]);
    (remaining, reset, limit, length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_every_header_form() {
        let h = headers(&[
            ("ratelimit", r#""default";r=50;t=30"#),
            ("ratelimit-policy", r#""burst";q=100;w=60"#),
        ]);
        assert_eq!(read(&h), (Some(50), Some(30), Some(100), Some(60)));
        let h = headers(&[("ratelimit", "limit=100, remaining=5, reset=7")]);
        assert_eq!(read(&h), (Some(5), Some(7), Some(100), None));
        let h = headers(&[
            ("x-ratelimit-limit", "1200"),
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", "12"),
        ]);
        assert_eq!(read(&h), (Some(3), Some(12), Some(1200), None));
        assert_eq!(read(&HeaderMap::new()), (None, None, None, None));
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_window_holds_requests_until_it_resets() {
        let pacer = Pacer::default();
        pacer.observe(&headers(&[("ratelimit", r#""default";r=1;t=10"#)]));
        let start = Instant::now();
        drop(pacer.wait_turn(Duration::from_secs(600)).await); // takes the last one
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(pacer.wait_turn(Duration::from_secs(600)).await); // waits for the reset
        assert!(
            start.elapsed() >= Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }
}
