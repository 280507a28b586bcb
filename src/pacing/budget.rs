//! The budget's arithmetic: a sliding window of at most `limit` requests in any `window`,
//! completed requests kept as counts per second (memory bounded by the window, not by the
//! traffic), and what a response's rate-limit headers teach it. Nothing here waits or sends.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::headers::{Reading, Reset};

/// A window, reset or lockout longer than this is not believed.
pub(super) const PLAUSIBLE_WINDOW: u64 = 3600;
/// A quota larger than this is not believed.
const PLAUSIBLE_LIMIT: u64 = 10_000_000;
/// How often to look again when the room left is held by requests still in flight.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug)]
pub(super) struct Budget {
    pub(super) limit: u64,
    pub(super) window: u64,
    /// Second 0 of the per-second counts (the first request's time).
    origin: Option<Instant>,
    /// Completed requests as `(second since origin, count)`, oldest first, and their sum.
    done: VecDeque<(u64, u64)>,
    counted: u64,
    pub(super) in_flight: u64,
    /// No request before this (a 429's `retry-after`, or `Ratelimit: r=0;t=…`).
    pub(super) blocked_until: Option<Instant>,
    /// The last `Ratelimit-Policy` applied, as received: the same one again is not re-read.
    policy: Vec<u8>,
    /// While the store of a shared budget is away, and for a window after, this client keeps
    /// to `1/share` of the limit.
    pub(super) share: u64,
    pub(super) share_until: Option<Instant>,
}

/// What one response said of the limit, each value checked: what the budget learns from it, and
/// what a shared store is told.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct News {
    /// The quota and window its `Ratelimit-Policy` (or a limit header) announced.
    pub limit: Option<u64>,
    pub window: Option<u64>,
    /// The lockout a 429 started.
    pub lockout: Option<Duration>,
    /// What the server counts as left, when coherent, and in how many seconds it resets.
    pub remaining: Option<u64>,
    reset: Option<u64>,
}

impl Budget {
    /// `limit` requests per `window` seconds (both at least one).
    pub(super) fn new(limit: u64, window: u64) -> Self {
        Budget {
            limit: limit.max(1),
            window: window.max(1),
            origin: None,
            done: VecDeque::new(),
            counted: 0,
            in_flight: 0,
            blocked_until: None,
            policy: Vec::new(),
            share: 1,
            share_until: None,
        }
    }

    /// Whole seconds since the origin, rounded up: a request counts until the end of the second
    /// it ended in, plus the window.
    fn second(&mut self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(*self.origin.get_or_insert(now));
        since.as_secs() + u64::from(since.subsec_nanos() > 0)
    }

    pub(super) fn record(&mut self, now: Instant, count: u64) {
        let second = self.second(now);
        match self.done.back_mut() {
            Some((s, n)) if *s == second => *n = n.saturating_add(count),
            _ => self.done.push_back((second, count)),
        }
        self.counted = self.counted.saturating_add(count);
    }

    /// When the requests completed in `second` leave the window.
    fn expiry(&self, second: u64) -> Option<Instant> {
        let secs = second.checked_add(self.window)?;
        self.origin?.checked_add(Duration::from_secs(secs))
    }

    /// `None` when a request may go now, else when to look again.
    /// `share`: into how many parts the limit is split (the store of a shared budget is away).
    pub(super) fn next_free(&mut self, now: Instant, share: u64) -> Option<Instant> {
        if let Some(until) = self.blocked_until.filter(|until| *until > now) {
            return Some(until);
        }
        while let Some(&(second, count)) = self.done.front() {
            if self.expiry(second).is_some_and(|at| at > now) {
                break;
            }
            self.done.pop_front();
            self.counted = self.counted.saturating_sub(count);
        }
        let limit = (self.limit / share).max(1);
        let used = self.counted.saturating_add(self.in_flight);
        if used < limit {
            return None;
        }
        // Room comes back as completed requests leave the window; those still in flight leave
        // it only a window after they end.
        let mut needed = used + 1 - limit;
        for &(second, count) in &self.done {
            if count >= needed {
                return Some(self.expiry(second).unwrap_or(now + POLL));
            }
            needed -= count;
        }
        Some(now + POLL)
    }

    fn block_for(&mut self, now: Instant, wait: Duration) {
        if let Some(until) = now.checked_add(wait) {
            self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        }
    }

    /// What a response says, checked against what is plausible and against this budget: the
    /// policy, what the server says remains, and how long a 429 blocks. The policy is kept, so
    /// that the same one again is not read again; the rest is [`learn`](Self::learn)'s.
    pub(super) fn read(
        &mut self,
        headers: &HeaderMap,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> News {
        let reading = Reading::of(headers, &mut self.policy);
        self.news(reading, status, retry_after)
    }

    fn news(
        &self,
        reading: Option<Reading>,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> News {
        let mut news = News::default();
        if status == StatusCode::TOO_MANY_REQUESTS {
            news.lockout = match retry_after {
                Some(wait) if wait.as_secs() <= PLAUSIBLE_WINDOW => Some(wait),
                Some(_) => None,
                // No `retry-after`: the budget is spent and the server locks the credential out.
                // For as long as its rate-limit headers say, else for a window (Cloudflare's
                // lockout: five minutes, the window of its limit).
                None => {
                    let told = match reading.as_ref().and_then(|r| r.reset.as_ref()) {
                        Some(Reset::After(secs)) => Some(*secs),
                        Some(Reset::At(date)) => date
                            .duration_since(SystemTime::now())
                            .ok()
                            .map(|d| d.as_secs()),
                        _ => None,
                    };
                    let policy_window = reading.as_ref().and_then(|r| plausible_window(r.window));
                    let secs = plausible_window(told)
                        .or(policy_window)
                        .unwrap_or(self.window);
                    Some(Duration::from_secs(secs))
                }
            };
        }
        let Some(reading) = reading else {
            return news;
        };
        news.limit = reading.limit.filter(|l| (1..=PLAUSIBLE_LIMIT).contains(l));
        news.window = plausible_window(reading.window);
        // A reset beyond the window (an epoch time in seconds or milliseconds) or unreadable
        // makes the count incoherent: `remaining` is not acted on. (The limit and window above
        // come from the policy and were each checked on their own.)
        let reset = match reading.reset {
            Some(Reset::After(secs)) => Some(secs),
            Some(Reset::At(date)) => Some(
                date.duration_since(SystemTime::now())
                    .map_or(0, |d| d.as_secs()),
            ),
            Some(Reset::Unreadable) => return news,
            None => None,
        };
        // A 429's own `Ratelimit` describes the lockout, held above: its `r=0` is not a count of
        // requests to keep in the window after the lockout ends.
        let window = news.window.unwrap_or(self.window);
        if reset.is_some_and(|secs| secs > window) || status == StatusCode::TOO_MANY_REQUESTS {
            return news;
        }
        news.remaining = reading.remaining;
        news.reset = reset;
        news
    }

    /// Applies what a response said: a lockout holds the budget; a policy sets it; requests the
    /// server counts that this client did not send take room until they leave the window.
    pub(super) fn learn(&mut self, now: Instant, news: &News) {
        if let Some(lockout) = news.lockout {
            self.block_for(now, lockout);
        }
        if let Some(limit) = news.limit {
            self.limit = limit;
        }
        if let Some(window) = news.window
            && window != self.window
        {
            // What was counted stays counted, as if it had all ended now.
            let counted = std::mem::take(&mut self.counted);
            self.done.clear();
            self.window = window;
            self.record(now, counted);
        }
        if let Some(remaining) = news.remaining {
            let here = self
                .limit
                .saturating_sub(self.counted.saturating_add(self.in_flight));
            if remaining < here {
                self.record(now, here - remaining);
            }
            if let (0, Some(secs)) = (remaining, news.reset) {
                self.block_for(now, Duration::from_secs(secs));
            }
        }
    }
}

/// A window (or reset, or lockout) in seconds, when it is plausible.
fn plausible_window(secs: Option<u64>) -> Option<u64> {
    secs.filter(|s| (1..=PLAUSIBLE_WINDOW).contains(s))
}
