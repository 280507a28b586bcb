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
    irrefutable_let_patterns
)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));

/// One entry per operation: its method, path, idempotency and the spec's checks.
pub(crate) mod operations {
    use crate::validate::Operation;
    include!(concat!(env!("OUT_DIR"), "/operations.rs"));
}

/// The generated source, for the snapshot test in `tests/`.
#[doc(hidden)]
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));

/// The generated table of operations, for the snapshot test in `tests/`.
#[doc(hidden)]
pub const OPERATIONS_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/operations.rs"));
