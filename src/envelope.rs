//! Cloudflare's envelope `{success, errors, messages, result}`, unwrapped in one place for every
//! generated operation.
//!
//! The transport hook ([`crate::transport`]) reads each response, unwraps it here, and hands the
//! generated code only the `result`; a failure is recorded for the call and returned by
//! [`ResultExt::into_result`] as a typed [`Error`].

use std::cell::RefCell;
use std::future::Future;

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::Error;
use crate::error::ApiMessage;

/// At most this much of a non-JSON body is kept in [`Error::UnexpectedResponse`].
const BODY_PREFIX_BYTES: usize = 512;

#[derive(Deserialize)]
struct Envelope<'a> {
    success: Option<bool>,
    #[serde(default)]
    errors: Option<Vec<ApiMessage>>,
    #[serde(default)]
    messages: Option<Vec<ApiMessage>>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result_info: Option<&'a RawValue>,
}

/// What is known about a response, for errors raised after the envelope was unwrapped.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResponseMeta {
    pub status: Option<StatusCode>,
    pub ray_id: Option<String>,
    /// The generated code decodes `{"result", "result_info"}`, not `result` alone.
    pub paginated: bool,
}

static CF_RAY: HeaderName = HeaderName::from_static("cf-ray");

pub(crate) fn ray_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(&CF_RAY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Unwraps one response body: the bytes of `result` when the call succeeded, else the error.
/// For a page of a list (`paginated`), `{"result": …, "result_info": …}`, the shape of
/// [`crate::Page`].
pub(crate) fn unwrap_envelope(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
    paginated: bool,
) -> Result<Bytes, Error> {
    let envelope = serde_json::from_slice::<Envelope<'_>>(body)
        .ok()
        .filter(|e| e.success.is_some() || e.errors.is_some() || e.result.is_some());
    match envelope {
        Some(env) => {
            let errors = env.errors.unwrap_or_default();
            if status.is_success() && env.success == Some(true) && errors.is_empty() {
                if paginated {
                    let result = env.result.map_or("null", RawValue::get);
                    let info = env.result_info.map_or("null", RawValue::get);
                    return Ok(Bytes::from(format!(
                        r#"{{"result":{result},"result_info":{info}}}"#
                    )));
                }
                return Ok(match env.result {
                    // `result` borrows from `body`: hand over that slice of it, without a copy.
                    Some(raw) => body.slice_ref(raw.get().as_bytes()),
                    // Absent, or null (which serde reads as absent): the generated type says
                    // whether the operation allows it.
                    None => Bytes::from_static(b"null"),
                });
            }
            if status.is_success() && env.success.is_none() && errors.is_empty() {
                // Not a failure envelope: decoding the body as an envelope reports the path.
                return Err(decode_error(status, ray_id(headers), "", body));
            }
            Err(Error::Api {
                status,
                errors,
                messages: env.messages.unwrap_or_default(),
                ray_id: ray_id(headers),
                attempts: 1,
            })
        }
        None if status.is_success() => Err(decode_error(status, ray_id(headers), "", body)),
        None => Err(Error::UnexpectedResponse {
            status,
            content_type: headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body_prefix: prefix(body),
            ray_id: ray_id(headers),
            attempts: 1,
        }),
    }
}

fn prefix(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(BODY_PREFIX_BYTES)]).into_owned()
}

/// A decode error naming the JSON path that failed. `base` prefixes the path (`result`).
fn decode_error(status: StatusCode, ray_id: Option<String>, base: &str, body: &[u8]) -> Error {
    decode_as::<EnvelopeShape>(status, ray_id, base, body)
}

/// The shape an envelope must have; used only to name what is wrong with a bad one.
#[derive(Deserialize)]
#[allow(dead_code)]
struct EnvelopeShape {
    success: bool,
    errors: Vec<ApiMessage>,
    messages: Vec<ApiMessage>,
    result: Option<serde_json::Value>,
}

fn decode_as<T: DeserializeOwned>(
    status: StatusCode,
    ray_id: Option<String>,
    base: &str,
    body: &[u8],
) -> Error {
    let join = |inner: &str| match (base, inner) {
        ("", "" | ".") => "(root)".to_string(),
        ("", p) => p.to_string(),
        (b, "" | ".") => b.to_string(),
        (b, p) if p.starts_with('[') => format!("{b}{p}"),
        (b, p) => format!("{b}.{p}"),
    };
    let de = &mut serde_json::Deserializer::from_slice(body);
    let source = match serde_path_to_error::deserialize::<_, T>(&mut *de) {
        Err(e) => {
            return Error::Decode {
                status,
                path: join(&e.path().to_string()),
                ray_id,
                source: e.into_inner(),
            };
        }
        // Parsed after all: what is left is trailing garbage, which serde_json rejects too.
        Ok(_) => match de.end() {
            Err(e) => e,
            // The generated code saw it fail; still an error, never a panic.
            Ok(()) => serde::de::Error::custom("the response did not match the expected type"),
        },
    };
    Error::Decode {
        status,
        path: join(""),
        ray_id,
        source,
    }
}

/// The generated builder's own refusals ("account_id was not initialized"), with the field
/// named where its message names one.
fn invalid_request(problem: String) -> Error {
    match problem.strip_suffix(" was not initialized") {
        Some(field) if !field.contains(' ') => Error::InvalidInput {
            field: field.to_string(),
            problem: "is required and was not set".into(),
        },
        _ => Error::InvalidInput {
            field: "request".into(),
            problem,
        },
    }
}

/// What the transport hook records about the call in progress.
#[derive(Default)]
pub(crate) struct CallRecord {
    pub error: Option<Error>,
    pub meta: ResponseMeta,
    pub attempts: u32,
}

tokio::task_local! {
    static CALL: RefCell<CallRecord>;
}

/// Runs `f` on the record of the call in progress, if the call runs under
/// [`ResultExt::into_result`]; a bare `send()` has no record.
pub(crate) fn with_record(f: impl FnOnce(&mut CallRecord)) {
    let _ = CALL.try_with(|cell| f(&mut cell.borrow_mut()));
}

/// Turns a generated operation's `send()` into `Result<T, Error>`: the envelope's `result`, or
/// one typed [`Error`] with the status, Cloudflare's codes and the `cf-ray` id.
///
/// ```no_run
/// # async fn demo(client: &cloudflare_dns_settings::Client) -> Result<(), cloudflare_dns_settings::Error> {
/// use cloudflare_dns_settings::ResultExt;
/// let settings = client.account_get().account_id("023e105f4ecef8ad9ca31a8372d0c353").send().into_result().await?;
/// # Ok(()) }
/// ```
pub trait ResultExt<T, E>:
    Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> + Sized
{
    /// Awaits the call and unwraps Cloudflare's envelope.
    fn into_result(self) -> impl Future<Output = Result<T, Error>> + Send
    where
        Self: Send,
        T: DeserializeOwned + Send,
        E: Send;
}

impl<F, T, E> ResultExt<T, E> for F
where
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    fn into_result(self) -> impl Future<Output = Result<T, Error>> + Send
    where
        Self: Send,
        T: DeserializeOwned + Send,
        E: Send,
    {
        CALL.scope(RefCell::new(CallRecord::default()), async move {
            let outcome = self.await;
            let record = CALL.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
            finish(outcome, record)
        })
    }
}

fn finish<T: DeserializeOwned, E>(
    outcome: Result<ResponseValue<T>, progenitor_client::Error<E>>,
    record: CallRecord,
) -> Result<T, Error> {
    if let Some(mut error) = record.error {
        error.set_attempts(record.attempts.max(1));
        return Err(error);
    }
    let status = record.meta.status.unwrap_or(StatusCode::OK);
    let ray_id = record.meta.ray_id;
    use progenitor_client::Error as P;
    match outcome {
        Ok(value) => Ok(value.into_inner()),
        Err(P::InvalidRequest(problem)) => Err(invalid_request(problem)),
        Err(P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e)) => {
            let mut error = Error::from_reqwest(e);
            error.set_attempts(record.attempts.max(1));
            Err(error)
        }
        Err(P::InvalidResponsePayload(body, _)) => {
            // A page is decoded from `{"result", "result_info"}`: its paths start at the root.
            let base = if record.meta.paginated { "" } else { "result" };
            Err(decode_as::<T>(status, ray_id, base, &body))
        }
        Err(P::ErrorResponse(response)) => Err(Error::UnexpectedResponse {
            status: response.status(),
            content_type: None,
            body_prefix: String::new(),
            ray_id,
            attempts: record.attempts,
        }),
        Err(P::UnexpectedResponse(response)) => Err(Error::UnexpectedResponse {
            status: response.status(),
            content_type: None,
            body_prefix: String::new(),
            ray_id,
            attempts: record.attempts,
        }),
        Err(P::Custom(problem)) => Err(Error::Config(problem)),
    }
}
