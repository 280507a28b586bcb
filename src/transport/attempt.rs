//! One attempt: the request built and authenticated, a turn of the rate-limit budget, the
//! request sent within what is left of the deadline, the body read up to the cap. What it came
//! to is an [`Outcome`]; [`Outcome::finish`] makes the call's result of the last one.

use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Request, Response, StatusCode};
use tokio::time::Instant;
use tracing::Span;

use super::Build;
use crate::client::ClientState;
use crate::envelope::{self, Received};
use crate::error::{Applied, Context, ErrorKind};
use crate::pacing::Turn;
use crate::{Error, retry};

/// What one attempt came to.
pub(super) enum Outcome {
    /// Nothing was sent: the request could not be built, the rate-limit budget refused it, or
    /// the deadline had passed.
    Unsent(ErrorKind),
    /// No response came: the connection could not be made, broke, or timed out (or reqwest
    /// refused to send the request at all).
    Failed(reqwest::Error),
    /// A response came.
    Answered(Answer),
}

/// A response: its status and headers, and how reading its body ended.
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The wait a response that is not a success asks for (`retry-after`).
    pub asked: Option<Duration>,
    pub body: Body,
}

/// How reading a response's body ended.
pub(super) enum Body {
    /// Read whole, within the cap.
    Read(Bytes),
    /// It broke off (a reset, a timeout).
    Broke(reqwest::Error),
    /// It exceeds the cap of `limit` bytes; reading stopped there.
    TooLarge { limit: usize },
    /// Not read: the response is a redirect (`followed: false`), or the answer of another URL
    /// than the one asked, which a client of the caller's own followed a redirect to.
    Redirected {
        location: Option<String>,
        followed: bool,
    },
}

/// Makes one attempt, starting at `now`; `sent` counts the requests that went out, this one
/// included. What it learns is recorded in `span`, the call's, when a subscriber listens.
pub(super) async fn once(
    state: &ClientState,
    http: &reqwest::Client,
    build: Build<'_>,
    (now, deadline): (Instant, Option<Instant>),
    sent: &mut u32,
    span: &Span,
) -> Outcome {
    let (request, turn) = match prepare(state, build, now, deadline).await {
        Ok(ready) => ready,
        Err(kind) => return Outcome::Unsent(kind),
    };
    // A client of the caller's own may follow redirects; ours never does.
    let sent_to = state.custom_http.then(|| request.url().clone());
    *sent += 1;
    let traced = !span.is_disabled();
    if traced {
        span.record("attempts", *sent);
    }
    let mut response = match http.execute(request).await {
        Ok(response) => response,
        Err(error) => {
            if error.is_connect() {
                turn.not_sent();
            } else {
                drop(turn);
            }
            return Outcome::Failed(error);
        }
    };
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let asked = (!status.is_success())
        .then(|| retry::retry_after(&headers))
        .flatten();
    turn.answered(&headers, status, asked);
    if traced {
        span.record("status", status.as_u16());
        if let Some(ray) = headers.get(&envelope::CF_RAY).and_then(|v| v.to_str().ok()) {
            span.record("cf_ray", ray);
        }
    }
    let followed = sent_to.is_some_and(|url| url != *response.url());
    let body = if status.is_redirection() || followed {
        redirected(status, &headers, &response)
    } else {
        read_capped(response, state.max_response_bytes).await
    };
    Outcome::Answered(Answer {
        status,
        headers,
        asked,
        body,
    })
}

/// The request built and authenticated, its turn of the rate-limit budget taken and its timeout
/// cut to the deadline; or why nothing is sent. `now` is the current time, read once for the
/// budget and the deadline both unless the budget makes the request wait.
async fn prepare<'s>(
    state: &'s ClientState,
    build: Build<'_>,
    mut now: Instant,
    deadline: Option<Instant>,
) -> Result<(Request, Turn<'s>), ErrorKind> {
    let mut request = build().map_err(Error::into_kind)?;
    let headers = request.headers_mut();
    for (name, value) in &state.auth_headers {
        headers.insert(name.clone(), value.clone());
    }
    let turn = match &state.pacer {
        None => Turn::untracked(),
        Some(pacer) => match pacer.turn_now(now) {
            Some(turn) => turn,
            None => {
                let waited = pacer.wait_turn(deadline, state.max_pacing_wait).await;
                now = Instant::now();
                waited.map_err(|refused| ErrorKind::RateLimited {
                    retry_after: Some(refused.wait),
                })?
            }
        },
    };
    let Some(timeout) = attempt_timeout(state.timeout, deadline, now) else {
        turn.not_sent();
        return Err(ErrorKind::Timeout { source: None });
    };
    // The crate's own HTTP client already has the attempt timeout; a request carries one only
    // when the deadline cuts it shorter, or when the client is the caller's.
    if state.custom_http || timeout != state.timeout {
        *request.timeout_mut() = timeout;
    }
    Ok((request, turn))
}

impl Outcome {
    /// The call's result, when this is its last outcome: the response of a success, else the
    /// call's one error, with `attempts` sent, `applied` over all of them, and the `lockout` a
    /// 429 started (its wait, when the response asked for none).
    pub(super) fn finish(
        self,
        attempts: u32,
        applied: Applied,
        lockout: Option<Duration>,
    ) -> Result<Received, Error> {
        let context = Context {
            attempts,
            applied,
            ..Context::default()
        };
        let answer = match self {
            // Refused input (a request that could not be built, by the builder or by reqwest)
            // was never sent: it has no facts of the call.
            Outcome::Unsent(kind @ ErrorKind::InvalidInput { .. }) => return Err(kind.into()),
            Outcome::Failed(error) if error.is_builder() => {
                return Err(ErrorKind::from_reqwest(error).into());
            }
            Outcome::Unsent(kind) => return Err(Error::new(kind, context)),
            Outcome::Failed(error) => {
                return Err(Error::new(ErrorKind::from_reqwest(error), context));
            }
            Outcome::Answered(answer) => answer,
        };
        let Answer {
            status,
            headers,
            asked,
            body,
        } = answer;
        let body = match body {
            Body::Read(body) if status.is_success() => {
                return Ok(Received {
                    status,
                    headers,
                    body,
                    attempts,
                    earlier: applied,
                });
            }
            body => body,
        };
        let mut context = Context {
            status: Some(status),
            ray_id: envelope::ray_id(&headers),
            ..context
        };
        let retry_after = asked.or(lockout);
        let kind = match body {
            Body::Redirected { location, .. } => ErrorKind::Redirected { location },
            // An error status whose body broke off or is too large is still that status: a 429
            // stays a rate limit.
            Body::Read(body) => {
                let (kind, errors) = envelope::failed(status, &headers, &body, retry_after);
                context.errors = errors;
                kind
            }
            _ if status == StatusCode::TOO_MANY_REQUESTS => ErrorKind::RateLimited { retry_after },
            Body::Broke(error) => ErrorKind::from_reqwest(error),
            Body::TooLarge { limit } => ErrorKind::ResponseTooLarge { limit },
        };
        Err(Error::new(kind, context))
    }
}

/// What a retry is logged with: never a header, a body or the URL.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Unsent(_) => f.write_str("not sent"),
            // reqwest's own message names the URL, whose path and query may say too much.
            Outcome::Failed(error) if error.is_timeout() => f.write_str("the request timed out"),
            Outcome::Failed(error) if error.is_connect() => f.write_str("cannot connect"),
            Outcome::Failed(_) => f.write_str("the connection broke"),
            Outcome::Answered(answer) => {
                let broke = matches!(answer.body, Body::Broke(_));
                let code = answer.status.as_u16();
                write!(
                    f,
                    "HTTP {code}{}",
                    if broke { ", its body broke off" } else { "" }
                )
            }
        }
    }
}

/// The time an attempt may take: the configured timeout, cut to what is left of the deadline at
/// `now`.
/// `None` when the deadline has passed; `Some(None)` for no limit at all.
fn attempt_timeout(
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    now: Instant,
) -> Option<Option<Duration>> {
    match deadline {
        None => Some(timeout),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                return None;
            }
            Some(Some(timeout.map_or(left, |t| t.min(left))))
        }
    }
}

/// Where a redirect pointed: the origin only, never a path, query or userinfo that could carry
/// a secret.
fn redirected(status: StatusCode, headers: &HeaderMap, response: &Response) -> Body {
    let origin = crate::client::origin;
    let followed = !status.is_redirection();
    let location = if followed {
        origin(response.url())
    } else {
        headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
            .and_then(|url| origin(&url))
    };
    Body::Redirected { location, followed }
}

/// Reads the body, stopping at `limit` bytes. A body in one chunk (the usual case) is kept
/// without a copy.
async fn read_capped(mut response: Response, limit: usize) -> Body {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Body::TooLarge { limit };
    }
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => return Body::Broke(error),
        };
        let so_far = first.as_ref().map_or(0, Bytes::len) + rest.as_ref().map_or(0, BytesMut::len);
        if so_far.saturating_add(chunk.len()) > limit {
            return Body::TooLarge { limit };
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
    Body::Read(match rest {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refused input (a request the builder or reqwest could not build) was never sent: whatever
    /// attempts came before, it states no attempt and no effect, as it did before the call's
    /// phases were split.
    #[test]
    fn refused_input_has_no_facts_of_the_call() {
        let unbuilt = reqwest::Client::new().get("no scheme").build().unwrap_err();
        let invalid = ErrorKind::InvalidInput {
            field: "request".into(),
            problem: "cannot be built".into(),
        };
        for outcome in [Outcome::Failed(unbuilt), Outcome::Unsent(invalid)] {
            let Err(error) = outcome.finish(2, Applied::Maybe, None) else {
                panic!("an error")
            };
            assert!(
                matches!(error.kind(), ErrorKind::InvalidInput { .. }),
                "{error:?}"
            );
            assert_eq!((error.attempts(), error.applied()), (0, Applied::No));
            assert_eq!(error.status(), None);
        }
        // A refusal of the budget on a retry keeps the call's facts.
        let paced = Outcome::Unsent(ErrorKind::RateLimited { retry_after: None });
        let error = paced.finish(2, Applied::Maybe, None).err().unwrap();
        assert_eq!((error.attempts(), error.applied()), (2, Applied::Maybe));
    }
}
