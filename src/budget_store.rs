//! The `redis` feature: one rate-limit budget in Redis, shared by every client of every process
//! that names the same store and the same credential.
//!
//! The budget is a sliding window log, as Cloudflare's limit is a sliding window: a sorted set
//! whose members are requests and whose scores are when each leaves the window. One Lua script,
//! atomic on the server and on Redis's own clock (`TIME`), drops what has left, and admits a
//! request (adding it, held until it ends) or says when the oldest request that must leave will
//! have left. A second script settles a request (sent in the same pipeline as the client's next
//! admission, or by a task of its own when none follows at once): its answer counts from then
//! until a window later (so the store never counts less than the API did), a 429's lockout
//! holds every client, a `Ratelimit-Policy` sets the budget for all, and a `Ratelimit` that
//! counts more than the store (requests sent by a client outside it) adds what is missing.
//! Every key expires on its own. A fixed window (a counter per period) is not used: it lets
//! twice the limit through around a period's boundary, which at Cloudflare means a 5-minute
//! lockout.
//!
//! Keys are `cloudflare-dns-settings:{<hash>}:…`, the hash an HMAC-SHA256 of the base URL and
//! the credential: Redis never sees the credential, and neither do logs.
//!
//! Every round trip is bounded ([`ROUND_TRIP`]). A store that cannot be reached or does not
//! answer in time is away: the pacer falls back to a share of the budget in process, this is
//! said once through `tracing`, and the store is tried again at most every [`RETRY_AWAY`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use redis::aio::MultiplexedConnection;
use secrecy::ExposeSecret;
use sha2::Sha256;
use tokio::time::Instant;

use crate::pacing::{End, SharedBudget, StoreAway, StoreFuture};
use crate::{Credentials, Error};

/// The longest one round trip to the store may take (connecting included) before it counts as
/// away.
pub(crate) const ROUND_TRIP: Duration = Duration::from_millis(250);
/// How long a store found away is left alone before it is tried again.
pub(crate) const RETRY_AWAY: Duration = Duration::from_secs(1);
/// How long past its window a request admitted but never settled (its process died) is kept:
/// longer than an attempt may take (60 s by default).
const HELD_IN_FLIGHT: u64 = 120;
/// Into how many shares the budget is split while the store is away, before the store has ever
/// said how many clients use it.
const UNKNOWN_SHARERS: u64 = 4;
/// The key of the keyed hash that names a credential's budget. It is not a secret: it makes the
/// hash this crate's own (domain separation); the credential is what cannot be recovered.
const HASH_KEY: &[u8] = b"cloudflare-dns-settings rate-limit budget v1";

/// KEYS: the window (sorted set), the state (hash: limit, window, locked), the sharers (sorted
/// set). ARGV: the request, the limit and window (s) the client knows, the in-flight hold (s),
/// the client. Returns `{wait_ms, sharers}`, or when admitted `{0, sharers, n, used}`: `n` counts
/// admissions, `used` what the window held before this one. Times in milliseconds of Redis's
/// clock (exact in a Lua number, and in the `%.14g` Redis formats it with).
const TAKE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HMGET', KEYS[2], 'limit', 'window', 'locked')
local limit = tonumber(st[1]) or tonumber(ARGV[2])
local window = (tonumber(st[2]) or tonumber(ARGV[3])) * 1000
local ttl = window + tonumber(ARGV[4]) * 1000
redis.call('ZADD', KEYS[3], now + window, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('PEXPIRE', KEYS[3], window)
local sharers = redis.call('ZCARD', KEYS[3])
local locked = tonumber(st[3]) or 0
if locked > now then
  return {locked - now, sharers}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local used = redis.call('ZCARD', KEYS[1])
if used < limit then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
  local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
  redis.call('PEXPIRE', KEYS[2], 2 * window)
  return {0, sharers, n, used}
end
local nth = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')
return {math.max(1, tonumber(nth[2]) - now), sharers}
"#;

/// KEYS: as [`TAKE`]. ARGV: the request; how it ended (`a` answered, `n` not sent, `u` unknown);
/// the limit and window (s) the client knows; then from the answer, each empty when it said
/// nothing: the policy's limit and window (s), the lockout (ms), what remains; then `n` and
/// `used` from its admission (empty when unknown).
const SETTLE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'limit', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[2], 'window', ARGV[6]) end
local st = redis.call('HMGET', KEYS[2], 'limit', 'window', 'locked')
local limit = tonumber(st[1]) or tonumber(ARGV[3])
local window = (tonumber(st[2]) or tonumber(ARGV[4])) * 1000
local locked = tonumber(st[3]) or 0
if ARGV[2] == 'n' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 'XX', 'LT', now + window, ARGV[1])
end
if ARGV[7] ~= '' and now + tonumber(ARGV[7]) > locked then
  locked = now + tonumber(ARGV[7])
  redis.call('HSET', KEYS[2], 'locked', locked)
end
if ARGV[8] ~= '' and ARGV[9] ~= '' then
  -- The server counted when the request arrived: among what the store held when it admitted
  -- the request, itself, and what it admitted since (some may have left the store by now).
  local since = (tonumber(redis.call('HGET', KEYS[2], 'n')) or 0) - tonumber(ARGV[9])
  local held = tonumber(ARGV[10]) + 1 + math.max(since, 0)
  local missing = limit - held - tonumber(ARGV[8])
  for i = 1, math.min(missing, limit) do
    redis.call('ZADD', KEYS[1], now + window, ARGV[1] .. ':' .. i)
  end
  if missing > 0 and redis.call('PTTL', KEYS[1]) < window then
    redis.call('PEXPIRE', KEYS[1], window)
  end
end
redis.call('PEXPIRE', KEYS[2], math.max(locked - now, 0) + 2 * window)
return 0
"#;

/// A budget in Redis (see the module's documentation).
#[derive(Clone)]
pub(crate) struct RedisBudget(Arc<Inner>);

struct Inner {
    client: redis::Client,
    /// The window, state and sharers keys.
    keys: [String; 3],
    /// This client's name in the store (random), and the last ticket given.
    me: String,
    next: AtomicU64,
    /// The connection and the two scripts' SHA1s, while the store is reachable.
    conn: Mutex<Option<(MultiplexedConnection, Arc<[String; 2]>)>>,
    /// Taken while connecting, so that concurrent callers wait for one attempt.
    connecting: tokio::sync::Mutex<()>,
    health: Mutex<Health>,
    sharers: AtomicU64,
    /// Per request admitted and not yet settled: the store's admission count and what its
    /// window held then.
    admissions: Mutex<std::collections::HashMap<u64, (u64, u64)>>,
    /// Settlements not yet sent (the settle script's arguments), and whether a task is about to
    /// send them.
    pending: Mutex<Vec<[String; 10]>>,
    flushing: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Health {
    /// Not tried again before this.
    retry_at: Option<Instant>,
    /// Said to be away (once per absence).
    away: bool,
}

impl std::fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password; the keys are fine to show.
        f.debug_struct("RedisBudget")
            .field("key", &self.0.keys[0])
            .finish_non_exhaustive()
    }
}

impl RedisBudget {
    /// A store at `url` (`redis://host:port/db`), for the budget of `credentials` at `base_url`.
    /// Nothing is sent until the first request; a URL that is not one is an [`Error::Config`]
    /// that does not echo it (it may carry a password).
    pub fn open(url: &str, credentials: &Credentials, base_url: &str) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::Config(format!(
                "the rate-limit store URL is not a Redis URL ({:?}); expected redis://host:port/db",
                e.kind()
            ))
        })?;
        let prefix = format!(
            "cloudflare-dns-settings:{{{}}}",
            budget_name(credentials, base_url)
        );
        Ok(RedisBudget(Arc::new(Inner {
            client,
            keys: [
                format!("{prefix}:window"),
                format!("{prefix}:state"),
                format!("{prefix}:sharers"),
            ],
            me: format!("{:016x}", random()),
            next: AtomicU64::new(0),
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            health: Mutex::new(Health::default()),
            sharers: AtomicU64::new(0),
            admissions: Mutex::new(std::collections::HashMap::new()),
            pending: Mutex::new(Vec::new()),
            flushing: std::sync::atomic::AtomicBool::new(false),
        })))
    }
}

/// The hex of the first 128 bits of HMAC-SHA256(base URL, credential).
fn budget_name(credentials: &Credentials, base_url: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(HASH_KEY).expect("HMAC takes any key length");
    mac.update(base_url.as_bytes());
    mac.update(b"\0");
    match credentials {
        Credentials::ApiToken(token) => {
            mac.update(b"token\0");
            mac.update(token.expose_secret().as_bytes());
        }
        Credentials::ApiKey { email, key } => {
            mac.update(b"key\0");
            mac.update(email.as_bytes());
            mac.update(b"\0");
            mac.update(key.expose_secret().as_bytes());
        }
    }
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 64 random bits from the standard library's random hasher keys.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

impl Inner {
    /// The connection, made (with the scripts loaded) if there is none and the store is not
    /// known to be away.
    async fn connection(&self) -> Result<(MultiplexedConnection, Arc<[String; 2]>), StoreAway> {
        if let Some(conn) = self.conn.lock().map_err(|_| StoreAway)?.clone() {
            return Ok(conn);
        }
        let _one = tokio::time::timeout(ROUND_TRIP, self.connecting.lock())
            .await
            .map_err(|_| StoreAway)?;
        if let Some(conn) = self.conn.lock().map_err(|_| StoreAway)?.clone() {
            return Ok(conn);
        }
        if self
            .health
            .lock()
            .map_err(|_| StoreAway)?
            .retry_at
            .is_some_and(|at| at > Instant::now())
        {
            return Err(StoreAway);
        }
        match tokio::time::timeout(ROUND_TRIP, self.connect()).await {
            Ok(Ok(conn)) => {
                if let Ok(mut slot) = self.conn.lock() {
                    *slot = Some(conn.clone());
                }
                Ok(conn)
            }
            Ok(Err(e)) => Err(self.away(&e.to_string())),
            Err(_) => Err(self.away("no answer in time")),
        }
    }

    async fn connect(&self) -> redis::RedisResult<(MultiplexedConnection, Arc<[String; 2]>)> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(ROUND_TRIP))
            .set_response_timeout(Some(ROUND_TRIP));
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let load = |script: &str| {
            let mut cmd = redis::cmd("SCRIPT");
            cmd.arg("LOAD").arg(script);
            cmd
        };
        let take: String = load(TAKE).query_async(&mut conn).await?;
        let settle: String = load(SETTLE).query_async(&mut conn).await?;
        Ok((conn, Arc::new([take, settle])))
    }

    /// Marks the store away (saying so once) and drops the connection; returns [`StoreAway`].
    fn away(&self, why: &str) -> StoreAway {
        if let Ok(mut slot) = self.conn.lock() {
            *slot = None;
        }
        if let Ok(mut health) = self.health.lock() {
            health.retry_at = Some(Instant::now() + RETRY_AWAY);
            if !health.away {
                health.away = true;
                tracing::warn!(
                    store = %self.keys[0],
                    error = why,
                    "rate-limit store unreachable: pacing on an in-process share of the budget \
                     until it is back"
                );
            }
        }
        StoreAway
    }

    fn back(&self) {
        if let Ok(mut health) = self.health.lock()
            && std::mem::take(&mut health.away)
        {
            tracing::info!(
                store = %self.keys[0],
                "rate-limit store reachable again: the budget is shared"
            );
        }
    }

    /// Sends the settlements waiting and, with `take`'s arguments, the admission script, in one
    /// pipeline (one round trip), bounded in time; the admission's answer. Settlements that
    /// cannot be sent are dropped: their requests leave the store by the in-flight hold.
    async fn run(
        &self,
        take: Option<&(dyn Fn(&mut redis::Pipeline) + Sync)>,
    ) -> Result<Option<Vec<u64>>, StoreAway> {
        let pending = std::mem::take(&mut *self.pending.lock().map_err(|_| StoreAway)?);
        if pending.is_empty() && take.is_none() {
            return Ok(None);
        }
        let (mut conn, shas) = self.connection().await?;
        let mut pipe = redis::pipe();
        for args in &pending {
            pipe.cmd("EVALSHA")
                .arg(&shas[1])
                .arg(self.keys.len())
                .arg(&self.keys)
                .arg(args.as_slice())
                .ignore();
        }
        if let Some(take) = take {
            pipe.cmd("EVALSHA")
                .arg(&shas[0])
                .arg(self.keys.len())
                .arg(&self.keys);
            take(&mut pipe);
        }
        let answer = async {
            if take.is_some() {
                pipe.query_async::<(Vec<u64>,)>(&mut conn)
                    .await
                    .map(|(answer,)| Some(answer))
            } else {
                pipe.query_async::<()>(&mut conn).await.map(|()| None)
            }
        };
        match tokio::time::timeout(ROUND_TRIP, answer).await {
            Ok(Ok(answer)) => {
                self.back();
                Ok(answer)
            }
            Ok(Err(e)) => Err(self.away(&e.to_string())),
            Err(_) => Err(self.away("no answer in time")),
        }
    }

    fn member(&self, ticket: u64) -> String {
        format!("{}:{ticket}", self.me)
    }
}

impl SharedBudget for RedisBudget {
    fn ticket(&self) -> u64 {
        self.0.next.fetch_add(1, Ordering::Relaxed)
    }

    fn take(&self, ticket: u64, limit: u64, window: u64) -> StoreFuture<'_> {
        Box::pin(async move {
            let member = self.0.member(ticket);
            let take = |pipe: &mut redis::Pipeline| {
                pipe.arg(&member)
                    .arg(limit)
                    .arg(window)
                    .arg(HELD_IN_FLIGHT)
                    .arg(&self.0.me);
            };
            let answer = self.0.run(Some(&take)).await?.unwrap_or_default();
            match answer[..] {
                [0, sharers, n, used] => {
                    self.0.sharers.store(sharers, Ordering::Relaxed);
                    if let Ok(mut admissions) = self.0.admissions.lock() {
                        admissions.insert(ticket, (n, used));
                    }
                    Ok(None)
                }
                [wait, sharers] => {
                    self.0.sharers.store(sharers, Ordering::Relaxed);
                    Ok(Some(Duration::from_millis(wait)))
                }
                _ => Err(self.0.away("an answer of the wrong shape")),
            }
        })
    }

    fn settle(&self, ticket: u64, end: End, limit: u64, window: u64) {
        let admission = self
            .0
            .admissions
            .lock()
            .ok()
            .and_then(|mut a| a.remove(&ticket));
        let text = |n: Option<u64>| n.map_or_else(String::new, |n| n.to_string());
        let (kind, news) = match end {
            End::Answered(news) => ("a", news),
            End::NotSent => ("n", Default::default()),
            End::Unknown => ("u", Default::default()),
        };
        let lockout = news
            .lockout
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let args = [
            self.0.member(ticket),
            kind.to_string(),
            limit.to_string(),
            window.to_string(),
            text(news.limit),
            text(news.window),
            text(lockout),
            text(news.remaining),
            text(admission.map(|a| a.0)),
            text(admission.map(|a| a.1)),
        ];
        let Ok(mut pending) = self.0.pending.lock() else {
            return;
        };
        pending.push(args);
        drop(pending);
        // Sent with this client's next admission, or by a task of its own if none comes first.
        if !self.0.flushing.swap(true, Ordering::AcqRel) {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                self.0.flushing.store(false, Ordering::Release);
                return;
            };
            let inner = self.0.clone();
            runtime.spawn(async move {
                tokio::task::yield_now().await;
                inner.flushing.store(false, Ordering::Release);
                let _ = inner.run(None).await;
            });
        }
    }

    fn sharers(&self) -> u64 {
        match self.0.sharers.load(Ordering::Relaxed) {
            0 => UNKNOWN_SHARERS,
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_name_is_a_keyed_hash_of_base_url_and_credential() {
        let base = "https://api.cloudflare.com/client/v4";
        let token = Credentials::api_token("cfut_secret-token-value");
        let name = budget_name(&token, base);
        assert_eq!(name.len(), 32);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(name, budget_name(&token.clone(), base), "stable");
        assert_ne!(
            name,
            budget_name(&Credentials::api_token("cfut_other"), base)
        );
        assert_ne!(name, budget_name(&token, "http://127.0.0.1:1"));
        let key = Credentials::api_key("a@example.com", "cfut_secret-token-value");
        assert_ne!(name, budget_name(&key, base));
        let store = RedisBudget::open("redis://127.0.0.1:1/", &token, base).unwrap();
        let shown = format!("{store:?}");
        assert!(
            shown.contains(&name) && !shown.contains("secret"),
            "{shown}"
        );
    }

    /// The store's rule, as a property over generated fleets against a real `redis-server`
    /// (started here on a free port; run by `.ci/run`): clients (each its own `RedisBudget`,
    /// the same key) take and settle requests in a generated order with generated pauses; in
    /// no window of the budget does the store admit more than its limit (a sliding window: a
    /// fixed one would let twice through around a boundary), every request settled as not
    /// sent gives its room back, and a wait the store asks for is never longer than a window
    /// plus the in-flight hold.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn the_store_never_admits_more_than_the_limit_in_any_window() {
        use proptest::prelude::*;

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut redis = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let url = format!("redis://127.0.0.1:{port}/");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        #[derive(Debug, Clone)]
        enum Step {
            Take(usize),
            Settle(usize, u8),
            Pause(u64),
        }
        let steps = prop::collection::vec(
            prop_oneof![
                4 => (0usize..3).prop_map(Step::Take),
                3 => (0usize..3, 0u8..3).prop_map(|(c, k)| Step::Settle(c, k)),
                1 => (0u64..400).prop_map(Step::Pause),
            ],
            1..60,
        );
        let case = AtomicU64::new(0);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 12,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let result = runner.run(&(1u64..6, steps), |(limit, steps)| {
            let case = case.fetch_add(1, Ordering::Relaxed);
            let window = 1u64;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                // A budget of its own per case (its own base URL in the key).
                let token = Credentials::api_token("t");
                let base = format!("https://case-{case}.example");
                let clients: Vec<RedisBudget> = (0..3)
                    .map(|_| RedisBudget::open(&url, &token, &base).unwrap())
                    .collect();
                let mut open: Vec<Vec<u64>> = vec![Vec::new(); 3];
                // When each request that still counts was admitted, and when it left.
                let mut admitted: Vec<(std::time::Instant, Option<std::time::Instant>)> =
                    Vec::new();
                let mut tickets: Vec<Vec<usize>> = vec![Vec::new(); 3];
                for step in steps {
                    match step {
                        Step::Take(c) => {
                            let ticket = clients[c].ticket();
                            match clients[c].take(ticket, limit, window).await {
                                Ok(None) => {
                                    open[c].push(ticket);
                                    tickets[c].push(admitted.len());
                                    admitted.push((std::time::Instant::now(), None));
                                }
                                Ok(Some(wait)) => prop_assert!(
                                    wait <= Duration::from_secs(window + HELD_IN_FLIGHT),
                                    "{wait:?}"
                                ),
                                Err(StoreAway) => prop_assert!(false, "the store is up"),
                            }
                        }
                        Step::Settle(c, kind) if !open[c].is_empty() => {
                            let ticket = open[c].remove(0);
                            let index = tickets[c].remove(0);
                            let end = match kind {
                                0 => End::Answered(Default::default()),
                                1 => End::Unknown,
                                _ => {
                                    // Never sent: it no longer counts.
                                    admitted[index].1 = Some(std::time::Instant::now());
                                    End::NotSent
                                }
                            };
                            clients[c].settle(ticket, end, limit, window);
                            // Settling runs in the background: let it land.
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Step::Settle(..) => {}
                        Step::Pause(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    }
                }
                // In any window (less a margin for the two clocks), at most `limit` requests
                // that still counted were admitted.
                let margin = Duration::from_millis(50);
                for (i, (at, _)) in admitted.iter().enumerate() {
                    let within = admitted[..=i]
                        .iter()
                        .filter(|(t, gone)| {
                            *at - *t + margin < Duration::from_secs(window)
                                && gone.is_none_or(|g| g > *at)
                        })
                        .count() as u64;
                    prop_assert!(
                        within <= limit,
                        "{within} admitted within a window of {limit}"
                    );
                }
                Ok(())
            })
        });
        let _ = redis.kill();
        let _ = redis.wait();
        if let Err(e) = result {
            panic!("{e}");
        }
    }

    #[test]
    fn a_bad_url_is_a_config_error_that_does_not_echo_it() {
        let token = Credentials::api_token("t");
        let error = RedisBudget::open("http://user:hunter2@host/", &token, "https://x")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
