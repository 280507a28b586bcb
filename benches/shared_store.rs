//! Per-call cost of the shared rate-limit budget (issue 18, the `redis` feature): the same
//! account edit as `overhead` against the same in-process hyper server on loopback, through the
//! crate with its in-process budget (the default) and with the budget shared through a
//! `redis-server` on loopback (which this bench starts on a free port: Debian's `redis-server`
//! must be installed). Paired, interleaved rounds, one call at a time and at 16 in flight; the
//! difference per call is the store's round trips (the admission script before each request; the
//! settlement after it runs in the background).
//!
//! `cargo bench -p cloudflare-dns-settings-benches --features redis --bench shared_store`
//! (`BENCH_ROUNDS`, `BENCH_CALLS` override); see BENCHMARKS.md.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cloudflare_dns_settings::Client;

fn main() {
    let pinned = common::pin_to_one_cpu(false);
    println!("shared_store: {}", common::placement(pinned));
    let full = common::is_full_run();
    let rounds = common::env_usize("BENCH_ROUNDS", if full { 21 } else { 1 });
    let batch = common::env_usize("BENCH_CALLS", if full { 500 } else { 20 });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed (apt-get install redis-server)");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let base = common::start_server();
    let rt = common::client_runtime();
    let local = common::crate_client(&base);
    let shared = Client::builder()
        .api_token(common::TOKEN)
        .base_url(&base)
        .rate_limit_store(format!("redis://127.0.0.1:{port}/"))
        .build()
        .expect("client builds");
    rt.block_on(async {
        common::crate_call(&local).await;
        common::crate_call(&shared).await;
    });
    for concurrency in [1, 16] {
        let rt = &rt;
        let run = |client: &Client| {
            let client = client.clone();
            move |calls: usize| {
                rt.block_on(calls_at(&client, calls, concurrency));
            }
        };
        let (mut a, mut b) = (run(&local), run(&shared));
        let t = common::paired_rounds(&mut [&mut a, &mut b], rounds, batch);
        let (ours, store) = (common::median(&t[0]), common::median(&t[1]));
        println!(
            "concurrency {concurrency:>2}: in-process budget {ours:.2} us/call | shared on \
             loopback Redis {store:.2} us/call | +{:.2} us/call, ratio {:.3}x (median of \
             {rounds} rounds x {batch} calls)",
            store - ours,
            common::median_ratio(&t[1], &t[0]),
        );
    }
    if !full {
        println!("(smoke run: `cargo bench ... --bench shared_store` runs the real one)");
    }
    let _ = redis.kill();
    let _ = redis.wait();
}

async fn calls_at(client: &Client, calls: usize, concurrency: usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next) = (client.clone(), next.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                common::crate_call(&client).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a call task panicked");
    }
}
