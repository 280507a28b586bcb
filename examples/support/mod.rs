//! Shared by the examples: an embedded, stateful mock of Cloudflare's DNS settings endpoints on
//! loopback (used when no credentials are set), and how an error is reported.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use cloudflare_dns_settings::Error;
use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const DEMO_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const DEMO_ZONE: &str = "372e67954025e0ba6aaa6d586b9e0b59";

/// Whether the environment holds Cloudflare credentials.
pub fn has_credentials() -> bool {
    [
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_EMAIL",
        "CLOUDFLARE_API_KEY",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()))
}

/// Starts the mock: account and zone settings that a GET reads and a PATCH merges into, with
/// Cloudflare's envelope and a `cf-ray` header.
pub async fn mock_cloudflare() -> MockServer {
    let server = MockServer::start().await;
    let account = json!({
        "zone_defaults": {
            "flatten_all_cnames": false, "foundation_dns": false, "internal_dns": {},
            "multi_provider": false, "nameservers": { "type": "cloudflare.standard" },
            "ns_ttl": 86400, "secondary_overrides": false,
            "soa": { "expire": 604800, "min_ttl": 1800, "mname": null, "refresh": 10000,
                     "retry": 2400, "rname": "dns.cloudflare.com", "ttl": 3600 },
            "zone_mode": "standard"
        },
        "enforce_dns_only": false
    });
    let zone = json!({
        "flatten_all_cnames": false, "foundation_dns": false, "internal_dns": {},
        "multi_provider": false, "nameservers": { "type": "cloudflare.standard" },
        "ns_ttl": 86400, "secondary_overrides": false,
        "soa": { "expire": 604800, "min_ttl": 1800, "mname": "kristina.ns.cloudflare.com",
                 "refresh": 10000, "retry": 2400, "rname": "admin.example.com", "ttl": 3600 },
        "zone_mode": "standard"
    });
    for (route, settings) in [
        (r"^/accounts/[0-9a-f]{32}/dns_settings$", account),
        (r"^/zones/[0-9a-f]{32}/dns_settings$", zone),
    ] {
        let settings = Arc::new(Mutex::new(settings));
        for verb in ["GET", "PATCH"] {
            Mock::given(path_regex(route))
                .and(method(verb))
                .respond_with(Settings(settings.clone()))
                .mount(&server)
                .await;
        }
    }
    server
}

/// One settings object: a GET returns it, a PATCH merges into it (objects key by key, the
/// nameservers kind whole) and returns it.
struct Settings(Arc<Mutex<Value>>);

impl Respond for Settings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(mut settings) = self.0.lock() else {
            return ResponseTemplate::new(500);
        };
        if request.method.as_str() == "PATCH" {
            match serde_json::from_slice::<Value>(&request.body) {
                Ok(patch) if patch.as_object().is_some_and(|p| !p.is_empty()) => {
                    merge(&mut settings, &patch)
                }
                _ => {
                    let body = json!({"success": false, "errors": [{"code": 1001, "message": "invalid json request"}], "messages": [], "result": null});
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

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if k == "nameservers" {
                    t.insert(k.clone(), v.clone());
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// The error on stderr: one line, then the status, Cloudflare's codes and messages, the cf-ray.
pub fn report(error: &Error) {
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

/// A typed value as pretty JSON (unknown fields and enum values included, as received).
pub fn print_json(title: &str, value: &impl serde::Serialize) {
    println!(
        "{title}:\n{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}
