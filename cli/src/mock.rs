//! A loopback model of one Cloudflare account, for `--demo` and for the tests: its zones listed
//! in pages of at most 50 (`GET /zones`), each zone's DNS settings read and PATCHed as
//! Cloudflare does (objects merged, the `nameservers` union replaced whole), the account's
//! settings, and Cloudflare's rate-limit rule: a sliding window of `requests` per `window`, and a
//! 429 (code 971) that locks every call out for `lockout`.
//!
//! Zones can misbehave as real ones do: reject a field (400, code 1011, as an account PATCH of
//! `flatten_all_cnames` is), silently keep a field (answer 200 with the old value), or answer a
//! PATCH 503 once (not applied). It counts what a test checks: requests, 429s, PATCHes per zone,
//! empty PATCHes, and pages served.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

/// The token the mock accepts (`Authorization: Bearer …`).
pub const DEMO_TOKEN: &str = "demo-token";
/// The mock's account id.
pub const DEMO_ACCOUNT: &str = "0123456789abcdef0123456789abcdef";

/// One zone of the model.
#[derive(Clone, Debug)]
pub struct Zone {
    /// 32 hex characters.
    pub id: String,
    /// Its domain name.
    pub name: String,
    /// Its DNS settings (the `result` of `GET /zones/{id}/dns_settings`).
    pub settings: Value,
    /// A top-level settings field this zone refuses in a PATCH (400, code 1011).
    pub rejects: Option<String>,
    /// A dotted settings path this zone silently keeps: the PATCH is answered 200, unchanged.
    pub ignores: Option<String>,
    /// The first PATCH is answered 503 (and not applied).
    pub unavailable_once: bool,
}

/// Cloudflare's rate-limit rule, scaled as a test or the demo wants.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Requests allowed within any `window`.
    pub requests: usize,
    /// The sliding window.
    pub window: Duration,
    /// How long every call is refused after a 429.
    pub lockout: Duration,
}

impl Limit {
    /// Cloudflare's own: 1,200 requests per 5 minutes, 5 minutes locked out after a 429.
    pub const CLOUDFLARE: Limit = Limit {
        requests: 1200,
        window: Duration::from_secs(300),
        lockout: Duration::from_secs(300),
    };
}

/// The account the model serves.
#[derive(Clone, Debug)]
pub struct Account {
    /// Its zones, in list order.
    pub zones: Vec<Zone>,
    /// The rate-limit rule.
    pub limit: Limit,
    /// Every zone's settings answer 403 (code 9109): a token without the permission.
    pub forbid_settings: bool,
    /// How long each answer takes (on the runtime's clock).
    pub latency: Duration,
    /// Count reads and PATCHes per zone (`Stats::reads`, `Stats::patches`); off, the model's
    /// memory stays flat whatever the fleet's size (benches/fleet.rs measures the client's).
    pub per_zone_stats: bool,
}

/// What the model saw.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every request.
    pub requests: usize,
    /// Requests answered 429.
    pub too_many: usize,
    /// 429s that started a lockout (the others came while one held).
    pub lockouts: usize,
    /// Requests that arrived during a lockout after its first 429 had been answered (`latency`
    /// after it): sent by a client that knew it was locked out, the hammering a lockout forbids.
    pub sent_while_known_locked: usize,
    /// PATCHes received, per zone id (rejected and 503 ones included).
    pub patches: HashMap<String, u32>,
    /// Reads of a zone's settings, per zone id.
    pub reads: HashMap<String, u32>,
    /// PATCHes whose body was `{}`.
    pub empty_patches: usize,
    /// Pages of `GET /zones` served.
    pub pages: usize,
    /// The most zones one page held.
    pub largest_page: usize,
}

struct State {
    account: Account,
    account_settings: Value,
    sent: VecDeque<Instant>,
    locked_until: Option<Instant>,
    locked_since: Option<Instant>,
    stats: Stats,
}

/// A running model.
#[derive(Clone)]
pub struct Running {
    /// Its base URL (`http://127.0.0.1:…`).
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Running {
    /// What it saw so far.
    pub fn stats(&self) -> Stats {
        lock(&self.state).stats.clone()
    }

    /// A zone's settings now.
    pub fn settings(&self, id: &str) -> Option<Value> {
        let state = lock(&self.state);
        let zone = state.account.zones.iter().find(|z| z.id == id)?;
        Some(zone.settings.clone())
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panicking handler cannot leave the model half-updated in a way that matters to a test.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A zone's settings as a fresh zone has them (`ns_ttl` 86400, SOA refresh 10000, …).
pub fn default_zone_settings() -> Value {
    json!({
        "flatten_all_cnames": false,
        "foundation_dns": false,
        "internal_dns": {},
        "multi_provider": false,
        "nameservers": {"type": "cloudflare.standard"},
        "ns_ttl": 86400,
        "secondary_overrides": false,
        "soa": {
            "expire": 604800, "min_ttl": 1800, "mname": null, "refresh": 10000,
            "retry": 2400, "rname": "dns.cloudflare.com", "ttl": 3600
        },
        "zone_mode": "standard"
    })
}

/// `n` well-behaved zones; every third already has `ns_ttl` 3600.
pub fn zones(n: usize) -> Vec<Zone> {
    (0..n)
        .map(|i| {
            let mut settings = default_zone_settings();
            if i % 3 == 0 {
                settings["ns_ttl"] = json!(3600);
            }
            Zone {
                id: format!("{:032x}", 0x00c0_ffee_0000_u64 + i as u64),
                name: format!("zone-{i:04}.example.com"),
                settings,
                rejects: None,
                ignores: None,
                unavailable_once: false,
            }
        })
        .collect()
}

/// The `--demo` account: 300 zones, Cloudflare's rule scaled 1,200 : 5 min → 200 : 1 s (a
/// client paced to the same scale ends a plan in about 2 s and an apply in about 4 s).
pub fn demo_account() -> Account {
    Account {
        zones: zones(300),
        limit: Limit {
            requests: 200,
            window: Duration::from_secs(1),
            lockout: Duration::from_secs(1),
        },
        forbid_settings: false,
        latency: Duration::ZERO,
        per_zone_stats: true,
    }
}

/// Starts the model on 127.0.0.1 in the current runtime (on its clock, paused or not).
pub async fn start(account: Account) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = Arc::new(Mutex::new(State {
        account,
        account_settings: json!({"enforce_dns_only": false, "zone_defaults": default_zone_settings()}),
        sent: VecDeque::new(),
        locked_until: None,
        locked_since: None,
        stats: Stats::default(),
    }));
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let state = state.clone();
                    async move {
                        let response = handle(&state, request).await;
                        let latency = lock(&state).account.latency;
                        if !latency.is_zero() {
                            tokio::time::sleep(latency).await;
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Running { url, state })
}

fn envelope(status: u16, result: Value, extra: Option<(&str, Value)>) -> Response<Full<Bytes>> {
    let mut body = json!({"success": true, "errors": [], "messages": [], "result": result});
    if let Some((key, value)) = extra {
        body[key] = value;
    }
    respond(status, body, None)
}

fn failure(status: u16, code: i64, message: &str) -> Response<Full<Bytes>> {
    let body = json!({"success": false, "errors": [{"code": code, "message": message}],
        "messages": [], "result": null});
    respond(status, body, None)
}

fn respond(status: u16, body: Value, retry_after: Option<u64>) -> Response<Full<Bytes>> {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cf-ray", "8c0ffee000000000-MOCK");
    if let Some(seconds) = retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    response
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

async fn handle(
    state: &Mutex<State>,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query: HashMap<String, String> = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let authorized = request
        .headers()
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == format!("Bearer {DEMO_TOKEN}").as_bytes());
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return failure(400, 6003, "Invalid request body"),
    };
    let now = Instant::now();
    let mut state = lock(state);
    state.stats.requests += 1;

    // Cloudflare's rule: a sliding window, and a lockout after any 429.
    let limit = state.account.limit;
    while state
        .sent
        .front()
        .is_some_and(|t| now.duration_since(*t) >= limit.window)
    {
        state.sent.pop_front();
    }
    let locked = state.locked_until.is_some_and(|until| now < until);
    if locked || state.sent.len() >= limit.requests {
        state.stats.too_many += 1;
        if !locked {
            state.locked_until = Some(now + limit.lockout);
            state.locked_since = Some(now);
            state.stats.lockouts += 1;
        } else if state
            .locked_since
            .is_some_and(|since| now > since + state.account.latency)
        {
            state.stats.sent_while_known_locked += 1;
        }
        let body = json!({"success": false, "errors": [{"code": 971,
            "message": "Please wait and consider throttling your request speed"}],
            "messages": [], "result": null});
        return respond(429, body, Some(limit.lockout.as_secs().max(1)));
    }
    state.sent.push_back(now);

    if !authorized {
        return failure(403, 10000, "Authentication error");
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["client", "v4", "zones"] | ["zones"]) => list(&mut state, &query),
        ("GET", [.., "zones", id, "dns_settings"]) => {
            if state.account.per_zone_stats {
                *state.stats.reads.entry(id.to_string()).or_default() += 1;
            }
            if state.account.forbid_settings {
                return failure(403, 9109, "Unauthorized to access requested resource");
            }
            match state.account.zones.iter().find(|z| z.id == *id) {
                Some(zone) => envelope(200, zone.settings.clone(), None),
                None => failure(404, 7003, "Could not route to the zone"),
            }
        }
        ("PATCH", [.., "zones", id, "dns_settings"]) => {
            let id = id.to_string();
            patch_zone(&mut state, &id, &body)
        }
        ("GET", [.., "accounts", _, "dns_settings"]) => {
            envelope(200, state.account_settings.clone(), None)
        }
        ("PATCH", [.., "accounts", _, "dns_settings"]) => {
            let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
                return failure(400, 1000, "Invalid JSON");
            };
            merge(&mut state.account_settings, &patch, "");
            envelope(200, state.account_settings.clone(), None)
        }
        _ => failure(404, 7000, "No route for that URI"),
    }
}

fn list(state: &mut State, query: &HashMap<String, String>) -> Response<Full<Bytes>> {
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20);
    if !(5..=50).contains(&per_page) || page == 0 {
        return failure(400, 1001, "per_page must be 5..50 and page at least 1");
    }
    let matching: Vec<&Zone> = state
        .account
        .zones
        .iter()
        .filter(|z| {
            query
                .get("name")
                .is_none_or(|filter| name_matches(&z.name, filter))
        })
        .collect();
    let items: Vec<Value> = matching
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|z| {
            json!({"id": z.id, "name": z.name, "status": "active",
                "account": {"id": DEMO_ACCOUNT, "name": "Demo account"},
                "created_on": "2024-01-01T00:00:00Z", "modified_on": "2024-01-01T00:00:00Z",
                "development_mode": 0, "meta": {}, "name_servers": ["ada.ns.cloudflare.com"],
                "owner": {}, "plan": {"id": "free"}})
        })
        .collect();
    state.stats.pages += 1;
    state.stats.largest_page = state.stats.largest_page.max(items.len());
    let total = matching.len();
    let info = json!({"page": page, "per_page": per_page, "count": items.len(),
        "total_count": total, "total_pages": total.div_ceil(per_page)});
    envelope(200, Value::Array(items), Some(("result_info", info)))
}

fn patch_zone(state: &mut State, id: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return failure(400, 1000, "Invalid JSON");
    };
    if state.account.per_zone_stats {
        *state.stats.patches.entry(id.to_string()).or_default() += 1;
    }
    if patch.as_object().is_some_and(Map::is_empty) {
        state.stats.empty_patches += 1;
    }
    let Some(zone) = state.account.zones.iter_mut().find(|z| z.id == id) else {
        return failure(404, 7003, "Could not route to the zone");
    };
    if std::mem::take(&mut zone.unavailable_once) {
        return failure(503, 10013, "Service temporarily unavailable");
    }
    if let Some(field) = &zone.rejects
        && patch.get(field).is_some()
    {
        return failure(
            400,
            1011,
            &format!("{field} cannot be changed for this zone"),
        );
    }
    let kept = zone.ignores.clone();
    let before = zone.settings.clone();
    merge(&mut zone.settings, &patch, "");
    if let Some(path) = kept {
        let old = path.split('.').try_fold(&before, |v, k| v.get(k)).cloned();
        if let Some(old) = old {
            set(&mut zone.settings, &path, old);
        }
    }
    envelope(200, zone.settings.clone(), None)
}

/// Cloudflare's PATCH: objects merged field by field, except the `nameservers` union, which is
/// replaced whole; every other value replaced.
fn merge(current: &mut Value, patch: &Value, at: &str) {
    match (current, patch) {
        (Value::Object(now), Value::Object(change)) if at != "nameservers" => {
            for (key, value) in change {
                let child = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match now.get_mut(key) {
                    Some(inner) if inner.is_object() && value.is_object() => {
                        merge(inner, value, &child);
                    }
                    _ => {
                        now.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (now, value) => *now = value.clone(),
    }
}

fn set(value: &mut Value, path: &str, new: Value) {
    let mut at = value;
    let keys: Vec<&str> = path.split('.').collect();
    for key in &keys[..keys.len() - 1] {
        match at.get_mut(*key) {
            Some(inner) => at = inner,
            None => return,
        }
    }
    if let Some(object) = at.as_object_mut() {
        object.insert(keys[keys.len() - 1].to_string(), new);
    }
}

/// Cloudflare's name filter: `contains:`, `starts_with:`, `ends_with:`, or equal.
fn name_matches(name: &str, filter: &str) -> bool {
    match filter.split_once(':') {
        Some(("contains", s)) => name.contains(s),
        Some(("starts_with", s)) => name.starts_with(s),
        Some(("ends_with", s)) => name.ends_with(s),
        Some(("not_equal", s)) => name != s,
        _ => name == filter,
    }
}

/// Percent-decoding of a query component (what the client's encoder produces).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
