//! `sdk-newer`: is there an official SDK newer than the pin, and what would it change?
//!
//! Asks PyPI (`pip index versions cloudflare`) and npm (`npm view cloudflare version`) once each
//! for the newest `cloudflare`. When PyPI's is newer than the pin of
//! `.ci/sdk-audit/requirements.txt`, installs it in a venv of its own
//! (`.ci/sdk-audit/.venv-newest`, git-ignored), extracts its models with
//! `.ci/sdk-audit/extract.py`, and prints, as a notice, what changed from the pinned snapshot
//! and the audit of `spec/` against it. A registry that does not answer, a version that does not
//! install: a notice too. Nothing here fails: an upstream release must not block anyone's work
//! (the pinned audit, `audit-sdk`, is what fails). With `--write`, the newer SDK becomes the pin:
//! `requirements.txt` is its venv's `pip freeze`, its snapshot replaces the old one, and what is
//! left is the review (`bash .ci/sdk-audit.sh`).

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
    /// The newest version on npm, instead of asking.
    pub npm_newest: Option<String>,
    /// The newer SDK's snapshot, made elsewhere, instead of installing it.
    pub snapshot: Option<PathBuf>,
    /// Make the newer SDK the pin.
    pub write: bool,
}

const REQUIREMENTS: &str = ".ci/sdk-audit/requirements.txt";
const VENV: &str = ".ci/sdk-audit/.venv-newest";

/// Runs the check, printing through `say`; an `Err` only for what `--write` could not do.
pub fn run(options: &Options, say: &mut dyn FnMut(&str)) -> Result<(), String> {
    let root = &options.root;
    let requirements = std::fs::read_to_string(root.join(REQUIREMENTS))
        .map_err(|e| format!("cannot read {REQUIREMENTS}: {e}"))?;
    let pin = requirements
        .lines()
        .find_map(|l| l.trim().strip_prefix("cloudflare=="))
        .ok_or_else(|| format!("{REQUIREMENTS} pins no `cloudflare==<version>`"))?
        .to_string();

    // npm: the TypeScript SDK's newest release, said.
    let npm = match &options.npm_newest {
        Some(v) => Ok(v.clone()),
        None => ask_npm(),
    };
    match npm {
        Ok(v) => say(&format!("npm: the newest TypeScript SDK is cloudflare {v}")),
        Err(e) => say(&format!("notice: could not ask npm for cloudflare ({e})")),
    }

    let newest = match &options.pypi_newest {
        Some(v) => v.clone(),
        None => match ask_pypi() {
            Ok(v) => v,
            Err(e) => {
                say(&format!("notice: could not ask PyPI for cloudflare ({e})"));
                return Ok(());
            }
        },
    };
    if !newer(&newest, &pin) {
        say(&format!(
            "PyPI: cloudflare {newest} is the newest; the pin is {pin}: nothing newer to audit"
        ));
        return Ok(());
    }
    say(&format!(
        "NOTICE: cloudflare {newest} on PyPI is newer than the pin {pin} ({REQUIREMENTS}). \
         What it changes, and spec/ audited against it (a notice: this fails nothing):"
    ));
    let (snapshot_text, freeze) = match &options.snapshot {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
            None,
        ),
        None => match install(root, &newest) {
            Ok((text, freeze)) => (Ok(text), Some(freeze)),
            Err(e) => (Err(e), None),
        },
    };
    let parsed = snapshot_text.and_then(|text| match serde_json::from_str::<Value>(&text) {
        Ok(value) => Ok((text, value)),
        Err(e) => Err(format!("not JSON: {e}")),
    });
    let (snapshot_text, newer_snapshot) = match parsed {
        Ok(both) => both,
        Err(e) => {
            say(&format!(
                "notice: could not extract the models of cloudflare {newest} ({e})"
            ));
            return Ok(());
        }
    };
    if let Err(e) = describe(root, &pin, &newest, &newer_snapshot, say) {
        say(&format!(
            "notice: could not compare cloudflare {newest} ({e})"
        ));
    }
    if options.write {
        write(
            root,
            &pin,
            &newest,
            &snapshot_text,
            freeze.as_deref(),
            &requirements,
        )?;
        say(&format!(
            "wrote spec/sdk/cloudflare-python-{newest}.json and the pin in {REQUIREMENTS}; \
             review with `bash .ci/sdk-audit.sh`"
        ));
    } else {
        say("to make it the pin: cargo run -p xtask -- sdk-newer --write");
    }
    Ok(())
}

/// What changed from the pinned snapshot, and the audit of spec/ against the newer one.
fn describe(
    root: &Path,
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
    let pinned = read(&root.join(format!("spec/sdk/cloudflare-python-{pin}.json")))?;
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
    let found = audit::audit(audit::compare(&spec, newer_snapshot)?, &explanations);
    say("");
    say(audit::report(&found, &explanations, &format!("cloudflare {newest}")).trim_end());
    Ok(())
}

/// Makes `newest` the pin: its freeze (or the pin line changed, for a snapshot made elsewhere),
/// its snapshot as the extractor wrote it, the old snapshot gone.
fn write(
    root: &Path,
    pin: &str,
    newest: &str,
    snapshot: &str,
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
    let written = |path: PathBuf, text: String| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    written(root.join(REQUIREMENTS), header + &body)?;
    written(
        root.join(format!("spec/sdk/cloudflare-python-{newest}.json")),
        snapshot.to_string(),
    )?;
    let old = root.join(format!("spec/sdk/cloudflare-python-{pin}.json"));
    std::fs::remove_file(&old).map_err(|e| format!("cannot remove {}: {e}", old.display()))
}

/// Installs `cloudflare==version` in a venv of its own and extracts its models: the snapshot's
/// text and the venv's `pip freeze`.
fn install(root: &Path, version: &str) -> Result<(String, String), String> {
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
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
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
