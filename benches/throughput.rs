//! Throughput over keep-alive: 10,000 account edits at concurrency 1, 16 and 64, through the
//! crate and through plain reqwest, against the same in-process hyper server on loopback.
//! Prints a table; each configuration runs `BENCH_ROUNDS` times (default 3), alternating which
//! side goes first, and the median round counts.
//!
//! `cargo bench --bench throughput` (`BENCH_CALLS`, `BENCH_ROUNDS` override); see BENCHMARKS.md.
//! With `BENCH_ONLY=crate|floor|floor+decode` it makes `BENCH_CALLS` calls of that side only, at
//! `BENCH_CONCURRENCY` (default 1), and prints nothing else: benches/instructions.sh runs it so
//! under callgrind.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Target;

fn main() {
    let pinned = common::pin_to_one_cpu(false);
    let full = common::is_full_run();
    let calls = common::env_usize("BENCH_CALLS", if full { 10_000 } else { 200 });
    let rounds = common::env_usize("BENCH_ROUNDS", if full { 3 } else { 1 });
    let base = common::start_server();
    let rt = common::client_runtime();
    let floor = Arc::new(common::Floor::new(&base));
    let targets = [
        Target::Crate(Arc::new(common::crate_client(&base))),
        Target::Floor(Arc::clone(&floor)),
        Target::FloorDecoded(floor),
    ];
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let target = targets
            .iter()
            .find(|t| t.name() == only)
            .unwrap_or_else(|| panic!("BENCH_ONLY={only}: expected crate, floor or floor+decode"));
        let concurrency = common::env_usize("BENCH_CONCURRENCY", 1);
        rt.block_on(async {
            // One call first, so that connecting is not counted with the calls.
            target.call().await;
            common::run_calls(target, calls, concurrency).await;
        });
        println!("{only}: {calls} calls");
        return;
    }

    println!(
        "throughput: {calls} calls per run, median of {rounds} rounds; client: 1 current-thread \
         runtime, server: 1 thread; HTTP/1.1 keep-alive on loopback; {}",
        common::placement(pinned)
    );
    // Warm-up: open the connections of the largest pool and fault in the code paths.
    rt.block_on(async {
        for target in &targets {
            common::run_calls(target, 1_000.min(calls), 64).await;
        }
    });

    println!(
        "\n| concurrency | crate calls/s | floor calls/s | crate / floor | floor+decode calls/s | crate / floor+decode | crate us/call | floor us/call |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut at_64 = None;
    for concurrency in [1, 16, 64] {
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
        for round in 0..rounds {
            for i in 0..targets.len() {
                let k = (i + round) % targets.len();
                let elapsed = rt.block_on(common::run_calls(&targets[k], calls, concurrency));
                times[k].push(elapsed);
            }
        }
        let rate = |k: usize| {
            let mut t = times[k].clone();
            t.sort();
            calls as f64 / t[t.len() / 2].as_secs_f64()
        };
        let (ours, floor, decoded) = (rate(0), rate(1), rate(2));
        println!(
            "| {concurrency} | {ours:.0} | {floor:.0} | {:.3} | {decoded:.0} | {:.3} | {:.1} | {:.1} |",
            ours / floor,
            ours / decoded,
            1e6 / ours,
            1e6 / floor,
        );
        if concurrency == 64 {
            at_64 = Some(ours / floor);
        }
    }
    if let Some(ratio) = at_64 {
        let verdict = if ratio >= 0.9 { "met" } else { "MISSED" };
        println!(
            "\nthroughput at concurrency 64: {ratio:.3}x plain reqwest (target >= 0.9x: {verdict})"
        );
    }
    if !full {
        println!("(smoke run: `cargo bench --bench throughput` runs the real one)");
    }
}
