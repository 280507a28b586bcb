//! The one fence around generated code: progenitor's output for `spec/dns_settings.json` and the
//! table of operations and their checks, written by build.rs to `OUT_DIR`. Never edited by hand;
//! lint allowances stop here.
#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unused_mut,
    dead_code,
    rustdoc::all,
    irrefutable_let_patterns,
    // The generated code itself (serde's derives) reads and writes the deprecated fields.
    deprecated
)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));

/// One entry per operation: its method, path, idempotency and the spec's checks.
pub(crate) mod operations {
    use crate::validate::Operation;
    include!(concat!(env!("OUT_DIR"), "/operations.rs"));
}

/// Not part of the API (compiled only with the `testing` feature, which the crate's own tests
/// turn on; hidden, and may change in any release): what the crate's own tests read.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing {
    pub use super::{decode_body, decode_response, send_without_body};

    /// The generated source, for the snapshot test in `tests/`.
    pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));

    /// The generated table of operations, for the snapshot test in `tests/`.
    pub const OPERATIONS_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/operations.rs"));
}
