//! The one fence around generated code: progenitor's output for `spec/dns_settings.json`,
//! written by build.rs to `OUT_DIR`. Never edited by hand; lint allowances stop here.
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

/// The generated source, for the snapshot test in `tests/`.
#[doc(hidden)]
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));
