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
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
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
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
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
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
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
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
    },

    /// A successful response whose `result` does not match the spec's schema. The request was
    /// applied: `body` keeps what the server sent, so that nothing it said is lost.
    #[error(
        "cannot decode the response at `{path}`: {}{}",
        reason(source),
        ray_note(ray_id.as_deref())
    )]
    Decode {
        /// HTTP status of the response.
        status: StatusCode,
        /// JSON path of the value that failed (`result.zone_defaults.ns_ttl`).
        path: String,
        /// The `cf-ray` response header.
        ray_id: Option<String>,
        /// How many times the request was sent.
        attempts: u32,
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
        /// What serde found.
        #[source]
        source: serde_json::Error,
        /// The body as read (bounded by
        /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
        /// Never printed by `Display`.
        body: bytes::Bytes,
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
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
    },

    /// An attempt did not complete within the timeout, or the call within its deadline.
    #[error(
        "the request timed out{}{}",
        broke_note(*status),
        attempts_note(*attempts)
    )]
    Timeout {
        /// The underlying error; `None` when the call's deadline left no time for another wait
        /// or attempt.
        #[source]
        source: Option<reqwest::Error>,
        /// The status of the response whose body was being read, when one had come.
        status: Option<StatusCode>,
        /// How many times the request was sent.
        attempts: u32,
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
    },

    /// A list whose pages cannot be trusted: the server answered another page than the one asked
    /// for, repeated items of earlier pages (it ignores `page`, or the list changed while it was
    /// read), or ended before the end its `result_info` announced. The items before it were
    /// yielded; the list may hold more.
    #[error("cannot page through the list at page {page}: {problem}")]
    Pagination {
        /// The page asked for (from 1).
        page: i64,
        /// What did not add up.
        problem: String,
    },

    /// The connection failed or broke (DNS, TCP, TLS, a reset), before a response or while its
    /// body was read.
    #[error(
        "{}{}",
        status.map_or_else(|| "cannot reach the API".to_string(), |s| format!("the connection broke{}", broke_note(Some(s)))),
        attempts_note(*attempts)
    )]
    Transport {
        /// The underlying error.
        #[source]
        source: reqwest::Error,
        /// The status of the response whose body was being read, when one had come.
        status: Option<StatusCode>,
        /// How many times the request was sent.
        attempts: u32,
        /// Whether the request may have reached the server and taken effect, over every attempt.
        applied: Applied,
    },
}

/// Whether a failed call's request may have reached the server and taken effect, so that a caller
/// can decide what to do next (read the state again before repeating a create, say). It counts
/// every attempt of the call: a DELETE whose connection dropped and whose retry was answered
/// `404` is [`Applied::Maybe`], since the first attempt may have deleted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Applied {
    /// Certainly not: nothing was sent, the connection could not be made, or every answer was a
    /// refusal (a 3xx, a 4xx, a 429, or Cloudflare's `success: false`).
    No,
    /// Perhaps: a connection broke or timed out after the request went out, a 5xx came back, or
    /// another origin answered (a redirect that a caller's own HTTP client followed).
    Maybe,
    /// Yes: a 2xx came back, though its body broke off, was too large, or did not decode.
    Yes,
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
            Error::Timeout { source, status, .. } => {
                status.or_else(|| source.as_ref().and_then(reqwest::Error::status))
            }
            Error::Transport { source, status, .. } => status.or_else(|| source.status()),
            Error::InvalidInput { .. } | Error::Config(_) | Error::Pagination { .. } => None,
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
            Error::InvalidInput { .. } | Error::Config(_) | Error::Pagination { .. } => 0,
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
            // A body that broke off: as its status says, unless it was a success.
            Error::Timeout {
                status: Some(status),
                ..
            }
            | Error::Transport {
                status: Some(status),
                ..
            } if !status.is_success() => retryable_status(*status),
            Error::Timeout { .. } | Error::Transport { .. } | Error::RateLimited { .. } => true,
            Error::Api { status, .. } | Error::UnexpectedResponse { status, .. } => {
                retryable_status(*status)
            }
            _ => false,
        }
    }

    /// Whether the request may have reached the server and taken effect, over every attempt of
    /// the call (see [`Applied`]).
    pub fn applied(&self) -> Applied {
        match self {
            Error::Api { applied, .. }
            | Error::RateLimited { applied, .. }
            | Error::Redirected { applied, .. }
            | Error::UnexpectedResponse { applied, .. }
            | Error::Decode { applied, .. }
            | Error::ResponseTooLarge { applied, .. }
            | Error::Timeout { applied, .. }
            | Error::Transport { applied, .. } => *applied,
            Error::InvalidInput { .. } | Error::Config(_) | Error::Pagination { .. } => Applied::No,
        }
    }

    /// What this outcome alone says of whether its attempt took effect.
    pub(crate) fn applied_by_this_attempt(&self) -> Applied {
        let by_status = |status: StatusCode| {
            if status.is_success() {
                Applied::Yes
            } else if status.is_server_error() {
                Applied::Maybe
            } else {
                Applied::No
            }
        };
        let by_connection = |source: &reqwest::Error| {
            if source.is_connect() {
                Applied::No
            } else {
                Applied::Maybe
            }
        };
        match self {
            // Cloudflare said `success: false`: refused, whatever the status (a 5xx may still
            // have done part of the work).
            Error::Api { status, .. } if status.is_server_error() => Applied::Maybe,
            Error::Api { .. } | Error::RateLimited { .. } => Applied::No,
            Error::Redirected { status, .. } if status.is_redirection() => Applied::No,
            // A client of the caller's own followed a redirect elsewhere, which answered.
            Error::Redirected { .. } => Applied::Maybe,
            Error::UnexpectedResponse { status, .. }
            | Error::Decode { status, .. }
            | Error::ResponseTooLarge { status, .. } => by_status(*status),
            Error::Timeout {
                status: Some(status),
                ..
            }
            | Error::Transport {
                status: Some(status),
                ..
            } => by_status(*status),
            Error::Timeout { source, .. } => source.as_ref().map_or(Applied::No, by_connection),
            Error::Transport { source, .. } => by_connection(source),
            Error::InvalidInput { .. } | Error::Config(_) | Error::Pagination { .. } => Applied::No,
        }
    }

    /// Records how the call ended: `n` attempts sent, of which those before this outcome may
    /// have taken effect as `earlier` says.
    pub(crate) fn settle(&mut self, n: u32, earlier: Applied) {
        let this = self.applied_by_this_attempt();
        if let Error::Api {
            attempts, applied, ..
        }
        | Error::RateLimited {
            attempts, applied, ..
        }
        | Error::Redirected {
            attempts, applied, ..
        }
        | Error::UnexpectedResponse {
            attempts, applied, ..
        }
        | Error::Decode {
            attempts, applied, ..
        }
        | Error::ResponseTooLarge {
            attempts, applied, ..
        }
        | Error::Timeout {
            attempts, applied, ..
        }
        | Error::Transport {
            attempts, applied, ..
        } = self
        {
            *attempts = n;
            *applied = this.max(earlier);
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
                status: None,
                attempts: 1,
                applied: Applied::Maybe,
            }
        } else {
            Error::Transport {
                source,
                status: None,
                attempts: 1,
                applied: Applied::Maybe,
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

fn broke_note(status: Option<StatusCode>) -> String {
    status
        .map(|s| format!(" while reading the body of an HTTP {} response", s.as_u16()))
        .unwrap_or_default()
}

fn ray_note(ray: Option<&str>) -> String {
    ray.map(|r| format!(" [cf-ray {r}]")).unwrap_or_default()
}

/// serde's message without serde_json's position suffix (the path says where).
fn reason(source: &serde_json::Error) -> String {
    let message = source.to_string();
    let suffix = format!(" at line {} column {}", source.line(), source.column());
    match message.strip_suffix(&suffix) {
        Some(reason) => reason.to_string(),
        None => message,
    }
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
