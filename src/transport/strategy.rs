//! What comes after an attempt: accept its answer, retry after a wait, or stop. The one place
//! that decides the attempts left, the backoff, the cap on a server's `retry-after`, the
//! rate-limit lockout a 429 started and the call's deadline.

use std::time::Duration;

use tokio::time::Instant;

use super::classify::{Class, Verdict, Why};
use crate::retry::RetryPolicy;

/// What bounds a call's waits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// When the whole call must have ended.
    pub deadline: Option<Instant>,
    /// Longest wait for the rate-limit budget (a lockout included).
    pub max_pacing_wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// The outcome is the call's answer.
    Accept,
    /// Send again after `wait`.
    Retry { wait: Duration, why: Why },
    /// The outcome is the call's end. `lockout`: how long more the budget is held by the
    /// lockout a 429 started, which the error states when the server asked for no wait.
    Stop { lockout: Option<Duration> },
}

/// Decides after attempt number `attempt` (from 1) classified as `verdict`. `held` says how long
/// the client's rate-limit budget is still locked; it is asked only after a 429.
///
/// A retry into the lockout a 429 started (one without `retry-after`, which at Cloudflare holds
/// for five minutes) waits for its end, as every other request of the client does; when that is
/// beyond the pacing cap or the deadline, the call ends now, saying how long it holds.
pub(super) fn decide(
    verdict: &Verdict,
    attempt: u32,
    policy: &RetryPolicy,
    limits: &Limits,
    held: impl FnOnce() -> Option<Duration>,
) -> Action {
    let why = match verdict.class {
        Class::Success => return Action::Accept,
        Class::Retryable(why) => Some(why),
        Class::Final => None,
    };
    let lockout = if verdict.rate_limited { held() } else { None };
    let stop = Action::Stop { lockout };
    let Some(why) = why else { return stop };
    // A wait longer than the cap is not retried into: the call fails now, saying how long was
    // asked for.
    if attempt > policy.max_retries || verdict.asked.is_some_and(|w| w > policy.max_retry_after) {
        return stop;
    }
    let mut wait = verdict.asked.unwrap_or_else(|| policy.backoff(attempt));
    if let Some(held) = lockout {
        if held > limits.max_pacing_wait {
            return stop;
        }
        wait = wait.max(held);
    }
    let fits = limits
        .deadline
        .is_none_or(|d| Instant::now().checked_add(wait).is_some_and(|t| t <= d));
    if fits {
        Action::Retry { wait, why }
    } else {
        stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Applied;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(400),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            retry_non_idempotent: false,
        }
    }

    const NO_LIMITS: Limits = Limits {
        deadline: None,
        max_pacing_wait: Duration::from_secs(600),
    };

    fn verdict(class: Class, asked: Option<u64>, rate_limited: bool) -> Verdict {
        Verdict {
            class,
            applied: Applied::No,
            asked: asked.map(Duration::from_secs),
            rate_limited,
        }
    }

    const RETRY: Class = Class::Retryable(Why::Status);

    /// The lockout is asked for after a 429 only.
    fn never() -> Option<Duration> {
        panic!("the lockout was asked for, but the outcome is no 429")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_success_is_accepted_and_a_final_outcome_stops() {
        let p = policy();
        let success = verdict(Class::Success, None, false);
        assert_eq!(decide(&success, 1, &p, &NO_LIMITS, never), Action::Accept);
        let final_ = verdict(Class::Final, None, false);
        let stop = Action::Stop { lockout: None };
        assert_eq!(decide(&final_, 1, &p, &NO_LIMITS, never), stop);
    }

    #[test]
    fn a_final_429_stops_saying_how_long_the_lockout_holds() {
        let p = policy();
        let v = verdict(Class::Final, None, true);
        let held = || Some(secs(300));
        let stop = Action::Stop {
            lockout: Some(secs(300)),
        };
        assert_eq!(decide(&v, 1, &p, &NO_LIMITS, held), stop);
        let none = Action::Stop { lockout: None };
        assert_eq!(decide(&v, 1, &p, &NO_LIMITS, || None), none);
    }

    #[test]
    fn retries_end_after_max_retries() {
        let p = policy();
        for why in [Why::Connection, Why::Body, Why::Status] {
            let v = verdict(Class::Retryable(why), None, false);
            for attempt in 1..=2 {
                match decide(&v, attempt, &p, &NO_LIMITS, never) {
                    Action::Retry { wait, why: w } => {
                        assert_eq!(w, why);
                        // The backoff of this retry: between half and all of 400 ms × 2^(n-1).
                        let full = Duration::from_millis(400 << (attempt - 1));
                        assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
                    }
                    other => panic!("attempt {attempt}: {other:?}"),
                }
            }
            let stop = Action::Stop { lockout: None };
            assert_eq!(decide(&v, 3, &p, &NO_LIMITS, never), stop);
        }
    }

    #[test]
    fn a_wait_asked_for_is_taken_up_to_the_cap_and_refused_beyond() {
        let p = policy();
        let asked = |s| verdict(RETRY, Some(s), false);
        let retry = |s| Action::Retry {
            wait: secs(s),
            why: Why::Status,
        };
        assert_eq!(decide(&asked(0), 1, &p, &NO_LIMITS, never), retry(0));
        assert_eq!(decide(&asked(60), 1, &p, &NO_LIMITS, never), retry(60));
        let stop = Action::Stop { lockout: None };
        assert_eq!(decide(&asked(61), 1, &p, &NO_LIMITS, never), stop);
    }

    #[test]
    fn a_retry_after_a_429_waits_for_the_lockout_within_the_pacing_cap() {
        let p = policy();
        let limits = Limits {
            deadline: None,
            max_pacing_wait: secs(300),
        };
        let v = verdict(RETRY, None, true);
        let retry = |s| Action::Retry {
            wait: secs(s),
            why: Why::Status,
        };
        // The lockout is longer than the backoff: it is waited for, up to the cap exactly.
        assert_eq!(decide(&v, 1, &p, &limits, || Some(secs(300))), retry(300));
        assert_eq!(decide(&v, 1, &p, &limits, || Some(secs(5))), retry(5));
        let stop = Action::Stop {
            lockout: Some(secs(301)),
        };
        assert_eq!(decide(&v, 1, &p, &limits, || Some(secs(301))), stop);
        // A wait asked for that is longer than the lockout is kept.
        let asked = verdict(RETRY, Some(20), true);
        assert_eq!(decide(&asked, 1, &p, &limits, || Some(secs(5))), retry(20));
        // No lockout: the backoff.
        match decide(&v, 1, &p, &limits, || None) {
            Action::Retry { wait, .. } => assert!(wait <= Duration::from_millis(400)),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_that_ends_after_the_deadline_stops_the_call() {
        let p = policy();
        let now = Instant::now();
        let limits = Limits {
            deadline: Some(now + secs(10)),
            max_pacing_wait: secs(600),
        };
        let retry = |s| Action::Retry {
            wait: secs(s),
            why: Why::Status,
        };
        let asked = |s| verdict(RETRY, Some(s), false);
        assert_eq!(decide(&asked(10), 1, &p, &limits, never), retry(10));
        let stop = Action::Stop { lockout: None };
        assert_eq!(decide(&asked(11), 1, &p, &limits, never), stop);
        // A lockout past the deadline stops the call, saying how long it holds.
        let locked = verdict(RETRY, None, true);
        let stop = Action::Stop {
            lockout: Some(secs(11)),
        };
        assert_eq!(decide(&locked, 1, &p, &limits, || Some(secs(11))), stop);
        // A wait too long to add to the clock is past any deadline, and no panic.
        let huge = RetryPolicy {
            max_retry_after: Duration::MAX,
            ..policy()
        };
        let v = verdict(RETRY, Some(u64::MAX), false);
        let stop = Action::Stop { lockout: None };
        assert_eq!(decide(&v, 1, &huge, &limits, never), stop);
        // Without a deadline, that wait is taken.
        let endless = decide(&v, 1, &huge, &NO_LIMITS, never);
        assert_eq!(endless, retry(u64::MAX));
    }
}
