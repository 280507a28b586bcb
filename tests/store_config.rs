//! Naming a shared rate-limit store (issue 18): without the `redis` feature, a store named in
//! the environment is refused rather than silently ignored; with it, a password in the store's
//! URL never shows, and a URL that is not one is a clear error.

mod common;

use cloudflare_dns_settings::{Client, Error, ErrorKind, RATE_LIMIT_STORE_ENV};
use common::TOKEN;

fn from_env(store: &str) -> Result<Client, Error> {
    Client::builder()
        .env_with(|name| match name {
            "CLOUDFLARE_API_TOKEN" => Some(TOKEN.to_string()),
            name if name == RATE_LIMIT_STORE_ENV => Some(store.to_string()),
            _ => None,
        })?
        .build()
}

#[cfg(not(feature = "redis"))]
#[test]
fn without_the_feature_a_store_in_the_environment_is_refused() {
    let error = from_env("redis://:hunter2@127.0.0.1:6379/").unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Config(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(RATE_LIMIT_STORE_ENV) && message.contains("`redis` feature"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    // Empty is unset; and with pacing off the store would not be used anyway.
    from_env("").unwrap();
}

#[cfg(feature = "redis")]
#[test]
fn the_stores_password_never_shows() {
    let url = "redis://:hunter2@127.0.0.1:6379/";
    let builder = Client::builder().api_token(TOKEN).rate_limit_store(url);
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("127.0.0.1:6379"),
        "{shown}"
    );
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains(TOKEN),
        "{shown}"
    );
    let client = from_env(url).unwrap();
    assert!(!format!("{client:?}").contains("hunter2"));
}

#[cfg(feature = "redis")]
#[test]
fn a_store_url_that_is_not_one_is_a_config_error_without_it() {
    for url in ["http://user:hunter2@host/", "not a url hunter2"] {
        let error = from_env(url).unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Config(_)), "{error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
