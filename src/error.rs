//! The crate's one error type: what went wrong (an [`ErrorKind`]) and the facts every failed call
//! has (the HTTP status, the `cf-ray` id, Cloudflare's codes, the attempts, whether the request may
//! have taken effect), stated once. A call builds its error once, at its end, from its final
//! outcome (src/transport/); nothing patches an error after it was built.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::retry::retryable_status;

/// Everything that can go wrong with a call: the cause ([`kind`](Error::kind)) and what every
/// failed call carries.
///
/// Use the accessors ([`status`](Error::status), [`codes`](Error::codes),
/// [`ray_id`](Error::ray_id), [`attempts`](Error::attempts), [`applied`](Error::applied),
/// [`is_retryable`](Error::is_retryable)) for the facts, and match on [`kind`](Error::kind) (with
/// `..` in each pattern) for what is particular to one cause.
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    context: Context,
}

/// The facts every error states once: empty for refused input or configuration, and for an
/// error raised before a call sent anything.
#[derive(Debug, Default)]
pub(crate) struct Context {
    /// HTTP status of the final response, when one came (of a body that broke off, too).
    pub status: Option<StatusCode>,
    /// The `cf-ray` header of the final response.
    pub ray_id: Option<String>,
    /// The envelope's `errors`, when the final response carried an envelope.
    pub errors: Vec<ApiMessage>,
    /// How many times the request was sent.
    pub attempts: u32,
    /// Whether the request may have reached the server and taken effect, over every attempt.
    pub applied: Applied,
}

/// What went wrong. `#[non_exhaustive]`: match with a `_` arm, and each variant with `..`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused before anything was sent: a field is out of its allowed range,
    /// an identifier is unsafe in a URL path, a required parameter is missing, or the request
    /// could not be built (field `request`).
    InvalidInput {
        /// Dotted path of the field (`zone_defaults.soa.refresh`) or parameter (`account_id`).
        field: String,
        /// What is wrong, with the allowed range or values.
        problem: String,
    },

    /// The client could not be built: no credentials, a credential unusable in a header, a bad
    /// base URL, or a setting out of range. The message never contains a secret.
    Config(String),

    /// Cloudflare answered with its envelope and `success: false` or a non-empty `errors`, at
    /// any HTTP status (including 200). The `errors` are [`Error::errors`].
    Api {
        /// The envelope's `messages`.
        messages: Vec<ApiMessage>,
    },

    /// Rate limited: a 429 after the retries, a 429 whose `retry-after` asks for longer than the
    /// cap or the call's deadline allows, or a spent rate-limit budget that would not reset in
    /// time (then nothing was sent, and [`Error::status`] is `None`). Cloudflare blocks a token
    /// for five minutes after a 429, so the call fails at once rather than retrying into the
    /// block.
    RateLimited {
        /// How long the server (or the rate-limit window) asks to wait, when it says.
        retry_after: Option<Duration>,
    },

    /// The server answered with a redirect. Cloudflare's API does not redirect, and following
    /// one could send the credentials elsewhere, so none is followed.
    Redirected {
        /// Where it pointed: the scheme, host and port only (never a path, query or credentials).
        location: Option<String>,
    },

    /// A response that is not a Cloudflare envelope, such as an HTML 502 from a proxy.
    UnexpectedResponse {
        /// The `content-type` header, if any.
        content_type: Option<String>,
        /// The start of the body (at most 512 bytes, lossily decoded as UTF-8).
        body_prefix: String,
    },

    /// A successful response whose `result` does not match the spec's schema. The request was
    /// applied: `body` keeps what the server sent, so that nothing it said is lost.
    Decode {
        /// JSON path of the value that failed (`result.zone_defaults.ns_ttl`).
        path: String,
        /// What serde found.
        source: serde_json::Error,
        /// The body as read (bounded by
        /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
        /// Never printed by `Display`.
        body: bytes::Bytes,
    },

    /// The response body was larger than the configured limit; reading stopped there.
    ResponseTooLarge {
        /// The limit in bytes ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
        limit: usize,
    },

    /// An attempt did not complete within the timeout, or the call within its deadline. When a
    /// response had come and its body was being read, [`Error::status`] is its status.
    Timeout {
        /// The underlying error; `None` when the call's deadline left no time for another wait
        /// or attempt.
        source: Option<reqwest::Error>,
    },

    /// A list whose pages cannot be trusted: the server answered another page than the one asked
    /// for, repeated items of earlier pages (it ignores `page`, or the list changed while it was
    /// read), or ended before the end its `result_info` announced. The items before it were
    /// yielded; the list may hold more.
    Pagination {
        /// The page asked for (from 1).
        page: i64,
        /// What did not add up.
        problem: String,
    },

    /// The connection failed or broke (DNS, TCP, TLS, a reset), before a response or while its
    /// body was read (then [`Error::status`] is the response's status).
    Transport {
        /// The underlying error.
        source: reqwest::Error,
    },
}

/// Whether a failed call's request may have reached the server and taken effect, so that a caller
/// can decide what to do next (read the state again before repeating a create, say). It counts
/// every attempt of the call: a DELETE whose connection dropped and whose retry was answered
/// `404` is [`Applied::Maybe`], since the first attempt may have deleted it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Applied {
    /// Certainly not: nothing was sent, the connection could not be made, or every answer was a
    /// refusal (a 3xx, a 4xx, a 429, or Cloudflare's `success: false`).
    #[default]
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
    /// An error with the facts of a call.
    pub(crate) fn new(kind: ErrorKind, context: Context) -> Self {
        Error(Box::new(Inner { kind, context }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// What went wrong, owned (to keep a `Decode`'s `body` without a copy, say).
    pub fn into_kind(self) -> ErrorKind {
        self.0.kind
    }

    /// The HTTP status of the final response, when one was received (also when its body broke
    /// off or was too large).
    pub fn status(&self) -> Option<StatusCode> {
        self.0.context.status
    }

    /// Every item of the final response's envelope `errors`, in order (empty unless it carried
    /// one).
    pub fn errors(&self) -> &[ApiMessage] {
        &self.0.context.errors
    }

    /// Cloudflare's error codes, in order (empty unless the response carried an envelope with
    /// `errors`).
    pub fn codes(&self) -> Vec<i64> {
        self.errors().iter().map(|e| e.code).collect()
    }

    /// The `cf-ray` id of the final response, which Cloudflare support asks for.
    pub fn ray_id(&self) -> Option<&str> {
        self.0.context.ray_id.as_deref()
    }

    /// How many times the request was sent (0 if it was refused before sending).
    pub fn attempts(&self) -> u32 {
        self.0.context.attempts
    }

    /// Whether the request may have reached the server and taken effect, over every attempt of
    /// the call (see [`Applied`]).
    pub fn applied(&self) -> Applied {
        self.0.context.applied
    }

    /// How long the server asked to wait before trying again, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind() {
            ErrorKind::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Whether sending the same request again later could succeed: timeouts, connection
    /// failures, rate limits, and HTTP 408, 409 and 5xx. (Whether the client itself retried is
    /// another matter: see the README's retry table.)
    pub fn is_retryable(&self) -> bool {
        let status = self.status();
        match self.kind() {
            // A body that broke off: as its status says, unless it was a success.
            ErrorKind::Timeout { .. } | ErrorKind::Transport { .. } => {
                status.is_none_or(|s| s.is_success() || retryable_status(s))
            }
            ErrorKind::RateLimited { .. } => true,
            ErrorKind::Api { .. } | ErrorKind::UnexpectedResponse { .. } => {
                status.is_some_and(retryable_status)
            }
            _ => false,
        }
    }

    /// reqwest's error as this crate's: a request reqwest could not build is refused input.
    pub(crate) fn from_reqwest(source: reqwest::Error) -> Self {
        ErrorKind::from_reqwest(source).into()
    }

    /// A generated builder's refusal: a value that was never set (an empty message, see
    /// build/sends.rs), or one that did not convert.
    pub(crate) fn from_builder(field: &str, problem: String) -> Self {
        ErrorKind::InvalidInput {
            field: field.to_string(),
            problem: if problem.is_empty() {
                "is required and was not set".into()
            } else {
                problem
            },
        }
        .into()
    }

    /// Refused input: `field` and what is wrong with it.
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ErrorKind::InvalidInput {
            field: field.into(),
            problem: problem.into(),
        }
        .into()
    }

    /// A client that cannot be built, and why.
    pub(crate) fn config(problem: String) -> Self {
        ErrorKind::Config(problem).into()
    }
}

impl ErrorKind {
    /// reqwest's error: one it could not build is refused input (nothing was sent, and sending
    /// again would not help); else a timeout or a broken connection.
    pub(crate) fn from_reqwest(source: reqwest::Error) -> Self {
        if source.is_builder() {
            let cause = std::error::Error::source(&source)
                .map(|cause| format!(": {cause}"))
                .unwrap_or_default();
            ErrorKind::InvalidInput {
                field: "request".into(),
                problem: format!("cannot be built{cause}"),
            }
        } else if source.is_timeout() {
            ErrorKind::Timeout {
                source: Some(source),
            }
        } else {
            ErrorKind::Transport { source }
        }
    }
}

/// An error raised before anything was sent: no status, no attempt.
impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind, Context::default())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("status", &self.0.context.status)
            .field("ray_id", &self.0.context.ray_id)
            .field("errors", &self.0.context.errors)
            .field("attempts", &self.0.context.attempts)
            .field("applied", &self.0.context.applied)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Context {
            status,
            ray_id,
            errors,
            attempts,
            ..
        } = &self.0.context;
        let (attempts, ray) = (attempts_note(*attempts), ray_note(ray_id.as_deref()));
        let code = status.map_or(0, |s| s.as_u16());
        match &self.0.kind {
            ErrorKind::InvalidInput { field, problem } => {
                write!(f, "invalid `{field}`: {problem}; nothing was sent")
            }
            ErrorKind::Config(problem) => write!(f, "client configuration: {problem}"),
            ErrorKind::Api { .. } => {
                write!(f, "Cloudflare API error (HTTP {code})")?;
                for (i, e) in errors.iter().enumerate() {
                    let sep = if i == 0 { ": " } else { "; " };
                    write!(f, "{sep}{} {}", e.code, e.message)?;
                }
                write!(f, "{attempts}{ray}")
            }
            ErrorKind::RateLimited { retry_after } => {
                f.write_str("rate limited")?;
                if let Some(s) = status {
                    write!(f, " (HTTP {})", s.as_u16())?;
                }
                if let Some(wait) = retry_after {
                    write!(f, "; the server asks to wait {}", seconds(wait))?;
                }
                write!(f, "{attempts}{ray}")
            }
            ErrorKind::Redirected { location } => write!(
                f,
                "the API answered HTTP {code} with a redirect to {}; redirects are not followed{ray}",
                location.as_deref().unwrap_or("(no location)"),
            ),
            ErrorKind::UnexpectedResponse { content_type, .. } => {
                let status = status.map_or_else(|| "(none)".to_string(), |s| s.to_string());
                let content_type = content_type.as_deref().unwrap_or("no content type");
                write!(
                    f,
                    "unexpected HTTP {status} response{attempts} ({content_type}){ray}"
                )
            }
            ErrorKind::Decode { path, source, .. } => write!(
                f,
                "cannot decode the response at `{path}`: {}{ray}",
                reason(source)
            ),
            ErrorKind::ResponseTooLarge { limit } => {
                write!(
                    f,
                    "the response body exceeds the limit of {limit} bytes{ray}"
                )
            }
            ErrorKind::Timeout { .. } => {
                write!(f, "the request timed out{}{attempts}", broke_note(*status))
            }
            ErrorKind::Pagination { page, problem } => {
                write!(f, "cannot page through the list at page {page}: {problem}")
            }
            ErrorKind::Transport { .. } => match status {
                None => write!(f, "cannot reach the API{attempts}"),
                Some(_) => write!(f, "the connection broke{}{attempts}", broke_note(*status)),
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Decode { source, .. } => Some(source),
            ErrorKind::Timeout { source } => source.as_ref().map(|s| s as _),
            ErrorKind::Transport { source } => Some(source),
            _ => None,
        }
    }
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
            matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "request"),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("nothing was sent"), "{error}");
    }
}
