//! Rate-limit pacing: keeps a client (and its clones) inside the API's request budget, so that a
//! bulk job never runs into a 429, which at Cloudflare blocks the token for five minutes.
//!
//! The budget is a sliding window: at most `limit` requests in any `window`. It starts as
//! Cloudflare's documented global limit (1200 requests per 5 minutes per user) and follows what
//! responses say: `Ratelimit-Policy` (`"default";q=1200;w=300`) sets it; `Ratelimit`
//! (`"default";r=0;t=12`) and `X-RateLimit-*` account for requests this client did not send.
//!
//! A request counts from when it is sent until `window` after its response came back (the server
//! counted it somewhere in between, so this never undercounts). Every value read from a header is
//! checked: a window or reset that is not plausible is ignored, never waited for.
//!
//! In parts: `budget.rs` is the arithmetic, `headers.rs` the reading of rate-limit headers, and
//! `shared.rs` (the `redis` feature) a budget kept in a store for every process that names it.

mod budget;
mod headers;
#[cfg(feature = "redis")]
mod shared;

use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use budget::{Budget, News};
#[cfg(feature = "redis")]
pub(crate) use shared::{Shared, SharedBudget, StoreAnswer, StoreAway, StoreFuture};

/// Cloudflare's documented global limit: 1200 requests per five minutes per user.
pub(crate) const CLOUDFLARE_LIMIT: u32 = 1200;
/// The window of that limit.
pub(crate) const CLOUDFLARE_WINDOW: Duration = Duration::from_secs(300);

/// Shared by every clone of a client (one token, one budget).
#[derive(Debug)]
pub(crate) struct Pacer {
    budget: Mutex<Budget>,
    /// A budget shared beyond this client (the `redis` feature's store); `None`: this client's
    /// own, the in-process budget above. While the store cannot be reached, the in-process one
    /// paces on a share of the budget.
    #[cfg(feature = "redis")]
    shared: Option<Shared>,
}

impl Pacer {
    /// Starts from a budget of `limit` requests per `window` (whole seconds, at least one).
    pub fn new(limit: u32, window: Duration) -> Self {
        Pacer {
            budget: Mutex::new(Budget::new(u64::from(limit), window.as_secs())),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// Waits until the budget has room, then takes one request from it. Fails, sending nothing,
    /// as soon as the wait (counted from when it began, polls for requests in flight included)
    /// would be longer than `max_wait` or end after `deadline`. Dropped while it waits, it
    /// leaves nothing taken.
    pub async fn wait_turn(
        &self,
        deadline: Option<Instant>,
        max_wait: Duration,
    ) -> Result<Turn<'_>, Refused> {
        if let Some(turn) = self.turn_now(Instant::now()) {
            return Ok(turn);
        }
        // Out of line: a call's future does not carry the state of a wait it seldom has.
        Box::pin(self.wait_for_turn(deadline, max_wait)).await
    }

    /// The usual case, a budget of this client's own with room at `now` (the current time, read
    /// by the caller): a turn at once. `None` when the request must wait, or ask the shared
    /// store: then [`wait_turn`](Self::wait_turn).
    pub fn turn_now(&self, now: Instant) -> Option<Turn<'_>> {
        #[cfg(feature = "redis")]
        if self.shared.is_some() {
            return None;
        }
        let Ok(mut budget) = self.budget.lock() else {
            return Some(Turn::untracked());
        };
        if budget.next_free(now, 1).is_some() {
            return None;
        }
        budget.in_flight += 1;
        Some(Turn::new(self))
    }

    /// [`wait_turn`](Self::wait_turn) when it may have to wait, or ask the shared store.
    async fn wait_for_turn(
        &self,
        deadline: Option<Instant>,
        max_wait: Duration,
    ) -> Result<Turn<'_>, Refused> {
        // When the first wait began (read only when there is a wait: a paced call's fast path
        // reads the clock once).
        let mut started = None;
        // Each pass asks the shared store first: one that came back while this request waited
        // on its share of the budget takes it from there (a request sent alone then would be
        // unknown to the store, which admits the whole budget to the others).
        loop {
            #[cfg(feature = "redis")]
            let share = match &self.shared {
                Some(shared) => match shared.turn(self, deadline, max_wait, &mut started).await? {
                    Some(turn) => return Ok(turn),
                    // The store is away: this client keeps to its share of the budget.
                    None => shared.sharers(),
                },
                None => 1,
            };
            #[cfg(not(feature = "redis"))]
            let share = 1;
            let at = match self.budget.lock() {
                Ok(mut budget) => match budget.next_free(Instant::now(), share) {
                    None => {
                        budget.in_flight += 1;
                        if share > 1 {
                            budget.share = share;
                            budget.share_until =
                                Instant::now().checked_add(Duration::from_secs(budget.window));
                        }
                        return Ok(Turn::new(self));
                    }
                    Some(at) => at,
                },
                Err(_) => return Ok(Turn::untracked()),
            };
            pace_until(at, &mut started, deadline, max_wait).await?;
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
) -> Result<(), Refused> {
    let wait = check_wait(at, started, deadline, max_wait)?;
    tracing::debug!(
        wait_ms = wait.as_millis() as u64,
        "rate-limit budget spent; pacing"
    );
    tokio::time::sleep_until(at).await;
    Ok(())
}

/// The wait until `at`, or the error that refuses it: the wait that began at `started` would
/// then be longer than `max_wait` or end after `deadline`.
fn check_wait(
    at: Instant,
    started: &mut Option<Instant>,
    deadline: Option<Instant>,
    max_wait: Duration,
) -> Result<Duration, Refused> {
    let now = Instant::now();
    let wait = at.saturating_duration_since(now);
    if at.saturating_duration_since(*started.get_or_insert(now)) > max_wait
        || deadline.is_some_and(|d| at > d)
    {
        return Err(Refused { wait });
    }
    Ok(wait)
}

/// The budget's refusal of a request, which then is not sent: it would have had to wait `wait`,
/// longer than the cap allows or past the deadline.
#[derive(Debug)]
pub(crate) struct Refused {
    pub wait: Duration,
}

/// How a request ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum End {
    /// A response came back; what it taught.
    Answered(News),
    /// It never reached the server: it takes no room.
    NotSent,
    /// It may have reached the server (a timeout, a dropped connection, a dropped future): it
    /// counts from now.
    Unknown,
}

/// A request's place in the budget, from when it is sent. Dropped without [`Turn::answered`]
/// or [`Turn::not_sent`] (a timeout, a broken connection, the caller's future dropped, a
/// panic), it counts as having reached the server.
pub(crate) struct Turn<'a> {
    pacer: Option<&'a Pacer>,
    /// Its name in the shared budget, when it holds room there.
    #[cfg(feature = "redis")]
    ticket: Option<u64>,
}

impl<'a> Turn<'a> {
    fn new(pacer: &'a Pacer) -> Self {
        Turn {
            pacer: Some(pacer),
            #[cfg(feature = "redis")]
            ticket: None,
        }
    }

    /// A turn that tracks nothing (pacing off).
    pub fn untracked() -> Self {
        Turn {
            pacer: None,
            #[cfg(feature = "redis")]
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
        self.finish(|budget| End::Answered(budget.read(headers, status, retry_after)));
    }

    /// The request never reached the server (the connection could not be made, or the call's
    /// deadline passed before it was sent).
    pub fn not_sent(mut self) {
        self.finish(|_| End::NotSent);
    }

    /// Ends the turn as `end` says, under one lock of the budget.
    fn finish(&mut self, end: impl FnOnce(&mut Budget) -> End) {
        let Some(pacer) = self.pacer.take() else {
            return;
        };
        let Ok(mut budget) = pacer.budget.lock() else {
            return;
        };
        let now = Instant::now();
        let end = end(&mut budget);
        // While the news is learned the request still counts as in flight: a response's
        // `remaining` already counts it.
        match &end {
            End::Answered(news) => {
                budget.learn(now, news);
                budget.record(now, 1);
            }
            End::Unknown => budget.record(now, 1),
            End::NotSent => {}
        }
        budget.in_flight = budget.in_flight.saturating_sub(1);
        #[cfg(feature = "redis")]
        {
            let (limit, window) = (budget.limit, budget.window);
            drop(budget);
            if let Some(shared) = &pacer.shared {
                shared.settled(self.ticket.take(), end, limit, window);
            }
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.finish(|_| End::Unknown);
    }
}

#[cfg(test)]
mod tests {
    use super::headers::tests::headers;
    use super::*;

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
        assert_eq!(refused.wait, Duration::from_secs(300));
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
            assert_eq!(short.err().unwrap().wait, lockout);
            let deadline = start + lockout - Duration::from_secs(1);
            let late = pacer.wait_turn(Some(deadline), cap).await;
            assert_eq!(late.err().unwrap().wait, lockout);
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

    /// Whatever ends a turn or a wait for one (an answer, not sent, the caller's future dropped
    /// while it waits, a turn dropped after sending), the budget holds exactly the turns still
    /// alive, and room comes back a window after the last: a cancelled call leaves nothing
    /// behind in process.
    #[test]
    fn a_dropped_wait_or_turn_leaves_nothing_held() {
        use proptest::prelude::*;
        let steps = prop::collection::vec((0u8..4, 0u64..3000), 1..40);
        let config = ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest::test_runner::TestRunner::new(config)
            .run(&(1u32..5, steps), |(limit, steps)| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .start_paused(true)
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let pacer = Pacer::new(limit, Duration::from_secs(2));
                    let cap = Duration::from_secs(60);
                    let mut live = Vec::new();
                    for (kind, ms) in steps {
                        match kind {
                            0 => {
                                let wait = pacer.wait_turn(None, cap);
                                if let Ok(Ok(turn)) =
                                    tokio::time::timeout(Duration::from_millis(ms), wait).await
                                {
                                    live.push(turn);
                                }
                            }
                            _ if live.is_empty() => {}
                            1 => live
                                .remove(0)
                                .answered(&HeaderMap::new(), StatusCode::OK, None),
                            2 => drop(live.remove(0)),
                            _ => live.remove(0).not_sent(),
                        }
                        let held = pacer.budget.lock().unwrap().in_flight;
                        prop_assert_eq!(held, live.len() as u64);
                    }
                    drop(live);
                    prop_assert_eq!(pacer.budget.lock().unwrap().in_flight, 0);
                    tokio::time::sleep(Duration::from_secs(4)).await;
                    let start = Instant::now();
                    for _ in 0..limit {
                        let turn = pacer.wait_turn(None, cap).await.unwrap();
                        turn.answered(&HeaderMap::new(), StatusCode::OK, None);
                    }
                    prop_assert_eq!(start.elapsed(), Duration::ZERO);
                    Ok(())
                })
            })
            .unwrap();
    }
}
