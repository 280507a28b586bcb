//! Maintenance tasks of this repository, run as `cargo run -p xtask -- <task> …`.
//!
//! `refresh-spec` rebuilds `spec/dns_settings.json` from upstream's OpenAPI documents (the
//! vendored ones are in `spec/upstream/`): the operations listed in `spec/operations.txt`, exactly
//! the components they reference (what the documents define differently reconciled by
//! `spec/reconcile.json`), then the crate's own additions from `spec/overlay.json` (see
//! `spec/README.md`).
//!
//! `audit-sdk` compares `spec/dns_settings.json` with a snapshot of the official Python SDK's
//! models (`spec/sdk/`, written by `.ci/sdk-audit/extract.py`) field by field, and fails on any
//! difference that `spec/sdk-audit.json` does not explain (see `spec/README.md`).
//!
//! `sdk-newer` asks PyPI and npm whether a `cloudflare` newer than the pin exists and, for
//! PyPI's, prints what it changes and the audit of `spec/` against it, as a notice; `--write`
//! makes it the pin (src/newer.rs).
//!
//! Exit codes: 0 done (or, with `--check`, up to date; for `audit-sdk`, every difference
//! explained); 1 `--check` found a difference, or the audit an unexplained one; 2 an error,
//! reported on stderr with the file it concerns.

mod audit;
mod json;
mod newer;
mod refresh;
/// The spec reader of build/ (`$ref`s and their depth limit, the `allOf` merge, the OpenAPI 3.0
/// check), compiled here as it is: one reader for the generator, the refresh and the audit.
#[allow(dead_code)]
#[path = "../../build/spec.rs"]
mod spec_reader;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo run -p xtask -- refresh-spec --upstream <openapi.json> [--upstream <other.json> …]
                                  --operations <operations.txt> [--reconcile <reconcile.json>]
                                  [--overlay <overlay.json>] --out <fragment.json> [--check]

  --upstream     an upstream OpenAPI 3.0.x document (cloudflare/api-schemas openapi.json, or a
                 fragment of it); repeat it for several: each listed operation must be in exactly
                 one, and their components are merged. The first gives `openapi` and `info`.
  --operations   the operationIds to keep, one a line (`#` comments, blank lines allowed)
  --reconcile    complete replacements of the components (and `servers`, `security`) that the
                 upstream documents define differently; without one, such a difference is an error
  --overlay      an RFC 7386 JSON Merge Patch applied after the extraction
  --out          where to write the fragment (left untouched when already up to date)
  --check        write nothing; exit 1 with a summary if --out differs from the new output

example:
  cargo run -p xtask -- refresh-spec \\
      --upstream spec/upstream/dns_settings_fragment.json \\
      --upstream spec/upstream/nameserver_sets_fragment.json \\
      --operations spec/operations.txt --reconcile spec/reconcile.json \\
      --overlay spec/overlay.json --out spec/dns_settings.json

usage: cargo run -p xtask -- audit-sdk --spec <fragment.json> --sdk <snapshot.json> [--sdk …]
                                       --explained <sdk-audit.json>

  --spec         the spec to audit (spec/dns_settings.json)
  --sdk          an SDK's models, normalized by .ci/sdk-audit/extract.py or extract-ts.mjs
                 (spec/sdk/cloudflare-python-<version>.json, cloudflare-typescript-<version>.json);
                 repeat it to audit several SDKs with one explanations file
  --explained    the differences this crate makes on purpose, and why (spec/sdk-audit.json)

  Prints every difference, explained or not, SDK by SDK, then where two SDKs disagree (for the
  record); exits 1 if a difference is not explained or if a pattern of --explained matches
  nothing in any SDK.

usage: cargo run -p xtask -- sdk-newer [--write] [--root <dir>] [--pypi-newest <version>]
                                       [--npm-newest <version>] [--snapshot <snapshot.json>]
                                       [--npm-snapshot <snapshot.json>]

  Asks PyPI and npm (once each) for the newest `cloudflare`. When one is newer than its pin
  (.ci/sdk-audit/requirements.txt, .ci/sdk-audit/package.json), installs it under
  .ci/sdk-audit/.venv-newest or .npm-newest, extracts its models, and prints what changed from
  the pinned snapshot and the audit of spec/ against it.
  A notice only: exits 0 whatever it finds or fails to ask.
  --write          make it the pin: requirements.txt (its pip freeze) or package.json (and the
                   lock, by npm), its snapshot in spec/sdk/ (the old one removed); then review
                   with `bash .ci/sdk-audit.sh`
  --root           the repository (default: the one xtask was built in)
  --pypi-newest, --npm-newest   take this as the registry's newest instead of asking
  --snapshot, --npm-snapshot    the newer SDK's snapshot, made elsewhere, instead of installing it";

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1).collect()) {
        Ok(code) => code,
        Err(problem) => {
            let _ = writeln!(std::io::stderr(), "error: {problem}");
            ExitCode::from(2)
        }
    }
}

struct RefreshSpec {
    upstreams: Vec<PathBuf>,
    operations: PathBuf,
    reconcile: Option<PathBuf>,
    overlay: Option<PathBuf>,
    out: PathBuf,
    check: bool,
}

fn run(args: Vec<OsString>) -> Result<ExitCode, String> {
    let mut args = args.into_iter();
    match args.next().as_ref().and_then(|a| a.to_str()) {
        Some("refresh-spec") => match parse_refresh_spec(args)? {
            Some(task) => refresh_spec(task),
            None => {
                say(USAGE);
                Ok(ExitCode::SUCCESS)
            }
        },
        Some("audit-sdk") => audit_sdk(args),
        Some("sdk-newer") => sdk_newer(args),
        Some("-h" | "--help" | "help") => {
            say(USAGE);
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(format!("no task given\n\n{USAGE}")),
    }
}

/// The task's options; `None` for `--help`.
fn parse_refresh_spec(args: impl Iterator<Item = OsString>) -> Result<Option<RefreshSpec>, String> {
    let mut args = args.peekable();
    let mut upstreams: Vec<PathBuf> = Vec::new();
    let (mut operations, mut reconcile, mut overlay, mut out, mut check) =
        (None, None, None, None, false);
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        let slot = match flag.as_str() {
            "--upstream" => {
                let value = value_of(&flag, inline, &mut args)?;
                if upstreams.contains(&value) {
                    return Err(format!("`--upstream {}` is given twice", value.display()));
                }
                upstreams.push(value);
                continue;
            }
            "--operations" => &mut operations,
            "--reconcile" => &mut reconcile,
            "--overlay" => &mut overlay,
            "--out" => &mut out,
            "--check" if inline.is_none() => {
                check = true;
                continue;
            }
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unexpected argument `{flag}`\n\n{USAGE}")),
        };
        let value = value_of(&flag, inline, &mut args)?;
        if slot.replace(value).is_some() {
            return Err(format!("`{flag}` is given twice"));
        }
    }
    let required = |value: Option<PathBuf>, flag: &str| {
        value.ok_or_else(|| format!("`{flag} <file>` is required\n\n{USAGE}"))
    };
    if upstreams.is_empty() {
        return Err(format!("`--upstream <file>` is required\n\n{USAGE}"));
    }
    Ok(Some(RefreshSpec {
        upstreams,
        operations: required(operations, "--operations")?,
        reconcile,
        overlay,
        out: required(out, "--out")?,
        check,
    }))
}

/// The file name after `flag`: inline (`--flag=value`) or the next argument.
fn value_of(
    flag: &str,
    inline: Option<PathBuf>,
    args: &mut impl Iterator<Item = OsString>,
) -> Result<PathBuf, String> {
    match inline {
        Some(value) => Ok(value),
        None => args
            .next()
            .map(PathBuf::from)
            .ok_or_else(|| format!("`{flag}` needs a file name\n\n{USAGE}")),
    }
}

fn refresh_spec(task: RefreshSpec) -> Result<ExitCode, String> {
    let refreshed = refresh::refresh(&refresh::Inputs {
        upstreams: &task.upstreams,
        operations: &task.operations,
        reconcile: task.reconcile.as_deref(),
        overlay: task.overlay.as_deref(),
    })?;
    for note in &refreshed.notes {
        let _ = writeln!(std::io::stderr(), "note: {note}");
    }
    let text = refreshed.text;
    let out = task.out.display();
    let existing = match std::fs::read(&task.out) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {out}: {e}")),
    };
    if existing.as_deref() == Some(text.as_bytes()) {
        say(&format!("{out} is up to date"));
        return Ok(ExitCode::SUCCESS);
    }
    if task.check {
        let Some(existing) = existing else {
            say(&format!(
                "{out} does not exist; run without --check to write it"
            ));
            return Ok(ExitCode::from(1));
        };
        let old = String::from_utf8_lossy(&existing);
        let lines = refresh::summarize_difference(&old, &text, 20);
        say(&format!(
            "{out} is out of date; run without --check to rewrite it:\n  {}",
            lines.join("\n  ")
        ));
        return Ok(ExitCode::from(1));
    }
    std::fs::write(&task.out, &text).map_err(|e| format!("cannot write {out}: {e}"))?;
    say(&format!("wrote {out}"));
    Ok(ExitCode::SUCCESS)
}

/// `--flag value` or `--flag=value`: the flag, and the value when it came inline.
fn split_flag(arg: &OsString) -> (String, Option<PathBuf>) {
    let text = arg.to_string_lossy();
    match text.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => {
            (flag.to_string(), Some(PathBuf::from(value)))
        }
        _ => (text.into_owned(), None),
    }
}

/// `audit-sdk --spec <file> --sdk <file> --explained <file>`.
fn audit_sdk(args: impl Iterator<Item = OsString>) -> Result<ExitCode, String> {
    let mut args = args.peekable();
    let (mut spec, mut explained) = (None, None);
    let mut sdks: Vec<PathBuf> = Vec::new();
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        let slot = match flag.as_str() {
            "--spec" => &mut spec,
            "--sdk" => {
                sdks.push(value_of(&flag, inline, &mut args)?);
                continue;
            }
            "--explained" => &mut explained,
            "-h" | "--help" => {
                say(USAGE);
                return Ok(ExitCode::SUCCESS);
            }
            _ => return Err(format!("unexpected argument `{flag}`\n\n{USAGE}")),
        };
        let value = value_of(&flag, inline, &mut args)?;
        if slot.replace(value).is_some() {
            return Err(format!("`{flag}` is given twice"));
        }
    }
    let required = |value: Option<PathBuf>, flag: &str| {
        value.ok_or_else(|| format!("`{flag} <file>` is required\n\n{USAGE}"))
    };
    let (spec, explained) = (
        required(spec, "--spec")?,
        required(explained, "--explained")?,
    );
    if sdks.is_empty() {
        return Err(format!("`--sdk <file>` is required\n\n{USAGE}"));
    }
    let read = |path: &PathBuf| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON: {e}", path.display()))
    };
    let spec = read(&spec)?;
    let explanations = audit::read_explanations(&read(&explained)?)
        .map_err(|e| format!("{}: {e}", explained.display()))?;
    let mut audits = Vec::new();
    for sdk in &sdks {
        let snapshot = read(sdk)?;
        let differences =
            audit::compare(&spec, &snapshot).map_err(|e| format!("{}: {e}", sdk.display()))?;
        let provenance = |key: &str| {
            snapshot
                .pointer(&format!("/provenance/{key}"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        let name = format!(
            "{} {} of {}",
            provenance("package"),
            provenance("version"),
            provenance("registry")
        );
        let found = audit::audit(differences, &explanations);
        audits.push((name, sdk, snapshot, found));
    }
    let found: Vec<&audit::Audit> = audits.iter().map(|(.., found)| found).collect();
    let unused = audit::unused_everywhere(&found);
    let mut passed = unused.is_empty();
    for (name, sdk, _, found) in &mut audits {
        // Unused patterns are judged over every SDK (above).
        found.unused.clear();
        passed &= found.passed();
        let title = format!("{name} ({})", sdk.display());
        say(audit::report(found, &explanations, &title).trim_end());
        say("");
    }
    if !unused.is_empty() {
        say(audit::report_unused(&unused).trim_end());
        say("");
    }
    for pair in audits.windows(2) {
        let [(first, _, a, _), (second, _, b, _)] = pair else {
            continue;
        };
        let disagreements = audit::compare_snapshots(a, b)?;
        say(audit::report_disagreements(first, second, &disagreements).trim_end());
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `sdk-newer [--write] [--root <dir>] [--pypi-newest <v>] [--npm-newest <v>] [--snapshot <f>]`.
fn sdk_newer(args: impl Iterator<Item = OsString>) -> Result<ExitCode, String> {
    let mut args = args.peekable();
    let mut options = newer::Options {
        root: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
        pypi_newest: None,
        npm_newest: None,
        snapshot: None,
        npm_snapshot: None,
        write: false,
    };
    let text = |p: PathBuf| p.to_string_lossy().into_owned();
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        match flag.as_str() {
            "--write" if inline.is_none() => options.write = true,
            "--root" => options.root = value_of(&flag, inline, &mut args)?,
            "--pypi-newest" => {
                options.pypi_newest = Some(text(value_of(&flag, inline, &mut args)?))
            }
            "--npm-newest" => options.npm_newest = Some(text(value_of(&flag, inline, &mut args)?)),
            "--snapshot" => options.snapshot = Some(value_of(&flag, inline, &mut args)?),
            "--npm-snapshot" => options.npm_snapshot = Some(value_of(&flag, inline, &mut args)?),
            "-h" | "--help" => {
                say(USAGE);
                return Ok(ExitCode::SUCCESS);
            }
            _ => return Err(format!("unexpected argument `{flag}`\n\n{USAGE}")),
        }
    }
    newer::run(&options, &mut |line| say(line))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a line; a closed stdout (`| head`) is not worth a panic.
fn say(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}
