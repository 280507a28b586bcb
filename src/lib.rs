#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The generated code names this crate by its path (typify's `x-rust-type`), also from inside it.
extern crate self as cloudflare_dns_settings;

#[cfg(feature = "redis")]
mod budget_store;
mod client;
mod credentials;
mod envelope;
mod error;
mod generated;
mod pacing;
mod pagination;
pub mod plan;
mod retry;
mod transport;
mod validate;
mod wrappers;

pub use client::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE,
    DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_PACING_WAIT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER, DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT, RATE_LIMIT_STORE_ENV,
};
pub use credentials::Credentials;
pub use error::{ApiMessage, ApiMessageSource, Error};
pub use generated::{Client, builder, types};
pub use pagination::{Page, ResultInfo, paginate};
pub use wrappers::{Nullable, OpenEnum};

/// The generated code as progenitor wrote it (after build.rs routed every `send()` through the
/// crate's transport), for what the crate root does not re-export.
pub mod raw {
    pub use crate::generated::*;
}
