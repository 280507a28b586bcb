//! The library half of `cf-dns-settings` (the tool is `src/main.rs`): the embedded loopback
//! model of a Cloudflare account that `--demo` runs against, and the tests too.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod mock;
