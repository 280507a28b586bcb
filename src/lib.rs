#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The generated code names this crate by its path (typify's `x-rust-type`), also from inside it.
extern crate self as cloudflare_dns_settings;

#[cfg(feature = "redis")]
mod budget_store;
mod client;
mod contract;
mod credentials;
mod drift;
mod envelope;
mod error;
pub mod fleet;
mod generated;
mod pacing;
mod pagination;
pub mod plan;
mod retry;
mod transport;
mod validate;
mod wrappers;

#[cfg(feature = "redis")]
pub use client::DEFAULT_RATE_LIMIT_STORE_TIMEOUT;
pub use client::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE,
    DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_PACING_WAIT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER, DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT, RATE_LIMIT_SCOPE_ENV, RATE_LIMIT_STORE_ENV,
};
pub use credentials::Credentials;
pub use error::{ApiMessage, ApiMessageSource, Applied, Error, ErrorKind};
pub use generated::{Client, builder, types};
pub use pagination::{Page, ResultInfo, paginate};
pub use wrappers::{Nullable, OpenEnum};

// Not part of the API: hooks for the crate's own tests (the generated source, a decode or a send
// by operationId), compiled only with the `testing` feature, which only the tests turn on
// (Cargo.toml; tests/public_api.rs checks the gate). Everything users need is re-exported above.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use generated::testing;
