//! Three promises of the shared budget on Redis (README, "One budget across processes"), held as
//! behaviour through the public API only:
//!
//! - every round trip to the store is bounded (250 ms by default; connecting, once, by four): a
//!   store that accepts and never answers costs a call at most that, and the call goes on, paced
//!   in process;
//! - a store found away is tried again at most once a second;
//! - every key expires by itself: each has a TTL after a run (at most a window plus the in-flight
//!   hold), and none is left after idling past it.
//!
//! The first two need no Redis (a loopback listener plays the store) and run on tokio's paused
//! clock, so their durations are exact; the Cloudflare they call is a [`RawServer`] on the test's
//! own runtime, so that an answer in flight is seen before the paused clock jumps to the next
//! timer (wiremock's server runs on a thread of its own). The third needs a real
//! `redis-server` (started by the test on a free loopback port; `.ci/run` installs it) and runs
//! on the wall clock, which is Redis's clock for expiry:
//!
//! ```text
//! cargo test --features redis --test store_promises -- --include-ignored
//! ```
#![cfg(feature = "redis")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloudflare_dns_settings::Client;
use common::*;
use tokio::time::Instant;

/// The README's bound on one round trip to the store, connecting included.
const ROUND_TRIP: Duration = Duration::from_millis(250);
/// The README's in-flight hold: a request whose answer never comes leaves the store this long
/// after its window.
const HELD_IN_FLIGHT: Duration = Duration::from_secs(120);

/// What the fake store does with a connection it accepted.
#[derive(Clone, Copy, Debug)]
enum Store {
    /// Keeps it open and never answers (a Redis that hangs: the round trip must be cut).
    Silent,
    /// Closes it at once (a Redis that is going away).
    Closing,
}

/// A loopback listener on the current runtime playing a store that is away; counts the
/// connections it accepted.
struct FakeStore {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl FakeStore {
    async fn start(behaviour: Store) -> FakeStore {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}/", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    Store::Silent => held.push(socket),
                    Store::Closing => drop(socket),
                }
            }
        });
        FakeStore { url, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A Cloudflare on the current runtime answering every request with the account settings at
/// once.
async fn cloudflare() -> RawServer {
    let answer = raw_response(
        200,
        &[("content-type", b"application/json".to_vec())],
        fixture("account_settings.json").as_bytes(),
    );
    RawServer::start(move |_, _| RawReply::Bytes(answer.clone())).await
}

/// A paced client of `cloudflare` with `requests` per minute, sharing through `store`.
fn client(cloudflare: &RawServer, store: &str, requests: u32) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(cloudflare.url())
        .rate_limit(requests, Duration::from_secs(60))
        .rate_limit_store(store)
        .build()
        .unwrap()
}

/// A store that accepts and never answers: each call is held at most for its round trips to
/// the store, neither fails nor hangs, and the client paces in process on a quarter of the
/// budget (it never learnt how many share it). Connecting may take up to four round trips, once;
/// against a silent store it ends after one (the client's first command is not answered), and
/// this holds it to two.
#[tokio::test(start_paused = true)]
async fn a_store_that_never_answers_delays_a_call_by_its_bound_at_most() {
    let store = FakeStore::start(Store::Silent).await;
    let cloudflare = cloudflare().await;
    let client = client(&cloudflare, &store.url, 8);
    let first = Instant::now();
    for call in 0..2 {
        let started = Instant::now();
        let outcome = get_account(&client).await;
        let took = started.elapsed();
        assert!(outcome.is_ok(), "call {call}: {outcome:?}");
        assert!(
            took <= 2 * ROUND_TRIP,
            "call {call} took {took:?} for a store that never answers"
        );
    }
    assert!(store.accepted() >= 1, "the store was never tried");
    // A quarter of 8 a minute is 2: the third call waits for the first to leave the window.
    let outcome = get_account(&client).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let took = first.elapsed();
    assert!(
        took >= Duration::from_secs(60) && took <= Duration::from_secs(60) + 3 * ROUND_TRIP,
        "the third call, paced in process on a quarter share, ended at {took:?}"
    );
    assert_eq!(cloudflare.requests(), 3, "every call sent once");
}

/// Calls every 100 ms for 10 s against a store that is away (silent, or closing every
/// connection): the store is tried again, at most once a second.
#[tokio::test(start_paused = true)]
async fn an_away_store_is_tried_again_at_most_once_a_second() {
    const RUN: Duration = Duration::from_secs(10);
    for behaviour in [Store::Silent, Store::Closing] {
        let store = FakeStore::start(behaviour).await;
        let cloudflare = cloudflare().await;
        // A budget far above what the run sends: no call waits for pacing.
        let client = client(&cloudflare, &store.url, 100_000);
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < RUN {
            let outcome = get_account(&client).await;
            assert!(outcome.is_ok(), "{behaviour:?}: {outcome:?}");
            calls += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let tries = store.accepted();
        println!("{behaviour:?}: {tries} connections over {calls} calls in {RUN:?}");
        // At most one per second, the first at once.
        assert!(
            tries <= RUN.as_secs() as usize + 1,
            "{behaviour:?}: {tries} connections in {RUN:?}"
        );
        assert!(tries >= 2, "{behaviour:?}: the store was not tried again");
        assert_eq!(
            cloudflare.requests(),
            calls,
            "{behaviour:?}: each call sent once"
        );
    }
}

/// Every key the crate holds in `redis`, with its `PTTL` (milliseconds; -1 for no expiry).
async fn keys_and_ttls(redis: &mut redis::aio::MultiplexedConnection) -> Vec<(String, i64)> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("cloudflare-dns-settings:*")
        .query_async(redis)
        .await
        .unwrap();
    let mut out = Vec::new();
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(redis)
            .await
            .unwrap();
        // -2: it expired between KEYS and PTTL, which is what a key should do.
        if ttl != -2 {
            out.push((key, ttl));
        }
    }
    out
}

/// A run with a budget of 5 a second (announced by `Ratelimit-Policy`): afterwards every key
/// the crate made has a TTL, at most the window plus the in-flight hold; idle past the longest,
/// none is left. (About two minutes: the hold is the README's 2 minutes.)
#[tokio::test]
#[ignore = "needs redis-server (run by .ci/run)"]
async fn every_key_expires_by_itself() {
    let redis = Redis::start();
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let server = server().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(
            json_response(200, &fixture("account_settings.json"))
                .insert_header("ratelimit-policy", r#""default";q=5;w=1"#),
        )
        .mount(&server)
        .await;
    let window = Duration::from_secs(1);
    let client = builder(&server)
        .api_token(TOKEN)
        .rate_limit(5, window)
        .rate_limit_store(redis.url())
        .build()
        .unwrap();
    for _ in 0..12 {
        get_account(&client).await.unwrap();
    }
    // The last settlement goes in the background: let it land.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(client);
    let keys = keys_and_ttls(&mut conn).await;
    println!("after the run: {keys:?}");
    assert!(
        keys.iter().any(|(k, _)| k.ends_with(":window"))
            && keys.iter().any(|(k, _)| k.ends_with(":state")),
        "the run left no window or state in the store: {keys:?}"
    );
    for (key, ttl) in &keys {
        assert!(
            *ttl > 0 && *ttl as u128 <= (window + HELD_IN_FLIGHT).as_millis(),
            "{key}: PTTL {ttl} ms, expected 1..={} ms",
            (window + HELD_IN_FLIGHT).as_millis()
        );
    }
    // Idle past the longest TTL (Redis's clock is the wall clock): nothing is left.
    let longest = keys.iter().map(|(_, ttl)| *ttl as u64).max().unwrap();
    tokio::time::sleep(Duration::from_millis(longest + 500)).await;
    let left = keys_and_ttls(&mut conn).await;
    assert!(left.is_empty(), "keys left after idling: {left:?}");
}
