//! The crate's one error type.

use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

/// Everything that can go wrong with a call, each variant carrying what a caller acts on.
///
/// Use the accessors ([`status`](Error::status), [`codes`](Error::codes),
/// [`ray_id`](Error::ray_id), [`is_retryable`](Error::is_retryable)) rather than matching, so
/// that new variants do not break your code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before anything was sent: a field is out of its allowed range,
    /// an identifier is unsafe in a URL path, a required parameter is missing, or the request
    /// could not be built (field `request`).
    #[error("invalid `{field}`: {problem}; nothing was sent")]
    InvalidInput {
        /// Dotted path of the field (`zone_defaults.soa.refresh`) or parameter (`account_id`).
        field: String,
        /// What is wrong, with the allowed range or values.
        problem: String,
    },

    /// The client could not be built: no credentials, a credential unusable in a header, a bad
    /// base URL, or a setting out of range. The message never contains a secret.
    #[error("client configuration: {0}")]
    Config(String),

    /// Cloudflare answered with its envelope and `success: false` or a non-empty `errors`, at
    /// any HTTP status (including 200).
    #[error("{}", api_summary(*.status, errors, ray_id.as_deref(), *attempts))]
    Api {
        /// HTTP status of the response.
        status: StatusCode,
        /// Every item of the envelope's `errors`, in order.
        errors: Vec<ApiMessage>,
        /// The envelope's `messages`.
        messages: Vec<ApiMessage>,
        /// The `cf-ray` response header, which Cloudflare support asks for.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// Rate limited: a 429 after the retries, a 429 whose `retry-after` asks for longer than the
    /// cap or the call's deadline allows, or a spent rate-limit budget that would not reset in
    /// time (then nothing was sent). Cloudflare blocks a token for five minutes after a 429, so
    /// the call fails at once rather than retrying into the block.
    #[error(
        "rate limited{}{}{}{}",
        status.as_ref().map(|s| format!(" (HTTP {})", s.as_u16())).unwrap_or_default(),
        retry_after.as_ref().map(|d| format!("; the server asks to wait {}", seconds(d))).unwrap_or_default(),
        attempts_note(*attempts),
        ray_note(ray_id.as_deref())
    )]
    RateLimited {
        /// HTTP status of the response (429), or `None` when the client's pacing refused to send.
        status: Option<StatusCode>,
        /// How long the server (or the rate-limit window) asks to wait, when it says.
        retry_after: Option<Duration>,
        /// The envelope's `errors`, when the response carried one.
        errors: Vec<ApiMessage>,
        /// The `cf-ray` response header.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// The server answered with a redirect. Cloudflare's API does not redirect, and following
    /// one could send the credentials elsewhere, so none is followed.
    #[error(
        "the API answered HTTP {} with a redirect to {}; redirects are not followed{}",
        status.as_u16(),
        location.as_deref().unwrap_or("(no location)"),
        ray_note(ray_id.as_deref())
    )]
    Redirected {
        /// HTTP status of the response.
        status: StatusCode,
        /// Where it pointed: the scheme, host and port only (never a path, query or credentials).
        location: Option<String>,
        /// The `cf-ray` response header.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// A response that is not a Cloudflare envelope, such as an HTML 502 from a proxy.
    #[error(
        "unexpected HTTP {status} response{} ({}){}",
        attempts_note(*attempts),
        content_type.as_deref().unwrap_or("no content type"),
        ray_note(ray_id.as_deref())
    )]
    UnexpectedResponse {
        /// HTTP status of the response.
        status: StatusCode,
        /// The `content-type` header, if any.
        content_type: Option<String>,
        /// The start of the body (at most 512 bytes, lossily decoded as UTF-8).
        body_prefix: String,
        /// The `cf-ray` response header.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// A successful response whose `result` does not match the spec's schema.
    #[error("cannot decode the response at `{path}`{}", ray_note(ray_id.as_deref()))]
    Decode {
        /// HTTP status of the response.
        status: StatusCode,
        /// JSON path of the value that failed (`result.zone_defaults.ns_ttl`).
        path: String,
        /// The `cf-ray` response header.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
        /// What serde found.
        #[source]
        source: serde_json::Error,
    },

    /// The response body was larger than the configured limit; reading stopped there.
    #[error("the response body exceeds the limit of {limit} bytes{}", ray_note(ray_id.as_deref()))]
    ResponseTooLarge {
        /// HTTP status of the response.
        status: StatusCode,
        /// The limit in bytes ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
        limit: usize,
        /// The `cf-ray` response header.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// An attempt did not complete within the timeout, or the call within its deadline.
    #[error("the request timed out{}", attempts_note(*attempts))]
    Timeout {
        /// The underlying error; `None` when the call's deadline left no time for another wait
        /// or attempt.
        #[source]
        source: Option<reqwest::Error>,
        /// How many times the request was sent.
        attempts: u32,
    },

    /// The connection failed or broke (DNS, TCP, TLS, a reset).
    #[error("cannot reach the API{}", attempts_note(*attempts))]
    Transport {
        /// The underlying error.
        #[source]
        source: reqwest::Error,
        /// How many times the request was sent.
        attempts: u32,
    },
}

/// One item of an envelope's `errors` or `messages`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiMessage {
    /// Cloudflare's code (e.g. 10000, 81057). Wide enough for any code seen.
    #[serde(default)]
    pub code: i64,
    /// The human-readable message.
    #[serde(default)]
    pub message: String,
    /// A link to documentation about this error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    /// Where in the request the problem is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApiMessageSource>,
    /// Fields this crate does not know, kept as received (e.g. `error_chain`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The `source` of an [`ApiMessage`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiMessageSource {
    /// A JSON pointer into the request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Fields this crate does not know, kept as received.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Error {
    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. }
            | Error::Redirected { status, .. }
            | Error::UnexpectedResponse { status, .. }
            | Error::Decode { status, .. }
            | Error::ResponseTooLarge { status, .. } => Some(*status),
            Error::RateLimited { status, .. } => *status,
            Error::Timeout { source, .. } => source.as_ref().and_then(reqwest::Error::status),
            Error::Transport { source, .. } => source.status(),
            Error::InvalidInput { .. } | Error::Config(_) => None,
        }
    }

    /// Cloudflare's error codes, in order (empty unless the response carried an envelope with
    /// `errors`).
    pub fn codes(&self) -> Vec<i64> {
        match self {
            Error::Api { errors, .. } | Error::RateLimited { errors, .. } => {
                errors.iter().map(|e| e.code).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The `cf-ray` id of the response, which Cloudflare support asks for.
    pub fn ray_id(&self) -> Option<&str> {
        match self {
            Error::Api { ray_id, .. }
            | Error::RateLimited { ray_id, .. }
            | Error::Redirected { ray_id, .. }
            | Error::UnexpectedResponse { ray_id, .. }
            | Error::Decode { ray_id, .. }
            | Error::ResponseTooLarge { ray_id, .. } => ray_id.as_deref(),
            _ => None,
        }
    }

    /// How many times the request was sent (0 if it was refused before sending).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api { attempts, .. }
            | Error::RateLimited { attempts, .. }
            | Error::Redirected { attempts, .. }
            | Error::UnexpectedResponse { attempts, .. }
            | Error::Decode { attempts, .. }
            | Error::ResponseTooLarge { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Transport { attempts, .. } => *attempts,
            Error::InvalidInput { .. } | Error::Config(_) => 0,
        }
    }

    /// How long the server asked to wait before trying again, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether sending the same request again later could succeed: timeouts, connection
    /// failures, rate limits, and HTTP 408, 409 and 5xx. (Whether the client itself retried is
    /// another matter: see the README's retry table.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Transport { .. } | Error::RateLimited { .. } => true,
            Error::Api { status, .. } | Error::UnexpectedResponse { status, .. } => {
                retryable_status(*status)
            }
            _ => false,
        }
    }

    pub(crate) fn set_attempts(&mut self, n: u32) {
        if let Error::Api { attempts, .. }
        | Error::RateLimited { attempts, .. }
        | Error::Redirected { attempts, .. }
        | Error::UnexpectedResponse { attempts, .. }
        | Error::Decode { attempts, .. }
        | Error::ResponseTooLarge { attempts, .. }
        | Error::Timeout { attempts, .. }
        | Error::Transport { attempts, .. } = self
        {
            *attempts = n;
        }
    }

    pub(crate) fn from_reqwest(source: reqwest::Error) -> Self {
        if source.is_builder() {
            // reqwest could not build the request (its body or URL): nothing was sent, and
            // sending again would not help.
            let cause = std::error::Error::source(&source)
                .map(|cause| format!(": {cause}"))
                .unwrap_or_default();
            Error::InvalidInput {
                field: "request".into(),
                problem: format!("cannot be built{cause}"),
            }
        } else if source.is_timeout() {
            Error::Timeout {
                source: Some(source),
                attempts: 1,
            }
        } else {
            Error::Transport {
                source,
                attempts: 1,
            }
        }
    }

    /// A generated builder's refusal: a value that was never set (an empty message, see
    /// build/generate.rs), or one that did not convert.
    pub(crate) fn from_builder(field: &str, problem: String) -> Self {
        Error::InvalidInput {
            field: field.to_string(),
            problem: if problem.is_empty() {
                "is required and was not set".into()
            } else {
                problem
            },
        }
    }
}

/// Statuses worth retrying: 408, 409, 429 and 5xx.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

fn api_summary(
    status: StatusCode,
    errors: &[ApiMessage],
    ray: Option<&str>,
    attempts: u32,
) -> String {
    let mut s = format!("Cloudflare API error (HTTP {})", status.as_u16());
    for (i, e) in errors.iter().enumerate() {
        s.push_str(if i == 0 { ": " } else { "; " });
        s.push_str(&format!("{} {}", e.code, e.message));
    }
    s.push_str(&attempts_note(attempts));
    s.push_str(&ray_note(ray));
    s
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

fn ray_note(ray: Option<&str>) -> String {
    ray.map(|r| format!(" [cf-ray {r}]")).unwrap_or_default()
}

fn seconds(d: &Duration) -> String {
    format!("{} s", d.as_secs_f64().ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reqwest_cannot_build_is_invalid_input_not_a_network_error() {
        let source = reqwest::Client::new()
            .get("no scheme here")
            .build()
            .unwrap_err();
        let error = Error::from_reqwest(source);
        assert!(
            matches!(&error, Error::InvalidInput { field, .. } if field == "request"),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("nothing was sent"), "{error}");
    }
}
