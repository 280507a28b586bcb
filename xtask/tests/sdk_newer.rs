//! `sdk-newer`: a release newer than the pin is noticed, audited and described, never failing;
//! registries that do not answer are a notice; `--write` makes the newer SDK the pin. The newer
//! SDK here is a fake: the committed snapshot with a field and an operation added, as version
//! 99.0.0.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

const PIN: &str = "5.9.0";

/// A fresh directory under the system's temporary one.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sdk-newer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const NPM_PIN: &str = "7.3.0";

/// The pinned Python snapshot, as a newer SDK could change it: a new field in the zone's
/// settings and a new operation.
fn fake_newer_snapshot(dir: &Path) -> PathBuf {
    fake_newer(dir, &format!("cloudflare-python-{PIN}.json"))
}

/// The same of the pinned TypeScript snapshot.
fn fake_newer_npm_snapshot(dir: &Path) -> PathBuf {
    fake_newer(dir, &format!("cloudflare-typescript-{NPM_PIN}.json"))
}

fn fake_newer(dir: &Path, pinned: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("spec/sdk").join(pinned)).unwrap();
    let mut snapshot: Value = serde_json::from_str(&text).unwrap();
    snapshot["provenance"]["version"] = json!("99.0.0");
    let operations = snapshot["operations"].as_array_mut().unwrap();
    let zone_get = operations
        .iter_mut()
        .find(|op| op["method"] == "GET" && op["path"] == "/zones/{zone_id}/dns_settings")
        .unwrap();
    zone_get["response"]["result"]["schema"]["fields"]["dnssec_mode"] =
        json!({"required": false, "schema": {"enum": ["presigned", "live"]}});
    let mut export = operations[0].clone();
    export["path"] = json!("/accounts/{account_id}/dns_settings/export");
    operations.push(export);
    let path = dir.join(pinned.replace(PIN, "99.0.0").replace(NPM_PIN, "99.0.0"));
    std::fs::write(&path, serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();
    path
}

fn sdk_newer(args: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.current_dir(root()).arg("sdk-newer").args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

/// The files a run must not change, with their contents.
fn pinned_files() -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("spec/sdk"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(root().join(".ci/sdk-audit/requirements.txt"));
    files.push(root().join(".ci/sdk-audit/package.json"));
    files.push(root().join(".ci/sdk-audit/package-lock.json"));
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

#[test]
fn a_newer_release_is_a_notice_with_what_it_changes_and_the_audit_against_it() {
    let dir = scratch("notice");
    let snapshot = fake_newer_snapshot(&dir);
    let before = pinned_files();
    let (out, stdout) = sdk_newer(
        &[
            "--pypi-newest",
            "99.0.0",
            "--npm-newest",
            "7.3.0",
            "--snapshot",
            snapshot.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "never fails: {stdout}");
    assert!(
        stdout.contains("NOTICE: cloudflare 99.0.0 on PyPI is newer than the pin 5.9.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("changed upstream from 5.9.0 to 99.0.0 (2):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  GET /zones/{zone_id}/dns_settings result.dnssec_mode: field\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  GET /accounts/{account_id}/dns_settings/export : operation\n"),
        "{stdout}"
    );
    // The audit of spec/ against it names both as not explained, and still exits 0.
    assert!(stdout.contains("NOT EXPLAINED (2)"), "{stdout}");
    assert!(
        stdout.contains("npm: cloudflare 7.3.0 is the newest; the pin is 7.3.0"),
        "{stdout}"
    );
    assert_eq!(
        pinned_files(),
        before,
        "without --write, nothing is written"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_newer_typescript_release_is_a_notice_too() {
    let dir = scratch("npm-notice");
    let snapshot = fake_newer_npm_snapshot(&dir);
    let before = pinned_files();
    let (out, stdout) = sdk_newer(
        &[
            "--pypi-newest",
            PIN,
            "--npm-newest",
            "99.0.0",
            "--npm-snapshot",
            snapshot.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "never fails: {stdout}");
    assert!(
        stdout.contains(
            "NOTICE: cloudflare 99.0.0 on npm is newer than the pin 7.3.0 (.ci/sdk-audit/package.json)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("changed upstream from 7.3.0 to 99.0.0 (2):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  GET /zones/{zone_id}/dns_settings result.dnssec_mode: field\n"),
        "{stdout}"
    );
    assert!(stdout.contains("NOT EXPLAINED (2)"), "{stdout}");
    assert!(!stdout.contains("EXPLAIN NOTHING"), "{stdout}");
    assert_eq!(
        pinned_files(),
        before,
        "without --write, nothing is written"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_pinned_release_or_an_older_one_is_no_notice() {
    for (newest, npm) in [(PIN, NPM_PIN), ("5.8.0", "7.2.9")] {
        let (out, stdout) = sdk_newer(&["--pypi-newest", newest, "--npm-newest", npm], &[]);
        assert!(out.status.success(), "{stdout}");
        assert!(!stdout.contains("NOTICE"), "{stdout}");
        let pypi = format!("PyPI: cloudflare {newest} is the newest; the pin is {PIN}");
        let npm = format!("npm: cloudflare {npm} is the newest; the pin is {NPM_PIN}");
        assert!(stdout.contains(&pypi) && stdout.contains(&npm), "{stdout}");
    }
}

#[test]
fn registries_that_do_not_answer_are_a_notice_not_a_failure() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = format!("http://127.0.0.1:{port}/");
    let (out, stdout) = sdk_newer(
        &[],
        &[
            ("PIP_INDEX_URL", nowhere.as_str()),
            ("PIP_NO_CACHE_DIR", "1"),
            ("npm_config_registry", nowhere.as_str()),
            (
                "npm_config_cache",
                std::env::temp_dir().join("sdk-newer-npm").to_str().unwrap(),
            ),
            ("npm_config_offline", "false"),
        ],
    );
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("notice: could not ask PyPI for cloudflare"),
        "{stdout}"
    );
    assert!(
        stdout.contains("notice: could not ask npm for cloudflare"),
        "{stdout}"
    );
}

#[test]
fn write_makes_the_newer_release_the_pin() {
    let dir = scratch("write");
    let snapshot = fake_newer_snapshot(&dir);
    let npm_snapshot = fake_newer_npm_snapshot(&dir);
    let repo = dir.join("repo");
    for file in [
        ".ci/sdk-audit/requirements.txt",
        ".ci/sdk-audit/package.json",
        "spec/dns_settings.json",
        "spec/sdk-audit.json",
        &format!("spec/sdk/cloudflare-python-{PIN}.json"),
        &format!("spec/sdk/cloudflare-typescript-{NPM_PIN}.json"),
    ] {
        let to = repo.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(file), to).unwrap();
    }
    let (out, stdout) = sdk_newer(
        &[
            "--write",
            "--root",
            repo.to_str().unwrap(),
            "--pypi-newest",
            "99.0.0",
            "--npm-newest",
            "99.0.0",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--npm-snapshot",
            npm_snapshot.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{stdout}");
    let mut sdk: Vec<String> = std::fs::read_dir(repo.join("spec/sdk"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    sdk.sort();
    assert_eq!(
        sdk,
        [
            "cloudflare-python-99.0.0.json",
            "cloudflare-typescript-99.0.0.json"
        ]
    );
    let package = std::fs::read_to_string(repo.join(".ci/sdk-audit/package.json")).unwrap();
    assert!(package.contains("\"cloudflare\": \"99.0.0\""), "{package}");
    assert!(package.contains("\"typescript\": \"5.9.3\""), "{package}");
    assert!(
        stdout.contains("then, in .ci/sdk-audit: npm install --package-lock-only"),
        "{stdout}"
    );
    let written =
        std::fs::read_to_string(repo.join("spec/sdk/cloudflare-python-99.0.0.json")).unwrap();
    assert_eq!(
        written,
        std::fs::read_to_string(&snapshot).unwrap(),
        "byte for byte"
    );
    let requirements =
        std::fs::read_to_string(repo.join(".ci/sdk-audit/requirements.txt")).unwrap();
    assert!(
        requirements.contains("\ncloudflare==99.0.0\n"),
        "{requirements}"
    );
    assert!(
        !requirements.contains("cloudflare==5.9.0"),
        "{requirements}"
    );
    assert!(
        requirements.contains("pydantic=="),
        "the other pins stay: {requirements}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
