//! `sdk-newer`: is there an official SDK newer than the pin, and what would it change?
//!
//! Asks PyPI (`pip index versions cloudflare`) and npm (`npm view cloudflare version`) once each
//! for the newest `cloudflare`. When one is newer than its pin (`.ci/sdk-audit/requirements.txt`,
//! `.ci/sdk-audit/package.json`), installs it in a folder of its own (`.ci/sdk-audit/.venv-newest`,
//! `.ci/sdk-audit/.npm-newest`, git-ignored), extracts its models with `.ci/sdk-audit/extract.py`
//! or `extract-ts.mjs`, and prints, as a notice, what changed from the pinned snapshot and the
//! audit of `spec/` against it. A registry that does not answer, a version that does not
//! install: a notice too. Nothing here fails: an upstream release must not block anyone's work
//! (the pinned audit, `audit-sdk`, is what fails). With `--write`, the newer SDK becomes the pin:
//! `requirements.txt` is its venv's `pip freeze` (or `package.json` names it and npm makes the
//! lock again), its snapshot replaces the old one, and what is left is the review
//! (`bash .ci/sdk-audit.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::audit;

/// What `sdk-newer` was asked.
pub struct Options {
    /// The repository (the default: the one this xtask was built in).
    pub root: PathBuf,
    /// The newest version on PyPI, instead of asking (tests; `SDK_AUDIT_PYPI_NEWEST`).
    pub pypi_newest: Option<String>,
    /// The newest version on npm, instead of asking (tests; `SDK_AUDIT_NPM_NEWEST`).
    pub npm_newest: Option<String>,
    /// The newer Python SDK's snapshot, made elsewhere, instead of installing it.
    pub snapshot: Option<PathBuf>,
    /// The newer TypeScript SDK's snapshot, made elsewhere, instead of installing it.
    pub npm_snapshot: Option<PathBuf>,
    /// Make the newer SDK the pin.
    pub write: bool,
}

const REQUIREMENTS: &str = ".ci/sdk-audit/requirements.txt";
const PACKAGE: &str = ".ci/sdk-audit/package.json";
const VENV: &str = ".ci/sdk-audit/.venv-newest";
const NPM_DIR: &str = ".ci/sdk-audit/.npm-newest";

/// One official SDK: where it is pinned, how it is asked for, installed and extracted.
#[derive(Clone, Copy, PartialEq)]
enum Sdk {
    Python,
    TypeScript,
}

impl Sdk {
    fn registry(self) -> &'static str {
        match self {
            Sdk::Python => "PyPI",
            Sdk::TypeScript => "npm",
        }
    }

    /// The file that pins it.
    fn pin_file(self) -> &'static str {
        match self {
            Sdk::Python => REQUIREMENTS,
            Sdk::TypeScript => PACKAGE,
        }
    }

    /// Its snapshot of `version`, relative to the repository.
    fn snapshot(self, version: &str) -> String {
        match self {
            Sdk::Python => format!("spec/sdk/cloudflare-python-{version}.json"),
            Sdk::TypeScript => format!("spec/sdk/cloudflare-typescript-{version}.json"),
        }
    }

    /// The pinned version, and the pin file's text.
    fn pin(self, root: &Path) -> Result<(String, String), String> {
        let file = self.pin_file();
        let text = std::fs::read_to_string(root.join(file))
            .map_err(|e| format!("cannot read {file}: {e}"))?;
        let version = match self {
            Sdk::Python => text
                .lines()
                .find_map(|l| l.trim().strip_prefix("cloudflare==").map(String::from)),
            Sdk::TypeScript => serde_json::from_str::<Value>(&text).ok().and_then(|v| {
                v.pointer("/dependencies/cloudflare")?
                    .as_str()
                    .map(String::from)
            }),
        };
        let version = version.ok_or_else(|| format!("{file} pins no `cloudflare`"))?;
        Ok((version, text))
    }

    fn ask(self) -> Result<String, String> {
        match self {
            Sdk::Python => ask_pypi(),
            Sdk::TypeScript => ask_npm(),
        }
    }

    /// Installs `version` beside the pinned one and extracts its models: the snapshot's text,
    /// and for Python the venv's `pip freeze`.
    fn install(self, root: &Path, version: &str) -> Result<(String, Option<String>), String> {
        match self {
            Sdk::Python => install_python(root, version).map(|(s, f)| (s, Some(f))),
            Sdk::TypeScript => install_npm(root, version).map(|s| (s, None)),
        }
    }
}

/// Runs the check for both SDKs, printing through `say`; an `Err` only for what `--write`
/// could not do, or a Python pin that cannot be read.
pub fn run(options: &Options, say: &mut dyn FnMut(&str)) -> Result<(), String> {
    for sdk in [Sdk::Python, Sdk::TypeScript] {
        check(sdk, options, say)?;
    }
    Ok(())
}

fn check(sdk: Sdk, options: &Options, say: &mut dyn FnMut(&str)) -> Result<(), String> {
    let root = &options.root;
    let registry = sdk.registry();
    let (pin, pin_text) = sdk.pin(root)?;
    let (given_newest, given_snapshot) = match sdk {
        Sdk::Python => (&options.pypi_newest, &options.snapshot),
        Sdk::TypeScript => (&options.npm_newest, &options.npm_snapshot),
    };
    let newest = match given_newest {
        Some(v) => v.clone(),
        None => match sdk.ask() {
            Ok(v) => v,
            Err(e) => {
                say(&format!(
                    "notice: could not ask {registry} for cloudflare ({e})"
                ));
                return Ok(());
            }
        },
    };
    if !newer(&newest, &pin) {
        say(&format!(
            "{registry}: cloudflare {newest} is the newest; the pin is {pin}: nothing newer to audit"
        ));
        return Ok(());
    }
    say(&format!(
        "NOTICE: cloudflare {newest} on {registry} is newer than the pin {pin} ({}). \
         What it changes, and spec/ audited against it (a notice: this fails nothing):",
        sdk.pin_file()
    ));
    let installed = match given_snapshot {
        Some(path) => std::fs::read_to_string(path)
            .map(|text| (text, None))
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => sdk.install(root, &newest),
    };
    let parsed = installed.and_then(
        |(text, freeze)| match serde_json::from_str::<Value>(&text) {
            Ok(value) => Ok((text, value, freeze)),
            Err(e) => Err(format!("not JSON: {e}")),
        },
    );
    let (snapshot_text, newer_snapshot, freeze) = match parsed {
        Ok(all) => all,
        Err(e) => {
            say(&format!(
                "notice: could not extract the models of cloudflare {newest} ({e})"
            ));
            return Ok(());
        }
    };
    if let Err(e) = describe(
        root,
        &sdk.snapshot(&pin),
        &pin,
        &newest,
        &newer_snapshot,
        say,
    ) {
        say(&format!(
            "notice: could not compare cloudflare {newest} ({e})"
        ));
    }
    if options.write {
        let written = sdk.snapshot(&newest);
        write_text(&root.join(&written), &snapshot_text)?;
        let old = root.join(sdk.snapshot(&pin));
        std::fs::remove_file(&old).map_err(|e| format!("cannot remove {}: {e}", old.display()))?;
        match sdk {
            Sdk::Python => write_requirements(root, &pin, &newest, freeze.as_deref(), &pin_text)?,
            Sdk::TypeScript => write_package(
                root,
                &pin,
                &newest,
                &pin_text,
                given_snapshot.is_none(),
                say,
            )?,
        }
        say(&format!(
            "wrote {written} and the pin in {}; review with `bash .ci/sdk-audit.sh`",
            sdk.pin_file()
        ));
    } else {
        say("to make it the pin: cargo run -p xtask -- sdk-newer --write");
    }
    Ok(())
}

/// What changed from the pinned snapshot, and the audit of spec/ against the newer one.
fn describe(
    root: &Path,
    pinned: &str,
    pin: &str,
    newest: &str,
    newer_snapshot: &Value,
    say: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let read = |path: &Path| -> Result<Value, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
    };
    let pinned = read(&root.join(pinned))?;
    let changes = audit::compare_snapshots(&pinned, newer_snapshot)?;
    say(&format!(
        "\nchanged upstream from {pin} to {newest} ({}):",
        changes.len()
    ));
    for change in &changes {
        say(&format!(
            "  {}\n      {pin}: {}\n      {newest}: {}",
            change.id(),
            change.spec,
            change.sdk
        ));
    }
    let spec = read(&root.join("spec/dns_settings.json"))?;
    let explanations = audit::read_explanations(&read(&root.join("spec/sdk-audit.json"))?)?;
    let mut found = audit::audit(audit::compare(&spec, newer_snapshot)?, &explanations);
    // Whether a pattern explains nothing is for the pinned audit of every SDK to say.
    found.unused.clear();
    say("");
    say(audit::report(&found, &explanations, &format!("cloudflare {newest}")).trim_end());
    say("");
    Ok(())
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The Python pin: the new venv's freeze (or the pin line changed, for a snapshot made
/// elsewhere), under the same header.
fn write_requirements(
    root: &Path,
    pin: &str,
    newest: &str,
    freeze: Option<&str>,
    requirements: &str,
) -> Result<(), String> {
    let header: String = requirements
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{}\n", l.replace(pin, newest)))
        .collect();
    let body = match freeze {
        Some(freeze) => freeze.to_string(),
        None => requirements
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| match l.strip_prefix("cloudflare==") {
                Some(_) => format!("cloudflare=={newest}\n"),
                None => format!("{l}\n"),
            })
            .collect(),
    };
    write_text(&root.join(REQUIREMENTS), &(header + &body))
}

/// The TypeScript pin: package.json's `cloudflare`, and the lock made again by npm (not for a
/// snapshot made elsewhere: then says how).
fn write_package(
    root: &Path,
    pin: &str,
    newest: &str,
    package: &str,
    lock: bool,
    say: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let old = format!("\"cloudflare\": \"{pin}\"");
    if !package.contains(&old) {
        return Err(format!("{PACKAGE} has no `{old}` to change"));
    }
    write_text(
        &root.join(PACKAGE),
        &package.replace(&old, &format!("\"cloudflare\": \"{newest}\"")),
    )?;
    let relock = "npm install --package-lock-only --ignore-scripts --no-audit --no-fund";
    if lock {
        output(
            Command::new("npm")
                .current_dir(root.join(".ci/sdk-audit"))
                .args(relock.split(' ').skip(1)),
        )?;
    } else {
        say(&format!(
            "then, in .ci/sdk-audit: {relock} (the lock is not made from a given snapshot)"
        ));
    }
    Ok(())
}

/// Installs `cloudflare==version` in a venv of its own and extracts its models: the snapshot's
/// text and the venv's `pip freeze`.
fn install_python(root: &Path, version: &str) -> Result<(String, String), String> {
    let venv = root.join(VENV);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let _ = std::fs::remove_dir_all(&venv);
    output(Command::new(&python).arg("-m").arg("venv").arg(&venv))?;
    let pip = venv.join("bin/pip");
    output(
        Command::new(&pip)
            .args([
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
            ])
            .arg(format!("cloudflare=={version}")),
    )?;
    let freeze = output(Command::new(&pip).args(["freeze", "--disable-pip-version-check"]))?;
    let snapshot =
        output(Command::new(venv.join("bin/python")).arg(root.join(".ci/sdk-audit/extract.py")))?;
    Ok((snapshot, freeze))
}

/// Installs `cloudflare@version`, with the pinned TypeScript compiler, in a folder of its own and
/// extracts its models.
fn install_npm(root: &Path, version: &str) -> Result<String, String> {
    let dir = root.join(NPM_DIR);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(PACKAGE)).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{PACKAGE}: {e}"))?;
    let typescript = package
        .pointer("/dependencies/typescript")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{PACKAGE} pins no `typescript`"))?;
    output(
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&dir)
            .args([
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--loglevel=error",
            ])
            .arg(format!("cloudflare@{version}"))
            .arg(format!("typescript@{typescript}")),
    )?;
    output(
        Command::new("node")
            .arg(root.join(".ci/sdk-audit/extract-ts.mjs"))
            .arg(dir.join("node_modules/cloudflare")),
    )
}

/// The newest `cloudflare` on PyPI, from `pip index versions` (its first line:
/// `cloudflare (5.9.0)`).
fn ask_pypi() -> Result<String, String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let text = output(Command::new(python).args([
        "-m",
        "pip",
        "index",
        "versions",
        "cloudflare",
        "--disable-pip-version-check",
        "--retries",
        "0",
        "--timeout",
        "15",
    ]))?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("cloudflare (")?.strip_suffix(')'))
        .map(String::from)
        .ok_or_else(|| format!("pip said: {}", text.trim()))
}

/// The newest `cloudflare` on npm.
fn ask_npm() -> Result<String, String> {
    let text = output(Command::new("npm").args([
        "view",
        "cloudflare",
        "version",
        "--fetch-retries=0",
        "--fetch-timeout=15000",
    ]))?;
    let version = text.trim();
    if version.is_empty() || version.contains(char::is_whitespace) {
        return Err(format!("npm said: {version}"));
    }
    Ok(version.to_string())
}

/// A command's stdout, or why it failed (its last line of stderr).
fn output(command: &mut Command) -> Result<String, String> {
    let name = command.get_program().to_string_lossy().into_owned();
    let out = command
        .output()
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // npm ends with where its log is; the line before says what went wrong.
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.contains("A complete log of this run"));
        return Err(format!(
            "{name} failed ({}): {}",
            out.status,
            last.unwrap_or("").trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{name}: not UTF-8: {e}"))
}

/// Whether release `a` is newer than `b`, both `X.Y.Z` (a pre-release or anything else that
/// is not dotted numbers is never newer).
pub fn newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Option<Vec<u64>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::newer;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(newer("5.10.0", "5.9.0"));
        assert!(newer("6.0.0", "5.9.9"));
        assert!(newer("5.9.1", "5.9.0"));
        assert!(!newer("5.9.0", "5.9.0"));
        assert!(!newer("5.8.0", "5.9.0"));
        assert!(!newer("6.0.0rc1", "5.9.0"));
        assert!(!newer("", "5.9.0"));
    }
}
