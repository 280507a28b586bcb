//! Rate-limit pacing: keeps a client (and its clones) inside the API's request budget, so that a
//! bulk job never runs into a 429, which at Cloudflare blocks the token for five minutes.
//!
//! The budget is a sliding window: at most `limit` requests in any `window`. It starts as
//! Cloudflare's documented global limit (1200 requests per 5 minutes per user) and follows what
//! responses say: `Ratelimit-Policy` (`"default";q=1200;w=300`) sets it; `Ratelimit`
//! (`"default";r=0;t=12`) and `X-RateLimit-*` account for requests this client did not send.
//!
//! A request counts from when it is sent until `window` after its response came back (the server
//! counted it somewhere in between, so this never undercounts). Completed requests are kept as
//! counts per second: memory is bounded by the window, not by the traffic. Every value read from
//! a header is checked: a window or reset that is not plausible is ignored, never waited for.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};
use tokio::time::Instant;

use crate::Error;

/// Cloudflare's documented global limit: 1200 requests per five minutes per user.
pub(crate) const CLOUDFLARE_LIMIT: u32 = 1200;
/// The window of that limit.
pub(crate) const CLOUDFLARE_WINDOW: Duration = Duration::from_secs(300);
/// A window, reset or lockout longer than this is not believed.
const PLAUSIBLE_WINDOW: u64 = 3600;
/// A quota larger than this is not believed.
const PLAUSIBLE_LIMIT: u64 = 10_000_000;
/// How often to look again when the room left is held by requests still in flight.
const POLL: Duration = Duration::from_millis(20);

/// Shared by every clone of a client (one token, one budget).
#[derive(Debug)]
pub(crate) struct Pacer {
    budget: Mutex<Budget>,
    /// A budget shared beyond this client (the `redis` feature's store); `None`: this client's
    /// own, the in-process budget above. While the store cannot be reached, the in-process one
    /// paces on a share of the budget.
    shared: Option<Box<dyn SharedBudget>>,
}

/// A rate-limit budget kept outside the process, shared by every client that names it with the
/// same credential. One atomic step on the store admits a request or says how long to wait; how
/// each request ended, and what its response said of the limit, go back to it. Every call is
/// bounded in time: a store that does not answer is away, and the pacer falls back.
pub(crate) trait SharedBudget: Send + Sync + std::fmt::Debug {
    /// A new ticket, naming one request in the store.
    fn ticket(&self) -> u64;
    /// Takes room for the request of `ticket`: `Ok(None)` when it may go now, else how long
    /// until there may be room. `limit` per `window` seconds is the budget this client knows,
    /// for a store that has learned none yet. `Err` when the store is away.
    fn take(&self, ticket: u64, limit: u64, window: u64) -> StoreFuture<'_>;
    /// How the request of `ticket` ended (`limit` per `window` seconds: as for
    /// [`take`](Self::take)). Never waits: a store sends it in the background.
    fn settle(&self, ticket: u64, end: End, limit: u64, window: u64);
    /// Into how many shares the budget is split while the store is away: the clients that used
    /// it within the last window, as last seen.
    fn sharers(&self) -> u64;
}

/// What [`SharedBudget::take`] returns.
pub(crate) type StoreFuture<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<Option<Duration>, StoreAway>> + Send + 'a>>;

/// The store did not answer in time, or could not be reached.
#[derive(Debug)]
pub(crate) struct StoreAway;

/// How a request ended, for a shared budget.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum End {
    /// A response came back; what it taught.
    Answered(News),
    /// It never reached the server: it takes no room.
    NotSent,
    /// It may have reached the server (a timeout, a dropped connection): it counts from now.
    Unknown,
}

/// What one response said of the limit, checked, for a shared budget.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct News {
    /// The quota and window its `Ratelimit-Policy` (or a limit header) announced.
    pub limit: Option<u64>,
    pub window: Option<u64>,
    /// The lockout a 429 started.
    pub lockout: Option<Duration>,
    /// What the server counts as left, when coherent.
    pub remaining: Option<u64>,
}

#[derive(Debug)]
struct Budget {
    limit: u64,
    window: u64,
    /// Second 0 of the per-second counts (the first request's time).
    origin: Option<Instant>,
    /// Completed requests as `(second since origin, count)`, oldest first, and their sum.
    done: VecDeque<(u64, u64)>,
    counted: u64,
    in_flight: u64,
    /// No request before this (a 429's `retry-after`, or `Ratelimit: r=0;t=…`).
    blocked_until: Option<Instant>,
    /// The last `Ratelimit-Policy` applied, as received: the same one again is not re-read.
    policy: Vec<u8>,
    /// While the store of a shared budget is away, and for a window after, this client keeps
    /// to `1/share` of the limit.
    share: u64,
    share_until: Option<Instant>,
}

impl Pacer {
    /// Starts from a budget of `limit` requests per `window` (whole seconds, at least one).
    pub fn new(limit: u32, window: Duration) -> Self {
        Pacer {
            budget: Mutex::new(Budget {
                limit: u64::from(limit.max(1)),
                window: window.as_secs().max(1),
                origin: None,
                done: VecDeque::new(),
                counted: 0,
                in_flight: 0,
                blocked_until: None,
                policy: Vec::new(),
                share: 1,
                share_until: None,
            }),
            shared: None,
        }
    }

    /// The same, the budget kept in `store` for every client that names it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub fn shared(limit: u32, window: Duration, store: Box<dyn SharedBudget>) -> Self {
        Pacer {
            shared: Some(store),
            ..Pacer::new(limit, window)
        }
    }

    /// Waits until the budget has room, then takes one request from it. Fails, sending nothing,
    /// as soon as the wait (counted from when it began, polls for requests in flight included)
    /// would be longer than `max_wait` or end after `deadline`.
    pub async fn wait_turn(
        &self,
        deadline: Option<Instant>,
        max_wait: Duration,
    ) -> Result<Turn<'_>, Error> {
        // When the first wait began (read only when there is a wait: a paced call's fast path
        // reads the clock once).
        let mut started = None;
        let mut share = 1;
        if let Some(store) = &self.shared {
            if let Some(turn) = self
                .shared_turn(store.as_ref(), deadline, max_wait, &mut started)
                .await?
            {
                return Ok(turn);
            }
            // The store is away: this client keeps to its share of the budget.
            share = store.sharers().max(1);
        }
        loop {
            let at = match self.budget.lock() {
                Ok(mut budget) => match budget.next_free(Instant::now(), share) {
                    None => {
                        budget.in_flight += 1;
                        if share > 1 {
                            budget.share = share;
                            budget.share_until =
                                Instant::now().checked_add(Duration::from_secs(budget.window));
                        }
                        return Ok(Turn {
                            pacer: Some(self),
                            ticket: None,
                        });
                    }
                    Some(at) => at,
                },
                Err(_) => return Ok(Turn::untracked()),
            };
            pace_until(at, &mut started, deadline, max_wait).await?;
        }
    }

    /// A turn from the shared budget, or `None` when the store is away.
    async fn shared_turn(
        &self,
        store: &dyn SharedBudget,
        deadline: Option<Instant>,
        max_wait: Duration,
        started: &mut Option<Instant>,
    ) -> Result<Option<Turn<'_>>, Error> {
        loop {
            let now = Instant::now();
            // A lockout this client saw is held here at once, whether or not the store has it.
            // For a window after the store was away, the requests this client sent meanwhile
            // are unknown to it: a request then also keeps to this client's share (and takes
            // its place there before asking the store).
            let local = match self.budget.lock() {
                Err(_) => return Ok(Some(Turn::untracked())),
                Ok(mut b) => match b.blocked_until.filter(|until| *until > now) {
                    Some(until) => Err(until),
                    None if b.share_until.is_some_and(|until| until > now) => {
                        let share = b.share;
                        match b.next_free(now, share) {
                            Some(at) => Err(at),
                            None => {
                                b.in_flight += 1;
                                Ok((b.limit, b.window, true))
                            }
                        }
                    }
                    None => Ok((b.limit, b.window, false)),
                },
            };
            let at = match local {
                Err(at) => at,
                Ok((limit, window, placed)) => {
                    let ticket = store.ticket();
                    let taken = store.take(ticket, limit, window).await;
                    if let (false, Ok(None)) | (true, Err(_) | Ok(Some(_))) = (placed, &taken)
                        && let Ok(mut budget) = self.budget.lock()
                    {
                        budget.in_flight = if placed {
                            budget.in_flight.saturating_sub(1)
                        } else {
                            budget.in_flight + 1
                        };
                    }
                    match taken {
                        Err(StoreAway) => return Ok(None),
                        Ok(None) => {
                            return Ok(Some(Turn {
                                pacer: Some(self),
                                ticket: Some(ticket),
                            }));
                        }
                        // The store's answer is input like a header: a wait beyond any
                        // plausible window is cut to one (and then refused by the caps).
                        Ok(Some(wait)) => {
                            Instant::now() + wait.min(Duration::from_secs(PLAUSIBLE_WINDOW))
                        }
                    }
                }
            };
            pace_until(at, started, deadline, max_wait).await?;
        }
    }

    /// How long the budget is still held by a lockout (a 429, or `Ratelimit: r=0;t=…`), if it is.
    pub fn held(&self) -> Option<Duration> {
        let budget = self.budget.lock().ok()?;
        let left = budget
            .blocked_until?
            .saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }
}

/// Sleeps until `at`, or fails at once, sending nothing, when the wait that began at `started`
/// would then be longer than `max_wait` or end after `deadline`.
async fn pace_until(
    at: Instant,
    started: &mut Option<Instant>,
    deadline: Option<Instant>,
    max_wait: Duration,
) -> Result<(), Error> {
    let now = Instant::now();
    let wait = at.saturating_duration_since(now);
    if at.saturating_duration_since(*started.get_or_insert(now)) > max_wait
        || deadline.is_some_and(|d| at > d)
    {
        return Err(Error::RateLimited {
            status: None,
            retry_after: Some(wait),
            errors: Vec::new(),
            ray_id: None,
            attempts: 0,
            applied: crate::error::Applied::No,
        });
    }
    tracing::debug!(
        wait_ms = wait.as_millis() as u64,
        "rate-limit budget spent; pacing"
    );
    tokio::time::sleep_until(at).await;
    Ok(())
}

/// A request's place in the budget, from when it is sent. Dropped without [`Turn::answered`]
/// or [`Turn::not_sent`] (a timeout, a broken connection), it counts as having reached the server.
pub(crate) struct Turn<'a> {
    pacer: Option<&'a Pacer>,
    /// Its name in the shared budget, when it holds room there.
    ticket: Option<u64>,
}

impl Turn<'_> {
    /// A turn that tracks nothing (pacing off).
    pub fn untracked() -> Self {
        Turn {
            pacer: None,
            ticket: None,
        }
    }

    /// The response came back: it counts from now, and its headers teach the budget.
    pub fn answered(
        mut self,
        headers: &HeaderMap,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) {
        self.settle(|budget, now| {
            let news = budget.observe(now, headers, status, retry_after);
            budget.record(now, 1);
            End::Answered(news)
        });
    }

    /// The request never reached the server (the connection could not be made).
    pub fn not_sent(mut self) {
        self.settle(|_, _| End::NotSent);
    }

    fn settle(&mut self, f: impl FnOnce(&mut Budget, Instant) -> End) {
        let Some(pacer) = self.pacer.take() else {
            return;
        };
        let Ok(mut budget) = pacer.budget.lock() else {
            return;
        };
        // While `f` runs the request still counts as in flight: a response's `remaining`
        // already counts it.
        let end = f(&mut budget, Instant::now());
        budget.in_flight = budget.in_flight.saturating_sub(1);
        let (limit, window) = (budget.limit, budget.window);
        drop(budget);
        if let (Some(store), Some(ticket)) = (&pacer.shared, self.ticket) {
            store.settle(ticket, end, limit, window);
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.settle(|budget, now| {
            budget.record(now, 1);
            End::Unknown
        });
    }
}

impl Budget {
    /// Whole seconds since the origin, rounded up: a request counts until the end of the second
    /// it ended in, plus the window.
    fn second(&mut self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(*self.origin.get_or_insert(now));
        since.as_secs() + u64::from(since.subsec_nanos() > 0)
    }

    fn record(&mut self, now: Instant, count: u64) {
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
    fn next_free(&mut self, now: Instant, share: u64) -> Option<Instant> {
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

    /// Learns from a response: the policy, what the server says remains (requests it counts
    /// that this client did not send take room until they leave the window), and how long a
    /// 429 blocks.
    fn observe(
        &mut self,
        now: Instant,
        headers: &HeaderMap,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> News {
        let mut news = News::default();
        let reading = Reading::of(headers, &self.policy);
        if status == StatusCode::TOO_MANY_REQUESTS {
            match retry_after {
                Some(wait) if wait.as_secs() <= PLAUSIBLE_WINDOW => {
                    self.block_for(now, wait);
                    news.lockout = Some(wait);
                }
                Some(_) => {}
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
                    let policy_window = reading
                        .as_ref()
                        .and_then(|r| r.window)
                        .filter(|w| (1..=PLAUSIBLE_WINDOW).contains(w));
                    let secs = told
                        .filter(|secs| (1..=PLAUSIBLE_WINDOW).contains(secs))
                        .or(policy_window)
                        .unwrap_or(self.window);
                    self.block_for(now, Duration::from_secs(secs));
                    news.lockout = Some(Duration::from_secs(secs));
                }
            }
        }
        let Some(reading) = reading else {
            return news;
        };
        if let Some(policy) = headers.get(&POLICY).filter(|p| p.as_bytes() != self.policy) {
            self.policy = policy.as_bytes().to_vec();
        }
        if let Some(limit) = reading.limit.filter(|l| (1..=PLAUSIBLE_LIMIT).contains(l)) {
            self.limit = limit;
            news.limit = Some(limit);
        }
        let window = reading
            .window
            .filter(|w| (1..=PLAUSIBLE_WINDOW).contains(w));
        news.window = window;
        if let Some(window) = window
            && window != self.window
        {
            // What was counted stays counted, as if it had all ended now.
            let counted = std::mem::take(&mut self.counted);
            self.done.clear();
            self.window = window;
            self.record(now, counted);
        }
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
        // A 429's own `Ratelimit` describes the lockout, already held above: its `r=0` is not a
        // count of requests to keep in the window after the lockout ends.
        if reset.is_some_and(|secs| secs > self.window) || status == StatusCode::TOO_MANY_REQUESTS {
            return news;
        }
        news.remaining = reading.remaining;
        if let Some(remaining) = reading.remaining {
            let here = self
                .limit
                .saturating_sub(self.counted.saturating_add(self.in_flight));
            if remaining < here {
                self.record(now, here - remaining);
            }
            if let (0, Some(secs)) = (remaining, reset) {
                self.block_for(now, Duration::from_secs(secs));
            }
        }
        news
    }
}

/// What one response says of the rate limit.
#[derive(Debug, Default, PartialEq)]
struct Reading {
    remaining: Option<u64>,
    reset: Option<Reset>,
    limit: Option<u64>,
    window: Option<u64>,
}

#[derive(Debug, PartialEq)]
enum Reset {
    After(u64),
    At(SystemTime),
    /// Present but neither seconds nor a date (`-1`, `NaN`, …).
    Unreadable,
}

static POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

impl Reading {
    /// Reads `Ratelimit` (`"default";r=50;t=30`, or the older `limit=100, remaining=50,
    /// reset=30`), `Ratelimit-Policy` (`"default";q=100;w=60`, or `100;w=60`; skipped when it is
    /// `seen_policy`, the one already applied) and `X-RateLimit-{Limit,Remaining,Reset}` (the
    /// reset in seconds or as an HTTP date). `None` when there is none of them.
    fn of(headers: &HeaderMap, seen_policy: &[u8]) -> Option<Reading> {
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
        let policy = policy
            .filter(|v| v.as_bytes() != seen_policy)
            .map(|v| Params::of(v.as_bytes()))
            .unwrap_or_default();
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
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// A store that always asks to wait `wait` milliseconds.
    #[derive(Debug)]
    struct Asks(u64);

    impl SharedBudget for Asks {
        fn ticket(&self) -> u64 {
            0
        }
        fn take(&self, _: u64, _: u64, _: u64) -> StoreFuture<'_> {
            let wait = Duration::from_millis(self.0);
            Box::pin(async move { Ok(Some(wait)) })
        }
        fn settle(&self, _: u64, _: End, _: u64, _: u64) {}
        fn sharers(&self) -> u64 {
            1
        }
    }

    /// Whatever wait a shared store answers (it is input, like a header), a turn never panics:
    /// one beyond the cap is refused at once, sending nothing, and says how long was asked.
    #[tokio::test(start_paused = true)]
    async fn any_wait_a_store_asks_for_is_bounded() {
        for wait in [u64::MAX, u64::MAX / 2, 1 << 40, 3_600_001, 400_000] {
            let pacer = Pacer::shared(10, Duration::from_secs(10), Box::new(Asks(wait)));
            let error = match pacer.wait_turn(None, Duration::from_secs(330)).await {
                Err(error) => error,
                Ok(_) => panic!("a wait of {wait} ms was not refused"),
            };
            assert!(
                matches!(
                    error,
                    Error::RateLimited {
                        status: None,
                        attempts: 0,
                        ..
                    }
                ),
                "{error:?}"
            );
            assert!(
                error
                    .retry_after()
                    .is_some_and(|w| w > Duration::from_secs(330))
            );
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
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
        assert_eq!(Reading::of(&h, b""), reading(50, 30, Some(100), Some(60)));
        let h = headers(&[("ratelimit", "limit=100, remaining=5, reset=7")]);
        assert_eq!(Reading::of(&h, b""), reading(5, 7, Some(100), None));
        let h = headers(&[
            ("x-ratelimit-limit", "1200"),
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", "12"),
        ]);
        assert_eq!(Reading::of(&h, b""), reading(3, 12, Some(1200), None));
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ]);
        let at = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(Reading::of(&h, b"").unwrap().reset, Some(Reset::At(at)));
        assert_eq!(Reading::of(&HeaderMap::new(), b""), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_window_holds_requests_until_room_comes_back() {
        let pacer = Pacer::new(2, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..2 {
            let turn = pacer
                .wait_turn(None, Duration::from_secs(60))
                .await
                .unwrap();
            turn.answered(&HeaderMap::new(), StatusCode::OK, None);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        pacer
            .wait_turn(None, Duration::from_secs(60))
            .await
            .unwrap()
            .not_sent();
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beyond_the_cap_is_refused_at_once() {
        let pacer = Pacer::new(1, Duration::from_secs(300));
        let turn = pacer
            .wait_turn(None, Duration::from_secs(60))
            .await
            .unwrap();
        turn.answered(&HeaderMap::new(), StatusCode::OK, None);
        let start = Instant::now();
        let refused = pacer
            .wait_turn(None, Duration::from_secs(60))
            .await
            .err()
            .unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(refused.retry_after(), Some(Duration::from_secs(300)));
    }

    /// A 429 without `retry-after` locks the budget for what `Ratelimit` says, else for the
    /// window (Cloudflare's five minutes); a later request waits for the end within the cap and
    /// the deadline, or is refused at once.
    #[tokio::test(start_paused = true)]
    async fn a_429_without_retry_after_holds_the_budget_for_the_lockout() {
        let cap = Duration::from_secs(600);
        for (headers, lockout) in [
            (HeaderMap::new(), 300),
            (headers(&[("ratelimit", r#""default";r=0;t=42"#)]), 42),
            (
                headers(&[("ratelimit-policy", r#""default";q=60;w=15"#)]),
                15,
            ),
        ] {
            let pacer = Pacer::new(1200, Duration::from_secs(300));
            let turn = pacer.wait_turn(None, cap).await.unwrap();
            turn.answered(&headers, StatusCode::TOO_MANY_REQUESTS, None);
            let lockout = Duration::from_secs(lockout);
            assert_eq!(pacer.held(), Some(lockout));
            let start = Instant::now();
            let short = pacer
                .wait_turn(None, lockout - Duration::from_secs(1))
                .await;
            assert_eq!(short.err().unwrap().retry_after(), Some(lockout));
            let deadline = start + lockout - Duration::from_secs(1);
            let late = pacer.wait_turn(Some(deadline), cap).await;
            assert_eq!(late.err().unwrap().retry_after(), Some(lockout));
            assert_eq!(start.elapsed(), Duration::ZERO, "refused at once");
            pacer
                .wait_turn(Some(start + lockout), cap)
                .await
                .unwrap()
                .not_sent();
            assert_eq!(start.elapsed(), lockout);
            assert_eq!(pacer.held(), None);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_implausible_reset_is_not_waited_for() {
        let pacer = Pacer::new(100, Duration::from_secs(60));
        let epoch_ms = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1798761600000"),
        ]);
        let huge = headers(&[
            ("x-ratelimit-reset", "18446744073709551615"),
            ("x-ratelimit-remaining", "0"),
        ]);
        for hostile in [epoch_ms, huge] {
            let turn = pacer
                .wait_turn(None, Duration::from_secs(600))
                .await
                .unwrap();
            turn.answered(&hostile, StatusCode::OK, None);
            let start = Instant::now();
            pacer
                .wait_turn(None, Duration::from_secs(600))
                .await
                .unwrap()
                .not_sent();
            assert_eq!(start.elapsed(), Duration::ZERO);
        }
    }
}
