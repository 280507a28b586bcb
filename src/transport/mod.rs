//! The path of every call, from the request the generated operation built to its typed result.
//! Nothing here names an endpoint. A call is a short loop over three phases, each in a file:
//!
//! - `attempt.rs`: one attempt (build, authenticate, pace, send, read the body capped) comes to
//!   an [`Outcome`](attempt::Outcome);
//! - `classify.rs`: what the outcome is (a success, retryable and why, final) and whether its
//!   request may have taken effect;
//! - `strategy.rs`: given that, the retry policy, the rate-limit lockout and the deadline, retry
//!   after a wait or stop.
//!
//! The call's result (a response, or its one [`Error`]) is built once, from the last outcome.

mod attempt;
mod classify;
mod strategy;

use reqwest::Request;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::client::ClientState;
use crate::envelope::{self, Received};
use crate::error::Applied;
use crate::validate::Operation;
use crate::{Client, Error, Page};
use strategy::{Action, Limits};

/// Sends the request of `op` (built by `request`, once per attempt) and decodes the envelope's
/// `result` as `T`.
pub(crate) async fn call<T: DeserializeOwned>(
    client: &Client,
    request: impl Fn() -> Result<Request, Error> + Sync,
    op: &'static Operation,
) -> Result<T, Error> {
    envelope::result(&execute(client, &request, op).await?)
}

/// Sends the request of `op`, a list, and decodes one page of it.
pub(crate) async fn call_page<T: DeserializeOwned>(
    client: &Client,
    request: impl Fn() -> Result<Request, Error> + Sync,
    op: &'static Operation,
) -> Result<Page<T>, Error> {
    envelope::page(&execute(client, &request, op).await?)
}

/// A request of the call: built anew for each attempt.
type Build<'a> = &'a (dyn Fn() -> Result<Request, Error> + Sync);

/// Everything up to a successful response read in full; any other outcome is an [`Error`].
async fn execute(
    client: &Client,
    request: Build<'_>,
    op: &'static Operation,
) -> Result<Received, Error> {
    let state = &client.inner;
    // One span per call; never the body, never a header (the auth headers are in them).
    let span = tracing::debug_span!(
        "cloudflare_dns_settings.call",
        operation = op.id,
        method = %op.method,
        path = op.path,
        status = Empty,
        attempts = Empty,
        cf_ray = Empty,
    );
    // With no subscriber listening, the span is not entered on every poll.
    if span.is_disabled() {
        send(state, &client.client, request, op, &span).await
    } else {
        let call = send(state, &client.client, request, op, &span);
        call.instrument(span.clone()).await
    }
}

/// The attempts of one call: each outcome classified, the strategy deciding what comes next,
/// and the call's result built from the last outcome.
async fn send(
    state: &ClientState,
    http: &reqwest::Client,
    build: Build<'_>,
    op: &'static Operation,
    span: &Span,
) -> Result<Received, Error> {
    // The clock, read once for the deadline and the first attempt; again after each wait.
    let mut now = Instant::now();
    let limits = Limits {
        deadline: state.deadline.and_then(|d| now.checked_add(d)),
        max_pacing_wait: state.max_pacing_wait,
    };
    let idempotent = op.idempotent || state.retry.retry_non_idempotent;
    // Requests sent so far, and what those already retried may have done.
    let mut sent = 0u32;
    let mut earlier = Applied::No;
    loop {
        let at = (now, limits.deadline);
        let outcome = attempt::once(state, http, build, at, &mut sent, span).await;
        let verdict = classify::classify(&outcome, idempotent);
        let applied = earlier.max(verdict.applied);
        let held = || state.pacer.as_ref().and_then(|pacer| pacer.held());
        match strategy::decide(&verdict, sent, &state.retry, &limits, held) {
            Action::Accept => return outcome.finish(sent, earlier, None),
            Action::Stop { lockout } => return outcome.finish(sent, applied, lockout),
            Action::Retry { wait, why } => {
                tracing::debug!(
                    attempt = sent,
                    reason = why.as_str(),
                    outcome = %outcome,
                    delay_ms = wait.as_millis() as u64,
                    "retrying"
                );
                earlier = applied;
                tokio::time::sleep(wait).await;
                now = Instant::now();
            }
        }
    }
}
