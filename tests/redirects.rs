//! Redirects are never followed: Cloudflare's API does not redirect, and a client that follows
//! one can carry the credentials to another origin (reqwest strips `Authorization` on a
//! cross-origin hop, but not `X-Auth-Email` / `X-Auth-Key`). A 3xx is `Error::Redirected`,
//! naming only the origin of its `Location`; the other origin receives nothing; no credential
//! is printed. A caller's own `reqwest::Client` (which may follow) is accepted with a token
//! only, and a response from another URL than the one asked is still `Error::Redirected`.

mod common;

use cloudflare_dns_settings::{Client, Error, ErrorKind};
use common::*;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// A server answering every request with `status` and `location`.
async fn redirecting(status: u16, location: &str) -> MockServer {
    let server = server().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("location", location)
                .insert_header("cf-ray", "8c3f0a1b2c3d4e5f-SJC"),
        )
        .mount(&server)
        .await;
    server
}

/// The port of a wiremock server.
fn port(server: &MockServer) -> u16 {
    server.address().port()
}

/// The error's Display and Debug and those of its sources: none may show a credential.
fn printed(error: &Error) -> String {
    let mut printed = format!("{error} {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        printed.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    printed
}

fn assert_no_credential(error: &Error) {
    let printed = printed(error);
    for secret in [TOKEN, KEY, EMAIL, "user%40example.com"] {
        assert!(!printed.contains(secret), "{secret} shown in: {printed}");
    }
}

/// Which client a case uses.
#[derive(Clone, Copy, Debug)]
enum Scheme {
    Token,
    Key,
}

fn client(scheme: Scheme, server: &MockServer) -> Client {
    match scheme {
        Scheme::Token => token_client(server),
        Scheme::Key => key_client(server),
    }
}

/// For every redirect status: the call fails with `Redirected` naming `origin`, the redirecting
/// server got exactly one request (no retry), and the target got none.
async fn assert_not_followed(scheme: Scheme, location: impl Fn(&MockServer) -> String) {
    for status in STATUSES {
        let target = server().await;
        let location = location(&target);
        let origin = {
            let url = reqwest::Url::parse(&location).unwrap();
            format!(
                "{}://{}:{}",
                url.scheme(),
                url.host_str().unwrap(),
                url.port().unwrap()
            )
        };
        let redirecting = redirecting(status, &location).await;
        let error = get_account(&client(scheme, &redirecting))
            .await
            .unwrap_err();
        let ErrorKind::Redirected {
            location: Some(named),
            ..
        } = error.kind()
        else {
            panic!("{scheme:?} {status}: {error:?}")
        };
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(named, &origin, "{scheme:?} {status}: the origin only");
        assert_eq!(error.ray_id(), Some("8c3f0a1b2c3d4e5f-SJC"));
        assert_eq!(error.attempts(), 1);
        assert!(!error.is_retryable());
        assert_no_credential(&error);
        assert!(
            !printed(&error).contains("/accounts") && !printed(&error).contains("steal"),
            "no path or query of the Location: {error}"
        );
        assert_eq!(
            received(&redirecting).await.len(),
            1,
            "{scheme:?} {status}: not retried"
        );
        assert_eq!(
            received(&target).await.len(),
            0,
            "{scheme:?} {status}: the other origin must receive nothing"
        );
    }
}

/// `localhost` is another host name than the `127.0.0.1` the client was given.
fn other_host_name(target: &MockServer) -> String {
    format!(
        "http://localhost:{}/accounts/{ACCOUNT}/dns_settings?steal=1",
        port(target)
    )
}

/// Same host, another port (another origin), with credentials in the Location's userinfo and
/// query that must not be echoed.
fn other_port_with_secrets(target: &MockServer) -> String {
    format!(
        "http://user%40example.com:{KEY}@127.0.0.1:{}/steal?token={TOKEN}&key={KEY}",
        port(target)
    )
}

#[tokio::test]
async fn a_token_is_not_carried_to_another_host_name() {
    assert_not_followed(Scheme::Token, other_host_name).await;
}

#[tokio::test]
async fn an_api_key_and_email_are_not_carried_to_another_host_name() {
    assert_not_followed(Scheme::Key, other_host_name).await;
}

#[tokio::test]
async fn a_token_is_not_carried_to_another_port_and_the_location_secrets_are_not_echoed() {
    assert_not_followed(Scheme::Token, other_port_with_secrets).await;
}

#[tokio::test]
async fn an_api_key_is_not_carried_to_another_port_and_the_location_secrets_are_not_echoed() {
    assert_not_followed(Scheme::Key, other_port_with_secrets).await;
}

/// An `https` origin pointing to `http`: the crate's own client follows nothing, so the downgrade
/// is refused like any other redirect. The redirect is to plain http on a name that is not
/// loopback by its spelling, which the client would never accept as a base URL.
#[tokio::test]
async fn a_redirect_to_plain_http_on_another_name_is_refused_for_both_schemes() {
    for scheme in [Scheme::Token, Scheme::Key] {
        for status in STATUSES {
            let redirecting =
                redirecting(status, "http://api.cloudflare.com.evil.example/client/v4").await;
            let error = get_account(&client(scheme, &redirecting))
                .await
                .unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::Redirected { location: Some(l), .. }
                        if l == "http://api.cloudflare.com.evil.example"
                ),
                "{scheme:?} {status}: {error:?}"
            );
            assert_no_credential(&error);
            assert_eq!(received(&redirecting).await.len(), 1);
        }
    }
}

#[tokio::test]
async fn a_relative_location_names_the_origin_it_resolves_to() {
    let redirecting = redirecting(302, "/elsewhere?token=x").await;
    let error = get_account(&token_client(&redirecting)).await.unwrap_err();
    let expected = format!("http://127.0.0.1:{}", port(&redirecting));
    assert!(
        matches!(error.kind(), ErrorKind::Redirected { location: Some(l), .. } if *l == expected),
        "{error:?}"
    );
    assert_eq!(received(&redirecting).await.len(), 1);
}

#[tokio::test]
async fn a_redirect_without_a_location_is_an_error_without_one() {
    let server = server().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(307))
        .mount(&server)
        .await;
    let error = get_account(&key_client(&server)).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Redirected { location: None, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("(no location)"), "{error}");
    assert_no_credential(&error);
}

#[tokio::test]
async fn a_callers_http_client_is_refused_with_an_api_key() {
    let server = server().await;
    let refused = builder(&server)
        .api_key(EMAIL, KEY)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap_err();
    assert!(
        matches!(refused.kind(), ErrorKind::Config(_)),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("API token only"), "{refused}");
    assert_no_credential(&refused);
}

/// A caller's client that follows redirects (reqwest's default policy): the crate sees that the
/// response came from another URL and reports a redirect, and reqwest did not forward the
/// bearer token to the other host.
#[tokio::test]
async fn a_callers_client_that_follows_is_reported_as_redirected_and_never_forwards_the_token() {
    for status in STATUSES {
        let target = serve_get(200, &fixture("account_settings.json")).await;
        // Also answer a re-sent PATCH/POST, so that only the header decides.
        Mock::given(any())
            .respond_with(json_response(200, &fixture("account_settings.json")))
            .mount(&target)
            .await;
        let redirecting = redirecting(status, &other_host_name(&target)).await;
        let client = builder(&redirecting)
            .api_token(TOKEN)
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
        let error = get_account(&client).await.unwrap_err();
        let expected = format!("http://localhost:{}", port(&target));
        assert!(
            matches!(error.kind(), ErrorKind::Redirected { location: Some(l), .. } if *l == expected),
            "{status}: {error:?}"
        );
        assert_no_credential(&error);
        // The other origin answered the request it was sent: it may have acted on it.
        assert_eq!(error.applied(), cloudflare_dns_settings::Applied::Maybe);
        let seen = received(&target).await;
        assert_eq!(seen.len(), 1, "{status}: reqwest followed once");
        assert!(
            !seen[0].headers.contains_key("authorization"),
            "{status}: the token reached the other host: {:?}",
            seen[0].headers
        );
        assert!(
            seen[0].headers.values().all(|v| !v
                .as_bytes()
                .windows(TOKEN.len())
                .any(|w| w == TOKEN.as_bytes())),
            "{status}: the token is in another header"
        );
        // The redirecting origin did get the token: it is the one the caller configured.
        let first = received(&redirecting).await;
        assert_eq!(first.len(), 1);
        assert_eq!(
            first[0].headers.get("authorization").unwrap(),
            format!("Bearer {TOKEN}").as_str()
        );
    }
}

/// The same with a PATCH: whatever method reqwest re-sends (a 303 turns it into a GET), the
/// call is a redirect error and the target never sees the token.
#[tokio::test]
async fn a_callers_client_that_follows_a_patch_never_forwards_the_token() {
    use cloudflare_dns_settings::types::{AccountSettingsPatch, ZoneDefaultsPatch};
    for status in STATUSES {
        let target = server().await;
        Mock::given(any())
            .respond_with(json_response(200, &fixture("account_settings.json")))
            .mount(&target)
            .await;
        let redirecting = redirecting(status, &other_host_name(&target)).await;
        let client = builder(&redirecting)
            .api_token(TOKEN)
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
        let patch = AccountSettingsPatch {
            zone_defaults: Some(ZoneDefaultsPatch {
                ns_ttl: Some(3600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let error = client
            .account_edit()
            .account_id(ACCOUNT)
            .body(patch)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::Redirected { .. }),
            "{error:?}"
        );
        // The redirect was followed (else "never forwarded" would hold for want of a request).
        let seen = received(&target).await;
        assert_eq!(seen.len(), 1, "{status}: reqwest followed once");
        let resent = if status == 303 { "GET" } else { "PATCH" };
        assert_eq!(seen[0].method.as_str(), resent, "{status}");
        for request in seen {
            assert!(
                !request.headers.contains_key("authorization"),
                "{status}: token forwarded"
            );
        }
    }
}

/// An https origin redirecting to plain http (a downgrade) on another host name, through a
/// caller's client that trusts the test CA and follows redirects as reqwest does by default.
/// (The crate's own client cannot be pointed at a test CA; it follows no redirect at all, which
/// the tests above show for both schemes.)
#[cfg(feature = "rustls")]
mod downgrade {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    /// Test-only TLS material (tests/tls/README.md), kept out of tests/fixtures/, whose every
    /// file other tests read as a response.
    fn tls(name: &str) -> String {
        let path = format!("{}/tests/tls/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// An https server on 127.0.0.1 answering every request with `status` and `location`;
    /// returns its port and the heads of the requests it read.
    async fn tls_redirecting(status: u16, location: String) -> (u16, Arc<Mutex<Vec<String>>>) {
        let cert = CertificateDer::from_pem_slice(tls("localhost.pem").as_bytes())
            .expect("the test certificate");
        let key =
            PrivateKeyDer::from_pem_slice(tls("localhost.key").as_bytes()).expect("the test key");
        let config = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("a server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let log = heads.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, log, location) = (acceptor.clone(), log.clone(), location.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    while !head.ends_with(b"\r\n\r\n") {
                        let mut byte = [0u8; 1];
                        match tls.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    log.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).to_ascii_lowercase());
                    let answer = format!(
                        "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\n\
                         connection: close\r\n\r\n"
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (port, heads)
    }

    #[tokio::test]
    async fn an_https_to_http_redirect_is_reported_and_the_token_never_reaches_the_http_host() {
        for status in STATUSES {
            let target = server().await;
            Mock::given(any())
                .respond_with(json_response(200, &fixture("account_settings.json")))
                .mount(&target)
                .await;
            let location = format!("http://localhost:{}/client/v4", port(&target));
            let (origin, heads) = tls_redirecting(status, location).await;
            let trusting = reqwest::Client::builder()
                .tls_certs_only([
                    reqwest::Certificate::from_pem(tls("test-ca.pem").as_bytes()).unwrap(),
                ])
                .build()
                .unwrap();
            let client = Client::builder()
                .api_token(TOKEN)
                .base_url(format!("https://127.0.0.1:{origin}"))
                .http_client(trusting)
                .build()
                .unwrap();
            let error = get_account(&client).await.unwrap_err();
            let expected = format!("http://localhost:{}", port(&target));
            assert!(
                matches!(error.kind(), ErrorKind::Redirected { location: Some(l), .. } if *l == expected),
                "{status}: {error:?}"
            );
            assert_no_credential(&error);
            let heads = heads.lock().unwrap().clone();
            assert_eq!(heads.len(), 1, "{status}: the https origin was asked once");
            assert!(
                heads[0].contains(&format!(
                    "authorization: bearer {}",
                    TOKEN.to_ascii_lowercase()
                )),
                "{status}: the https origin got the token: {}",
                heads[0]
            );
            let seen = received(&target).await;
            assert_eq!(seen.len(), 1, "{status}: reqwest followed the downgrade");
            assert!(
                !seen[0].headers.contains_key("authorization"),
                "{status}: the token went over plain http"
            );
        }
    }
}
