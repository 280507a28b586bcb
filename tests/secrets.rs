//! Credentials: which scheme is chosen, and that no secret is ever printed.

mod common;

use std::collections::HashMap;

use cloudflare_dns_settings::{Client, Credentials, Error, ErrorKind};
use common::*;
use wiremock::Mock;
use wiremock::matchers::method;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn debug_of_client_and_credentials_never_shows_a_secret() {
    let token_client = Client::builder().api_token(TOKEN).build().unwrap();
    let key_client = Client::builder().api_key(EMAIL, KEY).build().unwrap();
    for printed in [
        format!("{token_client:?}"),
        format!("{token_client:#?}"),
        format!("{key_client:?}"),
        format!("{:?}", Credentials::api_token(TOKEN)),
        format!("{:?}", Credentials::api_key(EMAIL, KEY)),
        format!("{:?}", Client::builder().api_token(TOKEN)),
        format!("{:?}", Client::builder().api_key(EMAIL, KEY)),
    ] {
        assert!(
            !printed.contains(TOKEN) && !printed.contains(KEY) && !printed.contains(EMAIL),
            "credential in {printed}"
        );
        assert!(!printed.contains("cfut_"), "part of a secret in {printed}");
    }
    assert!(
        format!("{key_client:?}").contains("Sensitive"),
        "auth headers are marked sensitive"
    );
}

#[test]
fn token_wins_when_both_schemes_are_set() {
    let vars = [
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("CLOUDFLARE_EMAIL", EMAIL),
        ("CLOUDFLARE_API_KEY", KEY),
    ];
    let creds = Credentials::from_lookup(lookup(&vars)).unwrap();
    assert!(matches!(creds, Credentials::ApiToken(_)));
}

#[test]
fn email_and_key_are_used_when_no_token_is_set() {
    let vars = [
        ("CLOUDFLARE_API_TOKEN", ""),
        ("CLOUDFLARE_EMAIL", EMAIL),
        ("CLOUDFLARE_API_KEY", KEY),
    ];
    let creds = Credentials::from_lookup(lookup(&vars)).unwrap();
    assert!(matches!(creds, Credentials::ApiKey { .. }));
}

#[test]
fn half_a_key_pair_or_nothing_is_a_clear_error() {
    let err = Credentials::from_lookup(lookup(&[("CLOUDFLARE_EMAIL", EMAIL)])).unwrap_err();
    assert!(
        err.to_string().contains("CLOUDFLARE_API_KEY is not"),
        "{err}"
    );
    let err = Credentials::from_lookup(lookup(&[])).unwrap_err();
    assert!(err.to_string().contains("no credentials"), "{err}");
    let err = Client::builder().build().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config(_)));
}

#[test]
fn base_url_comes_from_the_environment() {
    let vars = [
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("CLOUDFLARE_BASE_URL", "http://127.0.0.1:9/client/v4"),
    ];
    let client = Client::builder()
        .env_with(lookup(&vars))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/client/v4");
}

#[test]
fn a_credential_with_a_line_break_is_refused_without_echoing_it() {
    let bad = "secret-part\r\nX-Injected: 1";
    for err in [
        Client::builder().api_token(bad).build().unwrap_err(),
        Client::builder().api_key(EMAIL, bad).build().unwrap_err(),
    ] {
        let printed = format!("{err} {err:?}");
        assert!(!printed.contains("secret-part"), "{printed}");
        assert!(matches!(err.kind(), ErrorKind::Config(_)));
    }
}

#[test]
fn plain_http_is_refused_unless_the_host_is_loopback() {
    let err = Client::builder()
        .api_token(TOKEN)
        .base_url("http://api.example.com/client/v4")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("unencrypted"), "{err}");
    for ok in [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:2",
        "https://api.example.com",
    ] {
        Client::builder()
            .api_token(TOKEN)
            .base_url(ok)
            .build()
            .unwrap();
    }
}

#[test]
fn a_base_url_with_a_user_name_or_password_is_refused_without_echoing_them() {
    for raw in [
        "https://user:hunter2@api.example.com/client/v4",
        "https://hunter2@api.example.com",
        "http://user:hunter2@127.0.0.1:1",
        "https://user:hunter2@exa mple.com",
    ] {
        let err = Client::builder()
            .api_token(TOKEN)
            .base_url(raw)
            .build()
            .unwrap_err();
        let printed = format!("{err} {err:?}");
        assert!(
            matches!(err.kind(), ErrorKind::Config(_)),
            "{raw}: {printed}"
        );
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}

/// A server that refuses every GET with Cloudflare's authentication error.
async fn refusing_server() -> wiremock::MockServer {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(json_response(
            403,
            &fixture("error_10000_authentication.json"),
        ))
        .mount(&server)
        .await;
    server
}

/// `error`'s message and `Debug`, and those of every error in its chain.
fn printed_chain(error: &Error) -> String {
    let mut printed = format!("{error} {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        printed.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    printed
}

#[tokio::test]
async fn error_messages_of_a_failing_call_never_show_the_secret() {
    let server = refusing_server().await;
    let error = get_account(&token_client(&server)).await.unwrap_err();
    let printed = printed_chain(&error);
    assert!(!printed.contains(TOKEN), "{printed}");
}

/// Whatever characters a token, key or email holds (control bytes, line breaks, non-ASCII,
/// quotes), no `Debug` of the builder, the client or the credentials, and no error of building
/// or of a failing call, shows it.
#[test]
fn no_message_shows_a_generated_secret() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(refusing_server());
    // A marker keeps the generated secret distinct from any fixed text a message may hold.
    let secret = "(\\PC|[\\x00-\\x1f\\x7f]){0,30}".prop_map(|s| format!("Zq9{s}Xw7"));
    proptest!(ProptestConfig::with_cases(256), |(token in secret.clone(), key in secret.clone(), user in secret, legacy: bool)| {
        let email = format!("{user}@example.com");
        let builder = if legacy {
            Client::builder().api_key(&email, &key)
        } else {
            Client::builder().api_token(&token)
        };
        let builder = builder.base_url(server.uri()).max_retries(0);
        let mut printed = format!("{builder:?}");
        match builder.build() {
            Ok(client) => {
                printed.push_str(&format!("{client:?}"));
                let error = rt.block_on(get_account(&client)).unwrap_err();
                printed.push_str(&printed_chain(&error));
            }
            Err(error) => printed.push_str(&format!("{error} {error:?}")),
        }
        printed.push_str(&format!("{:?}{:?}", Credentials::api_token(&token), Credentials::api_key(&email, &key)));
        for secret in [&token, &key, &user] {
            prop_assert!(!printed.contains(secret.trim()), "`{}` in {}", secret, printed);
        }
        prop_assert!(!printed.contains("Zq9"), "part of a secret in {}", printed);
    });
}
