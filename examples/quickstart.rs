//! Reads (and optionally edits) an account's DNS settings.
//!
//! With no credentials in the environment it starts an embedded mock Cloudflare on loopback and
//! walks through a read, an edit of `ns_ttl` and the SOA, and a read back.
//!
//! With `CLOUDFLARE_API_TOKEN` (or `CLOUDFLARE_EMAIL` + `CLOUDFLARE_API_KEY`) and
//! `CLOUDFLARE_ACCOUNT_ID`, it reads that account's settings from `CLOUDFLARE_BASE_URL` (default:
//! the real API) and prints them as JSON; `--ns-ttl N` also sets `zone_defaults.ns_ttl` to N,
//! sending that one field and nothing else.
//!
//! ```text
//! cargo run --example quickstart
//! CLOUDFLARE_API_TOKEN=… CLOUDFLARE_ACCOUNT_ID=… cargo run --example quickstart -- --ns-ttl 3600
//! ```

mod support;

use std::process::ExitCode;

use cloudflare_dns_settings::types::{AccountSettingsPatch, Soa, SoaPatch, ZoneDefaultsPatch};
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use support::{DEMO_ACCOUNT, has_credentials, mock_cloudflare, print_json, report};

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
    let ns_ttl = parse_ns_ttl()?;
    if has_credentials() {
        live(ns_ttl).await
    } else {
        demo().await
    }
}

/// Against the API named by the environment.
async fn live(ns_ttl: Option<i64>) -> Result<(), Error> {
    let client = Client::from_env()?;
    let account_id = std::env::var("CLOUDFLARE_ACCOUNT_ID").map_err(|_| {
        Error::from(ErrorKind::InvalidInput {
            field: "CLOUDFLARE_ACCOUNT_ID".into(),
            problem: "is not set; it names the account whose settings to read".into(),
        })
    })?;
    let settings = client.account_get().account_id(&account_id).send().await?;
    print_json("Account DNS settings", &settings);
    if let Some(ns_ttl) = ns_ttl {
        let patch = AccountSettingsPatch {
            zone_defaults: Some(ZoneDefaultsPatch {
                ns_ttl: Some(ns_ttl),
                ..Default::default()
            }),
            ..Default::default()
        };
        let updated = client
            .account_edit()
            .account_id(&account_id)
            .body(patch)
            .send()
            .await?;
        print_json(
            &format!("After setting zone_defaults.ns_ttl to {ns_ttl}"),
            &updated,
        );
    }
    Ok(())
}

/// Against an embedded mock Cloudflare on loopback.
async fn demo() -> Result<(), Error> {
    println!("No credentials in the environment: using an embedded mock Cloudflare on loopback.");
    let server = mock_cloudflare()
        .await
        .map_err(|e| Error::from(ErrorKind::Config(format!("cannot start the mock: {e}"))))?;
    let client = Client::builder()
        .api_token("demo-token")
        .base_url(&server)
        .build()?;
    let account_id = DEMO_ACCOUNT;

    let before = client.account_get().account_id(account_id).send().await?;
    print_json("1. Read the account's DNS settings", &before);

    let patch = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(3600),
            soa: Some(SoaPatch {
                refresh: Some(7200),
                retry: Some(1800),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    println!(
        "2. Edit ns_ttl and the SOA, sending exactly: {}",
        serde_json::to_string(&patch).unwrap_or_default()
    );
    let edited = client
        .account_edit()
        .account_id(account_id)
        .body(patch)
        .send()
        .await?;
    print_json("   Cloudflare answered", &edited);

    let after = client.account_get().account_id(account_id).send().await?;
    print_json("3. Read them back", &after);
    // Every SOA field is optional in a response (upstream's SDKs type them so).
    let refresh = |soa: &Soa| {
        soa.refresh
            .map_or_else(|| "unset".to_string(), |r| r.to_string())
    };
    println!(
        "ns_ttl {} -> {}, SOA refresh {} -> {}",
        before.zone_defaults.ns_ttl,
        after.zone_defaults.ns_ttl,
        refresh(&before.zone_defaults.soa),
        refresh(&after.zone_defaults.soa)
    );
    Ok(())
}

fn parse_ns_ttl() -> Result<Option<i64>, Error> {
    let mut args = std::env::args().skip(1);
    let mut ns_ttl = None;
    while let Some(arg) = args.next() {
        let value = match arg.split_once('=') {
            Some(("--ns-ttl", v)) => Some(v.to_string()),
            None if arg == "--ns-ttl" => args.next(),
            _ => {
                return Err(ErrorKind::InvalidInput {
                    field: arg,
                    problem: "is not an option; usage: quickstart [--ns-ttl SECONDS]".into(),
                }
                .into());
            }
        };
        let value = value.unwrap_or_default();
        ns_ttl = Some(value.parse().map_err(|_| {
            Error::from(ErrorKind::InvalidInput {
                field: "--ns-ttl".into(),
                problem: format!("{value:?} is not a whole number of seconds"),
            })
        })?);
    }
    Ok(ns_ttl)
}
