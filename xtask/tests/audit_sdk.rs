//! `audit-sdk` on the repository's own files: spec/ agrees with the committed snapshot of the
//! official SDK's models, up to what spec/sdk-audit.json explains. `.ci/run` re-extracts the
//! snapshot from the pinned SDK and checks it is unchanged; this test needs no Python, so a change
//! of spec/ that drifts from the SDK fails plain `cargo test`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The snapshots in spec/sdk/: one of the Python SDK, one of the TypeScript SDK.
fn snapshots() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join("spec/sdk"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    found.sort();
    let names: Vec<String> = found
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.len() == 2
            && names[0].starts_with("cloudflare-python-")
            && names[1].starts_with("cloudflare-typescript-"),
        "expected one Python and one TypeScript snapshot in spec/sdk/: {names:?}"
    );
    found
}

fn audit(spec: &Path, explained: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .current_dir(root())
        .arg("audit-sdk")
        .arg("--spec")
        .arg(spec);
    for snapshot in snapshots() {
        command.arg("--sdk").arg(snapshot);
    }
    command.arg("--explained").arg(explained).output().unwrap()
}

#[test]
fn the_spec_agrees_with_the_sdk_up_to_what_is_explained() {
    let out = audit(
        &root().join("spec/dns_settings.json"),
        &root().join("spec/sdk-audit.json"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches(" explained, 0 not\n").count(), 2, "{stdout}");
    // Where the two SDKs disagree is said, and fails nothing: the lists' `result_info` (2), and
    // a zone's `activated_on` and three `original_*` fields in each of the zones resource's four
    // operations that return a zone (16), required in TypeScript only.
    assert!(
        stdout.contains(
            "cloudflare 5.9.0 of PyPI and cloudflare 7.3.0 of npm disagree in 18 place(s)"
        ),
        "{stdout}"
    );
    for line in [
        "  GET /accounts/{account_id}/dns_settings/views result_info: required\n",
        "  GET /zones result_info: required\n",
        "  GET /zones result[].activated_on: required\n",
    ] {
        assert!(stdout.contains(line), "{line}{stdout}");
    }
}

/// The audit can fail: the upstream fragment as vendored (all seven SOA fields required in
/// responses, a view delete's `id` required) is stricter than the SDK, and nothing explains it.
#[test]
fn a_spec_stricter_than_the_sdk_fails_naming_the_fields() {
    let dir = std::env::temp_dir().join(format!("xtask-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("spec/dns_settings.json")).unwrap(),
    )
    .unwrap();
    let soa = &mut spec["components"]["schemas"]["dns-settings_soa-response"];
    soa["required"] = serde_json::json!(["mname"]);
    let path = dir.join("spec.json");
    std::fs::write(&path, serde_json::to_string(&spec).unwrap()).unwrap();
    let out = audit(&path, &root().join("spec/sdk-audit.json"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "GET /zones/{zone_id}/dns_settings result.soa.mname: required\n      \
             spec: required\n      SDK:  optional"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("NOT EXPLAINED (4)"), "{stdout}");
}
