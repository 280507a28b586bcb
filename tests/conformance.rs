//! Conformance against Prism. These tests are `#[ignore]`d, so plain `cargo test` needs no
//! Prism and reports them as ignored, never as passed. `.ci/conformance.sh` starts
//! `prism mock --dynamic` on `spec/`, sets `PRISM_URL` and runs them with `--ignored`; run that
//! way without `PRISM_URL`, they fail.
//!
//! Every operation of the crate is driven against Prism with valid requests (every PATCH field
//! set, at the lowest, highest and a typical value of its bounds by turns, every enum value and
//! every kind of zone nameservers; an explicit `mname: null`; a view with a name and zones; a
//! list with every query parameter), once per seed and per mode, through a small loopback proxy
//! between the client and Prism. The proxy adds `Prefer: dynamic=true, seed=<n>` (Prism's
//! per-request seed: the same seed always gives the same response, so a failure names the seed
//! that reproduces it) and records what Prism answered: status, `sl-violations` header, body.
//!
//! - `as-generated`: Prism's response reaches the client unchanged. It must decode (`Ok`), or be
//!   an `Error::Api` with a 2xx status and a non-empty `errors` list: the spec lets a
//!   `success: true` envelope carry `errors`, this crate treats any error item as an API error,
//!   and Prism fills `errors` most of the time. A divergence in whole numbers (below) fails the
//!   test too; `PRISM_STRICT=0` only counts it.
//! - `decodable`: in a `success: true` envelope the proxy empties `errors` and rounds every
//!   `number` the spec declares (the TTLs and SOA timers, the `result_info` counts) to a whole,
//!   non-negative value, so that the crate must decode all of `result` and `result_info`;
//!   everything else is Prism's, unchanged. It must be `Ok`.
//!
//! Whole numbers: upstream types TTLs, SOA timers and `result_info` counts as `number`, which
//! would let Prism send `16937.92` or `-3.5`; the crate types them as whole seconds / counts
//! (`i64`, `u64`). Cloudflare sends whole numbers, and `spec/overlay.json` makes these fields
//! `integer` (counts `minimum: 0`), so Prism generates none and any such value is a failure.
//!
//! A decoded value must serialize back to exactly the `result` received (unknown fields kept in
//! `extra`, open enums, nulls), and an accepted `Error::Api` must keep every `errors` and
//! `messages` item as received.
//!
//! In both modes a request Prism's validator rejects (an `sl-violations` entry located in the
//! request, or a 401, 403 or 422), a response Prism's own validator flags, a decode error, an
//! unexpected response, a panic, or a request the crate refused to send fails the test.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cloudflare_dns_settings::types::{
    AccountSettingsPatch, CloudflareNameserversPatch, CloudflareNameserversPatchType,
    CustomNameserverSetByIdPatch, CustomNameserverSetByIdPatchType, CustomNameserverSetPatch,
    CustomNameserverSetPatchType, Direction, DnsSettingsZonePatch, DnsViewCreate, DnsViewPatch,
    InternalDnsPatch, Match, NameserverSetCreate, NameserverSetMemberCreate, NameserversPatch,
    Order, SoaPatch, ZoneDefaultsPatch, ZoneDefaultsPatchNameservers,
    ZoneDefaultsPatchNameserversType, ZoneMode, ZonesListStatus,
};
use cloudflare_dns_settings::{Client, Error, ErrorKind, Nullable};
use common::{ACCOUNT, TOKEN, ZONE};
use futures_util::FutureExt as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::Value;

const VIEW: &str = "ae29bea30e2e427ba9cd8d78b628177b";
const OTHER_ZONE: &str = "0da42c8d2132a9ddaf714f9e7c920711";
/// Seeds per operation and mode when `PRISM_SEEDS` is unset.
const DEFAULT_SEEDS: u64 = 100;
/// Seeds driven at once (Prism is one Node process; a few in flight hide the round trips).
const IN_FLIGHT: usize = 6;
/// Kinds of failure printed with an example; the rest are only counted.
const SHOWN_KINDS: usize = 20;
/// Characters of a response body shown with a failure.
const SHOWN_BODY: usize = 1200;

/// Prism's base URL, from `PRISM_URL`: these tests cannot pass without it.
fn prism_url() -> String {
    match std::env::var("PRISM_URL") {
        Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_string(),
        _ => panic!(
            "PRISM_URL is not set: these tests need a Prism mock of spec/ \
             (bash .ci/conformance.sh starts one and runs them)"
        ),
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Every property name the spec types as `number` (after `$ref`s): the values Prism may send
/// with a fraction or a sign that the crate's whole-number types refuse.
fn spec_numbers() -> &'static BTreeSet<String> {
    static NUMBERS: OnceLock<BTreeSet<String>> = OnceLock::new();
    NUMBERS.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/dns_settings.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let spec: Value = serde_json::from_str(&text).expect("the spec is JSON");
        let mut names = BTreeSet::new();
        collect_numbers(&spec, &spec, &mut names);
        assert!(
            !names.is_empty() || !text.contains(r#""number""#),
            "no `number` property found, but the spec has some"
        );
        names
    })
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(spec, spec.pointer(pointer).unwrap_or(&Value::Null))
        }
        None => schema,
    }
}

fn collect_numbers(spec: &Value, node: &Value, names: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, schema) in properties {
                    if resolve(spec, schema).get("type").and_then(Value::as_str) == Some("number") {
                        names.insert(name.clone());
                    }
                }
            }
            map.values().for_each(|v| collect_numbers(spec, v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_numbers(spec, v, names)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The proxy between the client and Prism.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Mode {
    AsGenerated,
    Decodable,
    /// Only for the oracle's own test: the request body is replaced by an invalid one.
    CorruptRequest,
}

const MODES: [Mode; 2] = [Mode::AsGenerated, Mode::Decodable];

impl Mode {
    fn segment(self) -> &'static str {
        match self {
            Mode::AsGenerated => "as-generated",
            Mode::Decodable => "decodable",
            Mode::CorruptRequest => "corrupt-request",
        }
    }

    fn parse(segment: &str) -> Option<Mode> {
        [Mode::AsGenerated, Mode::Decodable, Mode::CorruptRequest]
            .into_iter()
            .find(|m| m.segment() == segment)
    }
}

/// What Prism answered to one request, as it answered it.
#[derive(Clone, Debug)]
struct Exchange {
    status: u16,
    violations: Option<String>,
    body: Bytes,
    /// The body the client got (differs from `body` in mode `decodable` only).
    sent: Bytes,
    /// In mode `decodable`: a non-empty `errors` was emptied.
    errors_cleared: bool,
    /// In mode `decodable`: how many numbers were rounded.
    numbers_rounded: u64,
}

type Key = (u64, Mode, String, String);

struct Proxy {
    prism: String,
    http: reqwest::Client,
    /// The last exchange per (seed, mode, method, path); a seed's calls in one mode run one
    /// after the other, so the caller takes its exchange right after its call.
    exchanges: Mutex<HashMap<Key, Exchange>>,
}

impl Proxy {
    /// Starts the proxy on 127.0.0.1 in the current runtime; returns it and its base URL.
    async fn start(prism: String) -> (Arc<Proxy>, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let proxy = Arc::new(Proxy {
            prism,
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("proxy client"),
            exchanges: Mutex::new(HashMap::new()),
        });
        let shared = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let proxy = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let proxy = proxy.clone();
                        async move { Ok::<_, Infallible>(proxy.forward(request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (proxy, format!("http://{addr}"))
    }

    /// The base URL for the client of one seed in one mode.
    fn base_url(root: &str, seed: u64, mode: Mode) -> String {
        format!("{root}/seed/{seed}/{}", mode.segment())
    }

    fn take(&self, seed: u64, mode: Mode, method: &str, path: &str) -> Option<Exchange> {
        self.exchanges
            .lock()
            .unwrap()
            .remove(&(seed, mode, method.to_string(), path.to_string()))
    }

    async fn forward(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        match self.try_forward(request).await {
            Ok(response) => response,
            Err(problem) => Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from(format!(
                    "conformance proxy: {problem}"
                ))))
                .unwrap(),
        }
    }

    async fn try_forward(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, String> {
        let uri = request.uri().clone();
        let mut segments = uri.path().splitn(5, '/');
        let (Some(""), Some("seed"), Some(seed), Some(mode), Some(rest)) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(format!("unexpected path {}", uri.path()));
        };
        let seed: u64 = seed.parse().map_err(|_| format!("bad seed {seed}"))?;
        let mode = Mode::parse(mode).ok_or_else(|| format!("bad mode {mode}"))?;
        let path = format!("/{rest}");
        let method = request.method().clone();
        let headers = request.headers().clone();
        let mut body = request
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the request: {e}"))?
            .to_bytes();
        if mode == Mode::CorruptRequest {
            body = Bytes::from_static(br#"{"zone_defaults":{"ns_ttl":5}}"#);
        }

        let url = match uri.query() {
            Some(query) => format!("{}{path}?{query}", self.prism),
            None => format!("{}{path}", self.prism),
        };
        let mut upstream = self.http.request(method.clone(), url);
        for (name, value) in &headers {
            if !matches!(
                name.as_str(),
                "host" | "content-length" | "connection" | "prefer"
            ) {
                upstream = upstream.header(name, value);
            }
        }
        let answer = upstream
            .header("prefer", format!("dynamic=true, seed={seed}"))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("Prism did not answer: {e}"))?;
        let status = answer.status();
        let violations = answer
            .headers()
            .get("sl-violations")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let content_type = answer.headers().get("content-type").cloned();
        let raw = answer
            .bytes()
            .await
            .map_err(|e| format!("reading Prism's answer: {e}"))?;

        let mut exchange = Exchange {
            status: status.as_u16(),
            violations,
            body: raw.clone(),
            sent: raw.clone(),
            errors_cleared: false,
            numbers_rounded: 0,
        };
        let sent = match mode {
            Mode::Decodable => make_decodable(&raw, &mut exchange),
            _ => raw,
        };
        exchange.sent = sent.clone();
        self.exchanges
            .lock()
            .unwrap()
            .insert((seed, mode, method.to_string(), path), exchange);
        let mut response = Response::builder().status(status);
        if let Some(content_type) = content_type {
            response = response.header("content-type", content_type);
        }
        Ok(response.body(Full::new(sent)).unwrap())
    }
}

/// In a `success: true` envelope: `errors` emptied, and every spec `number` under `result` and
/// `result_info` rounded to a whole, non-negative value. Anything else is left as it is.
fn make_decodable(raw: &Bytes, exchange: &mut Exchange) -> Bytes {
    let Ok(Value::Object(mut envelope)) = serde_json::from_slice::<Value>(raw) else {
        return raw.clone();
    };
    if envelope.get("success") != Some(&Value::Bool(true)) {
        return raw.clone();
    }
    exchange.errors_cleared = envelope
        .get("errors")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty());
    envelope.insert("errors".into(), Value::Array(Vec::new()));
    for key in ["result", "result_info"] {
        if let Some(value) = envelope.get_mut(key) {
            exchange.numbers_rounded += round_spec_numbers(value);
        }
    }
    Bytes::from(serde_json::to_vec(&Value::Object(envelope)).unwrap())
}

fn round_spec_numbers(node: &mut Value) -> u64 {
    let mut rounded = 0;
    match node {
        Value::Object(map) => {
            for (name, value) in map.iter_mut() {
                match value {
                    Value::Number(n) if spec_numbers().contains(name) && !n.is_u64() => {
                        let whole = n.as_f64().unwrap_or(0.0).abs().round();
                        *value = Value::from(whole as u64);
                        rounded += 1;
                    }
                    _ => rounded += round_spec_numbers(value),
                }
            }
        }
        Value::Array(items) => rounded += items.iter_mut().map(round_spec_numbers).sum::<u64>(),
        _ => {}
    }
    rounded
}

// ---------------------------------------------------------------------------------------------
// Judging one call.

#[derive(Debug, Default, Clone)]
struct Tally {
    calls: u64,
    decoded: u64,
    api_error_in_2xx: u64,
    known_divergence: u64,
    errors_cleared: u64,
    numbers_rounded: u64,
    result_missing: u64,
    result_null: u64,
    failures: u64,
}

impl Tally {
    fn add(&mut self, t: &Tally) {
        self.calls += t.calls;
        self.decoded += t.decoded;
        self.api_error_in_2xx += t.api_error_in_2xx;
        self.known_divergence += t.known_divergence;
        self.errors_cleared += t.errors_cleared;
        self.numbers_rounded += t.numbers_rounded;
        self.result_missing += t.result_missing;
        self.result_null += t.result_null;
        self.failures += t.failures;
    }
}

#[derive(Debug)]
struct Failure {
    operation: &'static str,
    call: &'static str,
    seed: u64,
    mode: Mode,
    class: &'static str,
    /// What identifies this kind of failure (a decode path and serde's message without its
    /// numbers, a panic message, …); failures are grouped by it.
    signature: String,
    detail: String,
}

#[derive(Default)]
struct Report {
    tallies: BTreeMap<(&'static str, Mode), Tally>,
    failures: Vec<Failure>,
    /// Known divergences by signature, with the first seed seen.
    divergences: BTreeMap<String, (u64, u64)>,
}

impl Report {
    fn merge(&mut self, other: Report) {
        for (key, t) in other.tallies {
            self.tallies.entry(key).or_default().add(&t);
        }
        self.failures.extend(other.failures);
        for (signature, (n, seed)) in other.divergences {
            let mine = self.divergences.entry(signature).or_insert((0, seed));
            mine.0 += n;
            mine.1 = mine.1.min(seed);
        }
    }
}

/// One seed's calls in one mode, judged as they come.
struct Judge<'a> {
    proxy: &'a Proxy,
    seed: u64,
    mode: Mode,
    strict: bool,
    report: Report,
}

/// How a call went, when it went acceptably.
enum Accepted {
    Decoded,
    ApiErrorIn2xx,
    KnownDivergence(String),
}

/// How a call failed: class, signature, detail.
type Rejected = (&'static str, String, String);

impl Judge<'_> {
    fn judge<T: Serialize>(
        &mut self,
        operation: &'static str,
        call: &'static str,
        method: &str,
        path: &str,
        outcome: Guarded<T>,
    ) {
        let exchange = self.proxy.take(self.seed, self.mode, method, path);
        let tally = self
            .report
            .tallies
            .entry((operation, self.mode))
            .or_default();
        tally.calls += 1;
        if let Some(exchange) = &exchange {
            if let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(&exchange.body) {
                match envelope.get("result") {
                    None => tally.result_missing += 1,
                    Some(Value::Null) => tally.result_null += 1,
                    Some(_) => {}
                }
            }
            tally.errors_cleared += u64::from(exchange.errors_cleared);
            tally.numbers_rounded += exchange.numbers_rounded;
        }
        let verdict = match &outcome {
            Ok(outcome) => verdict(self.mode, outcome, exchange.as_ref()),
            Err(panic) => Err(("panic in the crate", without_numbers(panic), panic.clone())),
        };
        // A decoded value serializes back to what was received, unknown fields included.
        let verdict = match (verdict, &outcome, &exchange) {
            (Ok(Accepted::Decoded), Ok(Ok(value)), Some(exchange)) => {
                round_trips(operation.ends_with("_list"), value, &exchange.sent)
                    .map(|()| Accepted::Decoded)
            }
            (verdict, _, _) => verdict,
        };
        let verdict = match verdict {
            Ok(Accepted::KnownDivergence(signature)) if self.strict => Err((
                "whole-number divergence (a failure unless PRISM_STRICT=0)",
                signature.clone(),
                signature,
            )),
            other => other,
        };
        match verdict {
            Ok(Accepted::Decoded) => tally.decoded += 1,
            Ok(Accepted::ApiErrorIn2xx) => tally.api_error_in_2xx += 1,
            Ok(Accepted::KnownDivergence(signature)) => {
                tally.known_divergence += 1;
                let entry = self
                    .report
                    .divergences
                    .entry(format!("{operation}: {signature}"))
                    .or_insert((0, self.seed));
                entry.0 += 1;
            }
            Err((class, signature, mut detail)) => {
                tally.failures += 1;
                if let Some(exchange) = &exchange {
                    let body = String::from_utf8_lossy(&exchange.body);
                    let cut = body
                        .char_indices()
                        .nth(SHOWN_BODY)
                        .map_or(body.len(), |(i, _)| i);
                    let _ = write!(
                        detail,
                        "\n      Prism answered {}{} with body (as Prism sent it): {}{}",
                        exchange.status,
                        exchange
                            .violations
                            .as_deref()
                            .map(|v| format!(", sl-violations {v}"))
                            .unwrap_or_default(),
                        &body[..cut],
                        if cut < body.len() { "…" } else { "" }
                    );
                }
                self.report.failures.push(Failure {
                    operation,
                    call,
                    seed: self.seed,
                    mode: self.mode,
                    class,
                    signature,
                    detail,
                });
            }
        }
    }
}

/// A call's outcome, or the message of a panic inside it.
type Guarded<T> = Result<Result<T, Error>, String>;

/// Runs one call, turning a panic inside the crate into a judged failure instead of a lost task.
async fn guarded<T>(call: impl Future<Output = Result<T, Error>>) -> Guarded<T> {
    AssertUnwindSafe(call)
        .catch_unwind()
        .await
        .map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic without a message");
            format!("panicked: {message}")
        })
}

/// `text` with every number (and address) replaced by `#`, to group failures.
fn without_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        // A number, or a hexadecimal address: from a digit on, through letters and dots.
        let numeric = c.is_ascii_digit() || (in_number && (c.is_ascii_alphanumeric() || c == '.'));
        if numeric {
            if !in_number {
                out.push('#');
            }
        } else {
            out.push(c);
        }
        in_number = numeric;
    }
    out
}

fn verdict<T>(
    mode: Mode,
    outcome: &Result<T, Error>,
    exchange: Option<&Exchange>,
) -> Result<Accepted, Rejected> {
    let Some(exchange) = exchange else {
        let error = match outcome {
            Err(e) => format!("{e} ({e:?})"),
            Ok(_) => "Ok without a request".into(),
        };
        return Err(("not sent", error.clone(), error));
    };
    if let Some(violations) = &exchange.violations {
        let parsed: Vec<Value> = serde_json::from_str(violations).unwrap_or_default();
        let located = |place: &str| {
            parsed
                .iter()
                .any(|v| v["location"].get(0).and_then(Value::as_str) == Some(place))
                || (parsed.is_empty() && violations.contains(place))
        };
        if located("request") {
            return Err((
                "request rejected by Prism",
                violations.clone(),
                format!("HTTP {}; sl-violations: {violations}", exchange.status),
            ));
        }
        if located("response") {
            return Err((
                "Prism flagged its own response",
                violations.clone(),
                format!("sl-violations: {violations}"),
            ));
        }
    }
    if matches!(exchange.status, 401 | 403 | 422) {
        let problem = format!("HTTP {} without sl-violations", exchange.status);
        return Err(("request rejected by Prism", problem.clone(), problem));
    }
    let e = match outcome {
        Ok(_) => return Ok(Accepted::Decoded),
        Err(e) => e,
    };
    match e.kind() {
        ErrorKind::Api { messages, .. }
            if mode == Mode::AsGenerated
                && e.status().is_some_and(|s| s.is_success())
                && !e.errors().is_empty() =>
        {
            // Every error and message item is kept as received, unknown fields included.
            let body: Value = serde_json::from_slice(&exchange.body).unwrap_or_default();
            for (name, kept) in [("errors", e.errors()), ("messages", messages.as_slice())] {
                let kept = serde_json::to_value(kept).unwrap();
                let received = match &body[name] {
                    Value::Null => Value::Array(Vec::new()),
                    received => received.clone(),
                };
                if kept != received {
                    return Err((
                        "API error items not kept as received",
                        name.to_string(),
                        format!("{name} kept: {kept}\n      {name} received: {received}"),
                    ));
                }
            }
            Ok(Accepted::ApiErrorIn2xx)
        }
        ErrorKind::Decode { path, source, .. } => {
            let signature = format!("`{path}`: {}", without_numbers(&source.to_string()));
            let field = path.rsplit('.').next().unwrap_or(path);
            let message = source.to_string();
            let fraction_or_sign = message.contains("floating point")
                || message.contains("not a whole count")
                || message.contains("invalid value: integer `-");
            if mode == Mode::AsGenerated && spec_numbers().contains(field) && fraction_or_sign {
                return Ok(Accepted::KnownDivergence(signature));
            }
            let class = if path == "result" && result_missing(&exchange.body) {
                "result missing"
            } else {
                "decode error"
            };
            Err((class, signature, format!("{e}: {e:?}")))
        }
        ErrorKind::Api { .. } => Err((
            "API error",
            without_numbers(&e.to_string()),
            format!("{e}: {e:?}"),
        )),
        ErrorKind::UnexpectedResponse { .. } => Err((
            "unexpected response",
            format!(
                "HTTP {}",
                e.status()
                    .map_or_else(|| "(none)".to_string(), |s| s.to_string())
            ),
            format!("{e}: {e:?}"),
        )),
        _ => Err((
            "other error",
            without_numbers(&e.to_string()),
            format!("{e}: {e:?}"),
        )),
    }
}

/// `value`, serialized, equals the `result` the client received (for a list: `result` and
/// `result_info`, the shape of `Page`).
fn round_trips<T: Serialize>(paginated: bool, value: &T, sent: &[u8]) -> Result<(), Rejected> {
    let envelope: Value = serde_json::from_slice(sent).unwrap_or_default();
    let received = if paginated {
        serde_json::json!({"result": envelope["result"], "result_info": envelope["result_info"]})
    } else {
        envelope["result"].clone()
    };
    let kept = serde_json::to_value(value).unwrap();
    if kept == received {
        return Ok(());
    }
    let difference = first_difference(&kept, &received, String::new())
        .unwrap_or_else(|| "(no difference found)".into());
    Err((
        "decoded value does not serialize back to what was received",
        without_numbers(&difference),
        format!("first difference: {difference}"),
    ))
}

/// The first path where `a` and `b` differ, and how.
fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let here = format!("{path}.{key}");
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, here) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("`{here}`: kept {u:?}, received {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, format!("{path}[{i}]"))),
        (u, v) if u == v => None,
        (u, v) => Some(format!("`{path}`: kept {u}, received {v}")),
    }
}

fn result_missing(body: &[u8]) -> bool {
    matches!(serde_json::from_slice::<Value>(body), Ok(Value::Object(o)) if !o.contains_key("result"))
}

// Valid requests. Values vary by seed: the lowest, the highest and a typical value of every
// bound, every enum value and every kind of zone nameservers, so that the crate's own checks and
// Prism's validation are compared at the edges too.

fn pick<T: Clone>(seed: u64, choices: &[T]) -> T {
    choices[(seed % choices.len() as u64) as usize].clone()
}

/// A bound at its minimum, its maximum or the spec's example, by seed.
fn bound(seed: u64, min: i64, max: i64, typical: i64) -> i64 {
    pick(seed, &[min, max, typical])
}

fn soa(seed: u64, mname: Nullable<String>) -> SoaPatch {
    SoaPatch {
        expire: Some(bound(seed, 86400, 2419200, 604800)),
        min_ttl: Some(bound(seed, 60, 86400, 1800)),
        mname: Some(mname),
        refresh: Some(bound(seed, 600, 86400, 10000)),
        retry: Some(bound(seed, 600, 86400, 2400)),
        rname: Some("admin.example.com".into()),
        ttl: Some(bound(seed, 300, 86400, 3600)),
    }
}

fn zone_mode(seed: u64) -> ZoneMode {
    pick(
        seed / 3,
        &[ZoneMode::Standard, ZoneMode::CdnOnly, ZoneMode::DnsOnly],
    )
}

/// Every field of the account PATCH set (the deprecated `foundation_dns` too: the API still takes it).
#[allow(deprecated)]
fn account_patch_every_field(seed: u64) -> AccountSettingsPatch {
    use ZoneDefaultsPatchNameserversType as Ns;
    AccountSettingsPatch {
        enforce_dns_only: Some(seed.is_multiple_of(2)),
        zone_defaults: Some(ZoneDefaultsPatch {
            flatten_all_cnames: Some(seed % 2 == 1),
            foundation_dns: Some(seed.is_multiple_of(2)),
            internal_dns: Some(InternalDnsPatch {
                reference_zone_id: Some(ZONE.into()),
            }),
            multi_provider: Some(seed % 2 == 1),
            nameservers: Some(ZoneDefaultsPatchNameservers {
                type_: Some(
                    pick(
                        seed,
                        &[
                            Ns::CloudflareStandard,
                            Ns::CloudflareAdvanced,
                            Ns::CloudflareStandardRandom,
                            Ns::CustomAccount,
                            Ns::CustomTenant,
                        ],
                    )
                    .into(),
                ),
            }),
            ns_ttl: Some(bound(seed, 30, 86400, 3600)),
            secondary_overrides: Some(seed.is_multiple_of(2)),
            soa: Some(soa(
                seed,
                Nullable::Value("kristina.ns.cloudflare.com".into()),
            )),
            zone_mode: Some(zone_mode(seed).into()),
        }),
    }
}

/// Only `zone_defaults.soa.mname: null`.
fn account_patch_mname_null() -> AccountSettingsPatch {
    AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            soa: Some(SoaPatch {
                mname: Some(Nullable::Null),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn zone_nameservers(seed: u64) -> NameserversPatch {
    use NameserversPatch as Ns;
    match seed % 3 {
        0 => Ns::CloudflareNameserversPatch(CloudflareNameserversPatch {
            type_: pick(
                seed / 3,
                &[
                    CloudflareNameserversPatchType::CloudflareStandard,
                    CloudflareNameserversPatchType::CloudflareAdvanced,
                ],
            ),
        }),
        1 => Ns::CustomNameserverSetPatch(CustomNameserverSetPatch {
            ns_set: Some(1 + (seed / 3 % 5) as i64),
            type_: pick(
                seed / 3,
                &[
                    CustomNameserverSetPatchType::CustomAccount,
                    CustomNameserverSetPatchType::CustomTenant,
                    CustomNameserverSetPatchType::CustomZone,
                ],
            ),
        }),
        _ => Ns::CustomNameserverSetByIdPatch(CustomNameserverSetByIdPatch {
            nameserver_set_id: ACCOUNT.into(),
            type_: CustomNameserverSetByIdPatchType::Custom,
        }),
    }
}

/// Every field of the zone PATCH set (the deprecated `foundation_dns` too: the API still takes it).
#[allow(deprecated)]
fn zone_patch_every_field(seed: u64) -> DnsSettingsZonePatch {
    DnsSettingsZonePatch {
        flatten_all_cnames: Some(seed.is_multiple_of(2)),
        foundation_dns: Some(seed % 2 == 1),
        internal_dns: Some(InternalDnsPatch {
            reference_zone_id: Some(OTHER_ZONE.into()),
        }),
        multi_provider: Some(seed.is_multiple_of(2)),
        nameservers: Some(zone_nameservers(seed)),
        ns_ttl: Some(bound(seed, 30, 86400, 86400)),
        secondary_overrides: Some(seed % 2 == 1),
        soa: Some(soa(seed, Nullable::Value("ns1.example.com".into()))),
        zone_mode: Some(zone_mode(seed).into()),
    }
}

/// Only `soa.mname: null`.
fn zone_patch_mname_null() -> DnsSettingsZonePatch {
    DnsSettingsZonePatch {
        soa: Some(SoaPatch {
            mname: Some(Nullable::Null),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn view_name(seed: u64) -> String {
    match seed % 3 {
        0 => "v".into(),
        1 => "x".repeat(255),
        _ => format!("my view {seed}"),
    }
}

fn view_zones(seed: u64) -> Vec<String> {
    if seed.is_multiple_of(2) {
        vec![ZONE.into()]
    } else {
        vec![ZONE.into(), OTHER_ZONE.into()]
    }
}

// ---------------------------------------------------------------------------------------------
// Driving every operation for one seed in one mode.

/// The operations driven, and how many calls each makes per seed and mode.
const OPERATIONS: &[(&str, u64)] = &[
    ("account_get", 1),
    ("account_edit", 2),
    ("zone_get", 1),
    ("zone_edit", 2),
    ("account_views_list", 2),
    ("account_views_create", 1),
    ("account_views_get", 1),
    ("account_views_edit", 1),
    ("account_views_delete", 1),
    ("account_nameserver_sets_list", 1),
    ("account_nameserver_sets_create", 2),
    ("account_nameserver_sets_get", 1),
    ("account_nameserver_sets_delete", 1),
    ("zones_list", 1),
];

async fn drive(proxy: Arc<Proxy>, root: String, seed: u64, mode: Mode, strict: bool) -> Report {
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(Proxy::base_url(&root, seed, mode))
        .max_retries(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds");
    let mut judge = Judge {
        proxy: &proxy,
        seed,
        mode,
        strict,
        report: Report::default(),
    };
    let account_path = format!("/accounts/{ACCOUNT}/dns_settings");
    let zone_path = format!("/zones/{ZONE}/dns_settings");
    let views_path = format!("/accounts/{ACCOUNT}/dns_settings/views");
    let view_path = format!("/accounts/{ACCOUNT}/dns_settings/views/{VIEW}");

    let outcome = guarded(client.account_get().account_id(ACCOUNT).send()).await;
    judge.judge("account_get", "get", "GET", &account_path, outcome);

    let outcome = guarded(
        client
            .account_edit()
            .account_id(ACCOUNT)
            .body(account_patch_every_field(seed))
            .send(),
    )
    .await;
    judge.judge(
        "account_edit",
        "every field",
        "PATCH",
        &account_path,
        outcome,
    );
    let outcome = guarded(
        client
            .account_edit()
            .account_id(ACCOUNT)
            .body(account_patch_mname_null())
            .send(),
    )
    .await;
    judge.judge(
        "account_edit",
        "mname null",
        "PATCH",
        &account_path,
        outcome,
    );

    let outcome = guarded(client.zone_get().zone_id(ZONE).send()).await;
    judge.judge("zone_get", "get", "GET", &zone_path, outcome);

    let outcome = guarded(
        client
            .zone_edit()
            .zone_id(ZONE)
            .body(zone_patch_every_field(seed))
            .send(),
    )
    .await;
    judge.judge("zone_edit", "every field", "PATCH", &zone_path, outcome);
    let outcome = guarded(
        client
            .zone_edit()
            .zone_id(ZONE)
            .body(zone_patch_mname_null())
            .send(),
    )
    .await;
    judge.judge("zone_edit", "mname null", "PATCH", &zone_path, outcome);

    let outcome = guarded(
        client
            .account_views_list()
            .account_id(ACCOUNT)
            .name("my view")
            .name_exact("my view")
            .name_contains("view")
            .name_startswith("my")
            .name_endswith("ew")
            .zone_id(ZONE)
            .zone_name("www.example.com")
            .match_(pick(seed, &[Match::Any, Match::All]))
            .order(pick(
                seed,
                &[Order::Name, Order::CreatedOn, Order::ModifiedOn],
            ))
            .direction(pick(seed, &[Direction::Asc, Direction::Desc]))
            .page(1 + seed as i64 % 3)
            .per_page(bound(seed, 1, 5_000_000, 20))
            .send(),
    )
    .await;
    judge.judge(
        "account_views_list",
        "every parameter",
        "GET",
        &views_path,
        outcome,
    );
    let outcome = guarded(
        client
            .account_views_list()
            .account_id(ACCOUNT)
            .page(1)
            .per_page(20)
            .send(),
    )
    .await;
    judge.judge(
        "account_views_list",
        "page only",
        "GET",
        &views_path,
        outcome,
    );

    let outcome = guarded(
        client
            .zones_list()
            .account_id(ACCOUNT)
            .name("contains:example")
            .status(pick(
                seed,
                &[
                    ZonesListStatus::Initializing,
                    ZonesListStatus::Pending,
                    ZonesListStatus::Active,
                    ZonesListStatus::Moved,
                ],
            ))
            .page(1 + seed as i64 % 3)
            .per_page(bound(seed, 5, 50, 20))
            .send(),
    )
    .await;
    judge.judge("zones_list", "every parameter", "GET", "/zones", outcome);

    let outcome = guarded(
        client
            .account_views_create()
            .account_id(ACCOUNT)
            .body(DnsViewCreate {
                name: view_name(seed),
                zones: view_zones(seed),
            })
            .send(),
    )
    .await;
    judge.judge(
        "account_views_create",
        "name and zones",
        "POST",
        &views_path,
        outcome,
    );

    let outcome = guarded(
        client
            .account_views_get()
            .account_id(ACCOUNT)
            .view_id(VIEW)
            .send(),
    )
    .await;
    judge.judge("account_views_get", "get", "GET", &view_path, outcome);

    let outcome = guarded(
        client
            .account_views_edit()
            .account_id(ACCOUNT)
            .view_id(VIEW)
            .body(DnsViewPatch {
                name: Some(view_name(seed + 1)),
                zones: Some(view_zones(seed + 1)),
            })
            .send(),
    )
    .await;
    judge.judge(
        "account_views_edit",
        "name and zones",
        "PATCH",
        &view_path,
        outcome,
    );

    let outcome = guarded(
        client
            .account_views_delete()
            .account_id(ACCOUNT)
            .view_id(VIEW)
            .send(),
    )
    .await;
    judge.judge(
        "account_views_delete",
        "delete",
        "DELETE",
        &view_path,
        outcome,
    );

    let sets_path = format!("/accounts/{ACCOUNT}/dns_settings/nameserver_sets");
    let set_path = format!("{sets_path}/{SET}");
    let outcome = guarded(
        client
            .account_nameserver_sets_list()
            .account_id(ACCOUNT)
            .page(1 + seed as i64 % 3)
            .per_page(bound(seed, 1, 5_000_000, 20))
            .send(),
    )
    .await;
    judge.judge(
        "account_nameserver_sets_list",
        "paged",
        "GET",
        &sets_path,
        outcome,
    );
    for (mode, advanced) in [("standard", false), ("advanced", true)] {
        let outcome = guarded(
            client
                .account_nameserver_sets_create()
                .account_id(ACCOUNT)
                .body(nameserver_set(seed, advanced))
                .send(),
        )
        .await;
        judge.judge(
            "account_nameserver_sets_create",
            mode,
            "POST",
            &sets_path,
            outcome,
        );
    }
    let outcome = guarded(
        client
            .account_nameserver_sets_get()
            .account_id(ACCOUNT)
            .nameserver_set_id(SET)
            .send(),
    )
    .await;
    judge.judge(
        "account_nameserver_sets_get",
        "get",
        "GET",
        &set_path,
        outcome,
    );
    let outcome = guarded(
        client
            .account_nameserver_sets_delete()
            .account_id(ACCOUNT)
            .nameserver_set_id(SET)
            .send(),
    )
    .await;
    judge.judge(
        "account_nameserver_sets_delete",
        "delete",
        "DELETE",
        &set_path,
        outcome,
    );

    judge.report
}

/// A nameserver set id: exactly 32 characters.
const SET: &str = "0123456789abcdef0123456789abcdef";

fn nameserver_set(seed: u64, advanced: bool) -> NameserverSetCreate {
    let members = 1 + (seed % 4) as usize;
    NameserverSetCreate {
        advanced: Some(advanced),
        ip_set: seed.is_multiple_of(2).then(|| bound(seed, 1, 16, 1)),
        nameservers: (0..members)
            .map(|i| NameserverSetMemberCreate {
                ip_count: (!seed.is_multiple_of(3)).then(|| bound(seed + i as u64, 1, 3, 1)),
                name: format!("ns{}.example-{}.net", i + 1, seed % 7),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Prism: bash .ci/conformance.sh runs it with --ignored"]
async fn every_operation_conforms_to_prism_for_many_seeds() {
    let prism = prism_url();
    let seeds = env_number("PRISM_SEEDS", DEFAULT_SEEDS);
    let first_seed = env_number("PRISM_FIRST_SEED", 0);
    let strict = env_number("PRISM_STRICT", 1) != 0;
    let (proxy, root) = Proxy::start(prism.clone()).await;
    let started = Instant::now();

    let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for seed in first_seed..first_seed + seeds {
        for mode in MODES {
            let (proxy, root, limit) = (proxy.clone(), root.clone(), limit.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.unwrap();
                drive(proxy, root, seed, mode, strict).await
            });
        }
    }
    let mut report = Report::default();
    while let Some(done) = tasks.join_next().await {
        report.merge(done.expect("a seed's task panicked outside a call"));
    }

    // The summary, printed whatever the outcome (`--nocapture` shows it on success too).
    let mut summary = format!(
        "Prism conformance against {prism}: seeds {first_seed}..{} per operation and mode, {:.1} s\n",
        first_seed + seeds,
        started.elapsed().as_secs_f64()
    );
    let header = [
        "calls",
        "decoded",
        "api-err-2xx",
        "known-div",
        "errs-cleared",
        "rounded",
        "no-result",
        "null-result",
        "FAILED",
    ];
    let _ = write!(summary, "{:<22} {:<13}", "operation", "mode");
    for h in header {
        let _ = write!(summary, " {h:>12}");
    }
    summary.push('\n');
    let mut total = Tally::default();
    for ((operation, mode), t) in &report.tallies {
        total.add(t);
        let _ = write!(summary, "{:<22} {:<13}", operation, mode.segment());
        for n in [
            t.calls,
            t.decoded,
            t.api_error_in_2xx,
            t.known_divergence,
            t.errors_cleared,
            t.numbers_rounded,
            t.result_missing,
            t.result_null,
            t.failures,
        ] {
            let _ = write!(summary, " {n:>12}");
        }
        summary.push('\n');
    }
    let _ = write!(summary, "{:<22} {:<13}", "total", "");
    for n in [
        total.calls,
        total.decoded,
        total.api_error_in_2xx,
        total.known_divergence,
        total.errors_cleared,
        total.numbers_rounded,
        total.result_missing,
        total.result_null,
        total.failures,
    ] {
        let _ = write!(summary, " {n:>12}");
    }
    summary.push('\n');
    if !report.divergences.is_empty() {
        let _ = writeln!(
            summary,
            "whole-number divergence (spec `number`, crate whole numbers; a failure unless PRISM_STRICT=0), by first field that failed:"
        );
        for (signature, (n, seed)) in &report.divergences {
            let _ = writeln!(summary, "  {n:>5} × {signature} (first seed {seed})");
        }
    }
    println!("{summary}");

    // Every operation was driven, in both modes, for every seed.
    for (operation, per_seed) in OPERATIONS {
        for mode in MODES {
            let calls = report
                .tallies
                .get(&(*operation, mode))
                .map_or(0, |t| t.calls);
            assert_eq!(
                calls,
                per_seed * seeds,
                "{operation} in mode {} was not driven for every seed",
                mode.segment()
            );
        }
    }
    assert_eq!(
        report.tallies.len(),
        OPERATIONS.len() * MODES.len(),
        "an operation was driven that OPERATIONS does not list"
    );
    // The modes did what they are for: some responses were decoded in full.
    for (operation, _) in OPERATIONS {
        let decoded = report
            .tallies
            .get(&(*operation, Mode::Decodable))
            .map_or(0, |t| t.decoded);
        assert!(
            decoded > 0 || !report.failures.is_empty(),
            "{operation}: no response was decoded in mode decodable"
        );
    }

    if !report.failures.is_empty() {
        let mut kinds: BTreeMap<(&str, &str, &str, &str, &str), Vec<&Failure>> = BTreeMap::new();
        for f in &report.failures {
            kinds
                .entry((f.operation, f.call, f.mode.segment(), f.class, &f.signature))
                .or_default()
                .push(f);
        }
        let mut message = format!(
            "{} calls failed against Prism, {} kinds (reproduce one with PRISM_FIRST_SEED=<seed> PRISM_SEEDS=1):\n",
            report.failures.len(),
            kinds.len()
        );
        for ((operation, call, mode, class, signature), failures) in kinds.iter().take(SHOWN_KINDS)
        {
            let mut seeds: Vec<u64> = failures.iter().map(|f| f.seed).collect();
            seeds.sort_unstable();
            let _ = writeln!(
                message,
                "- {operation} ({call}, {mode}): {class}: {signature}\n    {} calls, seeds {:?}{}\n    e.g. seed {}: {}",
                failures.len(),
                &seeds[..seeds.len().min(8)],
                if seeds.len() > 8 { " …" } else { "" },
                seeds[0],
                failures
                    .iter()
                    .find(|f| f.seed == seeds[0])
                    .map_or("", |f| f.detail.as_str())
            );
        }
        if kinds.len() > SHOWN_KINDS {
            let _ = writeln!(message, "… and {} more kinds", kinds.len() - SHOWN_KINDS);
        }
        panic!("{message}");
    }
}

/// The oracle itself: Prism validates requests and security (a spec-invalid request, or one
/// without credentials, is refused and `sl-violations` says why), and such a refusal reaching
/// the crate is judged a failure by the same code as the conformance test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Prism: bash .ci/conformance.sh runs it with --ignored"]
async fn prism_refuses_invalid_requests_and_the_judge_notices() {
    let prism = prism_url();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let account_path = format!("/accounts/{ACCOUNT}/dns_settings");

    // Out of the spec's bounds (the crate would refuse to send it, so plain reqwest sends it).
    let invalid = http
        .patch(format!("{prism}{account_path}"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"zone_defaults":{"ns_ttl":5}}"#)
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(invalid.status().as_u16(), 422);
    let violations = invalid
        .headers()
        .get("sl-violations")
        .expect("sl-violations header")
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        violations.contains("ns_ttl") && violations.contains("request"),
        "{violations}"
    );

    // No credentials at all.
    let anonymous = http
        .get(format!("{prism}{account_path}"))
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(anonymous.status().as_u16(), 401);

    // A valid call whose body the proxy swaps for an invalid one: the judge must call it a
    // rejected request, and the crate must not call it a success.
    let (proxy, root) = Proxy::start(prism).await;
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(Proxy::base_url(&root, 1, Mode::CorruptRequest))
        .max_retries(0)
        .build()
        .unwrap();
    let outcome = client
        .account_edit()
        .account_id(ACCOUNT)
        .body(account_patch_mname_null())
        .send()
        .await;
    let exchange = proxy.take(1, Mode::CorruptRequest, "PATCH", &account_path);
    match verdict(Mode::AsGenerated, &outcome, exchange.as_ref()) {
        Err(("request rejected by Prism", _, detail)) => {
            assert!(detail.contains("ns_ttl"), "{detail}")
        }
        Err((class, _, detail)) => panic!("judged {class}: {detail}"),
        Ok(_) => panic!("a request Prism refused was judged a success"),
    }
    assert!(
        outcome.is_err(),
        "the crate turned Prism's 422 into a success"
    );
}
