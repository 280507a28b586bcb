//! Throughput over keep-alive: 20,000 account edits at concurrency 1, 16 and 64, through the
//! crate, plain reqwest, plain reqwest + serde_json and cloudflare-rs, against the same
//! in-process hyper server on loopback. Prints a table; each configuration runs `BENCH_ROUNDS`
//! times (default 5), the order of the sides rotating each round, and the median round counts.
//!
//! `cargo bench --bench throughput` (`BENCH_CALLS`, `BENCH_ROUNDS` override); see BENCHMARKS.md.
//! With `BENCH_ONLY=crate|floor|floor+decode|cloudflare-rs` it makes `BENCH_CALLS` calls of that
//! side only, at `BENCH_CONCURRENCY` (default 1), and prints nothing else:
//! benches/instructions.sh runs it so under callgrind.

mod common;

use std::time::Duration;

use common::Target;

fn main() {
    let pinned = common::pin_to_one_cpu(false);
    let full = common::is_full_run();
    let calls = common::env_usize("BENCH_CALLS", if full { 20_000 } else { 200 });
    let rounds = common::env_usize("BENCH_ROUNDS", if full { 5 } else { 1 });
    let base = common::start_server();
    let rt = common::client_runtime();
    let targets = Target::all(&base);
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let target = targets
            .iter()
            .find(|t| t.name() == only)
            .unwrap_or_else(|| {
                panic!("BENCH_ONLY={only}: expected crate, floor, floor+decode or cloudflare-rs")
            });
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
        "\n| concurrency | crate calls/s | floor calls/s | floor+decode calls/s | cloudflare-rs calls/s | crate / floor | crate / floor+decode | crate / cloudflare-rs | cloudflare-rs / floor+decode | crate us/call | floor+decode us/call |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut at_64 = None;
    let mut rounds_seen = Vec::new();
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
        let (ours, floor, decoded, peer) = (rate(0), rate(1), rate(2), rate(3));
        println!(
            "| {concurrency} | {ours:.0} | {floor:.0} | {decoded:.0} | {peer:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} | {:.1} |",
            ours / floor,
            ours / decoded,
            ours / peer,
            peer / decoded,
            1e6 / ours,
            1e6 / decoded,
        );
        rounds_seen.push((concurrency, times.clone()));
        if concurrency == 64 {
            // Also the median of the per-round ratios (the sides of one round ran back to back).
            let per_round = |a: usize, b: usize| {
                let secs =
                    |k: usize| -> Vec<f64> { times[k].iter().map(Duration::as_secs_f64).collect() };
                // A rate ratio is the inverse ratio of the times.
                common::median_ratio(&secs(b), &secs(a))
            };
            at_64 = Some((
                ours / decoded,
                ours / peer,
                per_round(0, 2),
                per_round(0, 3),
            ));
        }
    }
    println!("\nevery round, calls/s (the table shows the medians):");
    for (concurrency, times) in &rounds_seen {
        for (target, times) in targets.iter().zip(times) {
            let rates: Vec<String> = times
                .iter()
                .map(|t| format!("{:.0}", calls as f64 / t.as_secs_f64()))
                .collect();
            println!(
                "  concurrency {concurrency:>2} {:<13} {}",
                target.name(),
                rates.join(" ")
            );
        }
    }
    if let Some((decoded, peer, decoded_rounds, peer_rounds)) = at_64 {
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        println!(
            "\nthroughput at concurrency 64: crate / reqwest + serde_json = {decoded:.3}x (median of per-round ratios {decoded_rounds:.3}x; target >= 0.95x: {}) ; crate / cloudflare-rs = {peer:.3}x (per-round {peer_rounds:.3}x; target >= 1.0x: {})",
            verdict(decoded >= 0.95),
            verdict(peer >= 1.0),
        );
    }
    if !full {
        println!("(smoke run: `cargo bench --bench throughput` runs the real one)");
    }
}
