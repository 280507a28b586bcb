//! API credentials and the headers made from them.

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// How requests are authenticated. `Debug` never shows a secret.
#[derive(Clone)]
pub enum Credentials {
    /// An API token, sent as `Authorization: Bearer <token>` (preferred by Cloudflare).
    ApiToken(SecretString),
    /// The legacy pair: the account's email and its global API key, sent as `X-Auth-Email` and
    /// `X-Auth-Key`.
    ApiKey {
        /// The account's email address.
        email: String,
        /// The global API key.
        key: SecretString,
    },
}

impl Credentials {
    /// An API token.
    pub fn api_token(token: impl Into<String>) -> Self {
        Credentials::ApiToken(SecretString::from(token.into()))
    }

    /// An email and global API key.
    pub fn api_key(email: impl Into<String>, key: impl Into<String>) -> Self {
        Credentials::ApiKey {
            email: email.into(),
            key: SecretString::from(key.into()),
        }
    }

    /// Reads credentials through `lookup` (normally the environment). The rule:
    /// `CLOUDFLARE_API_TOKEN` wins when set; otherwise both `CLOUDFLARE_EMAIL` and
    /// `CLOUDFLARE_API_KEY` are needed. Empty values count as unset. Exactly one scheme is used.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        if let Some(token) = get("CLOUDFLARE_API_TOKEN") {
            return Ok(Credentials::api_token(token));
        }
        match (get("CLOUDFLARE_EMAIL"), get("CLOUDFLARE_API_KEY")) {
            (Some(email), Some(key)) => Ok(Credentials::api_key(email, key)),
            (Some(_), None) => Err(Error::config(
                "CLOUDFLARE_EMAIL is set but CLOUDFLARE_API_KEY is not; set both, or CLOUDFLARE_API_TOKEN".into(),
            )),
            (None, Some(_)) => Err(Error::config(
                "CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not; set both, or CLOUDFLARE_API_TOKEN".into(),
            )),
            (None, None) => Err(Error::config(
                "no credentials: set CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY".into(),
            )),
        }
    }

    /// The headers to send, marked sensitive so that no `Debug` prints them. A value that
    /// cannot be a header (CR, LF, other control bytes) is refused without echoing it.
    pub(crate) fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        fn secret(name: &str, value: &str) -> Result<HeaderValue, Error> {
            let mut v = HeaderValue::from_str(value).map_err(|_| {
                Error::config(format!(
                    "the {name} contains a character not allowed in an HTTP header (such as a line break)"
                ))
            })?;
            v.set_sensitive(true);
            Ok(v)
        }
        match self {
            Credentials::ApiToken(token) => Ok(vec![(
                reqwest::header::AUTHORIZATION,
                secret(
                    "API token",
                    &format!("Bearer {}", token.expose_secret().trim()),
                )?,
            )]),
            Credentials::ApiKey { email, key } => Ok(vec![
                (
                    HeaderName::from_static("x-auth-email"),
                    secret("email", email.trim())?,
                ),
                (
                    HeaderName::from_static("x-auth-key"),
                    secret("API key", key.expose_secret().trim())?,
                ),
            ]),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ApiToken(_) => f.debug_tuple("ApiToken").field(&"***").finish(),
            Credentials::ApiKey { .. } => f
                .debug_struct("ApiKey")
                .field("email", &"***")
                .field("key", &"***")
                .finish(),
        }
    }
}
