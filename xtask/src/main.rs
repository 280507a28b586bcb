//! Maintenance tasks of this repository, run as `cargo run -p xtask -- <task> …`.
//!
//! `refresh-spec` rebuilds `spec/dns_settings.json` from upstream's whole OpenAPI document: the
//! operations listed in `spec/operations.txt`, exactly the components they reference, then the
//! crate's own additions from `spec/overlay.json` (see `spec/README.md`).
//!
//! Exit codes: 0 done (or, with `--check`, up to date); 1 `--check` found a difference; 2 an
//! error, reported on stderr with the file it concerns.

mod json;
mod refresh;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo run -p xtask -- refresh-spec --upstream <openapi.json> --operations <operations.txt>
                                  [--overlay <overlay.json>] --out <fragment.json> [--check]

  --upstream     upstream's whole OpenAPI 3.0.x document (cloudflare/api-schemas openapi.json)
  --operations   the operationIds to keep, one a line (`#` comments, blank lines allowed)
  --overlay      an RFC 7386 JSON Merge Patch applied after the extraction
  --out          where to write the fragment (left untouched when already up to date)
  --check        write nothing; exit 1 with a summary if --out differs from the new output

example:
  cargo run -p xtask -- refresh-spec --upstream openapi.json --operations spec/operations.txt \\
      --overlay spec/overlay.json --out spec/dns_settings.json";

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
    upstream: PathBuf,
    operations: PathBuf,
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
    let (mut upstream, mut operations, mut overlay, mut out, mut check) =
        (None, None, None, None, false);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        // `--flag value` or `--flag=value`.
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(PathBuf::from(value)))
            }
            _ => (text.clone(), None),
        };
        let slot = match flag.as_str() {
            "--upstream" => &mut upstream,
            "--operations" => &mut operations,
            "--overlay" => &mut overlay,
            "--out" => &mut out,
            "--check" if inline.is_none() => {
                check = true;
                continue;
            }
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unexpected argument `{text}`\n\n{USAGE}")),
        };
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("`{flag}` needs a file name\n\n{USAGE}"))?,
        };
        if slot.replace(value).is_some() {
            return Err(format!("`{flag}` is given twice"));
        }
    }
    let required = |value: Option<PathBuf>, flag: &str| {
        value.ok_or_else(|| format!("`{flag} <file>` is required\n\n{USAGE}"))
    };
    Ok(Some(RefreshSpec {
        upstream: required(upstream, "--upstream")?,
        operations: required(operations, "--operations")?,
        overlay,
        out: required(out, "--out")?,
        check,
    }))
}

fn refresh_spec(task: RefreshSpec) -> Result<ExitCode, String> {
    let refreshed = refresh::refresh(&refresh::Inputs {
        upstream: &task.upstream,
        operations: &task.operations,
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

/// Prints a line; a closed stdout (`| head`) is not worth a panic.
fn say(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}
