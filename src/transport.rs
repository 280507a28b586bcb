//! The path of every call, from the request the generated operation built to its typed result:
//! the spec's checks, authentication, pacing, sending with retries under one deadline, the
//! bounded read of the body, and the one decode of the envelope. Nothing here names an endpoint.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

use crate::client::ClientState;
use crate::envelope::{self, Received};
use crate::error::Applied;
use crate::pacing::Turn;
use crate::validate::Operation;
use crate::{Client, Error, Page, retry};

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

/// A request of the call, authenticated: built anew for each attempt.
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
        send(state, &client.client, request, op).await
    } else {
        send(state, &client.client, request, op)
            .instrument(span)
            .await
    }
}

async fn send(
    state: &ClientState,
    http: &reqwest::Client,
    build: Build<'_>,
    op: &'static Operation,
) -> Result<Received, Error> {
    // What the attempts so far may have done, for the final error.
    let mut earlier = Applied::No;
    let mut attempt = 0u32;
    let outcome = attempts(state, http, build, op, &mut attempt, &mut earlier).await;
    outcome.map_err(|mut error| {
        error.settle(attempt, earlier);
        error
    })
}

/// The attempts of one call. `attempt` counts those sent (or about to be), `earlier` what the
/// ones that were retried may have done; the caller settles the final error with both.
async fn attempts(
    state: &ClientState,
    http: &reqwest::Client,
    build: Build<'_>,
    op: &'static Operation,
    attempt: &mut u32,
    earlier: &mut Applied,
) -> Result<Received, Error> {
    let deadline = state.deadline.and_then(|d| Instant::now().checked_add(d));
    let policy = &state.retry;
    let idempotent = op.idempotent || policy.retry_non_idempotent;
    loop {
        let mut request = build()?;
        let headers = request.headers_mut();
        for (name, value) in &state.auth_headers {
            headers.insert(name.clone(), value.clone());
        }
        let turn = match &state.pacer {
            Some(pacer) => pacer.wait_turn(deadline, state.max_pacing_wait).await?,
            None => Turn::untracked(),
        };
        let timeout = attempt_timeout(state.timeout, deadline).ok_or(Error::Timeout {
            source: None,
            status: None,
            attempts: 0,
            applied: Applied::No,
        })?;
        // The crate's own HTTP client already has the attempt timeout; a request carries one only
        // when the deadline cuts it shorter, or when the client is the caller's.
        if state.custom_http || timeout != state.timeout {
            *request.timeout_mut() = timeout;
        }
        // A client of the caller's own may follow redirects; ours never does.
        let sent_to = state.custom_http.then(|| request.url().clone());
        *attempt += 1;
        // Whether another attempt may follow this one.
        let more = *attempt <= policy.max_retries;
        tracing::Span::current().record("attempts", *attempt);

        let failure = match http.execute(request).await {
            Err(error) => {
                let reached_server = !error.is_connect();
                if reached_server {
                    drop(turn);
                } else {
                    turn.not_sent();
                }
                let retry = more && retry::error_is_retryable(&error, idempotent);
                let error = Error::from_reqwest(error);
                if !retry {
                    return Err(error);
                }
                Retry {
                    error,
                    asked: None,
                    reason: "connection",
                }
            }
            Ok(mut response) => {
                let status = response.status();
                let headers = std::mem::take(response.headers_mut());
                let asked = (!status.is_success())
                    .then(|| retry::retry_after(&headers))
                    .flatten();
                turn.answered(&headers, status, asked);
                let span = tracing::Span::current();
                span.record("status", status.as_u16());
                if let Some(ray) = headers.get(&envelope::CF_RAY).and_then(|v| v.to_str().ok()) {
                    span.record("cf_ray", ray);
                }
                if status.is_redirection() || sent_to.is_some_and(|url| url != *response.url()) {
                    return Err(redirected(status, &headers, &response));
                }
                let limit = state.max_response_bytes;
                let body = read_capped(response, limit, status, &headers).await;
                if status.is_success() {
                    match body {
                        Ok(body) => {
                            return Ok(Received {
                                status,
                                headers,
                                body,
                                attempts: *attempt,
                                earlier: *earlier,
                            });
                        }
                        // The answer broke off: the request was processed, so only an
                        // idempotent one is sent again.
                        Err(error @ (Error::Transport { .. } | Error::Timeout { .. }))
                            if more && idempotent =>
                        {
                            Retry {
                                error,
                                asked: None,
                                reason: "body",
                            }
                        }
                        Err(error) => return Err(error),
                    }
                } else {
                    // An error status whose body broke off or is too large is still that
                    // status: it decides the retry, and a 429 stays a rate limit.
                    let error = match body {
                        Ok(body) => envelope::failed(status, &headers, &body, *attempt, asked),
                        Err(_) if status == StatusCode::TOO_MANY_REQUESTS => {
                            envelope::failed(status, &headers, &[], *attempt, asked)
                        }
                        Err(error) => error,
                    };
                    let retry = more && retry::response_is_retryable(status, &headers, idempotent);
                    // A wait longer than the cap (Cloudflare blocks for 5 minutes after a 429)
                    // is not retried into: the call fails now, saying how long was asked for.
                    let within_cap = asked.is_none_or(|wait| wait <= policy.max_retry_after);
                    if !(retry && within_cap) {
                        // A lockout's 429 (no `retry-after`) still says how long it holds.
                        return Err(match state.pacer.as_ref().and_then(|p| p.held()) {
                            Some(held) if asked.is_none() => locked_out(error, held),
                            _ => error,
                        });
                    }
                    Retry {
                        error,
                        asked,
                        reason: "status",
                    }
                }
            }
        };
        let mut wait = failure.asked.unwrap_or_else(|| policy.backoff(*attempt));
        // A retry into the lockout a 429 started (one without `retry-after`) is pointless: it
        // waits for the lockout's end as every other request of the client does, or, when that
        // is beyond the pacing cap or the deadline, the call ends now with the server's 429.
        let held = match (&failure.error, &state.pacer) {
            (Error::RateLimited { .. }, Some(pacer)) => pacer.held(),
            _ => None,
        };
        if let Some(held) = held {
            if held > state.max_pacing_wait {
                return Err(locked_out(failure.error, held));
            }
            wait = wait.max(held);
        }
        let fits =
            deadline.is_none_or(|d| Instant::now().checked_add(wait).is_some_and(|t| t <= d));
        *earlier = (*earlier).max(failure.error.applied_by_this_attempt());
        if !fits {
            return Err(match held {
                Some(held) => locked_out(failure.error, held),
                None => failure.error,
            });
        }
        tracing::debug!(
            attempt = *attempt,
            reason = failure.reason,
            error = %failure.error,
            delay_ms = wait.as_millis() as u64,
            "retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// A 429 that asked for no wait says how long the lockout it started holds the budget.
fn locked_out(mut error: Error, held: Duration) -> Error {
    if let Error::RateLimited { retry_after, .. } = &mut error {
        retry_after.get_or_insert(held);
    }
    error
}

/// An attempt that failed in a way worth retrying.
struct Retry {
    error: Error,
    asked: Option<Duration>,
    reason: &'static str,
}

/// The time an attempt may take: the configured timeout, cut to what is left of the deadline.
/// `None` when the deadline has passed; `Some(None)` for no limit at all.
fn attempt_timeout(
    timeout: Option<Duration>,
    deadline: Option<Instant>,
) -> Option<Option<Duration>> {
    match deadline {
        None => Some(timeout),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            Some(Some(timeout.map_or(left, |t| t.min(left))))
        }
    }
}

fn redirected(status: StatusCode, headers: &HeaderMap, response: &Response) -> Error {
    // Only where it pointed, never a path, query or userinfo that could carry a secret.
    let origin = crate::client::origin;
    let location = if status.is_redirection() {
        headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
            .and_then(|url| origin(&url))
    } else {
        origin(response.url())
    };
    Error::Redirected {
        status,
        location,
        ray_id: envelope::ray_id(headers),
        attempts: 1,
        applied: Applied::No,
    }
}

/// Reads the body, stopping at `limit` bytes. A body in one chunk (the usual case) is kept
/// without a copy. A body that breaks off is an error that keeps the response's `status`.
async fn read_capped(
    mut response: Response,
    limit: usize,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Bytes, Error> {
    let too_large = || Error::ResponseTooLarge {
        status,
        limit,
        ray_id: envelope::ray_id(headers),
        attempts: 1,
        applied: Applied::No,
    };
    let broke = |e: reqwest::Error| {
        let mut error = Error::from_reqwest(e);
        if let Error::Transport { status: s, .. } | Error::Timeout { status: s, .. } = &mut error {
            *s = Some(status);
        }
        error
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    while let Some(chunk) = response.chunk().await.map_err(broke)? {
        let so_far = first.as_ref().map_or(0, Bytes::len) + rest.as_ref().map_or(0, BytesMut::len);
        if so_far.saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(chunk),
            (Some(head), None) => {
                let mut joined = BytesMut::with_capacity(head.len() + chunk.len());
                joined.extend_from_slice(head);
                joined.extend_from_slice(&chunk);
                rest = Some(joined);
            }
            (Some(_), Some(joined)) => joined.extend_from_slice(&chunk),
        }
    }
    Ok(match rest {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}
