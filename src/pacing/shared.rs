//! A rate-limit budget kept outside the process (the `redis` feature), shared by every client
//! that names the same store and budget.
//!
//! A request first takes its place in this client's own budget, which knows what the API's
//! latest `Ratelimit` said is left, a lockout this client saw, and (for a window after the store
//! was away) this client's share; then the store admits it or says how long to wait. A wait
//! for requests still in flight (whose room comes back only a window after their answers) is not
//! slept out: the caller asks again when this client settles a request, or after [`REASK`].

use std::fmt::Debug;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::budget::PLAUSIBLE_WINDOW;
use super::{End, Pacer, Turn, check_wait};

/// How soon a caller told that the budget is held by requests in flight asks the store again,
/// when no request of this client settles first.
const REASK: Duration = Duration::from_millis(100);

/// A budget kept outside the process. One atomic step on the store admits a request or says how
/// long to wait; how each request ended, and what its response said of the limit, go back to it.
/// Every call is bounded in time: a store that does not answer is away, and the pacer falls back.
pub(crate) trait SharedBudget: Send + Sync + Debug {
    /// A new ticket, naming one request in the store.
    fn ticket(&self) -> u64;
    /// Takes room for the request of `ticket`; `limit` per `window` seconds is the budget this
    /// client knows, for a store that has learned none yet. `Err` when the store is away.
    /// Dropped before it is ready, the future leaves nothing taken: an admission the store
    /// makes for it is released.
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
    Pin<Box<dyn Future<Output = Result<StoreAnswer, StoreAway>> + Send + 'a>>;

/// The store's answer to a request for room.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StoreAnswer {
    /// The request may go now; it holds room until it is settled.
    Admitted,
    /// No room: it may come back in `wait`. `in_flight`: the room is held by requests not yet
    /// answered, which give it back a window after they are.
    Wait { wait: Duration, in_flight: bool },
}

/// The store did not answer in time, or could not be reached.
#[derive(Debug)]
pub(crate) struct StoreAway;

/// A pacer's store, and word of its requests settling.
#[derive(Debug)]
pub(crate) struct Shared {
    store: Box<dyn SharedBudget>,
    settled: Notify,
}

impl Pacer {
    /// A pacer whose budget is kept in `store` for every client that names it.
    pub fn shared(limit: u32, window: Duration, store: Box<dyn SharedBudget>) -> Self {
        Pacer {
            shared: Some(Shared {
                store,
                settled: Notify::new(),
            }),
            ..Pacer::new(limit, window)
        }
    }
}

impl Shared {
    /// Into how many shares the budget is split while the store is away (at least one).
    pub fn sharers(&self) -> u64 {
        self.store.sharers().max(1)
    }

    /// A request of this pacer's ended: the store hears how (when it admitted it), and callers
    /// waiting on requests in flight ask again.
    pub fn settled(&self, ticket: Option<u64>, end: End, limit: u64, window: u64) {
        if let Some(ticket) = ticket {
            self.store.settle(ticket, end, limit, window);
        }
        self.settled.notify_waiters();
    }

    /// A turn from the shared budget, or `None` when the store is away.
    pub async fn turn<'a>(
        &self,
        pacer: &'a Pacer,
        deadline: Option<Instant>,
        max_wait: Duration,
        started: &mut Option<Instant>,
    ) -> Result<Option<Turn<'a>>, super::Refused> {
        loop {
            let now = Instant::now();
            let local = match pacer.budget.lock() {
                Err(_) => return Ok(Some(Turn::untracked())),
                Ok(mut b) => {
                    let share = match b.share_until {
                        Some(until) if until > now => b.share,
                        _ => 1,
                    };
                    match b.next_free(now, share) {
                        Some(at) => Err(at),
                        None => {
                            b.in_flight += 1;
                            Ok((b.limit, b.window))
                        }
                    }
                }
            };
            let (limit, window) = match local {
                Ok(budget) => budget,
                Err(at) => {
                    super::pace_until(at, started, deadline, max_wait).await?;
                    continue;
                }
            };
            let placed = Placed(Some(pacer));
            // Listening before asking: a request settling while the store answers is heard.
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            let ticket = self.store.ticket();
            let answer = self.store.take(ticket, limit, window).await;
            match answer {
                Err(StoreAway) => return Ok(None),
                Ok(StoreAnswer::Admitted) => {
                    placed.keep();
                    return Ok(Some(Turn {
                        pacer: Some(pacer),
                        ticket: Some(ticket),
                    }));
                }
                Ok(StoreAnswer::Wait { wait, in_flight }) => {
                    drop(placed);
                    // The store's answer is input like a header: a wait beyond any plausible
                    // window is cut to one (and then refused by the caps).
                    let wait = wait.min(Duration::from_secs(PLAUSIBLE_WINDOW));
                    let now = Instant::now();
                    if in_flight {
                        let at = now + wait.min(REASK);
                        check_wait(at, started, deadline, max_wait)?;
                        let _ = tokio::time::timeout_at(at, settled).await;
                    } else {
                        super::pace_until(now + wait, started, deadline, max_wait).await?;
                    }
                }
            }
        }
    }
}

/// A request's place in this client's own budget while the store is asked; given back unless
/// the store admits it (whatever ends the asking: an answer, the store away, the future dropped).
struct Placed<'a>(Option<&'a Pacer>);

impl Placed<'_> {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Placed<'_> {
    fn drop(&mut self) {
        if let Some(pacer) = self.0
            && let Ok(mut budget) = pacer.budget.lock()
        {
            budget.in_flight = budget.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A store that always asks to wait `wait` milliseconds.
    #[derive(Debug)]
    struct Asks(u64);

    impl SharedBudget for Asks {
        fn ticket(&self) -> u64 {
            0
        }
        fn take(&self, _: u64, _: u64, _: u64) -> StoreFuture<'_> {
            let wait = Duration::from_millis(self.0);
            Box::pin(async move {
                Ok(StoreAnswer::Wait {
                    wait,
                    in_flight: false,
                })
            })
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
            let refused = match pacer.wait_turn(None, Duration::from_secs(330)).await {
                Err(refused) => refused,
                Ok(_) => panic!("a wait of {wait} ms was not refused"),
            };
            assert!(refused.wait > Duration::from_secs(330), "{refused:?}");
            assert_eq!(pacer.budget.lock().unwrap().in_flight, 0, "nothing held");
        }
    }

    /// A store away until `back` (on tokio's clock), then admitting every request, counted.
    #[derive(Debug)]
    struct AwayUntil {
        back: Instant,
        admitted: Arc<AtomicU64>,
    }

    impl SharedBudget for AwayUntil {
        fn ticket(&self) -> u64 {
            1
        }
        fn take(&self, _: u64, _: u64, _: u64) -> StoreFuture<'_> {
            Box::pin(async move {
                if Instant::now() < self.back {
                    return Err(StoreAway);
                }
                self.admitted.fetch_add(1, Ordering::Relaxed);
                Ok(StoreAnswer::Admitted)
            })
        }
        fn settle(&self, _: u64, _: End, _: u64, _: u64) {}
        fn sharers(&self) -> u64 {
            2
        }
    }

    /// A request that waits on its share of the budget while the store is away asks the store
    /// again when its wait ends: a store back by then admits it, so that it is not sent unknown
    /// to the store (which admits the whole budget to the others).
    #[tokio::test(start_paused = true)]
    async fn a_wait_on_a_share_ends_at_the_store_when_it_is_back() {
        let admitted = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let store = AwayUntil {
            back: start + Duration::from_millis(11_500),
            admitted: admitted.clone(),
        };
        let pacer = Pacer::shared(2, Duration::from_secs(10), Box::new(store));
        let cap = Duration::from_secs(60);
        // Away: the first request goes on this client's share (one of two).
        let alone = pacer.wait_turn(None, cap).await.unwrap();
        assert_eq!(alone.ticket, None, "paced alone");
        tokio::time::sleep(Duration::from_secs(2)).await;
        alone.answered(&HeaderMap::new(), StatusCode::OK, None);
        // Past the share's window (a window from the first turn), the store still away: the
        // request waits on its share for the first one's room (a window from its answer), and
        // the store is back before that wait ends.
        tokio::time::sleep(Duration::from_millis(8_500)).await;
        let turn = pacer.wait_turn(None, cap).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(10_700),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(turn.ticket, Some(1), "taken from the store");
        assert_eq!(admitted.load(Ordering::Relaxed), 1);
        turn.not_sent();
    }
}
