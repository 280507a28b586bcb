//! The fleet (issue 24) at Cloudflare's real numbers, on a paused tokio clock: N zones of one
//! account, each needing a change, applied through `fleet::Fleet` (8 in flight, a journal)
//! against the tool's loopback model of the account (cli/src/mock.rs: pages of 50, 1,200
//! requests per 5 minutes sliding, a 5-minute lockout after a 429, 20 ms per answer), the
//! client paced at Cloudflare's documented limit.
//!
//! Prints, per N: the requests, the 429s, the run's virtual time against the ideal (every
//! request ÷ the budget: requests × 300 s / 1,200), and the heap the run added at its peak
//! (a counting allocator; the model keeps no per-zone state, so what grows is the client's).
//!
//! `cargo bench --bench fleet` (`BENCH_FLEET_ZONES=1000,10000` by default); see BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloudflare_dns_settings::Client;
use cloudflare_dns_settings::fleet::{Fleet, Journal, Outcome, Targets};
use cloudflare_dns_settings::plan::desired_from_json;
use cloudflare_dns_settings::types::DnsSettingsZonePatch;
use cloudflare_dns_settings_cli::mock::{self, Account, DEMO_ACCOUNT, DEMO_TOKEN, Limit};
use futures_util::StreamExt;

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_FLEET_ZONES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("BENCH_FLEET_ZONES: numbers"))
        .collect();
    println!(
        "{:>7} {:>9} {:>5} {:>10} {:>9} {:>7} {:>9} {:>7} {:>14} {:>8}",
        "zones",
        "requests",
        "429s",
        "virtual s",
        "ideal s",
        "ratio",
        "floor s",
        "ratio",
        "peak heap KiB",
        "B/zone"
    );
    for zones in sizes {
        run(zones);
    }
}

fn run(zones: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let account = Account {
            zones: mock::zones(zones),
            limit: Limit::CLOUDFLARE,
            forbid_settings: false,
            latency: Duration::from_millis(20),
            per_zone_stats: false,
        };
        let model = mock::start(account).await.expect("model");
        let client = Client::builder()
            .api_token(DEMO_TOKEN)
            .base_url(&model.url)
            .rate_limit(1200, Duration::from_secs(300))
            .build()
            .expect("client");
        let desired: DnsSettingsZonePatch =
            desired_from_json(r#"{"soa": {"refresh": 7200}}"#).expect("desired");
        let dir = std::env::temp_dir().join(format!("fleet-bench-{}-{zones}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let journal = Journal::open(&dir, &(&desired, zones)).expect("journal");

        let (lister, applier) = (client.clone(), client.clone());
        let list = move |page: i64| {
            let client = lister.clone();
            async move {
                client
                    .zones_list()
                    .account_id(DEMO_ACCOUNT)
                    .page(page)
                    .per_page(50)
                    .send()
                    .await
            }
        };
        let apply = move |id: String, dry_run: bool| {
            let (client, desired) = (applier.clone(), desired.clone());
            async move { client.zone_apply(&id, &desired, dry_run).await }
        };

        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let started = tokio::time::Instant::now();
        let stream = Fleet::new()
            .journal(journal)
            .run(Targets::List(list), apply);
        futures_util::pin_mut!(stream);
        let (mut changed, mut other) = (0usize, 0usize);
        while let Some(report) = stream.next().await {
            match report.map(|r| r.outcome) {
                Ok(Outcome::Changed) => changed += 1,
                _ => other += 1,
            }
        }
        let elapsed = started.elapsed();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
        let stats = model.stats();
        // The issue's ideal: every request ÷ the budget. The floor: a sliding window admits
        // its first 1,200 at once, so only the rest wait for the budget.
        let ideal = stats.requests as f64 * 300.0 / 1200.0;
        let floor = stats.requests.saturating_sub(1200) as f64 * 300.0 / 1200.0;
        let secs = elapsed.as_secs_f64();
        println!(
            "{zones:>7} {:>9} {:>5} {secs:>10.1} {ideal:>9.1} {:>7.4} {floor:>9.1} {:>7.4} {:>14} {:>8}",
            stats.requests,
            stats.too_many,
            secs / ideal,
            if floor > 0.0 { secs / floor } else { f64::NAN },
            peak / 1024,
            peak / zones
        );
        assert_eq!((changed, other), (zones, 0), "every zone changed");
        let _ = std::fs::remove_file(&dir);
    });
}
