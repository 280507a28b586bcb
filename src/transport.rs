//! The hooks progenitor calls around every request: authentication, the spec's checks, pacing,
//! sending with retries, the bounded read of the response, and the envelope. Nothing here names
//! an endpoint.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::HeaderMap;
use reqwest::{Request, Response, StatusCode};
use tracing::Instrument;
use tracing::field::Empty;

use crate::client::ClientState;
use crate::envelope::{self, ResponseMeta};
use crate::{Client, Error, retry, validate};

/// progenitor adds this header (from the spec's `info.version`) to every request; it means
/// nothing to Cloudflare, and a client sends only the headers it means to.
const PROGENITOR_VERSION_HEADER: &str = "api-version";

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let headers = request.headers_mut();
        headers.remove(PROGENITOR_VERSION_HEADER);
        for (name, value) in &self.inner().auth_headers {
            headers.insert(name.clone(), value.clone());
        }
        validate::check_request(info.operation_id, request).map_err(|error| {
            let message = error.to_string();
            envelope::with_record(|record| record.error = Some(error));
            progenitor_client::Error::InvalidRequest(message)
        })
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        // One span per call; never the body, never a header (the auth headers are in them).
        let operation = validate::operation(info.operation_id);
        let paginated = operation.is_some_and(|op| op.paginated);
        let span = tracing::debug_span!(
            "cloudflare_dns_settings.call",
            operation = info.operation_id,
            method = %request.method(),
            path = operation.map_or("(unknown)", |op| op.path_template),
            status = Empty,
            attempts = Empty,
            cf_ray = Empty,
        );
        send_with_retries(self.inner(), self.client(), request, paginated)
            .instrument(span)
            .await
    }
}

async fn send_with_retries(
    state: &ClientState,
    http: &reqwest::Client,
    request: Request,
    paginated: bool,
) -> reqwest::Result<Response> {
    let policy = &state.retry;
    let mut attempts = 0;
    while attempts < policy.max_retries {
        // Send a copy and keep the request for the next attempt. Generated operations send
        // JSON bytes, which always copy; a stream could not, and is sent once, below.
        let Some(copy) = request.try_clone() else {
            break;
        };
        attempts += 1;
        match send_once(state, http, copy, attempts).await {
            Ok(response) => match retry::retry_reason(response.status(), response.headers()) {
                None => return finish(state, response, paginated).await,
                Some(reason) => {
                    let headers = response.headers().clone();
                    drop(response);
                    backoff(policy, attempts, Some(&headers), &reason).await;
                }
            },
            Err(error) if retry::retryable_error(&error) => {
                backoff(policy, attempts, None, &error.to_string()).await;
            }
            Err(error) => return Err(error),
        }
    }
    // The last attempt sends the request itself: whatever comes back is the answer.
    let response = send_once(state, http, request, attempts + 1).await?;
    finish(state, response, paginated).await
}

/// One attempt: waits for its turn in the rate-limit budget, sends, and lets the pacer learn
/// from the response.
async fn send_once(
    state: &ClientState,
    http: &reqwest::Client,
    request: Request,
    attempt: u32,
) -> reqwest::Result<Response> {
    tracing::Span::current().record("attempts", attempt);
    envelope::with_record(|record| record.attempts = attempt);
    let _turn = match &state.pacer {
        Some(pacer) => Some(pacer.wait_turn(state.max_pacing_wait).await),
        None => None,
    };
    let response = http.execute(request).await?;
    if let Some(pacer) = &state.pacer {
        pacer.observe(response.headers());
    }
    Ok(response)
}

/// Reads the final response (bounded) and unwraps its envelope.
async fn finish(
    state: &ClientState,
    response: Response,
    paginated: bool,
) -> reqwest::Result<Response> {
    let status = response.status();
    let headers = response.headers().clone();
    let ray_id = envelope::ray_id(&headers);
    let span = tracing::Span::current();
    span.record("status", status.as_u16());
    if let Some(ray) = &ray_id {
        span.record("cf_ray", ray.as_str());
    }
    envelope::with_record(|record| {
        record.meta = ResponseMeta {
            status: Some(status),
            ray_id: ray_id.clone(),
            paginated,
        }
    });
    let body = match read_capped(response, state.max_response_bytes).await? {
        Ok(body) => body,
        Err(limit) => {
            return Ok(failed(
                status,
                headers,
                Error::ResponseTooLarge {
                    status,
                    limit,
                    ray_id,
                },
            ));
        }
    };
    Ok(
        match envelope::unwrap_envelope(status, &headers, &body, paginated) {
            Ok(result) => rebuilt(status, headers, result),
            Err(error) => failed(status, headers, error),
        },
    )
}

async fn backoff(
    policy: &retry::RetryPolicy,
    attempt: u32,
    headers: Option<&HeaderMap>,
    reason: &str,
) {
    let delay: Duration = policy.delay(attempt, headers);
    tracing::debug!(
        attempt,
        reason,
        delay_ms = delay.as_millis() as u64,
        "retrying"
    );
    tokio::time::sleep(delay).await;
}

/// Reads the body, stopping at `limit` bytes: `Ok(Err(limit))` when it is larger.
async fn read_capped(
    mut response: Response,
    limit: usize,
) -> reqwest::Result<Result<Bytes, usize>> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(Err(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(Err(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body.freeze()))
}

/// A response carrying only the envelope's `result`, for the generated code to decode.
fn rebuilt(status: StatusCode, headers: HeaderMap, body: Bytes) -> Response {
    let mut response = http::Response::new(reqwest::Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
        .headers_mut()
        .remove(reqwest::header::CONTENT_LENGTH);
    Response::from(response)
}

/// Records the error for [`crate::ResultExt::into_result`] and gives the generated code a
/// response it cannot mistake for a success: status 2xx becomes 502 with no body.
fn failed(status: StatusCode, headers: HeaderMap, error: Error) -> Response {
    envelope::with_record(|record| record.error = Some(error));
    let status = if status.is_success() {
        StatusCode::BAD_GATEWAY
    } else {
        status
    };
    rebuilt(status, headers, Bytes::new())
}
