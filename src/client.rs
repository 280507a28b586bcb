//! Building a [`Client`]: credentials, base URL, timeouts and limits.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use crate::pacing::Pacer;
use crate::retry::RetryPolicy;
use crate::{Client, Credentials, Error};

/// Cloudflare's API base URL, used unless [`ClientBuilder::base_url`] or `CLOUDFLARE_BASE_URL`
/// says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Total time allowed for one request, response body included (as Cloudflare's SDKs).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read; a larger one is [`Error::ResponseTooLarge`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Retries after the first attempt, for connection errors, timeouts, 408, 409, 429 and 5xx.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// First retry backoff (doubled each retry, with jitter), as Cloudflare's SDKs.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Longest retry backoff.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(8);
/// Longest wait honoured from a `retry-after` or `retry-after-ms` header.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Longest single wait for a spent rate-limit window (Cloudflare's window is 5 minutes).
pub const DEFAULT_MAX_PACING_WAIT: Duration = Duration::from_secs(300);

/// Per-client state the generated client carries (progenitor's "inner type").
#[derive(Clone, Debug)]
pub struct ClientState {
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
    max_pacing_wait: Duration,
}

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
            },
            pace_requests: true,
            max_pacing_wait: DEFAULT_MAX_PACING_WAIT,
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

    /// Retries after the first attempt (default [`DEFAULT_MAX_RETRIES`]; 0 disables). Retried:
    /// connection errors, timeouts, HTTP 408, 409, 429 and 5xx; never another 4xx. A response
    /// header `x-should-retry: true|false` overrides the decision.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
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
    /// [`DEFAULT_MAX_RETRY_AFTER`]); a longer one is cut to this.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.retry.max_retry_after = cap;
        self
    }

    /// Rate-limit pacing (default on). The client reads `Ratelimit`, `Ratelimit-Policy` and
    /// `X-RateLimit-*` response headers and, when the window is spent, holds further requests
    /// until it resets (each wait at most `max_wait`, default [`DEFAULT_MAX_PACING_WAIT`]),
    /// rather than run into a 429 and a blocked token. Without such headers it does nothing.
    pub fn pace_requests(mut self, on: bool) -> Self {
        self.pace_requests = on;
        self
    }

    /// Longest single pacing wait (default [`DEFAULT_MAX_PACING_WAIT`]).
    pub fn max_pacing_wait(mut self, max_wait: Duration) -> Self {
        self.max_pacing_wait = max_wait;
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
    /// [`Credentials::from_lookup`] for which scheme wins) and `CLOUDFLARE_BASE_URL`.
    pub fn env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        self.credentials = Some(Credentials::from_lookup(&lookup)?);
        if let Some(url) = lookup("CLOUDFLARE_BASE_URL").filter(|u| !u.is_empty()) {
            self.base_url = url;
        }
        Ok(self)
    }

    /// Builds the client. Fails, sending nothing, without credentials, with a credential that
    /// cannot be a header value, or with a base URL that is not HTTPS (or loopback HTTP).
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Config(
                "no credentials: call api_token(…) or api_key(…), or use Client::from_env()".into(),
            )
        })?;
        let auth_headers = credentials.headers()?;
        let base_url = checked_base_url(&self.base_url)?;
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config("the user agent is not a valid header value".into()))?;
        let mut http = reqwest::Client::builder()
            .user_agent(user_agent)
            .pool_idle_timeout(self.pool_idle_timeout);
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        if let Some(timeout) = self.connect_timeout {
            http = http.connect_timeout(timeout);
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let state = ClientState {
            credentials,
            auth_headers,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            pacer: self.pace_requests.then(|| Arc::new(Pacer::default())),
            max_pacing_wait: self.max_pacing_wait,
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

fn checked_base_url(raw: &str) -> Result<String, Error> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::Config(format!("base URL `{raw}` is not a URL: {e}")))?;
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
            return Err(Error::Config(format!(
                "base URL `{raw}` is plain http to a non-loopback host; credentials would travel unencrypted (use https)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "base URL scheme `{other}` is not http(s)"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "base URL `{raw}` must not carry a query or fragment"
        )));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

impl Client {
    /// A builder with the documented defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: `CLOUDFLARE_API_TOKEN`, or `CLOUDFLARE_EMAIL`
    /// with `CLOUDFLARE_API_KEY` (the token wins when both are set), and `CLOUDFLARE_BASE_URL`.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder()
            .env_with(|name| std::env::var(name).ok())?
            .build()
    }
}
