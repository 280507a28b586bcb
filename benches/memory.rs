//! Memory over 10,000 account edits: resident set after 1k, 5k and 10k calls and the peak
//! (VmRSS / VmHWM from /proc/self/status), through the crate and through plain reqwest, each in
//! a fresh child process (this binary run again) so that one does not inherit the other's heap.
//!
//! `cargo bench --bench memory` (`BENCH_CALLS` overrides 10,000; 100,000 shows the plateau
//! better); see BENCHMARKS.md.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::Target;

const CHILD_ENV: &str = "BENCH_MEMORY_CHILD";

fn main() {
    match std::env::var(CHILD_ENV) {
        Ok(spec) => child(&spec),
        Err(_) => parent(),
    }
}

/// One process: `crate:64` = the crate at concurrency 64. Prints `rss_start rss_1k rss_5k
/// rss_10k hwm` in KiB on one line.
fn child(spec: &str) {
    let (which, concurrency) = spec.split_once(':').expect("which:concurrency");
    let concurrency: usize = concurrency.parse().expect("concurrency");
    let calls = common::env_usize("BENCH_CALLS", 10_000);
    let base = common::start_server();
    let rt = common::client_runtime();
    let target = match which {
        "crate" => Target::Crate(Arc::new(common::crate_client(&base))),
        "floor" => Target::Floor(Arc::new(common::Floor::new(&base))),
        other => panic!("unknown target {other}"),
    };
    let checkpoints = [calls / 10, calls / 2, calls];
    let mut rss = vec![common::proc_status_kib("VmRSS")];
    let mut done = 0;
    for point in checkpoints {
        rt.block_on(common::run_calls(&target, point - done, concurrency));
        done = point;
        rss.push(common::proc_status_kib("VmRSS"));
    }
    rss.push(common::proc_status_kib("VmHWM"));
    let line: Vec<String> = rss.iter().map(u64::to_string).collect();
    println!("{}", line.join(" "));
}

fn parent() {
    let full = common::is_full_run();
    let calls = common::env_usize("BENCH_CALLS", if full { 10_000 } else { 200 });
    let exe = std::env::current_exe().expect("current exe");
    println!(
        "memory: {calls} calls per process, checkpoints at {}, {} and {} calls (KiB)\n",
        calls / 10,
        calls / 2,
        calls
    );
    println!(
        "| target | concurrency | RSS at start | RSS after {0} | RSS after {1} | RSS after {2} | growth {0}..{2} (bytes/call) | growth {1}..{2} (bytes/call) | peak (VmHWM) |",
        calls / 10,
        calls / 2,
        calls,
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut peaks = Vec::new();
    for concurrency in [1, 64] {
        for which in ["crate", "floor"] {
            let output = Command::new(&exe)
                .env(CHILD_ENV, format!("{which}:{concurrency}"))
                .env("BENCH_CALLS", calls.to_string())
                .output()
                .expect("run the child");
            assert!(
                output.status.success(),
                "child {which}:{concurrency} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let numbers: Vec<u64> = String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            let [start, first, half, last, hwm] = numbers[..] else {
                panic!("child {which}:{concurrency} printed {numbers:?}");
            };
            let per_call = |from: u64, calls: usize| {
                (last as f64 - from as f64) * 1024.0 / calls.max(1) as f64
            };
            let growth = per_call(first, calls - calls / 10);
            let steady = per_call(half, calls - calls / 2);
            println!(
                "| {which} | {concurrency} | {start} | {first} | {half} | {last} | {growth:.1} | {steady:.1} | {hwm} |"
            );
            peaks.push(((which, concurrency), hwm));
        }
    }
    println!();
    for concurrency in [1, 64] {
        let peak = |w: &str| {
            peaks
                .iter()
                .find(|((which, c), _)| *which == w && *c == concurrency)
                .map(|(_, hwm)| *hwm as f64)
                .unwrap_or(f64::NAN)
        };
        println!(
            "peak RSS at concurrency {concurrency}: crate / floor = {:.3}",
            peak("crate") / peak("floor")
        );
    }
    if !full {
        println!("(smoke run: `cargo bench --bench memory` runs the real one)");
    }
}
