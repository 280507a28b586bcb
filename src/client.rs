//! Building a [`Client`]: credentials, base URL, timeouts and limits.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use crate::pacing::{CLOUDFLARE_LIMIT, CLOUDFLARE_WINDOW, Pacer};
use crate::retry::RetryPolicy;
use crate::{Client, Credentials, Error};

/// Cloudflare's API base URL, used unless [`ClientBuilder::base_url`] or `CLOUDFLARE_BASE_URL`
/// says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Total time allowed for one request, response body included (as Cloudflare's SDKs).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read; a larger one is
/// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Retries after the first attempt, for connection errors, timeouts, 408, 409, 429 and 5xx.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// First retry backoff (doubled each retry, with jitter), as Cloudflare's SDKs.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Longest retry backoff.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(8);
/// Longest wait honoured from a `retry-after` or `retry-after-ms` header.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest an attempt waits for room in the rate-limit budget; a wait known to be longer fails the
/// call at once with [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited), and so does one
/// that reaches it. Longer than Cloudflare's 5-minute window, so that a paced bulk job waits for
/// the window rather than failing.
pub const DEFAULT_MAX_PACING_WAIT: Duration = Duration::from_secs(330);
/// Longest a whole call may take: every attempt, backoff, `retry-after` wait and pacing wait
/// together. Room for a full rate-limit window of pacing plus a few attempts; never forever.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
/// The rate-limit budget assumed until the API says otherwise: Cloudflare's documented global
/// limit of 1200 requests per 5 minutes per user.
pub const DEFAULT_RATE_LIMIT: (u32, Duration) = (CLOUDFLARE_LIMIT, CLOUDFLARE_WINDOW);
/// Longest one round trip to a shared rate-limit store may take before the store counts as away
/// (the `redis` feature). Connecting may take a few round trips.
#[cfg(feature = "redis")]
pub const DEFAULT_RATE_LIMIT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

/// Per-client state the generated client carries (progenitor's "inner type"). Only
/// [`ClientBuilder::build`] makes one.
#[derive(Clone, Debug)]
pub(crate) struct ClientState {
    /// Kept so that `Debug` shows which scheme is in use (secrets redacted).
    #[allow(dead_code)]
    pub(crate) credentials: Credentials,
    /// Built once from the credentials; each value is marked sensitive.
    pub(crate) auth_headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) max_response_bytes: usize,
    pub(crate) retry: RetryPolicy,
    /// Shared by clones of the client: one token, one budget. `None` when pacing is off.
    pub(crate) pacer: Option<Arc<Pacer>>,
    pub(crate) max_pacing_wait: Duration,
    /// Per attempt.
    pub(crate) timeout: Option<Duration>,
    /// Per call.
    pub(crate) deadline: Option<Duration>,
    /// The HTTP client is the caller's: it may follow redirects, so each response's URL is checked.
    pub(crate) custom_http: bool,
}

/// Builds a [`Client`]. Every setting has a documented default except the credentials.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    base_url: String,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    user_agent: String,
    max_response_bytes: usize,
    retry: RetryPolicy,
    pace_requests: bool,
    rate_limit: (u32, Duration),
    max_pacing_wait: Duration,
    deadline: Option<Duration>,
    http_client: Option<reqwest::Client>,
    rate_limit_store: Option<StoreUrl>,
    #[cfg(feature = "redis")]
    rate_limit_scope: Option<String>,
    #[cfg(feature = "redis")]
    rate_limit_store_timeout: Duration,
}

/// The URL of a shared rate-limit store; it may carry a password, which `Debug` does not show.
#[derive(Clone)]
struct StoreUrl(String);

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Its origin only, as for the base URL: a password may hold any character.
        let origin = url::Url::parse(&self.0).ok().and_then(|url| origin(&url));
        f.write_str(origin.as_deref().unwrap_or("(not shown)"))
    }
}

/// The environment variable naming a shared rate-limit store (the `redis` feature).
pub const RATE_LIMIT_STORE_ENV: &str = "CLOUDFLARE_RATE_LIMIT_REDIS_URL";
/// The environment variable naming the budget that credentials share in a rate-limit store
/// (the `redis` feature; `ClientBuilder::rate_limit_scope`).
pub const RATE_LIMIT_SCOPE_ENV: &str = "CLOUDFLARE_RATE_LIMIT_SCOPE";

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            credentials: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            user_agent: concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")).to_string(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy {
                max_retries: DEFAULT_MAX_RETRIES,
                initial_backoff: DEFAULT_INITIAL_BACKOFF,
                max_backoff: DEFAULT_MAX_BACKOFF,
                max_retry_after: DEFAULT_MAX_RETRY_AFTER,
                retry_non_idempotent: false,
            },
            pace_requests: true,
            rate_limit: DEFAULT_RATE_LIMIT,
            max_pacing_wait: DEFAULT_MAX_PACING_WAIT,
            deadline: Some(DEFAULT_DEADLINE),
            http_client: None,
            rate_limit_store: None,
            #[cfg(feature = "redis")]
            rate_limit_scope: None,
            #[cfg(feature = "redis")]
            rate_limit_store_timeout: DEFAULT_RATE_LIMIT_STORE_TIMEOUT,
        }
    }
}

impl ClientBuilder {
    /// Authenticate with an API token (`Authorization: Bearer …`).
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::api_token(token));
        self
    }

    /// Authenticate with an email and global API key (`X-Auth-Email` + `X-Auth-Key`).
    pub fn api_key(mut self, email: impl Into<String>, key: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::api_key(email, key));
        self
    }

    /// Authenticate with the given credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The API's base URL (default [`DEFAULT_BASE_URL`]). Plain `http://` is refused unless the
    /// host is loopback, so that credentials never cross a network unencrypted.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Total time for one attempt, response body included (default [`DEFAULT_TIMEOUT`]);
    /// `None` for no limit.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Time to open a connection (default [`DEFAULT_CONNECT_TIMEOUT`]); `None` for no limit.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// How long an idle pooled connection is kept (default 90 s); `None` keeps it.
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// Retries after the first attempt (default [`DEFAULT_MAX_RETRIES`]; 0 disables). What is
    /// retried depends on whether the operation is idempotent (README, "Retries"): GET, PUT,
    /// PATCH and DELETE after connection errors, timeouts, HTTP 408, 409, 429 and 5xx; a POST
    /// only when it certainly was not processed (a failed connect, a 429). A response header
    /// `x-should-retry: true|false` overrides the decision.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Retry non-idempotent operations (a POST that creates) as if they were idempotent
    /// (default off). Only turn this on if a duplicate is harmless to you: a create that timed
    /// out may have been applied, and would then be applied twice.
    pub fn retry_non_idempotent(mut self, on: bool) -> Self {
        self.retry.retry_non_idempotent = on;
        self
    }

    /// The longest a whole call may take, every attempt, backoff and wait included (default
    /// [`DEFAULT_DEADLINE`]); `None` for no limit. A wait that would end after it is not
    /// started: the call fails at once with its last error.
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// Send through this `reqwest::Client` (a proxy, custom roots, …) instead of one the crate
    /// builds. The crate's checks still apply: https only (or loopback http), per-attempt timeouts
    /// and the call's deadline, bounded bodies, and no redirect is ever accepted (a response from
    /// another URL than the one asked is [`ErrorKind::Redirected`](crate::ErrorKind::Redirected)).
    /// Because a `reqwest::Client` may follow redirects and would then forward `X-Auth-Email` and
    /// `X-Auth-Key` to wherever they point, it works with an API token only: with the legacy
    /// key pair [`build`](Self::build) refuses it. The connect timeout, pool settings and user
    /// agent are then those of the client given.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Exponential backoff between retries: `initial` doubled each time, at most `max`, with
    /// jitter (defaults [`DEFAULT_INITIAL_BACKOFF`], [`DEFAULT_MAX_BACKOFF`]).
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.initial_backoff = initial;
        self.retry.max_backoff = max.max(initial);
        self
    }

    /// Longest wait honoured from `retry-after` / `retry-after-ms` (default
    /// [`DEFAULT_MAX_RETRY_AFTER`]). A response asking for longer is not retried: the call fails at
    /// once (a 429 as [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited), carrying the wait
    /// asked for).
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.retry.max_retry_after = cap;
        self
    }

    /// Rate-limit pacing (default on). The client and its clones keep within a sliding budget of
    /// requests per window: Cloudflare's documented limit (see [`rate_limit`](Self::rate_limit))
    /// until responses say otherwise through `Ratelimit-Policy`, `Ratelimit` or `X-RateLimit-*`.
    /// When the budget is spent, a request waits for room rather than running into a 429 and a
    /// token blocked for 5 minutes; a wait longer than [`max_pacing_wait`](Self::max_pacing_wait)
    /// or the deadline fails the call at once with
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited).
    pub fn pace_requests(mut self, on: bool) -> Self {
        self.pace_requests = on;
        self
    }

    /// The budget pacing starts from: `requests` per `window` (default [`DEFAULT_RATE_LIMIT`],
    /// 1200 per 5 minutes). A `Ratelimit-Policy` response header replaces it.
    pub fn rate_limit(mut self, requests: u32, window: Duration) -> Self {
        self.rate_limit = (requests, window);
        self
    }

    /// Longest an attempt waits for room in the budget (default [`DEFAULT_MAX_PACING_WAIT`]),
    /// counted from when it started waiting: a wait known to be longer fails at once, and one
    /// spent polling for requests in flight to finish fails when it reaches this.
    pub fn max_pacing_wait(mut self, max_wait: Duration) -> Self {
        self.max_pacing_wait = max_wait;
        self
    }

    /// Share the rate-limit budget through the Redis server at `url` (`redis://host:port/db`,
    /// default none; the environment variable [`RATE_LIMIT_STORE_ENV`] sets it too). Every
    /// client of every process that names the same store, base URL and credential then paces
    /// within one budget (README, "One budget across processes"). When the store cannot be
    /// reached, a call neither hangs nor fails for that: the client paces on a share of the
    /// budget in process until the store is back. No effect with pacing off.
    #[cfg(feature = "redis")]
    pub fn rate_limit_store(mut self, url: impl Into<String>) -> Self {
        self.rate_limit_store = Some(StoreUrl(url.into()));
        self
    }

    /// Name the budget that credentials share in the rate-limit store (default: the
    /// credential's own; the environment variable [`RATE_LIMIT_SCOPE_ENV`] sets it too).
    /// Cloudflare counts its limit per user, across every token and key of that user: clients
    /// with different tokens of one user and the same scope pace within one budget. The store
    /// holds only a keyed hash of it, as of a credential.
    #[cfg(feature = "redis")]
    pub fn rate_limit_scope(mut self, scope: impl Into<String>) -> Self {
        self.rate_limit_scope = Some(scope.into());
        self
    }

    /// The longest one round trip to the rate-limit store may take before the store counts as
    /// away (default [`DEFAULT_RATE_LIMIT_STORE_TIMEOUT`]). It must exceed the store's round
    /// trip: a store farther away than this is never used. Connecting may take up to four.
    #[cfg(feature = "redis")]
    pub fn rate_limit_store_timeout(mut self, timeout: Duration) -> Self {
        self.rate_limit_store_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `cloudflare-dns-settings/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Largest response body read (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Applies the `CLOUDFLARE_*` settings found through `lookup`: the credentials (see
    /// [`Credentials::from_lookup`] for which scheme wins), `CLOUDFLARE_BASE_URL` and
    /// [`RATE_LIMIT_STORE_ENV`] (which [`build`](Self::build) refuses without the `redis`
    /// feature).
    pub fn env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        self.credentials = Some(Credentials::from_lookup(&lookup)?);
        if let Some(url) = lookup("CLOUDFLARE_BASE_URL").filter(|u| !u.is_empty()) {
            self.base_url = url;
        }
        if let Some(url) = lookup(RATE_LIMIT_STORE_ENV).filter(|u| !u.is_empty()) {
            self.rate_limit_store = Some(StoreUrl(url));
        }
        #[cfg(feature = "redis")]
        if let Some(scope) = lookup(RATE_LIMIT_SCOPE_ENV).filter(|s| !s.is_empty()) {
            self.rate_limit_scope = Some(scope);
        }
        Ok(self)
    }

    /// Builds the client. Fails, sending nothing, without credentials, with a credential that
    /// cannot be a header value, with a base URL that is not HTTPS (or loopback HTTP), or with
    /// the legacy key pair on a caller's own HTTP client.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::config(
                "no credentials: call api_token(…) or api_key(…), or use Client::from_env()".into(),
            )
        })?;
        let auth_headers = credentials.headers()?;
        let (base_url, loopback) = checked_base_url(&self.base_url)?;
        let custom_http = self.http_client.is_some();
        let http = match self.http_client {
            Some(_) if matches!(credentials, Credentials::ApiKey { .. }) => {
                return Err(Error::config(
                    "http_client(…) works with an API token only: a reqwest::Client may follow \
                     redirects, and would forward X-Auth-Email and X-Auth-Key to another host"
                        .into(),
                ));
            }
            Some(http) => http,
            None => {
                let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
                    Error::config("the user agent is not a valid header value".into())
                })?;
                let mut http = reqwest::Client::builder()
                    .user_agent(user_agent)
                    .pool_idle_timeout(self.pool_idle_timeout)
                    // Cloudflare's API does not redirect; following one could carry the
                    // credentials to another origin.
                    .redirect(reqwest::redirect::Policy::none());
                // A proxy from the environment is never between this process and loopback: a
                // plain-http loopback URL would hand it the credentials in clear text.
                if loopback {
                    http = http.no_proxy();
                }
                if let Some(timeout) = self.connect_timeout {
                    http = http.connect_timeout(timeout);
                }
                if let Some(timeout) = self.timeout {
                    http = http.timeout(timeout);
                }
                http.build()
                    .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?
            }
        };
        let (limit, window) = self.rate_limit;
        let pacer = match (self.pace_requests, self.rate_limit_store) {
            (false, _) => None,
            (true, None) => Some(Pacer::new(limit, window)),
            #[cfg(feature = "redis")]
            (true, Some(StoreUrl(url))) => {
                use crate::budget_store::{Owner, RedisBudget};
                let owner = match &self.rate_limit_scope {
                    Some(scope) => Owner::Scope(scope),
                    None => Owner::Credential(&credentials),
                };
                let timeout = self.rate_limit_store_timeout;
                let store = RedisBudget::open(&url, owner, &base_url, timeout)?;
                Some(Pacer::shared(limit, window, Box::new(store)))
            }
            #[cfg(not(feature = "redis"))]
            (true, Some(_)) => {
                return Err(Error::config(format!(
                    "{RATE_LIMIT_STORE_ENV} names a shared rate-limit store, which needs this \
                     crate's `redis` feature"
                )));
            }
        };
        let state = ClientState {
            credentials,
            auth_headers,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            pacer: pacer.map(Arc::new),
            max_pacing_wait: self.max_pacing_wait,
            timeout: self.timeout,
            deadline: self.deadline,
            custom_http,
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

/// The base URL without a trailing `/`, and whether its host is loopback.
fn checked_base_url(raw: &str) -> Result<(String, bool), Error> {
    // Never echoed: a password or token pasted into it may hold any character, `/`, `?`, `#` or
    // `@` included, and no reading of a malformed URL can tell where it ends. Messages show the
    // origin of a URL that parsed, nothing of one that did not.
    if raw.contains('@') {
        // A user name or password, perhaps with a `/` that makes it read as a host and a path.
        return Err(Error::config(
            "the base URL (not shown) contains `@`: credentials go in `api_token` or `api_key`"
                .into(),
        ));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::config(format!("the base URL (not shown) is not a URL: {e}")))?;
    // With no `@`, it carries no user name or password.
    let shown = origin(&url).unwrap_or_else(|| "(no host)".into());
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "base URL `{shown}` is plain http to a non-loopback host; credentials would travel unencrypted (use https)"
            )));
        }
        _ => {
            return Err(Error::config(
                "the base URL (not shown) is not http(s)".into(),
            ));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "the base URL for `{shown}` must not carry a query or fragment (not shown)"
        )));
    }
    Ok((raw.trim_end_matches('/').to_string(), loopback))
}

/// A URL's scheme, host and port: all of it that an error message may show.
pub(crate) fn origin(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

impl Client {
    /// A builder with the documented defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }

    /// A client configured from the environment: `CLOUDFLARE_API_TOKEN`, or `CLOUDFLARE_EMAIL`
    /// with `CLOUDFLARE_API_KEY` (the token wins when both are set), `CLOUDFLARE_BASE_URL`, and
    /// [`RATE_LIMIT_STORE_ENV`] (a shared rate-limit budget: the `redis` feature).
    pub fn from_env() -> Result<Client, Error> {
        Client::builder()
            .env_with(|name| std::env::var(name).ok())?
            .build()
    }
}
