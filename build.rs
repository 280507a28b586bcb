//! Generates the client from `spec/dns_settings.json` with progenitor.
//!
//! Steps (build/generate.rs runs them): read the spec (build/spec.rs, the one spec reader, shared
//! with xtask), name the operations (build/names.rs), extract the table of operations and their
//! request checks (build/rules.rs), adjust a copy of the spec for the generator (one function per
//! adjustment, each saying why: build/adjust.rs), generate with progenitor, then edit its output
//! one step per file (surface.rs, unions.rs, sends.rs, hooks.rs, plans.rs, checks.rs, drift.rs;
//! syn helpers in syntax.rs, the runtime items they name in contract.rs), format with
//! prettyplease, write both files to `OUT_DIR`. Nothing here names an endpoint.

#[path = "build/adjust.rs"]
mod adjust;
#[path = "build/checks.rs"]
mod checks;
#[path = "build/contract.rs"]
mod contract;
#[path = "build/drift.rs"]
mod drift;
#[path = "build/generate.rs"]
mod generate;
#[path = "build/hooks.rs"]
mod hooks;
#[path = "build/names.rs"]
mod names;
#[path = "build/plans.rs"]
mod plans;
#[path = "build/rules.rs"]
mod rules;
#[path = "build/sends.rs"]
mod sends;
#[path = "build/spec.rs"]
mod spec;
#[path = "build/surface.rs"]
mod surface;
#[path = "build/syntax.rs"]
mod syntax;
#[path = "build/unions.rs"]
mod unions;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC: &str = "spec/dns_settings.json";

fn main() -> ExitCode {
    // The folder, so that a new or renamed file in it also triggers a rebuild.
    println!("cargo:rerun-if-changed=spec");
    println!("cargo:rerun-if-changed=build");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("error: {SPEC}: {problem}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let text = std::fs::read_to_string(SPEC).map_err(|e| format!("cannot read: {e}"))?;
    let out = generate::pipeline(&text, progenitor)?;
    // For whoever debugs the generator: the document progenitor read, and what it wrote before
    // the edits (also read by tests/codegen.rs).
    write(&out_dir.join("adjusted_spec.json"), &out.adjusted_spec)?;
    write(&out_dir.join("progenitor.rs"), &out.progenitor)?;
    write(&out_dir.join("generated.rs"), &out.client)?;
    write(&out_dir.join("operations.rs"), &out.operations)
}

/// progenitor's client for the adjusted spec, before build/generate.rs edits it.
fn progenitor(spec: serde_json::Value) -> Result<proc_macro2::TokenStream, String> {
    let api: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(contract::tokens(contract::CLIENT_STATE))
        .with_derive("PartialEq")
        .with_crate(
            contract::CRATE.replace('_', "-"),
            progenitor::CrateVers::Any,
            None,
        )
        // `Option<Vec<T>>` for optional arrays (see adjust.rs).
        .with_crate("std", progenitor::CrateVers::Any, None);
    progenitor::Generator::new(&settings)
        .generate_tokens(&api)
        .map_err(|e| format!("progenitor cannot generate a client: {e}"))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    // Leave an unchanged file alone so that its modification time does not force a rebuild.
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
