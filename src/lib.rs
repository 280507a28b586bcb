#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The generated code names this crate by its path (typify's `x-rust-type`), also from inside it.
extern crate self as cloudflare_dns_settings;

mod client;
mod credentials;
mod envelope;
mod error;
mod generated;
mod pacing;
mod pagination;
mod retry;
mod transport;
mod validate;
mod wrappers;

pub use client::{
    ClientBuilder, ClientState, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_INITIAL_BACKOFF,
    DEFAULT_MAX_BACKOFF, DEFAULT_MAX_PACING_WAIT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT,
};
pub use credentials::Credentials;
pub use envelope::ResultExt;
pub use error::{ApiMessage, ApiMessageSource, Error};
pub use generated::{Client, builder, types};
pub use pagination::{Page, ResultInfo, paginate};
pub use wrappers::{Nullable, OpenEnum};

/// The generated code as progenitor wrote it, for what the crate root does not re-export.
pub mod raw {
    pub use crate::generated::*;
    #[doc(hidden)]
    pub use crate::validate::RULES_SOURCE;
}

/// Two crate-private steps of a call, reachable for `benches/` only; not part of the API.
#[doc(hidden)]
pub mod __bench {
    /// The envelope unwrapping the transport hook does (no headers).
    pub fn unwrap_envelope(status: u16, body: &[u8]) -> Result<bytes::Bytes, crate::Error> {
        let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::OK);
        crate::envelope::unwrap_envelope(
            status,
            &reqwest::header::HeaderMap::new(),
            &bytes::Bytes::copy_from_slice(body),
            false,
        )
    }

    /// The spec's checks the `pre` hook runs on every request.
    pub fn check_request(
        operation_id: &str,
        request: &reqwest::Request,
    ) -> Result<(), crate::Error> {
        crate::validate::check_request(operation_id, request)
    }
}
