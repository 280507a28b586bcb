//! Shared by the examples: an embedded, stateful mock of Cloudflare's DNS settings endpoints on
//! loopback (used when no credentials are set), and how an error is reported.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use cloudflare_dns_settings::{Error, ErrorKind};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

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

/// The mock's state: account and zone settings that a GET reads and a PATCH merges into.
#[derive(Clone)]
struct Settings {
    account: Arc<Mutex<Value>>,
    zone: Arc<Mutex<Value>>,
}

/// Starts the mock on a loopback port and returns its base URL. It answers with Cloudflare's
/// envelope and a `cf-ray` header, and lives as long as the program.
pub async fn mock_cloudflare() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let settings = Settings {
        account: Arc::new(Mutex::new(json!({
            "zone_defaults": {
                "flatten_all_cnames": false, "foundation_dns": false, "internal_dns": {},
                "multi_provider": false, "nameservers": { "type": "cloudflare.standard" },
                "ns_ttl": 86400, "secondary_overrides": false,
                "soa": { "expire": 604800, "min_ttl": 1800, "mname": null, "refresh": 10000,
                         "retry": 2400, "rname": "dns.cloudflare.com", "ttl": 3600 },
                "zone_mode": "standard"
            },
            "enforce_dns_only": false
        }))),
        zone: Arc::new(Mutex::new(json!({
            "flatten_all_cnames": false, "foundation_dns": false, "internal_dns": {},
            "multi_provider": false, "nameservers": { "type": "cloudflare.standard" },
            "ns_ttl": 86400, "secondary_overrides": false,
            "soa": { "expire": 604800, "min_ttl": 1800, "mname": "kristina.ns.cloudflare.com",
                     "refresh": 10000, "retry": 2400, "rname": "admin.example.com", "ttl": 3600 },
            "zone_mode": "standard"
        }))),
    };
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let settings = settings.clone();
            let service =
                hyper::service::service_fn(move |request| answer(request, settings.clone()));
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    Ok(url)
}

async fn answer(
    request: Request<Incoming>,
    settings: Settings,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let id = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("/dns_settings"))
            .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let state = if id("/accounts/") {
        settings.account
    } else if id("/zones/") {
        settings.zone
    } else {
        return Ok(envelope(
            404,
            json!({"code": 7003, "message": "No route for the URI"}),
            Value::Null,
        ));
    };
    let Ok(mut state) = state.lock() else {
        return Ok(envelope(
            500,
            json!({"code": 10001, "message": "mock state poisoned"}),
            Value::Null,
        ));
    };
    match method.as_str() {
        "GET" => {}
        "PATCH" => match serde_json::from_slice::<Value>(&body) {
            Ok(patch) if patch.as_object().is_some_and(|p| !p.is_empty()) => {
                merge(&mut state, &patch)
            }
            _ => {
                return Ok(envelope(
                    400,
                    json!({"code": 1001, "message": "invalid json request"}),
                    Value::Null,
                ));
            }
        },
        _ => {
            return Ok(envelope(
                405,
                json!({"code": 10405, "message": "Method not allowed"}),
                Value::Null,
            ));
        }
    }
    Ok(envelope(200, Value::Null, state.clone()))
}

fn envelope(status: u16, error: Value, result: Value) -> Response<Full<Bytes>> {
    let errors = if error.is_null() {
        json!([])
    } else {
        json!([error])
    };
    let body =
        json!({"success": status == 200, "errors": errors, "messages": [], "result": result});
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "cf-ray",
        hyper::header::HeaderValue::from_static("0000000000000000-LOOPBACK"),
    );
    response
}

/// Objects merge key by key, except the nameservers kind, which is replaced whole; anything else
/// replaces.
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
    if let ErrorKind::Api { messages, .. } = error.kind() {
        for e in error.errors() {
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
