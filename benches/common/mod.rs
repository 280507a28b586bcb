//! Shared by the benches: an in-process loopback server that answers like Cloudflare, the crate's
//! client, the plain-reqwest floors, the cloudflare-rs peer, and plain serde structs for the
//! serde_json-alone floor.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cloudflare_dns_settings::types::{
    AccountSettings, AccountSettingsPatch, SoaPatch, ZoneDefaultsPatch,
};
use cloudflare_dns_settings::{Client, Nullable};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use serde::{Deserialize, Serialize};

pub const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
/// The account edit's path for [`ACCOUNT`].
pub const ACCOUNT_PATH: &str = "/accounts/023e105f4ecef8ad9ca31a8372d0c353/dns_settings";
pub const TOKEN: &str = "cfut_bench-token-Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQ";
/// What the crate, the floors and cloudflare-rs all send: the account edit of tests/operations.rs.
pub const PATCH_JSON: &str =
    r#"{"zone_defaults":{"ns_ttl":3600,"soa":{"mname":null,"refresh":7200}}}"#;
/// The crate's default user agent (`cloudflare-dns-settings/<version>`), which the floors and the
/// peer send too, so that every side's request has the same bytes.
pub const USER_AGENT_VALUE: &str = "cloudflare-dns-settings/0.1.0";

/// The rate-limit budget the server announces on every response: so large that pacing never
/// holds a bench back (a bench run makes well under a million calls per window).
pub const RATE_LIMIT_QUOTA: u64 = 10_000_000;
/// The window of that budget, in seconds, as Cloudflare's (`w=300`).
pub const RATE_LIMIT_WINDOW: u64 = 300;

/// The repository's sample answer (tests/fixtures/account_settings.json): Cloudflare's envelope
/// around the account's settings.
pub fn response_body() -> Bytes {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/account_settings.json"
    );
    Bytes::from(std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The `result` member of [`response_body`], as bytes: what the crate decodes into
/// [`AccountSettings`].
pub fn result_bytes() -> Bytes {
    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        result: &'a serde_json::value::RawValue,
    }
    let body = response_body();
    let raw: Raw<'_> = serde_json::from_slice(&body).expect("the fixture is an envelope");
    Bytes::copy_from_slice(raw.result.get().as_bytes())
}

/// Connections the server has accepted so far (keep-alive means few).
pub static CONNECTIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Starts a minimal hyper HTTP/1.1 server on 127.0.0.1 in its own thread (one current-thread
/// runtime), answering `PATCH /accounts/{ACCOUNT}/dns_settings` carrying exactly [`PATCH_JSON`]
/// and a bearer token with the fixture (200), anything else with 400. Every response carries
/// Cloudflare's rate-limit headers ([`RateLimit`]). Returns the base URL. The thread lives as
/// long as the process.
pub fn start_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr: SocketAddr = listener.local_addr().expect("local addr");
    let body = response_body();
    let limit = std::sync::Arc::new(RateLimit::new());
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let body = body.clone();
                    let limit = std::sync::Arc::clone(&limit);
                    tokio::spawn(async move {
                        let service = service_fn(move |request| {
                            respond(request, body.clone(), std::sync::Arc::clone(&limit))
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        })
        .expect("server thread");
    format!("http://{addr}")
}

/// The server's side of Cloudflare's rate limit, as the real API reports it: a fixed window of
/// [`RATE_LIMIT_WINDOW`] seconds from the server's start, [`RATE_LIMIT_QUOTA`] requests in it,
/// every response counted (whichever client sent it).
///
/// - `Ratelimit: "default";r=<remaining>;t=<seconds until the window ends>`
/// - `Ratelimit-Policy: "default";q=<quota>;w=<window>`
///
/// The crate reads both on every response (as it would in production); the floors and
/// cloudflare-rs ignore them.
pub struct RateLimit {
    start: Instant,
    /// `(window number, responses in it)`.
    served: Mutex<(u64, u64)>,
    policy: HeaderValue,
}

impl RateLimit {
    fn new() -> RateLimit {
        RateLimit {
            start: Instant::now(),
            served: Mutex::new((0, 0)),
            policy: HeaderValue::from_str(&format!(
                "\"default\";q={RATE_LIMIT_QUOTA};w={RATE_LIMIT_WINDOW}"
            ))
            .expect("policy header"),
        }
    }

    /// Counts one response and returns its `Ratelimit` value.
    fn next(&self) -> HeaderValue {
        let elapsed = self.start.elapsed().as_secs();
        let window = elapsed / RATE_LIMIT_WINDOW;
        let reset = RATE_LIMIT_WINDOW - elapsed % RATE_LIMIT_WINDOW;
        let served = {
            let mut served = self.served.lock().unwrap_or_else(|e| e.into_inner());
            if served.0 != window {
                *served = (window, 0);
            }
            served.1 += 1;
            served.1
        };
        let remaining = RATE_LIMIT_QUOTA.saturating_sub(served);
        HeaderValue::try_from(format!("\"default\";r={remaining};t={reset}"))
            .expect("ratelimit header")
    }
}

async fn respond(
    request: hyper::Request<Incoming>,
    body: Bytes,
    limit: std::sync::Arc<RateLimit>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let ok_head = request.method() == hyper::Method::PATCH
        && request.uri().path() == ACCOUNT_PATH
        && request
            .headers()
            .get(AUTHORIZATION)
            .is_some_and(|v| v.as_bytes().strip_prefix(b"Bearer ") == Some(TOKEN.as_bytes()));
    let sent = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let ok = ok_head && sent == PATCH_JSON.as_bytes();
    let response = hyper::Response::builder()
        .status(if ok { 200 } else { 400 })
        .header("content-type", "application/json")
        .header("cf-ray", "8c3f0a1b2c3d4e5f-SJC")
        .header("ratelimit", limit.next())
        .header("ratelimit-policy", limit.policy.clone());
    let body = if ok { body } else { Bytes::from_static(b"{}") };
    Ok(response.body(Full::new(body)).expect("response"))
}

/// The typed patch, as a user of the crate writes it.
pub fn typed_patch() -> AccountSettingsPatch {
    AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(3600),
            soa: Some(SoaPatch {
                refresh: Some(7200),
                mname: Some(Nullable::Null),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The crate's client against the loopback server, with its defaults (timeouts, user agent,
/// retries, rate-limit pacing on).
pub fn crate_client(base_url: &str) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(base_url)
        .build()
        .expect("client builds")
}

/// One account edit through the crate: build the patch, send, get the typed result.
pub async fn crate_call(client: &Client) -> AccountSettings {
    client
        .account_edit()
        .account_id(ACCOUNT)
        .body(typed_patch())
        .send()
        .await
        .expect("account edit through the crate")
}

/// The floor: the same PATCH with plain reqwest, the same kind of client (same timeouts, user
/// agent and redirect policy, default pool), the same headers, a pre-serialized body.
#[derive(Clone)]
pub struct Floor {
    pub http: reqwest::Client,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Floor {
    pub fn new(base_url: &str) -> Floor {
        let http = reqwest::Client::builder()
            .timeout(cloudflare_dns_settings::DEFAULT_TIMEOUT)
            .connect_timeout(cloudflare_dns_settings::DEFAULT_CONNECT_TIMEOUT)
            .user_agent(USER_AGENT_VALUE)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client");
        let mut auth = HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header");
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Floor {
            http,
            url: format!("{base_url}{ACCOUNT_PATH}"),
            headers,
            body: Bytes::from_static(PATCH_JSON.as_bytes()),
        }
    }

    /// Sends the PATCH and reads the whole body: the transport floor, no JSON work at all.
    pub async fn call(&self) -> Bytes {
        let response = self
            .http
            .patch(&self.url)
            .headers(self.headers.clone())
            .body(self.body.clone())
            .send()
            .await
            .expect("floor request");
        assert_eq!(response.status(), 200, "the floor request was refused");
        response.bytes().await.expect("floor body")
    }

    /// [`Floor::call`] plus what a hand-written client would do: decode the envelope with
    /// serde_json into plain structs and check `success`.
    pub async fn call_decoded(&self) -> PlainAccountSettings {
        let body = self.call().await;
        plain_decode(&body)
    }
}

/// The peer: cloudflare-rs (crates.io `cloudflare` 0.14), with a custom endpoint for the same
/// account edit written as its own endpoints are (see [`peer`]).
pub struct Peer {
    pub client: cloudflare::framework::client::async_api::Client,
}

impl Peer {
    /// Its async client with a custom base URL (`Environment::Custom`, which it joins the
    /// endpoint's relative path onto: hence the trailing `/`), the same token, timeout and user
    /// agent as the others.
    pub fn new(base_url: &str) -> Peer {
        use cloudflare::framework::Environment;
        use cloudflare::framework::auth::Credentials;
        use cloudflare::framework::client::ClientConfig;
        let mut default_headers = HeaderMap::new();
        default_headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        let config = ClientConfig {
            http_timeout: cloudflare_dns_settings::DEFAULT_TIMEOUT,
            default_headers,
            resolve_ip: None,
        };
        let client = cloudflare::framework::client::async_api::Client::new(
            Credentials::UserAuthToken {
                token: TOKEN.to_string(),
            },
            config,
            Environment::Custom(format!("{base_url}/")),
        )
        .expect("cloudflare-rs client");
        Peer { client }
    }

    /// One account edit through cloudflare-rs: build the endpoint (with the plain patch), send,
    /// get the decoded `result`.
    pub async fn call(&self) -> PlainAccountSettings {
        let endpoint = peer::EditAccountDnsSettings {
            account_identifier: ACCOUNT,
            params: plain_patch(),
        };
        self.client
            .request(&endpoint)
            .await
            .expect("account edit through cloudflare-rs")
            .result
    }
}

/// The account edit as a cloudflare-rs endpoint, the way its own endpoints are written
/// (`src/endpoints/dns/dns.rs` of cloudflare-rs 0.14: a `format!`ed relative path, the body
/// serialized with `serde_json::to_string` in `body()`), with the plain serde structs of this
/// file as its params and result.
pub mod peer {
    use cloudflare::framework::endpoint::spec::EndpointSpec;
    use cloudflare::framework::endpoint::{Method, RequestBody};
    use cloudflare::framework::response::{ApiResult, ApiSuccess};

    use super::{PlainAccountSettings, PlainPatch};

    /// `PATCH accounts/{account_identifier}/dns_settings`.
    pub struct EditAccountDnsSettings<'a> {
        pub account_identifier: &'a str,
        pub params: PlainPatch,
    }

    impl EndpointSpec for EditAccountDnsSettings<'_> {
        type JsonResponse = PlainAccountSettings;
        type ResponseType = ApiSuccess<Self::JsonResponse>;

        fn method(&self) -> Method {
            Method::PATCH
        }

        fn path(&self) -> String {
            format!("accounts/{}/dns_settings", self.account_identifier)
        }

        #[inline]
        fn body(&self) -> Option<RequestBody<'_>> {
            let body = serde_json::to_string(&self.params).expect("the patch serializes");
            Some(RequestBody::Json(body))
        }
    }

    impl ApiResult for PlainAccountSettings {}
}

/// A current-thread runtime for the client side (the server has its own thread): one thread
/// each on a 2-core machine.
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
}

/// Reads a `kB` field of /proc/self/status (`VmRSS`, `VmHWM`), in KiB.
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}

/// A duration in microseconds, for tables.
pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

// --- Plain serde structs: the serde_json-alone floor -------------------------------------------
// The same fields as the generated types, in the same order (so the bytes are identical), with
// plain `String`s for enums and no `#[serde(flatten)]` catch-all for unknown fields.

#[derive(Serialize, Default)]
pub struct PlainPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce_dns_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_defaults: Option<PlainZoneDefaultsPatch>,
}

#[derive(Serialize, Default)]
pub struct PlainZoneDefaultsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flatten_all_cnames: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foundation_dns: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_provider: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ns_ttl: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_overrides: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soa: Option<PlainSoaPatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_mode: Option<String>,
}

#[derive(Serialize, Default)]
pub struct PlainSoaPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ttl: Option<i64>,
    /// `Some(None)` is an explicit `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mname: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

pub fn plain_patch() -> PlainPatch {
    PlainPatch {
        zone_defaults: Some(PlainZoneDefaultsPatch {
            ns_ttl: Some(3600),
            soa: Some(PlainSoaPatch {
                refresh: Some(7200),
                mname: Some(None),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[derive(Debug, Deserialize)]
pub struct PlainEnvelope<T> {
    pub success: bool,
    pub errors: Vec<PlainMessage>,
    pub messages: Vec<PlainMessage>,
    pub result: Option<T>,
}

#[derive(Debug, Deserialize)]
pub struct PlainMessage {
    pub code: i64,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct PlainAccountSettings {
    pub enforce_dns_only: Option<bool>,
    pub zone_defaults: PlainZoneDefaults,
}

#[derive(Debug, Deserialize)]
pub struct PlainZoneDefaults {
    pub flatten_all_cnames: bool,
    pub foundation_dns: bool,
    pub internal_dns: PlainInternalDns,
    pub multi_provider: bool,
    pub nameservers: PlainNameservers,
    pub ns_ttl: i64,
    pub secondary_overrides: bool,
    pub soa: PlainSoa,
    pub zone_mode: String,
}

#[derive(Debug, Deserialize)]
pub struct PlainInternalDns {
    pub reference_zone_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainNameservers {
    #[serde(rename = "type")]
    pub type_: String,
}

#[derive(Debug, Deserialize)]
pub struct PlainSoa {
    // Every SOA field is optional in a response, as upstream's SDKs type it (spec/README.md).
    pub expire: Option<i64>,
    pub min_ttl: Option<i64>,
    pub mname: Option<String>,
    pub refresh: Option<i64>,
    pub retry: Option<i64>,
    pub rname: Option<String>,
    pub ttl: Option<i64>,
}

/// Decodes the envelope into plain structs and checks it, as a hand-written client would.
pub fn plain_decode(body: &[u8]) -> PlainAccountSettings {
    let envelope: PlainEnvelope<PlainAccountSettings> =
        serde_json::from_slice(body).expect("plain envelope");
    assert!(envelope.success && envelope.errors.is_empty());
    envelope.result.expect("result")
}

/// The same plain structs, each with the generated types' `#[serde(flatten)] extra` map: to
/// show what the catch-all for unknown fields costs on its own.
pub mod flattened {
    use serde::Deserialize;
    use serde_json::{Map, Value};

    #[derive(Deserialize)]
    pub struct AccountSettings {
        pub enforce_dns_only: Option<bool>,
        pub zone_defaults: ZoneDefaults,
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }

    #[derive(Deserialize)]
    pub struct ZoneDefaults {
        pub flatten_all_cnames: bool,
        pub foundation_dns: bool,
        pub internal_dns: InternalDns,
        pub multi_provider: bool,
        pub nameservers: Nameservers,
        pub ns_ttl: i64,
        pub secondary_overrides: bool,
        pub soa: Soa,
        pub zone_mode: String,
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }

    #[derive(Deserialize)]
    pub struct InternalDns {
        pub reference_zone_id: Option<String>,
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }

    #[derive(Deserialize)]
    pub struct Nameservers {
        #[serde(rename = "type")]
        pub type_: String,
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }

    #[derive(Deserialize)]
    pub struct Soa {
        pub expire: i64,
        pub min_ttl: i64,
        pub mname: Option<String>,
        pub refresh: i64,
        pub retry: i64,
        pub rname: String,
        pub ttl: i64,
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

// --- Load: many calls over keep-alive ----------------------------------------------------------

/// What a load run calls: the crate, one of the floors, or the peer.
#[derive(Clone)]
pub enum Target {
    /// An account edit through the crate.
    Crate(std::sync::Arc<Client>),
    /// The same PATCH with plain reqwest, body read, no JSON work.
    Floor(std::sync::Arc<Floor>),
    /// The floor plus a serde_json decode of the envelope into plain structs.
    FloorDecoded(std::sync::Arc<Floor>),
    /// The same account edit through cloudflare-rs.
    CloudflareRs(std::sync::Arc<Peer>),
}

impl Target {
    /// Every side against the server at `base_url`, in the order the tables show them.
    pub fn all(base_url: &str) -> [Target; 4] {
        let floor = std::sync::Arc::new(Floor::new(base_url));
        [
            Target::Crate(std::sync::Arc::new(crate_client(base_url))),
            Target::Floor(std::sync::Arc::clone(&floor)),
            Target::FloorDecoded(floor),
            Target::CloudflareRs(std::sync::Arc::new(Peer::new(base_url))),
        ]
    }

    pub fn name(&self) -> &'static str {
        match self {
            Target::Crate(_) => "crate",
            Target::Floor(_) => "floor",
            Target::FloorDecoded(_) => "floor+decode",
            Target::CloudflareRs(_) => "cloudflare-rs",
        }
    }

    pub async fn call(&self) {
        match self {
            Target::Crate(client) => {
                std::hint::black_box(crate_call(client).await);
            }
            Target::Floor(floor) => {
                std::hint::black_box(floor.call().await);
            }
            Target::FloorDecoded(floor) => {
                std::hint::black_box(floor.call_decoded().await);
            }
            Target::CloudflareRs(peer) => {
                std::hint::black_box(peer.call().await);
            }
        }
    }
}

/// Makes `calls` calls with `concurrency` tasks on the current runtime (each task takes the next
/// call until all are taken), and returns the wall time.
pub async fn run_calls(target: &Target, calls: usize, concurrency: usize) -> Duration {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = Arc::new(AtomicUsize::new(0));
    let start = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        let next = Arc::clone(&next);
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                target.call().await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a load task panicked");
    }
    start.elapsed()
}

/// `cargo bench` passes `--bench`; without it (`cargo test --benches`) a bench binary only
/// smoke-tests itself with a few calls.
pub fn is_full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A positive integer from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

// --- Paired measurement: a ratio that survives a shared, noisy machine ------------------------

/// Runs every step `batch` times per round, for `rounds` rounds, rotating which goes first, and
/// returns, per step, the time per call of each round in microseconds. Steps that run back to
/// back see the same load, so the ratio of one round is fair even when the machine is busy.
pub fn paired_rounds(
    steps: &mut [&mut dyn FnMut(usize)],
    rounds: usize,
    batch: usize,
) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); steps.len()];
    for round in 0..rounds {
        for i in 0..steps.len() {
            let k = (i + round) % steps.len();
            let start = std::time::Instant::now();
            (steps[k])(batch);
            times[k].push(micros(start.elapsed()) / batch as f64);
        }
    }
    times
}

/// The median of `values`.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The median over rounds of `ours[i] / floor[i]`.
pub fn median_ratio(ours: &[f64], floor: &[f64]) -> f64 {
    let ratios: Vec<f64> = ours.iter().zip(floor).map(|(a, b)| a / b).collect();
    median(&ratios)
}

// --- CPU placement ----------------------------------------------------------------------------

/// Pins this thread, and so every thread it starts afterwards (the server's, the runtime's), to
/// the CPU it is running on, unless `BENCH_PIN=0`. Returns that CPU.
///
/// On loopback a call is a ping-pong between the client and server threads; on two CPUs of a
/// virtual machine each hand-over may wake an idle vCPU, which costs tens of microseconds that
/// come and go with the host's load. On one CPU a hand-over is a plain context switch, so the
/// latency measures the work done (client + server), the same from run to run.
pub fn pin_to_one_cpu(default: bool) -> Option<usize> {
    let wanted = std::env::var("BENCH_PIN").map_or(default, |v| v != "0");
    if !wanted {
        return None;
    }
    // SAFETY: `sched_getcpu` takes no argument; `sched_setaffinity` reads a zero-initialized
    // `cpu_set_t` of the size passed, for the calling thread (pid 0).
    unsafe {
        let cpu = usize::try_from(libc::sched_getcpu()).ok()?;
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let done = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0;
        done.then_some(cpu)
    }
}

/// How the threads are placed, for the output.
pub fn placement(pinned: Option<usize>) -> String {
    match pinned {
        Some(cpu) => {
            format!("client and server threads pinned to CPU {cpu} (BENCH_PIN=0 to unpin)")
        }
        None => format!(
            "client and server threads free on {} CPUs (BENCH_PIN=1 to pin to one)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
    }
}
