//! The `redis` feature: one rate-limit budget in Redis, shared by every client of every process
//! that names the same store and the same budget (the credential's, or a scope's).
//!
//! The budget is a sliding window log, as Cloudflare's limit is a sliding window: a sorted set
//! whose members are requests and whose scores are when each leaves the window. One Lua script,
//! atomic on the server and on Redis's own clock (`TIME`), drops what has left, and admits a
//! request (adding it, held until it ends) or says when the oldest request that must leave will
//! have left, and whether that one is still in flight (its room comes back only a window after
//! its answer: the caller asks again rather than sleeping the hold). A second script settles a
//! request (sent in the same pipeline as the client's next admission, or by a task of its own
//! when none follows at once): its answer counts from then until a window later (so the store
//! never counts less than the API did), a request whose end is unknown (a timeout, a dropped
//! future) a second more, a 429's lockout holds every client, a `Ratelimit-Policy` sets the
//! budget for all, and a `Ratelimit` that counts more than the store (requests sent by a client
//! outside it) adds what is missing. Every key expires on its own. A fixed window (a counter per
//! period) is not used: it lets twice the limit through around a period's boundary, which at
//! Cloudflare means a 5-minute lockout.
//!
//! The state carries a generation, made when the state is: a client that finds another than
//! the one it last saw, sooner than the state could have expired, knows the store lost it (a
//! flush, a failover) while requests of the window still count at the API. The script then fills
//! the window, once, for a window (nobody knows the whole window, so nobody spends it), and the
//! client says so once through `tracing`.
//!
//! Keys are `cloudflare-dns-settings:{<hash>}:…`, the hash an HMAC-SHA256 of the base URL and
//! the credential (or the scope): Redis never sees the credential, and neither do logs.
//!
//! Connecting (and loading the scripts) runs in a task of its own, bounded by
//! [`CONNECT_ROUND_TRIPS`] round trips; every round trip after that by the store's timeout. A
//! round trip runs in a task too: a caller dropped while it is on its way leaves nothing behind
//! (an admission made for it is released at once). A store that cannot be reached or does not
//! answer in time is away: the pacer falls back to a share of the budget in process, this is
//! said once through `tracing`, and the store is tried again at most every [`RETRY_AWAY`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use redis::aio::MultiplexedConnection;
use secrecy::ExposeSecret;
use sha2::Sha256;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use crate::pacing::{End, SharedBudget, StoreAnswer, StoreAway, StoreFuture};
use crate::{Credentials, Error};

/// How many round trips connecting may take: the connection, the client's set-up and the
/// scripts' loading (one pipeline), and one to spare.
pub(crate) const CONNECT_ROUND_TRIPS: u32 = 4;
/// How long a store found away is left alone before it is tried again.
pub(crate) const RETRY_AWAY: Duration = Duration::from_secs(1);
/// How long past its window a request admitted but never settled (its process died) is kept:
/// longer than an attempt may take (60 s by default).
const HELD_IN_FLIGHT: u64 = 120;
/// How much longer than a window a request whose end is unknown is kept (milliseconds): it may
/// reach the API after it was given up, as the in-process budget counts a request to the end of
/// the second it ended in.
const UNKNOWN_SLACK_MS: u64 = 1000;
/// Settlements kept for the store while it does not answer (the oldest go first): a store away
/// for long loses them, and their requests leave it by the in-flight hold.
const MAX_PENDING: usize = 10_000;
/// The most entries one script adds at once (a store that lost its state is filled, requests
/// the API counts beyond the store's are added): a budget larger than this, which no Cloudflare
/// limit is, is filled only this far rather than stalling Redis.
const MAX_ADDED: u64 = 10_000;
/// Into how many shares the budget is split while the store is away, before the store has ever
/// said how many clients use it.
const UNKNOWN_SHARERS: u64 = 4;
/// The key of the keyed hash that names a budget. It is not a secret: it makes the hash this
/// crate's own (domain separation); the credential is what cannot be recovered.
const HASH_KEY: &[u8] = b"cloudflare-dns-settings rate-limit budget v1";

/// KEYS: the window (sorted set), the state (hash: limit, window, locked, gen, filled, n), the
/// sharers (sorted set). ARGV: the request, the limit and window (s) the client knows, the
/// in-flight hold (s), the client, the unknown-end slack (ms), the generation the client expects
/// (empty when it has none within a window), the most entries it may add. A state of another
/// generation than expected was lost while requests of the window still count at the API: the
/// window is filled, once, until a window from now (nobody knows the whole window, so nobody
/// spends it). Returns `{wait_ms,
/// sharers, gen, in_flight}`, or when admitted `{0, sharers, gen, n, used}`: `n` counts
/// admissions, `used` what the window held before this one. Times in milliseconds of Redis's
/// clock (exact in a Lua number, and in the `%.14g` Redis formats it with).
const TAKE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HMGET', KEYS[2], 'limit', 'window', 'locked', 'gen', 'filled')
local limit = tonumber(st[1]) or tonumber(ARGV[2])
local window = (tonumber(st[2]) or tonumber(ARGV[3])) * 1000
local gen = tonumber(st[4])
if not gen then
  gen = now
  redis.call('HSET', KEYS[2], 'gen', gen)
end
if redis.call('PTTL', KEYS[2]) < 2 * window then
  redis.call('PEXPIRE', KEYS[2], 2 * window)
end
redis.call('ZADD', KEYS[3], now + window, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('PEXPIRE', KEYS[3], window)
local sharers = redis.call('ZCARD', KEYS[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local used = redis.call('ZCARD', KEYS[1])
if ARGV[7] ~= '' and tonumber(ARGV[7]) ~= gen and not st[5] then
  redis.call('HSET', KEYS[2], 'filled', 1)
  for i = 1, math.min(limit - used, tonumber(ARGV[8])) do
    redis.call('ZADD', KEYS[1], now + window, 'lost:' .. gen .. ':' .. i)
  end
  used = math.max(used, limit)
  if redis.call('PTTL', KEYS[1]) < window then
    redis.call('PEXPIRE', KEYS[1], window)
  end
end
local locked = tonumber(st[3]) or 0
if locked > now then
  return {locked - now, sharers, gen, 0}
end
if used < limit then
  local ttl = window + tonumber(ARGV[4]) * 1000
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[1]) < ttl then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
  return {0, sharers, gen, n, used}
end
local nth = tonumber(redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')[2])
local in_flight = 0
if nth > now + window + tonumber(ARGV[6]) then
  in_flight = 1
end
return {math.max(1, nth - now), sharers, gen, in_flight}
"#;

/// KEYS: as [`TAKE`]. ARGV: the request; how it ended (`a` answered, `n` not sent, `u` unknown);
/// the limit and window (s) the client knows; then from the answer, each empty when it said
/// nothing: the policy's limit and window (s), the lockout (ms), what remains; then `n` and
/// `used` from its admission (empty when unknown); the unknown-end slack (ms); the generation
/// of its admission (empty when unknown); the most entries it may add.
const SETTLE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'limit', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[2], 'window', ARGV[6]) end
local st = redis.call('HMGET', KEYS[2], 'limit', 'window', 'locked')
local limit = tonumber(st[1]) or tonumber(ARGV[3])
local window = (tonumber(st[2]) or tonumber(ARGV[4])) * 1000
local locked = tonumber(st[3]) or 0
local keep = window
if ARGV[2] == 'n' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  if ARGV[2] == 'u' then keep = window + tonumber(ARGV[11]) end
  -- From its end (however late), and added if it is not there (the store lost it): it reached
  -- the API all the same.
  redis.call('ZADD', KEYS[1], now + keep, ARGV[1])
end
if ARGV[7] ~= '' and now + tonumber(ARGV[7]) > locked then
  locked = now + tonumber(ARGV[7])
  redis.call('HSET', KEYS[2], 'locked', locked)
end
if ARGV[8] ~= '' and ARGV[9] ~= '' then
  -- The server counted when the request arrived: among what the store held when it admitted
  -- the request, itself, and what it admitted since (some may have left the store by now). An
  -- admission of a state since lost compares with what the store holds now.
  local held
  if ARGV[12] ~= '' and tonumber(ARGV[12]) ~= tonumber(redis.call('HGET', KEYS[2], 'gen')) then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    held = redis.call('ZCARD', KEYS[1])
  else
    local since = (tonumber(redis.call('HGET', KEYS[2], 'n')) or 0) - tonumber(ARGV[9])
    held = tonumber(ARGV[10]) + 1 + math.max(since, 0)
  end
  local missing = limit - held - tonumber(ARGV[8])
  for i = 1, math.min(missing, limit, tonumber(ARGV[13])) do
    redis.call('ZADD', KEYS[1], now + window, ARGV[1] .. ':' .. i)
  end
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl ~= -2 and pttl < keep then
  redis.call('PEXPIRE', KEYS[1], keep)
end
redis.call('PEXPIRE', KEYS[2], math.max(locked - now, 0) + 2 * window)
return 0
"#;

/// A budget in Redis (see the module's documentation).
#[derive(Clone)]
pub(crate) struct RedisBudget(Arc<Inner>);

/// The connection and the two scripts' SHA1s.
type Connection = (MultiplexedConnection, Arc<[String; 2]>);

struct Inner {
    client: redis::Client,
    /// The window, state and sharers keys.
    keys: [String; 3],
    /// This client's name in the store (random), and the last ticket given.
    me: String,
    next: AtomicU64,
    /// The longest one round trip may take before the store counts as away.
    round_trip: Duration,
    /// The connection, while the store is reachable.
    conn: Mutex<Option<Connection>>,
    /// Whether a task is connecting, until when the first connection may take, and word that a
    /// connection attempt has ended.
    connecting: AtomicBool,
    first: Mutex<Option<Instant>>,
    connected: Notify,
    health: Mutex<Health>,
    sharers: AtomicU64,
    /// Per request admitted and not yet settled: the store's admission count, what its window
    /// held then, and its generation.
    admissions: Mutex<HashMap<u64, (u64, u64, u64)>>,
    /// Settlements not yet sent (the settle script's arguments), and whether a task is about to
    /// send them.
    pending: Mutex<Vec<[String; 13]>>,
    flushing: AtomicBool,
    /// The generation of the store's state last seen, and when.
    seen: Mutex<Option<(u64, Instant)>>,
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

/// Whose budget a store keeps.
#[derive(Clone, Copy)]
pub(crate) enum Owner<'a> {
    /// The credential's own (the default).
    Credential(&'a Credentials),
    /// A scope's, shared by every credential that names it (the tokens of one user).
    Scope(&'a str),
}

impl RedisBudget {
    /// A store at `url` (`redis://host:port/db`), for the budget of `owner` at `base_url`, each
    /// round trip bounded by `round_trip`. Nothing is sent until the first request; a URL that is
    /// not one is an [`ErrorKind::Config`](crate::ErrorKind::Config) that does not echo it (it may
    /// carry a password).
    pub fn open(
        url: &str,
        owner: Owner<'_>,
        base_url: &str,
        round_trip: Duration,
    ) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::config(format!(
                "the rate-limit store URL is not a Redis URL ({:?}); expected redis://host:port/db",
                e.kind()
            ))
        })?;
        let prefix = format!(
            "cloudflare-dns-settings:{{{}}}",
            budget_name(owner, base_url)
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
            round_trip,
            conn: Mutex::new(None),
            connecting: AtomicBool::new(false),
            first: Mutex::new(None),
            connected: Notify::new(),
            health: Mutex::new(Health::default()),
            sharers: AtomicU64::new(0),
            admissions: Mutex::new(HashMap::new()),
            pending: Mutex::new(Vec::new()),
            flushing: AtomicBool::new(false),
            seen: Mutex::new(None),
        })))
    }
}

/// The hex of the first 128 bits of HMAC-SHA256(base URL, credential or scope).
fn budget_name(owner: Owner<'_>, base_url: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(HASH_KEY).expect("HMAC takes any key length");
    mac.update(base_url.as_bytes());
    mac.update(b"\0");
    match owner {
        Owner::Credential(Credentials::ApiToken(token)) => {
            mac.update(b"token\0");
            mac.update(token.expose_secret().as_bytes());
        }
        Owner::Credential(Credentials::ApiKey { email, key }) => {
            mac.update(b"key\0");
            mac.update(email.as_bytes());
            mac.update(b"\0");
            mac.update(key.expose_secret().as_bytes());
        }
        Owner::Scope(scope) => {
            mac.update(b"scope\0");
            mac.update(scope.as_bytes());
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
    /// The connection. Without one, and unless the store is known to be away, a task connects;
    /// the caller waits for it at most one round trip (while the first connection is being
    /// made, until it may have taken [`CONNECT_ROUND_TRIPS`]): a store farther away is used from
    /// a later call on, and this one paces in process meanwhile.
    async fn connection(self: &Arc<Self>) -> Result<Connection, StoreAway> {
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
        let ended = self.connected.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        let now = Instant::now();
        let first = {
            let mut first = self.first.lock().map_err(|_| StoreAway)?;
            *first.get_or_insert_with(|| now.checked_add(self.connect_bound()).unwrap_or(now))
        };
        if !self.connecting.swap(true, Ordering::AcqRel) {
            // Whatever becomes of the task (it ends, or its runtime drops it unrun), the flag
            // goes down and waiters hear of it.
            let attempt = Attempt(self.clone());
            tokio::spawn(async move { attempt.0.clone().connect().await });
        }
        let until = first.max(now.checked_add(self.round_trip).unwrap_or(now));
        let _ = tokio::time::timeout_at(until, ended).await;
        self.conn
            .lock()
            .map_err(|_| StoreAway)?
            .clone()
            .ok_or(StoreAway)
    }

    /// Connects and loads the scripts, within [`CONNECT_ROUND_TRIPS`] round trips; then says so
    /// to whoever waits.
    async fn connect(self: Arc<Self>) {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.round_trip))
            .set_response_timeout(Some(self.round_trip));
        let connect = async {
            let mut conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            let mut load = redis::pipe();
            for script in [TAKE, SETTLE] {
                load.cmd("SCRIPT").arg("LOAD").arg(script);
            }
            let (take, settle): (String, String) = load.query_async(&mut conn).await?;
            redis::RedisResult::Ok((conn, Arc::new([take, settle])))
        };
        match tokio::time::timeout(self.connect_bound(), connect).await {
            Ok(Ok(conn)) => {
                if let Ok(mut slot) = self.conn.lock() {
                    *slot = Some(conn);
                }
                self.back();
            }
            Ok(Err(e)) => {
                self.away(&e.to_string());
            }
            Err(_) => {
                self.away("no answer in time");
            }
        }
    }

    /// How long connecting may take.
    fn connect_bound(&self) -> Duration {
        self.round_trip.saturating_mul(CONNECT_ROUND_TRIPS)
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

    /// The generation of the store's state this client expects: the last it saw, when it saw
    /// it within a window (`window` seconds; the state expires two windows after its last use,
    /// so it cannot have expired since). Empty when there is none.
    fn expected(&self, window: u64) -> String {
        match self.seen.lock().ok().and_then(|seen| *seen) {
            Some((generation, at)) if at.elapsed() < Duration::from_secs(window) => {
                generation.to_string()
            }
            _ => String::new(),
        }
    }

    /// The store's state is of `generation`, and counts `sharers` clients. Another generation
    /// than expected means the store lost its state (the script filled the window): said once
    /// per loss and client.
    fn saw(&self, generation: u64, sharers: u64, window: u64) {
        self.sharers.store(sharers, Ordering::Relaxed);
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let now = Instant::now();
        if let Some((last, at)) = *seen
            && last != generation
            && now.saturating_duration_since(at) < Duration::from_secs(window)
        {
            tracing::warn!(
                store = %self.keys[0],
                "rate-limit store lost its state (a flush or a failover): requests of the window \
                 are unknown to it, so none is admitted until a window has passed"
            );
        }
        *seen = Some((generation, now));
    }

    /// Sends the settlements waiting and, with `take`'s arguments, the admission script, in one
    /// pipeline (one round trip), bounded in time; the admission's answer. Settlements whose
    /// round trip failed are kept for the next (settling twice is settling once), up to
    /// [`MAX_PENDING`].
    async fn run(
        self: &Arc<Self>,
        take: Option<&(dyn Fn(&mut redis::Pipeline) + Sync)>,
    ) -> Result<Option<Vec<u64>>, StoreAway> {
        let (mut conn, shas) = self.connection().await?;
        let pending = std::mem::take(&mut *self.pending.lock().map_err(|_| StoreAway)?);
        if pending.is_empty() && take.is_none() {
            return Ok(None);
        }
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
        let failed = match tokio::time::timeout(self.round_trip, answer).await {
            Ok(Ok(answer)) => {
                self.back();
                return Ok(answer);
            }
            Ok(Err(e)) => self.away(&e.to_string()),
            Err(_) => self.away("no answer in time"),
        };
        if let Ok(mut queue) = self.pending.lock() {
            let mut kept = pending;
            kept.append(&mut queue);
            let over = kept.len().saturating_sub(MAX_PENDING);
            kept.drain(..over);
            *queue = kept;
        }
        Err(failed)
    }

    /// One admission round trip (see [`TAKE`]).
    async fn take(
        self: &Arc<Self>,
        ticket: u64,
        limit: u64,
        window: u64,
    ) -> Result<StoreAnswer, StoreAway> {
        let member = self.member(ticket);
        let expected = self.expected(window);
        let take = |pipe: &mut redis::Pipeline| {
            pipe.arg(&member)
                .arg(limit)
                .arg(window)
                .arg(HELD_IN_FLIGHT)
                .arg(&self.me)
                .arg(UNKNOWN_SLACK_MS)
                .arg(&expected)
                .arg(MAX_ADDED);
        };
        let answer = match self.run(Some(&take)).await {
            Ok(answer) => answer.unwrap_or_default(),
            Err(away) => {
                // The script may have run (a slow answer, a broken connection): whatever it
                // admitted is released with the next round trip (a release of nothing is
                // nothing).
                self.settle(ticket, End::NotSent, limit, window);
                return Err(away);
            }
        };
        match answer[..] {
            [0, sharers, generation, n, used] => {
                self.saw(generation, sharers, window);
                if let Ok(mut admissions) = self.admissions.lock() {
                    admissions.insert(ticket, (n, used, generation));
                }
                Ok(StoreAnswer::Admitted)
            }
            [wait, sharers, generation, in_flight @ (0 | 1)] => {
                self.saw(generation, sharers, window);
                Ok(StoreAnswer::Wait {
                    wait: Duration::from_millis(wait),
                    in_flight: in_flight == 1,
                })
            }
            _ => Err(self.away("an answer of the wrong shape")),
        }
    }

    fn member(&self, ticket: u64) -> String {
        format!("{}:{ticket}", self.me)
    }

    /// Queues a settlement, sent with this client's next admission, or by a task of its own if
    /// none comes first.
    fn settle(self: &Arc<Self>, ticket: u64, end: End, limit: u64, window: u64) {
        let admission = self
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
            self.member(ticket),
            kind.to_string(),
            limit.to_string(),
            window.to_string(),
            text(news.limit),
            text(news.window),
            text(lockout),
            text(news.remaining),
            text(admission.map(|a| a.0)),
            text(admission.map(|a| a.1)),
            UNKNOWN_SLACK_MS.to_string(),
            text(admission.map(|a| a.2)),
            MAX_ADDED.to_string(),
        ];
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        pending.push(args);
        drop(pending);
        if !self.flushing.swap(true, Ordering::AcqRel) {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                self.flushing.store(false, Ordering::Release);
                return;
            };
            let flush = Flush(self.clone());
            runtime.spawn(async move {
                tokio::task::yield_now().await;
                let inner = flush.0.clone();
                drop(flush);
                let _ = inner.run(None).await;
            });
        }
    }
}

/// A connection attempt's task: its end (or its drop, unrun) lowers the flag and wakes waiters.
struct Attempt(Arc<Inner>);

impl Drop for Attempt {
    fn drop(&mut self) {
        self.0.connecting.store(false, Ordering::Release);
        self.0.connected.notify_waiters();
    }
}

/// A flush about to run: once it starts (or is dropped, unrun), the next settlement may start
/// another.
struct Flush(Arc<Inner>);

impl Drop for Flush {
    fn drop(&mut self) {
        self.0.flushing.store(false, Ordering::Release);
    }
}

/// An admission on its way to the caller that asked for it: released if it never arrives.
struct Admission {
    inner: Option<Arc<Inner>>,
    ticket: u64,
    limit: u64,
    window: u64,
}

impl Admission {
    fn arrived(mut self) {
        self.inner = None;
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.settle(self.ticket, End::NotSent, self.limit, self.window);
        }
    }
}

impl SharedBudget for RedisBudget {
    fn ticket(&self) -> u64 {
        self.0.next.fetch_add(1, Ordering::Relaxed)
    }

    fn take(&self, ticket: u64, limit: u64, window: u64) -> StoreFuture<'_> {
        // The round trip runs in a task of its own, so that a caller dropped while it is on its
        // way (a timeout, a `select!`) leaves nothing behind: an admission made for nobody is
        // released at once, not held until the in-flight hold expires.
        let (tx, rx) = oneshot::channel();
        let inner = self.0.clone();
        tokio::spawn(async move {
            if tx.is_closed() {
                return;
            }
            let answer = match inner.take(ticket, limit, window).await {
                Ok(StoreAnswer::Admitted) => Ok(Admission {
                    inner: Some(inner.clone()),
                    ticket,
                    limit,
                    window,
                }),
                Ok(wait) => Err(Ok(wait)),
                Err(away) => Err(Err(away)),
            };
            // Not received: the admission inside is dropped, and so released.
            let _ = tx.send(answer);
        });
        Box::pin(async move {
            match rx.await {
                Ok(Ok(admission)) => {
                    admission.arrived();
                    Ok(StoreAnswer::Admitted)
                }
                Ok(Err(answer)) => answer,
                Err(_) => Err(StoreAway),
            }
        })
    }

    fn settle(&self, ticket: u64, end: End, limit: u64, window: u64) {
        self.0.settle(ticket, end, limit, window);
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

    const RT: Duration = Duration::from_millis(250);

    #[test]
    fn the_budget_name_is_a_keyed_hash_of_base_url_and_credential() {
        let base = "https://api.cloudflare.com/client/v4";
        let token = Credentials::api_token("cfut_secret-token-value");
        let name = budget_name(Owner::Credential(&token), base);
        assert_eq!(name.len(), 32);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            name,
            budget_name(Owner::Credential(&token.clone()), base),
            "stable"
        );
        assert_ne!(
            name,
            budget_name(
                Owner::Credential(&Credentials::api_token("cfut_other")),
                base
            )
        );
        assert_ne!(
            name,
            budget_name(Owner::Credential(&token), "http://127.0.0.1:1")
        );
        let key = Credentials::api_key("a@example.com", "cfut_secret-token-value");
        assert_ne!(name, budget_name(Owner::Credential(&key), base));
        let store =
            RedisBudget::open("redis://127.0.0.1:1/", Owner::Credential(&token), base, RT).unwrap();
        let shown = format!("{store:?}");
        assert!(
            shown.contains(&name) && !shown.contains("secret"),
            "{shown}"
        );
    }

    #[test]
    fn a_scope_names_one_budget_for_every_credential_and_is_not_a_credential() {
        let base = "https://api.cloudflare.com/client/v4";
        let (one, two) = (
            Credentials::api_token("cfut_one"),
            Credentials::api_token("cfut_two"),
        );
        let scope = budget_name(Owner::Scope("team-dns"), base);
        assert_eq!(scope, budget_name(Owner::Scope("team-dns"), base));
        assert_ne!(scope, budget_name(Owner::Scope("other"), base));
        assert_ne!(scope, budget_name(Owner::Credential(&one), base));
        assert_ne!(
            budget_name(Owner::Credential(&one), base),
            budget_name(Owner::Credential(&two), base)
        );
        // A token equal to the scope's text names another budget than the scope.
        let same_text = Credentials::api_token("team-dns");
        assert_ne!(scope, budget_name(Owner::Credential(&same_text), base));
    }

    /// A `redis-server` on a free loopback port, killed on drop.
    pub(crate) struct Server(std::process::Child, pub(crate) String);

    impl Server {
        pub(crate) fn start() -> Server {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let child = std::process::Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server is installed");
            let started = std::time::Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "redis-server did not start"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Server(child, format!("redis://127.0.0.1:{port}/"))
        }

        async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
            let client = redis::Client::open(self.1.as_str()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            cmd.query_async(&mut conn).await.unwrap()
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn store(server: &Server, base: &str) -> RedisBudget {
        let token = Credentials::api_token("t");
        RedisBudget::open(&server.1, Owner::Credential(&token), base, RT).unwrap()
    }

    /// How many requests the store's window holds.
    async fn held(server: &Server, store: &RedisBudget) -> usize {
        server
            .query(redis::cmd("ZCARD").arg(&store.0.keys[0]))
            .await
    }

    /// Waits (a little) for settlements sent in the background to land.
    async fn landed() {
        tokio::time::sleep(Duration::from_millis(30)).await;
    }

    /// The store's rule, as a property over generated fleets against a real `redis-server`
    /// (started here on a free port; run by `.ci/run`): clients (each its own `RedisBudget`,
    /// the same key) take and settle requests in a generated order with generated pauses.
    /// Upper bound: in no window of the budget does the store admit more than its limit (a
    /// sliding window: a fixed one would let twice through around a boundary), and a wait it
    /// asks for is never longer than a window plus the in-flight hold. Lower bound: whenever
    /// every request that could still count leaves room, the store admits (so a store that
    /// never gives room back, or never admits, fails), and a request settled as not sent gives
    /// its room back.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn the_store_admits_exactly_what_the_window_has_room_for() {
        use proptest::prelude::*;
        use std::time::Instant as Wall;

        let server = Server::start();
        #[derive(Debug, Clone)]
        enum Step {
            Take(usize),
            Settle(usize, u8),
            Pause(u64),
        }
        let steps = prop::collection::vec(
            prop_oneof![
                5 => (0usize..3).prop_map(Step::Take),
                4 => (0usize..3, 0u8..3).prop_map(|(c, k)| Step::Settle(c, k)),
                1 => (0u64..300).prop_map(Step::Pause),
            ],
            1..40,
        );
        /// A request the store admitted: when, by which client, when it stops counting
        /// (answered: a window after; unknown: a window and the slack after; unsettled: never,
        /// within a case), and when it was settled as not sent (it stops counting at once).
        struct Admitted {
            at: Wall,
            client: usize,
            ends: Option<Wall>,
            freed: Option<Wall>,
        }
        let case = AtomicU64::new(0);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 200,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let result = runner.run(&(1u64..6, steps), |(limit, steps)| {
            let case = case.fetch_add(1, Ordering::Relaxed);
            let window = 1u64;
            let span = Duration::from_secs(window);
            let slack = Duration::from_millis(UNKNOWN_SLACK_MS);
            runtime().block_on(async {
                // A budget of its own per case (its own base URL in the key).
                let base = format!("https://case-{case}.example");
                let clients: Vec<RedisBudget> = (0..3).map(|_| store(&server, &base)).collect();
                let mut open: Vec<Vec<(u64, usize)>> = vec![Vec::new(); 3];
                let mut admitted: Vec<Admitted> = Vec::new();
                // Clocks differ (Redis's and this one), and a settlement lands in the
                // background: a margin either way.
                let margin = Duration::from_millis(60);
                for step in steps {
                    match step {
                        Step::Take(c) => {
                            let now = Wall::now();
                            // Requests that may still count. Room freed by a request not sent
                            // is seen at once by the client that freed it (its settlement goes
                            // first), by others once the settlement has landed.
                            let may = admitted
                                .iter()
                                .filter(|a| match a.freed {
                                    Some(freed) => a.client != c && freed + margin > now,
                                    None => a.ends.is_none_or(|e| e + margin > now),
                                })
                                .count() as u64;
                            let ticket = clients[c].ticket();
                            match clients[c].take(ticket, limit, window).await {
                                Ok(StoreAnswer::Admitted) => {
                                    open[c].push((ticket, admitted.len()));
                                    admitted.push(Admitted {
                                        at: Wall::now(),
                                        client: c,
                                        ends: None,
                                        freed: None,
                                    });
                                }
                                Ok(StoreAnswer::Wait { wait, .. }) => {
                                    prop_assert!(
                                        wait <= Duration::from_secs(window + HELD_IN_FLIGHT),
                                        "{wait:?}"
                                    );
                                    prop_assert!(
                                        may >= limit,
                                        "refused with room: at most {may} of {limit} counted"
                                    );
                                }
                                Err(StoreAway) => prop_assert!(false, "the store is up"),
                            }
                        }
                        Step::Settle(c, kind) if !open[c].is_empty() => {
                            let (ticket, index) = open[c].remove(0);
                            let now = Wall::now();
                            let end = match kind {
                                0 => End::Answered(Default::default()),
                                1 => End::Unknown,
                                _ => End::NotSent,
                            };
                            let request = &mut admitted[index];
                            match end {
                                End::Answered(_) => request.ends = Some(now + span),
                                End::Unknown => request.ends = Some(now + span + slack),
                                End::NotSent => request.freed = Some(now),
                            }
                            clients[c].settle(ticket, end, limit, window);
                        }
                        Step::Settle(..) => {}
                        Step::Pause(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    }
                }
                // In any window (less the margin), at most `limit` requests were admitted, not
                // counting those freed (not sent) before the window's last admission.
                for (i, a) in admitted.iter().enumerate() {
                    let within = admitted[..=i]
                        .iter()
                        .filter(|b| a.at - b.at + margin < span && b.freed.is_none_or(|g| g > a.at))
                        .count() as u64;
                    prop_assert!(
                        within <= limit,
                        "{within} admitted within a window of {limit}"
                    );
                }
                Ok(())
            })
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }

    /// A lone client is admitted at the budget's pace: the limit at once, then, told to wait,
    /// admitted again once the wait (about a window) is over; and a request settled as not
    /// sent gives its room back at once.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn a_lone_client_is_admitted_at_the_budgets_pace() {
        let server = Server::start();
        runtime().block_on(async {
            let store = store(&server, "https://pace.example");
            let (limit, window) = (3, 1);
            let mut tickets = Vec::new();
            for _ in 0..limit {
                let ticket = store.ticket();
                assert_eq!(
                    store.take(ticket, limit, window).await.unwrap(),
                    StoreAnswer::Admitted
                );
                tickets.push(ticket);
            }
            // A request not sent gives its room back; the others count a window from now.
            store.settle(tickets[0], End::NotSent, limit, window);
            for &ticket in &tickets[1..] {
                store.settle(ticket, End::Answered(Default::default()), limit, window);
            }
            landed().await;
            let ticket = store.ticket();
            assert_eq!(
                store.take(ticket, limit, window).await.unwrap(),
                StoreAnswer::Admitted,
                "room given back by the request not sent"
            );
            store.settle(ticket, End::Answered(Default::default()), limit, window);
            landed().await;
            let StoreAnswer::Wait { wait, in_flight } =
                store.take(store.ticket(), limit, window).await.unwrap()
            else {
                panic!("admitted beyond the limit");
            };
            assert!(!in_flight);
            assert!(wait <= Duration::from_secs(window), "{wait:?}");
            tokio::time::sleep(wait + Duration::from_millis(5)).await;
            assert_eq!(
                store.take(store.ticket(), limit, window).await.unwrap(),
                StoreAnswer::Admitted,
                "room back after the wait asked for"
            );
        });
    }

    /// A window full of requests not yet answered says so (the caller asks again rather than
    /// sleeping the in-flight hold); once they are answered, the wait is about a window.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn a_window_full_of_requests_in_flight_says_so() {
        let server = Server::start();
        runtime().block_on(async {
            let store = store(&server, "https://in-flight.example");
            let (limit, window) = (2, 5);
            let tickets = [store.ticket(), store.ticket()];
            for ticket in tickets {
                assert_eq!(
                    store.take(ticket, limit, window).await.unwrap(),
                    StoreAnswer::Admitted
                );
            }
            let answer = store.take(store.ticket(), limit, window).await.unwrap();
            assert!(
                matches!(
                    answer,
                    StoreAnswer::Wait {
                        in_flight: true,
                        ..
                    }
                ),
                "{answer:?}"
            );
            for ticket in tickets {
                store.settle(ticket, End::Answered(Default::default()), limit, window);
            }
            landed().await;
            let StoreAnswer::Wait { wait, in_flight } =
                store.take(store.ticket(), limit, window).await.unwrap()
            else {
                panic!("admitted beyond the limit");
            };
            assert!(!in_flight);
            assert!(
                wait <= Duration::from_secs(window) && wait > Duration::from_secs(window - 1),
                "{wait:?}"
            );
        });
    }

    /// A caller dropped while its admission is on its way (at any point: before the task runs,
    /// while Redis answers, after) leaves nothing in the store: an admission made for it is
    /// released at once, not held for the in-flight hold.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn a_dropped_admission_is_released() {
        let server = Server::start();
        runtime().block_on(async {
            let store = store(&server, "https://dropped.example");
            let (limit, window) = (50, 60);
            // Connected first, so that drops fall before, during and after the round trip.
            assert_eq!(
                store.take(store.ticket(), limit, window).await.unwrap(),
                StoreAnswer::Admitted
            );
            // Each caller is polled, and the runtime given a turn, `steps` times, then dropped
            // unless its answer came: a drop before the round trip, during it, after it.
            let mut dropped = 0;
            for steps in 0..40 {
                let ticket = store.ticket();
                let mut take = store.take(ticket, limit, window);
                let mut answer = None;
                for _ in 0..=steps {
                    let polled =
                        std::future::poll_fn(|cx| std::task::Poll::Ready(take.as_mut().poll(cx)))
                            .await;
                    if let std::task::Poll::Ready(ready) = polled {
                        answer = Some(ready);
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                match answer {
                    // Arrived: the caller's to settle (as a turn does).
                    Some(Ok(StoreAnswer::Admitted)) => {
                        store.settle(ticket, End::NotSent, limit, window);
                    }
                    Some(other) => panic!("{other:?}"),
                    None => dropped += 1,
                }
            }
            assert!(dropped > 0, "no caller was dropped");
            // Only the first (never settled) is left once the releases have landed.
            let mut left = usize::MAX;
            for _ in 0..50 {
                landed().await;
                left = held(&server, &store).await;
                if left == 1 {
                    break;
                }
            }
            assert_eq!(left, 1, "admissions of dropped callers left in the store");
        });
    }

    /// A store that lost its state (FLUSHALL: a failover that lost writes) is noticed by a
    /// client that used it within the window, said once, and admits nothing until a window has
    /// passed: the requests the API still counts are unknown to it. A client with nothing in
    /// the window (a fresh start) finds an empty store and is admitted.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn a_store_that_lost_its_state_admits_nothing_for_a_window() {
        use std::sync::Arc as StdArc;
        let server = Server::start();
        let said = StdArc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let writer = said.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Writer(writer.clone()))
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        runtime().block_on(async {
            let (limit, window) = (10, 2);
            let store = store(&server, "https://flushed.example");
            for _ in 0..4 {
                let answer = store.take(store.ticket(), limit, window).await.unwrap();
                assert_eq!(answer, StoreAnswer::Admitted);
            }
            let () = server.query(&redis::cmd("FLUSHALL")).await;
            // A fresh client (nothing in its window) first: an empty store admits it.
            let fresh = super::tests::store(&server, "https://flushed.example");
            let answer = fresh.take(fresh.ticket(), limit, window).await.unwrap();
            assert_eq!(answer, StoreAnswer::Admitted);
            // The client that used the store finds it lost: the window is filled for a window.
            for _ in 0..3 {
                let StoreAnswer::Wait { wait, in_flight } =
                    store.take(store.ticket(), limit, window).await.unwrap()
                else {
                    panic!("admitted by a store that lost its state");
                };
                assert!(!in_flight);
                assert!(
                    wait > Duration::from_millis(1900) && wait <= Duration::from_secs(window),
                    "{wait:?}"
                );
            }
            assert_eq!(held(&server, &store).await, limit as usize);
            tokio::time::sleep(Duration::from_secs(window)).await;
            let answer = store.take(store.ticket(), limit, window).await.unwrap();
            assert_eq!(answer, StoreAnswer::Admitted, "room back a window later");
        });
        let said = String::from_utf8(said.lock().unwrap().clone()).unwrap();
        assert_eq!(said.matches("lost its state").count(), 1, "{said}");
    }

    /// A `tracing` writer into a shared buffer.
    struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Every key expires by itself: after use, each has a time to live, no longer than a window
    /// plus the in-flight hold.
    #[test]
    #[ignore = "needs redis-server (run by .ci/run)"]
    fn every_key_expires_by_itself() {
        let server = Server::start();
        runtime().block_on(async {
            let store = store(&server, "https://ttl.example");
            let (limit, window) = (5, 1);
            let ticket = store.ticket();
            store.take(ticket, limit, window).await.unwrap();
            store.settle(ticket, End::Unknown, limit, window);
            store.take(store.ticket(), limit, window).await.unwrap();
            landed().await;
            for key in &store.0.keys {
                let ttl: i64 = server.query(redis::cmd("PTTL").arg(key)).await;
                let most = (window + HELD_IN_FLIGHT) as i64 * 1000;
                assert!(ttl > 0 && ttl <= most, "{key}: {ttl} ms");
            }
        });
    }
    #[test]
    fn a_bad_url_is_a_config_error_that_does_not_echo_it() {
        let token = Credentials::api_token("t");
        let error = RedisBudget::open(
            "http://user:hunter2@host/",
            Owner::Credential(&token),
            "https://x",
            RT,
        )
        .unwrap_err()
        .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
