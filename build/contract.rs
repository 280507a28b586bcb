//! The runtime contract: every item of the crate that the generated code names, named here and
//! nowhere else in build/. The steps take these paths from here (as tokens, [`tokens`]); none
//! spells a `crate::…` path of its own.
//!
//! src/contract.rs is the crate's side of the contract: it lists the same items, each with what
//! the generated code relies on. tests/codegen.rs (`the_runtime_contract_is_one_list`) checks
//! that every `crate::…` and `::cloudflare_dns_settings::…` path of the generated code is listed
//! in [`PATHS`], and that [`PATHS`] and src/contract.rs list the same items: a change on either
//! side fails there with a message naming the item, not only as a compile error in generated
//! code.

use proc_macro2::TokenStream;
use quote::quote;

/// The path of this crate as seen from the generated code (see `extern crate self` in lib.rs).
pub const CRATE: &str = "cloudflare_dns_settings";

/// The inner type progenitor's `Client` holds (build.rs).
pub const CLIENT_STATE: &str = "crate::client::ClientState";
/// Every generated call's error.
pub const ERROR: &str = "crate::Error";
/// A builder value that was never set or did not convert: `(field, problem) -> Error`.
pub const ERROR_FROM_BUILDER: &str = "crate::Error::from_builder";
/// reqwest's request builder failed: `reqwest::Error -> Error`.
pub const ERROR_FROM_REQWEST: &str = "crate::Error::from_reqwest";
/// One call: `(client, request builder, &Operation) -> Result<T, Error>`.
pub const TRANSPORT_CALL: &str = "crate::transport::call";
/// One call of a list operation: as [`TRANSPORT_CALL`], the result a `Page<T>`.
pub const TRANSPORT_CALL_PAGE: &str = "crate::transport::call_page";
/// What a call received (the test hooks decode a body as a call does); its fields are
/// [`received`]'s.
pub const RECEIVED: &str = "crate::envelope::Received";
/// The envelope's `result`, decoded: `(&Received) -> Result<T, Error>`.
pub const ENVELOPE_RESULT: &str = "crate::envelope::result";
/// The envelope's `result` and `result_info`, decoded: `(&Received) -> Result<Page<T>, Error>`.
pub const ENVELOPE_PAGE: &str = "crate::envelope::page";
/// `Received::earlier` of a response that is the first: nothing was applied before it.
pub const APPLIED_NO: &str = "crate::Applied::No";
/// What the spec does not know, said once per path: `(operation, path, Drift)`.
pub const DRIFT_SEEN: &str = "crate::drift::seen";
/// A field kept in an `extra` map: `(operation, path, key)`.
pub const DRIFT_SEEN_FIELD: &str = "crate::drift::seen_field";
pub const DRIFT_ENUM_VALUE: &str = "crate::drift::Drift::EnumValue";
pub const DRIFT_UNION_KIND: &str = "crate::drift::Drift::UnionKind";
/// The spec's bounds: `(field, value, min, max) -> Result<(), Error>`.
pub const VALIDATE_RANGE: &str = "crate::validate::range";
pub const VALIDATE_LENGTH: &str = "crate::validate::length";
/// A path parameter is safe in a path: `(name, value) -> Result<(), Error>`.
pub const VALIDATE_PATH_PARAM: &str = "crate::validate::path_param";
/// A union's variant decoded from the object: `(Map) -> Result<T, D::Error>`.
pub const UNION_VARIANT: &str = "crate::wrappers::union_variant";
/// The desired state of a GET/PATCH pair (build/plans.rs) and its functions; the result of an
/// apply is [`apply_report`]'s.
pub const PLAN_DESIRED: &str = "crate::plan::Desired";
pub const PLAN_PLAN: &str = "crate::plan::plan";
pub const PLAN_VERIFY: &str = "crate::plan::verify";
pub const PLAN_APPLY_REPORT: &str = "crate::plan::ApplyReport";
/// The public wrappers the adjusted spec names by `x-rust-type` (build/adjust.rs), by their
/// names in the crate's root.
pub const PAGE: &str = "Page";
pub const NULLABLE: &str = "Nullable";
pub const OPEN_ENUM: &str = "OpenEnum";
/// Their variants and functions that generated code names.
pub const NULLABLE_VALUE: &str = "::cloudflare_dns_settings::Nullable::Value";
pub const NULLABLE_DESERIALIZE_PRESENT: &str =
    "::cloudflare_dns_settings::Nullable::deserialize_present";
pub const OPEN_ENUM_OTHER: &str = "::cloudflare_dns_settings::OpenEnum::Other";

/// Every path above as the generated code writes it (the wrappers with the crate's name).
pub const PATHS: &[&str] = &[
    CLIENT_STATE,
    ERROR,
    ERROR_FROM_BUILDER,
    ERROR_FROM_REQWEST,
    TRANSPORT_CALL,
    TRANSPORT_CALL_PAGE,
    RECEIVED,
    ENVELOPE_RESULT,
    ENVELOPE_PAGE,
    APPLIED_NO,
    DRIFT_SEEN,
    DRIFT_SEEN_FIELD,
    DRIFT_ENUM_VALUE,
    DRIFT_UNION_KIND,
    VALIDATE_RANGE,
    VALIDATE_LENGTH,
    VALIDATE_PATH_PARAM,
    UNION_VARIANT,
    PLAN_DESIRED,
    PLAN_PLAN,
    PLAN_VERIFY,
    PLAN_APPLY_REPORT,
    "::cloudflare_dns_settings::Page",
    "::cloudflare_dns_settings::Nullable",
    "::cloudflare_dns_settings::OpenEnum",
    NULLABLE_VALUE,
    NULLABLE_DESERIALIZE_PRESENT,
    OPEN_ENUM_OTHER,
];

#[allow(dead_code)] // Read by tests/codegen.rs.
/// The struct literals generated code writes, `"<path>.<field>"`: every field, since a literal
/// names them all ([`received`], [`apply_report`]).
pub const FIELDS: &[&str] = &[
    "crate::envelope::Received.status",
    "crate::envelope::Received.headers",
    "crate::envelope::Received.body",
    "crate::envelope::Received.attempts",
    "crate::envelope::Received.earlier",
    "crate::plan::ApplyReport.plan",
    "crate::plan::ApplyReport.before",
    "crate::plan::ApplyReport.after",
    "crate::plan::ApplyReport.unconverged",
];

/// `path` (one of [`PATHS`]) as tokens, to interpolate into generated code.
pub fn tokens(path: &str) -> TokenStream {
    assert!(
        PATHS.contains(&path),
        "build/contract.rs: `{path}` is not in PATHS"
    );
    path.parse()
        .unwrap_or_else(|e| panic!("build/contract.rs: `{path}` is not a path: {e}"))
}

/// The fields of [`RECEIVED`], as the test hooks fill them for a 2xx `body` (a `&[u8]`).
pub fn received(body: TokenStream) -> TokenStream {
    let (received, applied_no) = (tokens(RECEIVED), tokens(APPLIED_NO));
    quote! {
        #received {
            status: ::reqwest::StatusCode::OK,
            headers: ::reqwest::header::HeaderMap::new(),
            body: ::bytes::Bytes::copy_from_slice(#body),
            attempts: 1,
            earlier: #applied_no,
        }
    }
}

/// The fields of [`PLAN_APPLY_REPORT`], from locals of the same names.
pub fn apply_report() -> TokenStream {
    let report = tokens(PLAN_APPLY_REPORT);
    quote! { #report { plan, before, after, unconverged } }
}
