//! Per-call overhead of the crate, each number a ratio to its floor measured in the same run.
//!
//! - `latency/*`: one account edit at a time against an in-process hyper server on loopback,
//!   through the crate, plain reqwest (`floor`: same client settings and headers, pre-serialized
//!   body, body read), plain reqwest + serde_json (`floor_decoded`: the same plus a decode into
//!   plain structs) and cloudflare-rs (`cloudflare_rs`: its async client with a custom endpoint).
//! - `client_side/*`: no network, only the JSON work of one call through public APIs: serialize
//!   the patch and decode the envelope, with the crate's types, with plain serde structs, and as
//!   cloudflare-rs does it.
//! - `client_side_parts/*`: the same split into steps.
//!
//! The crate's own steps (the typed request checks, the envelope check) are private and not
//! timed alone; the end-to-end latency and `benches/instructions.sh` cover them.
//!
//! `cargo bench --bench overhead`; see BENCHMARKS.md.

mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cloudflare::framework::endpoint::spec::EndpointSpec;
use cloudflare::framework::response::ApiSuccess;
use cloudflare_dns_settings::types::{self, AccountSettings};
use cloudflare_dns_settings::{ApiMessage, ResultInfo};
use common::{ACCOUNT, Floor, PATCH_JSON, Peer, PlainAccountSettings, PlainEnvelope, flattened};
use criterion::Criterion;
use serde::Deserialize;

/// What every measurement shares: the server, the client runtime, the clients, the response.
struct Setup {
    rt: tokio::runtime::Runtime,
    client: cloudflare_dns_settings::Client,
    floor: Floor,
    peer: Peer,
    response: bytes::Bytes,
    result: bytes::Bytes,
}

/// The shape the crate decodes a 2xx body into, in one pass (`src/envelope.rs`; its type is
/// private, so it is written out here with the crate's public `ApiMessage` and `ResultInfo`).
#[derive(Deserialize)]
#[serde(bound(deserialize = "R: Deserialize<'de>"))]
#[allow(dead_code)]
struct CrateEnvelope<R> {
    success: Option<bool>,
    errors: Option<Vec<ApiMessage>>,
    messages: Option<Vec<ApiMessage>>,
    result: Option<R>,
    result_info: Option<ResultInfo>,
}

fn main() {
    // First, so that the server's and the runtime's threads inherit it.
    let pinned = common::pin_to_one_cpu(true);
    println!("overhead: {}", common::placement(pinned));
    let started = SystemTime::now();
    let output = output_directory();
    let base = common::start_server();
    let setup = Setup {
        rt: common::client_runtime(),
        client: common::crate_client(&base),
        floor: Floor::new(&base),
        peer: Peer::new(&base),
        response: common::response_body(),
        result: common::result_bytes(),
    };
    // All must succeed before anything is timed (the server checks method, path, token, body).
    setup.rt.block_on(async {
        common::crate_call(&setup.client).await;
        setup.floor.call_decoded().await;
        setup.peer.call().await;
    });

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .output_directory(&output)
        .configure_from_args();
    latency(&mut c, &setup);
    client_side(&mut c, &setup);
    c.final_summary();
    print_ratios(&output, started);
    paired(&setup);
}

fn latency(c: &mut Criterion, setup: &Setup) {
    let Setup {
        rt,
        client,
        floor,
        peer,
        ..
    } = setup;
    let mut group = c.benchmark_group("latency");
    group.bench_function("crate", |b| {
        b.to_async(rt).iter(|| common::crate_call(client))
    });
    group.bench_function("floor", |b| b.to_async(rt).iter(|| floor.call()));
    group.bench_function("floor_decoded", |b| {
        b.to_async(rt).iter(|| floor.call_decoded())
    });
    group.bench_function("cloudflare_rs", |b| b.to_async(rt).iter(|| peer.call()));
    group.finish();
}

/// The crate's JSON work for one call, through its public types: the typed patch as `.body(patch)`
/// takes it (an identity conversion since the builders are gone), `serde_json::to_vec` (reqwest's
/// `.json`), the envelope with the typed `result` in one pass.
fn crate_client_side(response: &[u8]) -> AccountSettings {
    let patch: types::AccountSettingsPatch = black_box(common::typed_patch());
    let body = serde_json::to_vec(&patch).expect("patch serializes");
    black_box(body);
    let envelope: CrateEnvelope<AccountSettings> =
        serde_json::from_slice(response).expect("envelope decodes");
    assert!(envelope.success == Some(true) && envelope.errors.is_some_and(|e| e.is_empty()));
    envelope.result.expect("result")
}

/// The same with serde_json alone on plain structs.
fn floor_client_side(response: &[u8]) -> PlainAccountSettings {
    let body = serde_json::to_vec(&common::plain_patch()).expect("patch serializes");
    black_box(body);
    common::plain_decode(response)
}

/// cloudflare-rs's JSON work for one call: `body()` (called twice per request: once for the body,
/// once by its default `content_type()`), and `ApiSuccess<T>` from the body (reqwest's `.json()`).
fn cloudflare_rs_client_side(response: &[u8]) -> PlainAccountSettings {
    let endpoint = common::peer::EditAccountDnsSettings {
        account_identifier: ACCOUNT,
        params: common::plain_patch(),
    };
    black_box(endpoint.body());
    black_box(endpoint.content_type());
    let success: ApiSuccess<PlainAccountSettings> =
        serde_json::from_slice(response).expect("ApiSuccess decodes");
    success.result
}

fn client_side(c: &mut Criterion, setup: &Setup) {
    let response = setup.response.clone();
    let result = setup.result.clone();

    // Every side produces the same bytes and the same settings.
    let typed = serde_json::to_vec(&common::typed_patch()).expect("typed");
    assert_eq!(typed, PATCH_JSON.as_bytes());
    let plain = serde_json::to_vec(&common::plain_patch()).expect("plain");
    assert_eq!(plain, PATCH_JSON.as_bytes());
    let ours = crate_client_side(&response);
    let theirs = floor_client_side(&response);
    let peers = cloudflare_rs_client_side(&response);
    assert_eq!(ours.zone_defaults.ns_ttl, theirs.zone_defaults.ns_ttl);
    assert_eq!(ours.zone_defaults.soa.rname, theirs.zone_defaults.soa.rname);
    assert_eq!(
        peers.zone_defaults.soa.rname,
        theirs.zone_defaults.soa.rname
    );

    let mut group = c.benchmark_group("client_side");
    group.bench_function("crate", |b| {
        b.iter(|| crate_client_side(black_box(&response)))
    });
    group.bench_function("floor", |b| {
        b.iter(|| floor_client_side(black_box(&response)))
    });
    group.bench_function("cloudflare_rs", |b| {
        b.iter(|| cloudflare_rs_client_side(black_box(&response)))
    });
    group.finish();

    let mut group = c.benchmark_group("client_side_parts");
    group.bench_function("serialize_crate", |b| {
        b.iter(|| {
            let patch: types::AccountSettingsPatch = black_box(common::typed_patch());
            serde_json::to_vec(&patch).expect("serializes")
        })
    });
    group.bench_function("serialize_floor", |b| {
        b.iter(|| serde_json::to_vec(&common::plain_patch()).expect("serializes"))
    });
    group.bench_function("decode_result_crate", |b| {
        b.iter(|| serde_json::from_slice::<AccountSettings>(black_box(&result)).expect("decodes"))
    });
    group.bench_function("decode_result_floor", |b| {
        b.iter(|| {
            serde_json::from_slice::<PlainAccountSettings>(black_box(&result)).expect("decodes")
        })
    });
    group.bench_function("decode_envelope_crate", |b| {
        b.iter(|| {
            serde_json::from_slice::<CrateEnvelope<AccountSettings>>(black_box(&response))
                .expect("decodes")
        })
    });
    group.bench_function("decode_envelope_floor", |b| {
        b.iter(|| common::plain_decode(black_box(&response)))
    });
    group.bench_function("decode_envelope_floor_with_flatten", |b| {
        b.iter(|| {
            serde_json::from_slice::<PlainEnvelope<flattened::AccountSettings>>(black_box(
                &response,
            ))
            .expect("decodes")
        })
    });
    group.bench_function("decode_envelope_cloudflare_rs", |b| {
        b.iter(|| {
            serde_json::from_slice::<ApiSuccess<PlainAccountSettings>>(black_box(&response))
                .expect("decodes")
        })
    });
    group.finish();
}

/// Where criterion writes its estimates: `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`, or
/// `<target>/criterion` found from this binary's path (`<target>/release/deps/overhead-…`).
fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The median of one benchmark of this run, in nanoseconds (`None` if it did not run now).
fn median_ns(output: &Path, id: &str, started: SystemTime) -> Option<f64> {
    let path = output.join(id).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started);
    if !fresh {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn print_ratios(output: &Path, started: SystemTime) {
    let get = |id: &str| median_ns(output, id, started);
    let mut lines = Vec::new();
    let mut ratio = |label: &str, ours: &str, floor: &str, target: Option<f64>| {
        if let (Some(a), Some(b)) = (get(ours), get(floor)) {
            let r = a / b;
            let verdict = match target {
                Some(t) if r <= t => format!("target <= {t:.2}x: met"),
                Some(t) => format!("target <= {t:.2}x: MISSED"),
                None => String::new(),
            };
            lines.push(format!(
                "{label:<46} {:>10.3} us / {:>10.3} us = {r:>5.3}x  {verdict}",
                a / 1e3,
                b / 1e3
            ));
        }
    };
    ratio(
        "latency: crate / reqwest + serde_json",
        "latency/crate",
        "latency/floor_decoded",
        Some(1.05),
    );
    ratio(
        "latency: crate / plain reqwest",
        "latency/crate",
        "latency/floor",
        None,
    );
    ratio(
        "latency: crate / cloudflare-rs",
        "latency/crate",
        "latency/cloudflare_rs",
        None,
    );
    ratio(
        "latency: cloudflare-rs / reqwest + serde_json",
        "latency/cloudflare_rs",
        "latency/floor_decoded",
        None,
    );
    ratio(
        "client side: crate / serde_json alone",
        "client_side/crate",
        "client_side/floor",
        None,
    );
    ratio(
        "client side: cloudflare-rs / serde_json alone",
        "client_side/cloudflare_rs",
        "client_side/floor",
        None,
    );
    ratio(
        "  serialize: crate / serde_json",
        "client_side_parts/serialize_crate",
        "client_side_parts/serialize_floor",
        None,
    );
    ratio(
        "  decode result: crate types / plain",
        "client_side_parts/decode_result_crate",
        "client_side_parts/decode_result_floor",
        None,
    );
    ratio(
        "  decode envelope: crate types / plain",
        "client_side_parts/decode_envelope_crate",
        "client_side_parts/decode_envelope_floor",
        None,
    );
    ratio(
        "  decode envelope: plain + flatten / plain",
        "client_side_parts/decode_envelope_floor_with_flatten",
        "client_side_parts/decode_envelope_floor",
        None,
    );
    ratio(
        "  decode envelope: cloudflare-rs / plain",
        "client_side_parts/decode_envelope_cloudflare_rs",
        "client_side_parts/decode_envelope_floor",
        None,
    );
    if !lines.is_empty() {
        println!("\n== ratios (medians of this run)");
        for line in lines {
            println!("{line}");
        }
    }
}

/// The same comparisons as interleaved rounds (every side runs a batch back to back, the order
/// rotating), so that each ratio is taken under the same load: the figures BENCHMARKS.md uses
/// for the targets. `cargo test --benches` runs a token version.
fn paired(setup: &Setup) {
    let full = common::is_full_run();
    let (rounds, batch) = if full { (41, 200) } else { (3, 5) };
    let Setup {
        rt,
        client,
        floor,
        peer,
        response,
        ..
    } = setup;
    let mut ours = |n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                black_box(common::crate_call(client).await);
            }
        })
    };
    let mut bare = |n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                black_box(floor.call().await);
            }
        })
    };
    let mut decoded = |n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                black_box(floor.call_decoded().await);
            }
        })
    };
    let mut peers = |n: usize| {
        rt.block_on(async {
            for _ in 0..n {
                black_box(peer.call().await);
            }
        })
    };
    let t = common::paired_rounds(
        &mut [&mut ours, &mut bare, &mut decoded, &mut peers],
        rounds,
        batch,
    );
    println!(
        "\n== paired, interleaved: {rounds} rounds x {batch} sequential calls each (median per-call us; median of per-round ratios)"
    );
    println!(
        "latency  crate {:.2} us | plain reqwest {:.2} us | reqwest + serde_json {:.2} us | cloudflare-rs {:.2} us",
        common::median(&t[0]),
        common::median(&t[1]),
        common::median(&t[2]),
        common::median(&t[3]),
    );
    let vs_decoded = common::median_ratio(&t[0], &t[2]);
    println!(
        "latency  crate / reqwest + serde_json = {vs_decoded:.3}x (target <= 1.05x: {}) ; crate / plain reqwest = {:.3}x ; crate / cloudflare-rs = {:.3}x ; cloudflare-rs / reqwest + serde_json = {:.3}x ; crate extra per call over reqwest + serde_json = {:.2} us",
        verdict(vs_decoded <= 1.05),
        common::median_ratio(&t[0], &t[1]),
        common::median_ratio(&t[0], &t[3]),
        common::median_ratio(&t[3], &t[2]),
        common::median(&t[0]) - common::median(&t[2]),
    );

    let (rounds, batch) = if full { (41, 5_000) } else { (3, 5) };
    let mut ours = |n: usize| {
        for _ in 0..n {
            black_box(crate_client_side(black_box(response)));
        }
    };
    let mut theirs = |n: usize| {
        for _ in 0..n {
            black_box(floor_client_side(black_box(response)));
        }
    };
    let mut peers = |n: usize| {
        for _ in 0..n {
            black_box(cloudflare_rs_client_side(black_box(response)));
        }
    };
    let t = common::paired_rounds(&mut [&mut ours, &mut theirs, &mut peers], rounds, batch);
    println!(
        "client side (JSON work only)  crate {:.3} us | serde_json alone {:.3} us | cloudflare-rs {:.3} us | crate / serde_json = {:.3}x ; cloudflare-rs / serde_json = {:.3}x",
        common::median(&t[0]),
        common::median(&t[1]),
        common::median(&t[2]),
        common::median_ratio(&t[0], &t[1]),
        common::median_ratio(&t[2], &t[1]),
    );
    if !full {
        println!("(smoke run: `cargo bench --bench overhead` runs the real one)");
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
