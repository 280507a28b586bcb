//! Generates the client from `spec/dns_settings.json` with progenitor.
//!
//! Steps: read the spec, extract the request checks (`rules.rs`), adjust a copy of the spec for
//! the generator (one function per adjustment, each saying why), generate with progenitor,
//! format with prettyplease, write both files to `OUT_DIR`. Nothing here names an endpoint.

#[path = "build/adjust.rs"]
mod adjust;
#[path = "build/rules.rs"]
mod rules;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC: &str = "spec/dns_settings.json";

fn main() -> ExitCode {
    // The folder, so that a new or renamed file in it also triggers a rebuild.
    println!("cargo:rerun-if-changed=spec");
    println!("cargo:rerun-if-changed=build");
    match generate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("error: {SPEC}: {problem}");
            ExitCode::FAILURE
        }
    }
}

fn generate() -> Result<(), String> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let text = std::fs::read_to_string(SPEC).map_err(|e| format!("cannot read: {e}"))?;
    let mut spec: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    adjust::require_openapi_3_0(&spec)?;
    adjust::readable_operation_ids(&mut spec)?;

    let rules = rules::extract(&spec)?;
    let generated = adjust::generate_client(spec)?;

    write(&out_dir.join("generated.rs"), &generated)?;
    write(&out_dir.join("rules.rs"), &rules::render(&rules))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    // Leave an unchanged file alone so that its modification time does not force a rebuild.
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
