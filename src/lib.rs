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
mod transport;
mod validate;
mod wrappers;

pub use client::{
    ClientBuilder, ClientState, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
};
pub use credentials::Credentials;
pub use envelope::ResultExt;
pub use error::{ApiMessage, ApiMessageSource, Error};
pub use generated::{Client, builder, types};
pub use wrappers::{Nullable, OpenEnum};

/// The generated code as progenitor wrote it, for what the crate root does not re-export.
pub mod raw {
    pub use crate::generated::*;
    #[doc(hidden)]
    pub use crate::validate::RULES_SOURCE;
}
