//! The runtime contract: every item of this crate that the generated code (src/generated.rs,
//! made by build.rs) names, and what it relies on. build/contract.rs is the generator's side and
//! the only place in build/ that names these items; tests/codegen.rs
//! (`the_runtime_contract_is_one_list`) fails, naming the item, when the generated code names an
//! item listed nowhere, or when this list and build/contract.rs differ. Rename or remove one of
//! these items only together with build/contract.rs.
//!
//! - `crate::transport::call` and `call_page`: `(client, request builder, &Operation)`, each
//!   `send()` of an operation; the builder is called once per attempt.
//! - `crate::envelope::{result, page}` and `Received` with all its fields: the test hooks decode a
//!   body as a call does.
//! - `crate::Error` and its constructors `from_builder` (a builder value unset or unconvertible)
//!   and `from_reqwest` (reqwest's request builder failed).
//! - `crate::validate::{range, length, path_param}`: the spec's bounds, checked before sending.
//! - `crate::drift::{seen, seen_field, Drift}`: what a result carries that the spec does not know.
//! - `crate::wrappers::union_variant`: a discriminated union's variant, decoded.
//! - `crate::plan::{Desired, plan, verify, ApplyReport}` with all of `ApplyReport`'s fields: the
//!   `…_apply` functions of each GET/PATCH pair.
//! - `crate::client::ClientState`: what progenitor's `Client` holds.
//! - the public `Page`, `Nullable` (`Value`, `deserialize_present`), `OpenEnum` (`Other`),
//!   named by their paths from the crate's root (`::cloudflare_dns_settings::…`).

/// Every item the generated code names, as it names it; a struct literal's fields as
/// `"<path>.<field>"`.
#[allow(dead_code)] // Read by tests/codegen.rs, as text.
pub(crate) const ITEMS: &[&str] = &[
    "crate::client::ClientState",
    "crate::Error",
    "crate::Error::from_builder",
    "crate::Error::from_reqwest",
    "crate::transport::call",
    "crate::transport::call_page",
    "crate::envelope::Received",
    "crate::envelope::Received.status",
    "crate::envelope::Received.headers",
    "crate::envelope::Received.body",
    "crate::envelope::Received.attempts",
    "crate::envelope::Received.earlier",
    "crate::envelope::result",
    "crate::envelope::page",
    "crate::Applied::No",
    "crate::drift::seen",
    "crate::drift::seen_field",
    "crate::drift::Drift::EnumValue",
    "crate::drift::Drift::UnionKind",
    "crate::validate::range",
    "crate::validate::length",
    "crate::validate::path_param",
    "crate::wrappers::union_variant",
    "crate::plan::Desired",
    "crate::plan::plan",
    "crate::plan::verify",
    "crate::plan::ApplyReport",
    "crate::plan::ApplyReport.plan",
    "crate::plan::ApplyReport.before",
    "crate::plan::ApplyReport.after",
    "crate::plan::ApplyReport.unconverged",
    "::cloudflare_dns_settings::Page",
    "::cloudflare_dns_settings::Nullable",
    "::cloudflare_dns_settings::Nullable::Value",
    "::cloudflare_dns_settings::Nullable::deserialize_present",
    "::cloudflare_dns_settings::OpenEnum",
    "::cloudflare_dns_settings::OpenEnum::Other",
];

/// The struct literals of the generated code name every field: a field added or removed here
/// breaks this function first, next to the list above.
#[allow(dead_code)]
fn fields<D: crate::plan::Desired>(
    received: crate::envelope::Received,
    report: crate::plan::ApplyReport<D>,
) {
    let crate::envelope::Received {
        status: _,
        headers: _,
        body: _,
        attempts: _,
        earlier: _,
    } = received;
    let crate::plan::ApplyReport {
        plan: _,
        before: _,
        after: _,
        unconverged: _,
    } = report;
}
