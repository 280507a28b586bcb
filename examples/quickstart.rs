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

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use cloudflare_dns_settings::types::{AccountSettingsPatch, SoaPatch, ZoneDefaultsPatch};
use cloudflare_dns_settings::{Client, Error};
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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
    let has_credentials = [
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_EMAIL",
        "CLOUDFLARE_API_KEY",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    if has_credentials {
        live(ns_ttl).await
    } else {
        demo().await
    }
}

/// Against the API named by the environment.
async fn live(ns_ttl: Option<i64>) -> Result<(), Error> {
    let client = Client::from_env()?;
    let account_id = std::env::var("CLOUDFLARE_ACCOUNT_ID").map_err(|_| Error::InvalidInput {
        field: "CLOUDFLARE_ACCOUNT_ID".into(),
        problem: "is not set; it names the account whose settings to read".into(),
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
    let server = MockCloudflare::start().await;
    let client = Client::builder()
        .api_token("demo-token")
        .base_url(server.uri())
        .build()?;
    let account_id = "023e105f4ecef8ad9ca31a8372d0c353";

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
    println!(
        "ns_ttl {} -> {}, SOA refresh {} -> {}",
        before.zone_defaults.ns_ttl,
        after.zone_defaults.ns_ttl,
        before.zone_defaults.soa.refresh,
        after.zone_defaults.soa.refresh
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
                return Err(Error::InvalidInput {
                    field: arg,
                    problem: "is not an option; usage: quickstart [--ns-ttl SECONDS]".into(),
                });
            }
        };
        let value = value.unwrap_or_default();
        ns_ttl = Some(value.parse().map_err(|_| Error::InvalidInput {
            field: "--ns-ttl".into(),
            problem: format!("{value:?} is not a whole number of seconds"),
        })?);
    }
    Ok(ns_ttl)
}

fn print_json(title: &str, value: &impl serde::Serialize) {
    // Printed from the typed value: unknown fields and enum values are kept, not dropped.
    println!(
        "{title}:\n{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// The error on stderr: one line, then the status, Cloudflare's codes and messages, the cf-ray.
fn report(error: &Error) {
    eprintln!("error: {error}");
    if let Some(status) = error.status() {
        eprintln!("  HTTP status: {status}");
    }
    if let Error::Api {
        errors, messages, ..
    } = error
    {
        for e in errors {
            eprintln!("  error {}: {}", e.code, e.message);
        }
        for m in messages {
            eprintln!("  message {}: {}", m.code, m.message);
        }
    }
    if let Some(ray) = error.ray_id() {
        eprintln!("  cf-ray: {ray}");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
}

/// A small stateful stand-in for Cloudflare's account DNS settings endpoint.
struct MockCloudflare {
    settings: Arc<Mutex<Value>>,
}

impl MockCloudflare {
    async fn start() -> MockServer {
        let server = MockServer::start().await;
        let settings = Arc::new(Mutex::new(json!({
            "zone_defaults": {
                "flatten_all_cnames": false,
                "foundation_dns": false,
                "internal_dns": {},
                "multi_provider": false,
                "nameservers": { "type": "cloudflare.standard" },
                "ns_ttl": 86400,
                "secondary_overrides": false,
                "soa": {
                    "expire": 604800, "min_ttl": 1800, "mname": null, "refresh": 10000,
                    "retry": 2400, "rname": "dns.cloudflare.com", "ttl": 3600
                },
                "zone_mode": "standard"
            },
            "enforce_dns_only": false
        })));
        Mock::given(path_regex(r"^/accounts/[0-9a-f]{32}/dns_settings$"))
            .and(method("GET"))
            .respond_with(MockCloudflare {
                settings: settings.clone(),
            })
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/accounts/[0-9a-f]{32}/dns_settings$"))
            .and(method("PATCH"))
            .respond_with(MockCloudflare { settings })
            .mount(&server)
            .await;
        server
    }
}

impl Respond for MockCloudflare {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(mut settings) = self.settings.lock() else {
            return ResponseTemplate::new(500);
        };
        if request.method.as_str() == "PATCH" {
            match serde_json::from_slice::<Value>(&request.body) {
                Ok(patch) => merge(&mut settings, &patch),
                Err(_) => {
                    let body = json!({"success": false, "errors": [{"code": 1001, "message": "Invalid JSON"}], "messages": [], "result": null});
                    return ResponseTemplate::new(400).set_body_json(body);
                }
            }
        }
        let body = json!({"success": true, "errors": [], "messages": [], "result": *settings});
        ResponseTemplate::new(200)
            .insert_header("cf-ray", "0000000000000000-LOOPBACK")
            .set_body_json(body)
    }
}

/// JSON merge patch: objects merge key by key, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}
