//! Generates the client from `spec/dns_settings.json` with progenitor.
//!
//! Steps: read the spec, name the operations (build/names.rs), extract the table of operations
//! and their request checks (build/rules.rs), adjust a copy of the spec for the generator (one
//! function per adjustment, each saying why: build/adjust.rs), generate with progenitor and route
//! every `send()` through the crate's transport (build/generate.rs), format with prettyplease,
//! write both files to `OUT_DIR`. Nothing here names an endpoint.

#[path = "build/adjust.rs"]
mod adjust;
#[path = "build/checks.rs"]
mod checks;
#[path = "build/generate.rs"]
mod generate;
#[path = "build/names.rs"]
mod names;
#[path = "build/plans.rs"]
mod plans;
#[path = "build/rules.rs"]
mod rules;

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
    let mut spec: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    adjust::require_openapi_3_0(&spec)?;
    names::operation_names(&mut spec)?;

    let operations = rules::extract(&spec)?;
    let pairs = plans::pairs(&spec, &operations);
    let unions = adjust::for_generator(&mut spec)?;
    // For whoever debugs the generator: the document progenitor actually reads.
    write(
        &out_dir.join("adjusted_spec.json"),
        &serde_json::to_string_pretty(&spec).unwrap_or_default(),
    )?;
    let generated = generate::generate(spec, &operations, &unions, &pairs)?;

    write(&out_dir.join("generated.rs"), &generated)?;
    write(&out_dir.join("operations.rs"), &rules::render(&operations))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    // Leave an unchanged file alone so that its modification time does not force a rebuild.
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
