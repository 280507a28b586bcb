//! The hooks progenitor calls around every request: authentication, the spec's checks, sending,
//! the bounded read of the response, and the envelope. Nothing here names an endpoint.

use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Request, Response};

use crate::client::ClientState;
use crate::envelope::{self, ResponseMeta};
use crate::{Client, Error, validate};

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

    async fn exec(&self, request: Request, _info: &OperationInfo) -> reqwest::Result<Response> {
        envelope::with_record(|record| record.attempts += 1);
        let response = self.client().execute(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        envelope::with_record(|record| {
            record.meta = ResponseMeta {
                status: Some(status),
                ray_id: envelope::ray_id(&headers),
            };
        });
        let body = match read_capped(response, self.inner().max_response_bytes).await? {
            Ok(body) => body,
            Err(limit) => {
                let error = Error::ResponseTooLarge {
                    status,
                    limit,
                    ray_id: envelope::ray_id(&headers),
                };
                return Ok(failed(status, &headers, error));
            }
        };
        match envelope::unwrap_envelope(status, &headers, &body) {
            Ok(result) => Ok(rebuilt(status, &headers, result)),
            Err(error) => Ok(failed(status, &headers, error)),
        }
    }
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
fn rebuilt(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: Bytes,
) -> Response {
    let mut response = http::Response::new(reqwest::Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    response
        .headers_mut()
        .remove(reqwest::header::CONTENT_LENGTH);
    Response::from(response)
}

/// Records the error for [`crate::ResultExt::into_result`] and gives the generated code a
/// response it cannot mistake for a success: status 2xx becomes 502 with no body.
fn failed(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    error: Error,
) -> Response {
    envelope::with_record(|record| record.error = Some(error));
    let status = if status.is_success() {
        reqwest::StatusCode::BAD_GATEWAY
    } else {
        status
    };
    rebuilt(status, headers, Bytes::new())
}
