//! Cloudflare's envelope `{success, errors, messages, result, result_info}`, decoded once per
//! response straight into the operation's result type.
//!
//! The body of a 2xx response is decoded in one pass into `Envelope<T>`; `success` and `errors`
//! are checked from that same decode. Only when that decode fails is the body read again, to say
//! why: a failure envelope whose `result` does not fit `T`, or the JSON path that did not match.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, IntoDeserializer};

use crate::error::{ApiMessage, Applied, Context, ErrorKind};
use crate::{Error, Page, ResultInfo};

/// At most this much of a non-JSON body is kept in [`ErrorKind::UnexpectedResponse`].
const BODY_PREFIX_BYTES: usize = 512;

pub(crate) static CF_RAY: HeaderName = HeaderName::from_static("cf-ray");

/// A successful response as the transport read it: status, headers and the whole (bounded) body.
pub(crate) struct Received {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub attempts: u32,
    /// What the attempts before this one may have done.
    pub earlier: Applied,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de>"))]
struct Envelope<R> {
    success: Option<bool>,
    errors: Option<Vec<ApiMessage>>,
    messages: Option<Vec<ApiMessage>>,
    result: Option<R>,
    result_info: Option<ResultInfo>,
}

/// The envelope's `result`, decoded as `T`.
pub(crate) fn result<T: DeserializeOwned>(received: &Received) -> Result<T, Error> {
    let envelope = decode::<T>(received)?;
    match envelope.result {
        Some(value) => Ok(value),
        // Absent or `null`: fine for an operation whose result is optional, an error otherwise.
        None => T::deserialize(().into_deserializer()).map_err(|_: serde::de::value::Error| {
            decode_error(
                received,
                "result",
                serde::de::Error::custom("the result is null or missing"),
            )
        }),
    }
}

/// A page of a list: the envelope's `result` array and its `result_info`.
pub(crate) fn page<T: DeserializeOwned>(received: &Received) -> Result<Page<T>, Error> {
    let envelope = decode::<Vec<T>>(received)?;
    Ok(Page {
        result: envelope.result.unwrap_or_default(),
        result_info: envelope.result_info,
    })
}

/// The one decode of a 2xx body, with `success` and `errors` checked.
fn decode<R: DeserializeOwned>(received: &Received) -> Result<Envelope<R>, Error> {
    match serde_json::from_slice::<Envelope<R>>(&received.body) {
        Ok(envelope) => match failure(received, &envelope) {
            None => Ok(envelope),
            Some(error) => Err(error),
        },
        // Either a failure envelope whose `result` is not a `R`, or a body that does not match:
        // the second read says which.
        Err(_) => Err(
            match serde_json::from_slice::<Envelope<IgnoredAny>>(&received.body) {
                Ok(lenient) => failure(received, &lenient)
                    .unwrap_or_else(|| decode_path::<Envelope<R>>(received)),
                Err(_) => decode_path::<Envelope<R>>(received),
            },
        ),
    }
}

/// The error an envelope of a 2xx response reports, if any.
fn failure<R>(received: &Received, envelope: &Envelope<R>) -> Option<Error> {
    let errors = envelope.errors.as_deref().unwrap_or_default();
    match envelope.success {
        Some(true) if errors.is_empty() => None,
        // Not an envelope at all (`{}`, or some other object): name what is missing.
        None if envelope.errors.is_none() => Some(decode_path::<EnvelopeShape>(received)),
        // Cloudflare refused the request, whatever the status said.
        _ => {
            let mut context = received.context(Applied::No);
            context.errors = errors.to_vec();
            let messages = envelope.messages.clone().unwrap_or_default();
            Some(Error::new(ErrorKind::Api { messages }, context))
        }
    }
}

impl Received {
    /// The facts of an error found in this response, whose request `applied` as it says.
    fn context(&self, applied: Applied) -> Context {
        Context {
            status: Some(self.status),
            ray_id: ray_id(&self.headers),
            errors: Vec::new(),
            attempts: self.attempts,
            applied: self.earlier.max(applied),
        }
    }
}

/// What a final response that is not a success says went wrong, and the envelope's `errors`:
/// those of the envelope when it carries one (a 429 is [`ErrorKind::RateLimited`], which waits
/// `retry_after`), else the start of the body (which may be all that arrived).
pub(crate) fn failed(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> (ErrorKind, Vec<ApiMessage>) {
    let envelope = serde_json::from_slice::<Envelope<IgnoredAny>>(body)
        .ok()
        .filter(|e| e.success.is_some() || e.errors.is_some());
    match envelope {
        _ if status == StatusCode::TOO_MANY_REQUESTS => (
            ErrorKind::RateLimited { retry_after },
            envelope.and_then(|e| e.errors).unwrap_or_default(),
        ),
        Some(envelope) => (
            ErrorKind::Api {
                messages: envelope.messages.unwrap_or_default(),
            },
            envelope.errors.unwrap_or_default(),
        ),
        None => (
            ErrorKind::UnexpectedResponse {
                content_type: headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                body_prefix: String::from_utf8_lossy(&body[..body.len().min(BODY_PREFIX_BYTES)])
                    .into_owned(),
            },
            Vec::new(),
        ),
    }
}

pub(crate) fn ray_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(&CF_RAY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The shape an envelope must have; used only to name what is wrong with a bad one.
#[derive(Deserialize)]
#[allow(dead_code)]
struct EnvelopeShape {
    success: bool,
    errors: Vec<ApiMessage>,
    messages: Vec<ApiMessage>,
}

/// Decodes the body again as `T`, tracking the path, to name where it does not match.
fn decode_path<T: DeserializeOwned>(received: &Received) -> Error {
    let de = &mut serde_json::Deserializer::from_slice(&received.body);
    match serde_path_to_error::deserialize::<_, T>(&mut *de) {
        Err(e) => {
            let path = e.path().to_string();
            decode_error(received, &path, e.into_inner())
        }
        // Parsed after all: what is left is trailing garbage, which serde_json rejects too.
        Ok(_) => match de.end() {
            Err(e) => decode_error(received, "", e),
            Ok(()) => decode_error(
                received,
                "",
                serde::de::Error::custom("the response did not match the expected type"),
            ),
        },
    }
}

fn decode_error(received: &Received, path: &str, source: serde_json::Error) -> Error {
    let path = match path {
        "" | "." => "(root)".to_string(),
        p => p.to_string(),
    };
    let body = received.body.clone();
    // A 2xx came back: the request was applied.
    let context = received.context(Applied::Yes);
    Error::new(ErrorKind::Decode { path, source, body }, context)
}
