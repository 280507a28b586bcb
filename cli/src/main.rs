//! `cf-dns-settings`: plan and apply one desired DNS-settings state across every zone of a
//! Cloudflare account (or a name filter, or explicit zones), paced within the account's
//! rate-limit budget, resumable through a journal; and the single-target commands `account` and
//! `zone ID`. See the README, "Fleet".
#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use cloudflare_dns_settings::fleet::{Fleet, Journal, Outcome, Report, Targets};
use cloudflare_dns_settings::plan::{ApplyReport, Desired, desired_from_json};
use cloudflare_dns_settings::types::{AccountSettingsPatch, DnsSettingsZonePatch};
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use cloudflare_dns_settings_cli::mock;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "cf-dns-settings",
    version,
    about = "Plan and apply Cloudflare DNS settings across zones"
)]
struct Cli {
    /// `text` for people, `json` for JSON Lines on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    output: Output,
    /// Run against an embedded mock account (300 zones, its rate limit scaled to seconds)
    /// instead of Cloudflare; no credentials needed, nothing real is touched.
    #[arg(long, global = true)]
    demo: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Every zone of a selection at one desired state.
    Zones {
        #[command(subcommand)]
        action: ZonesAction,
    },
    /// The account's DNS settings (defaults for new zones) at a desired state.
    Account {
        /// The desired state: a JSON PATCH body of the account's DNS settings.
        #[arg(long)]
        desired: PathBuf,
        /// The account (else CLOUDFLARE_ACCOUNT_ID).
        #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
        account_id: Option<String>,
        /// Apply; without it, only a plan.
        #[arg(long)]
        yes: bool,
    },
    /// One zone's DNS settings at a desired state.
    Zone {
        /// The zone's id.
        id: String,
        /// The desired state: a JSON PATCH body of a zone's DNS settings.
        #[arg(long)]
        desired: PathBuf,
        /// Apply; without it, only a plan.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum ZonesAction {
    /// Show what would change in each zone; send nothing.
    Plan(Selection),
    /// Change each zone (only with --yes; without it, a plan).
    Apply {
        #[command(flatten)]
        selection: Selection,
        /// Really apply.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(clap::Args)]
struct Selection {
    /// The desired state: a JSON PATCH body of a zone's DNS settings.
    #[arg(long)]
    desired: PathBuf,
    /// The account whose zones (else CLOUDFLARE_ACCOUNT_ID).
    #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Cloudflare's name filter (`example.com`, `contains:shop`, `ends_with:.org`, …).
    #[arg(long)]
    name: Option<String>,
    /// These zones only (repeat), instead of the account's list.
    #[arg(long = "zone")]
    zones: Vec<String>,
    /// Zones in flight at once.
    #[arg(long, default_value_t = cloudflare_dns_settings::fleet::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Append every finished zone to this file; run again with it to skip them.
    #[arg(long)]
    journal: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The client: the embedded mock with `--demo`, else from the environment.
async fn client(demo: bool) -> Result<(Client, Option<String>), Error> {
    if demo {
        let account = mock::demo_account();
        let zones = account.zones.len();
        let limit = account.limit;
        let server = mock::start(account).await.map_err(|e| {
            Error::from(ErrorKind::Config(format!(
                "cannot start the demo's mock account: {e}"
            )))
        })?;
        eprintln!(
            "demo: against an embedded mock Cloudflare account ({zones} zones, rate limit \
             scaled to {} requests per {:?}) at {}; nothing real is touched",
            limit.requests, limit.window, server.url
        );
        let client = Client::builder()
            .api_token(mock::DEMO_TOKEN)
            .base_url(server.url)
            .rate_limit(limit.requests as u32, limit.window)
            .build()?;
        return Ok((client, Some(mock::DEMO_ACCOUNT.to_string())));
    }
    match Client::from_env() {
        Ok(client) => Ok((client, None)),
        Err(e) => match e.kind() {
            ErrorKind::Config(problem) => Err(ErrorKind::Config(format!(
                "{problem} (CLOUDFLARE_BASE_URL changes the API's address, \
                 CLOUDFLARE_RATE_LIMIT_REDIS_URL shares a rate-limit budget); or run with --demo"
            ))
            .into()),
            _ => Err(e),
        },
    }
}

fn read_desired<D: Desired>(path: &PathBuf) -> Result<D, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::from(ErrorKind::InvalidInput {
            field: "desired".into(),
            problem: format!("cannot read {}: {e}", path.display()),
        })
    })?;
    let desired: D = desired_from_json(&text)?;
    desired.check()?;
    Ok(desired)
}

async fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Zones { action } => {
            let (selection, apply) = match action {
                ZonesAction::Plan(selection) => (selection, false),
                ZonesAction::Apply { selection, yes } => {
                    if !yes {
                        eprintln!("apply without --yes: this is a plan; nothing will be sent");
                    }
                    (selection, yes)
                }
            };
            zones(selection, apply, cli.demo, cli.output).await
        }
        Command::Account {
            desired,
            account_id,
            yes,
        } => {
            let desired: AccountSettingsPatch = read_desired(&desired)?;
            let (client, demo_account) = client(cli.demo).await?;
            let account = demo_account.or(account_id).ok_or_else(no_account)?;
            let applied = client.account_apply(&account, &desired, !yes).await;
            single(&account, applied, !yes, cli.output)
        }
        Command::Zone { id, desired, yes } => {
            let desired: DnsSettingsZonePatch = read_desired(&desired)?;
            let (client, _) = client(cli.demo).await?;
            let applied = client.zone_apply(&id, &desired, !yes).await;
            single(&id, applied, !yes, cli.output)
        }
    }
}

fn no_account() -> Error {
    ErrorKind::InvalidInput {
        field: "account_id".into(),
        problem: "no account: pass --account-id or set CLOUDFLARE_ACCOUNT_ID".into(),
    }
    .into()
}

/// One target (`account`, `zone ID`): its plan, and whether it was applied.
fn single<D: Desired>(
    id: &str,
    applied: Result<ApplyReport<D>, Error>,
    dry_run: bool,
    output: Output,
) -> Result<u8, Error> {
    let applied = applied?;
    let outcome = match (applied.plan.patch.is_some(), dry_run) {
        (false, _) => Outcome::Unchanged,
        (true, true) => Outcome::Planned,
        (true, false) if applied.unconverged.is_empty() => Outcome::Changed,
        (true, false) => Outcome::Unconverged,
    };
    if output == Output::Json {
        let changes: Vec<Value> = applied
            .plan
            .changes
            .iter()
            .map(|c| json!({"path": c.path, "current": c.current, "desired": c.desired}))
            .collect();
        let kept: Vec<Value> = applied
            .unconverged
            .iter()
            .map(|u| json!({"path": u.path, "desired": u.desired, "kept": u.kept}))
            .collect();
        println!(
            "{}",
            json!({"id": id, "outcome": outcome, "changes": changes, "unconverged": kept})
        );
    } else {
        if applied.plan.changes.is_empty() {
            println!("{id}: nothing to change; nothing was sent");
        }
        for change in &applied.plan.changes {
            println!("{id}: {change}");
        }
        for field in &applied.unconverged {
            println!("{id}: not as desired after the PATCH: {field}");
        }
        match outcome {
            Outcome::Planned => println!("plan only: run again with --yes to apply"),
            Outcome::Changed => println!("applied"),
            _ => {}
        }
    }
    Ok(exit_code(
        outcome == Outcome::Planned,
        outcome == Outcome::Unconverged,
    ))
}

/// 0 converged or nothing to do; 2 a plan has changes; 1 anything failed or did not converge.
fn exit_code(planned: bool, failed: bool) -> u8 {
    if failed {
        1
    } else if planned {
        2
    } else {
        0
    }
}

#[derive(Default)]
struct Counts {
    unchanged: u64,
    planned: u64,
    changed: u64,
    unconverged: u64,
    failed: u64,
    from_journal: u64,
    calls: u64,
}

async fn zones(selection: Selection, apply: bool, demo: bool, output: Output) -> Result<u8, Error> {
    let started = Instant::now();
    // Refused before any request: a field the PATCH does not have, or a value of the wrong type.
    let desired: DnsSettingsZonePatch = read_desired(&selection.desired)?;
    if selection.concurrency == 0 {
        return Err(ErrorKind::InvalidInput {
            field: "concurrency".into(),
            problem: "must be at least 1".into(),
        }
        .into());
    }
    let (client, demo_account) = client(demo).await?;
    let account = demo_account.or(selection.account_id.clone());
    if selection.zones.is_empty() && account.is_none() {
        return Err(no_account());
    }
    let mut fleet = Fleet::new()
        .concurrency(selection.concurrency)
        .dry_run(!apply);
    if let Some(path) = &selection.journal {
        let run = json!({
            "desired": desired,
            "mode": if apply { "apply" } else { "plan" },
            "account": account,
            "name": selection.name,
            "zones": selection.zones,
        });
        fleet = fleet.journal(Journal::open(path, &run)?);
    }

    let pages = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(selection.zones.len() as u64));
    let targets = if selection.zones.is_empty() {
        let (client, pages, total) = (client.clone(), pages.clone(), total.clone());
        let (account, name) = (account.unwrap_or_default(), selection.name.clone());
        Targets::List(move |page: i64| {
            let (client, pages, total) = (client.clone(), pages.clone(), total.clone());
            let (account, name) = (account.clone(), name.clone());
            async move {
                let mut list = client
                    .zones_list()
                    .account_id(account)
                    .page(page)
                    .per_page(50);
                if let Some(name) = name {
                    list = list.name(name);
                }
                let result = list.send().await;
                pages.fetch_add(1, Ordering::Relaxed);
                if let Ok(page) = &result
                    && let Some(count) = page.result_info.as_ref().and_then(|i| i.total_count)
                {
                    total.store(count, Ordering::Relaxed);
                }
                result
            }
        })
    } else {
        Targets::Ids(selection.zones.clone())
    };
    let apply_one = {
        let client = client.clone();
        move |id: String, dry_run: bool| {
            let (client, desired) = (client.clone(), desired.clone());
            async move { client.zone_apply(&id, &desired, dry_run).await }
        }
    };

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} zones, {msg} [{elapsed_precise}, ETA {eta}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut counts = Counts::default();
    let mut shown = Vec::new();
    let mut stopped = None;
    let stream = fleet.run(targets, apply_one);
    futures_util::pin_mut!(stream);
    while let Some(next) = stream.next().await {
        let report = match next {
            Ok(report) => report,
            Err(e) => {
                stopped = Some(e);
                break;
            }
        };
        count(&mut counts, &report);
        if let Some(bar) = &bar {
            bar.set_length(total.load(Ordering::Relaxed).max(bar.position() + 1));
            bar.inc(1);
            bar.set_message(format!(
                "{} changed, {} failed",
                counts.changed,
                counts.failed + counts.unconverged
            ));
        }
        match output {
            Output::Json => println!("{}", zone_line(&report)),
            Output::Text if report.outcome != Outcome::Unchanged => shown.push(report),
            Output::Text => {}
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let requests = counts.calls + pages.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    match output {
        Output::Json => println!("{}", summary(&counts, requests, elapsed, stopped.as_ref())),
        Output::Text => text_summary(&shown, &counts, requests, elapsed),
    }
    if let Some(e) = stopped {
        return Err(e);
    }
    Ok(exit_code(
        counts.planned > 0,
        counts.failed + counts.unconverged > 0,
    ))
}

fn count(counts: &mut Counts, report: &Report) {
    match report.outcome {
        Outcome::Unchanged => counts.unchanged += 1,
        Outcome::Planned => counts.planned += 1,
        Outcome::Changed => counts.changed += 1,
        Outcome::Unconverged => counts.unconverged += 1,
        Outcome::Failed => counts.failed += 1,
    }
    counts.from_journal += u64::from(report.from_journal);
    counts.calls += u64::from(report.calls);
}

fn zone_line(report: &Report) -> Value {
    json!({
        "zone_id": report.id,
        "zone_name": report.name,
        "outcome": report.outcome,
        "changes": report.changes,
        "unconverged": report.unconverged,
        "error": report.failure.as_ref().map(|f| &f.message),
        "from_journal": report.from_journal,
    })
}

fn summary(counts: &Counts, requests: u64, elapsed: Duration, stopped: Option<&Error>) -> Value {
    json!({"summary": {
        "zones": counts.unchanged + counts.planned + counts.changed + counts.unconverged + counts.failed,
        "unchanged": counts.unchanged,
        "planned": counts.planned,
        "changed": counts.changed,
        "unconverged": counts.unconverged,
        "failed": counts.failed,
        "from_journal": counts.from_journal,
        "requests": requests,
        "elapsed_seconds": elapsed.as_secs_f64(),
        "stopped": stopped.map(ToString::to_string),
    }})
}

fn text_summary(shown: &[Report], counts: &Counts, requests: u64, elapsed: Duration) {
    for report in shown {
        let name = report.name.as_deref().unwrap_or("");
        let journal = if report.from_journal {
            " (from the journal)"
        } else {
            ""
        };
        println!("{} {name} {:?}{journal}", report.id, report.outcome);
        for change in &report.changes {
            println!(
                "    {}: {} → {}",
                change.path, change.current, change.desired
            );
        }
        for kept in &report.unconverged {
            println!(
                "    not as desired after the PATCH: {}: desired {}, the API kept {}",
                kept.path, kept.desired, kept.kept
            );
        }
        if let Some(failure) = &report.failure {
            println!("    failed: {}", failure.message);
        }
    }
    println!();
    println!("{:<12} {:>8}", "outcome", "zones");
    for (name, n) in [
        ("unchanged", counts.unchanged),
        ("planned", counts.planned),
        ("changed", counts.changed),
        ("unconverged", counts.unconverged),
        ("failed", counts.failed),
    ] {
        println!("{name:<12} {n:>8}");
    }
    println!(
        "{} from the journal; {requests} requests in {:.1} s",
        counts.from_journal,
        elapsed.as_secs_f64()
    );
}
