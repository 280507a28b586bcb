//! A loopback base URL is never proxied (issue 23): with `HTTP_PROXY` and `ALL_PROXY` set (as a
//! developer's shell or a CI runner may have them), a plain-http call to loopback goes straight
//! to loopback, so the proxy never sees the token in clear text.
//!
//! A test binary of its own, with one test: it sets the process's environment.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use wiremock::Mock;
use wiremock::matchers::{header, method, path};

#[tokio::test]
async fn a_loopback_base_url_bypasses_proxies_from_the_environment() {
    // A "proxy" on loopback that counts what reaches it and never answers.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let reached = Arc::new(AtomicUsize::new(0));
    let count = reached.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = proxy.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        // SAFETY: this binary's only test, set before any thread that reads the environment.
        unsafe { std::env::set_var(name, &proxy_url) };
    }
    for name in ["NO_PROXY", "no_proxy"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }

    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/accounts/{ACCOUNT}/dns_settings")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server)
        .api_token(TOKEN)
        .timeout(std::time::Duration::from_secs(5))
        .max_retries(0)
        .build()
        .unwrap();
    let result = get_account(&client).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(reached.load(Ordering::SeqCst), 0, "the proxy saw the call");
}
