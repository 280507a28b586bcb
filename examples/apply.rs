//! Desired state: makes an account's or a zone's DNS settings look like a JSON file says.
//!
//! Reads the file (every field optional, as in a PATCH; an unknown field or a value out of the
//! spec's bounds is refused with its path before any request), reads the current settings,
//! prints the plan as a diff (field: current → desired) and sends the smallest PATCH only with
//! `--yes`. With no credentials in the environment it runs against an embedded mock Cloudflare.
//!
//! ```text
//! cargo run --example apply -- account examples/desired-account.json          # plan only
//! cargo run --example apply -- account examples/desired-account.json --yes    # and apply
//! cargo run --example apply -- zone examples/desired-zone.json --yes
//! CLOUDFLARE_API_TOKEN=… CLOUDFLARE_ACCOUNT_ID=… cargo run --example apply -- account my.json
//! ```
//! (`zone` reads `CLOUDFLARE_ZONE_ID` with credentials.)

mod support;

use std::process::ExitCode;

use cloudflare_dns_settings::plan::{ApplyReport, Desired, desired_from_json};
use cloudflare_dns_settings::types::{AccountSettingsPatch, DnsSettingsZonePatch};
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use support::{DEMO_ACCOUNT, DEMO_ZONE, has_credentials, mock_cloudflare, report};

const USAGE: &str = "usage: apply (account|zone) DESIRED.json [--yes]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let yes = args.iter().any(|a| a == "--yes");
    let positional: Vec<&String> = args.iter().filter(|a| *a != "--yes").collect();
    let [what, file] = positional[..] else {
        return Err(usage("arguments", "expected what to apply and a file"));
    };
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::from(ErrorKind::InvalidInput {
            field: file.clone(),
            problem: format!("cannot be read: {e}"),
        })
    })?;

    let (client, account, zone) = if has_credentials() {
        let id = |name: &str| std::env::var(name).unwrap_or_default();
        (
            Client::from_env()?,
            id("CLOUDFLARE_ACCOUNT_ID"),
            id("CLOUDFLARE_ZONE_ID"),
        )
    } else {
        println!(
            "No credentials in the environment: using an embedded mock Cloudflare on loopback."
        );
        let server = mock_cloudflare()
            .await
            .map_err(|e| Error::from(ErrorKind::Config(format!("cannot start the mock: {e}"))))?;
        let client = Client::builder()
            .api_token("demo-token")
            .base_url(server)
            .build()?;
        (client, DEMO_ACCOUNT.to_string(), DEMO_ZONE.to_string())
    };
    match what.as_str() {
        "account" => {
            let desired: AccountSettingsPatch = desired_from_json(&text)?;
            show(client.account_apply(&account, &desired, !yes).await?, yes);
        }
        "zone" => {
            let desired: DnsSettingsZonePatch = desired_from_json(&text)?;
            show(client.zone_apply(&zone, &desired, !yes).await?, yes);
        }
        other => return Err(usage(other, "is neither `account` nor `zone`")),
    }
    Ok(())
}

fn show<D: Desired>(applied: ApplyReport<D>, yes: bool) {
    if applied.plan.changes.is_empty() {
        println!("Nothing to change: the settings already look like that. Nothing was sent.");
        return;
    }
    println!("Plan ({} change(s)):", applied.plan.changes.len());
    for change in &applied.plan.changes {
        println!("  {change}");
    }
    match (&applied.plan.patch, yes) {
        (Some(patch), true) => println!(
            "Applied: sent {}",
            serde_json::to_string(patch).unwrap_or_default()
        ),
        (Some(patch), false) => println!(
            "Dry run: would send {}\nRun again with --yes to apply.",
            serde_json::to_string(patch).unwrap_or_default()
        ),
        (None, _) => {}
    }
    for field in &applied.unconverged {
        println!("  not as desired after the PATCH: {field}");
    }
}

fn usage(field: &str, problem: &str) -> Error {
    ErrorKind::InvalidInput {
        field: field.to_string(),
        problem: format!("{problem}; {USAGE}"),
    }
    .into()
}
