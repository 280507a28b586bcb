//! Each operation against a loopback server: method, path, both auth schemes, exact body sent.

mod common;

use cloudflare_dns_settings::Nullable;
use cloudflare_dns_settings::types::{
    AccountSettingsPatch, DnsSettingsZonePatch, SoaPatch, ZoneDefaultsPatch,
};
use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

async fn mount(server: &MockServer, verb: &str, route: &str, fixture_name: &str) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(json_response(200, &fixture(fixture_name)))
        .expect(1)
        .mount(server)
        .await;
}

fn only_request(requests: &[wiremock::Request]) -> &wiremock::Request {
    assert_eq!(requests.len(), 1, "exactly one request expected");
    &requests[0]
}

#[tokio::test]
async fn account_get_sends_get_with_bearer_token_and_no_body() {
    let server = server().await;
    mount(
        &server,
        "GET",
        &format!("/accounts/{ACCOUNT}/dns_settings"),
        "account_settings.json",
    )
    .await;
    let settings = get_account(&token_client(&server)).await.unwrap();
    assert_eq!(settings.zone_defaults.ns_ttl, 3600);

    let requests = received(&server).await;
    let request = only_request(&requests);
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
    assert!(request.headers.get("x-auth-key").is_none());
    assert!(request.headers.get("x-auth-email").is_none());
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn account_edit_sends_patch_with_exact_body() {
    let server = server().await;
    mount(
        &server,
        "PATCH",
        &format!("/accounts/{ACCOUNT}/dns_settings"),
        "account_settings.json",
    )
    .await;
    let patch = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(3600),
            soa: Some(SoaPatch {
                refresh: Some(7200),
                mname: Some(Nullable::Null),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let settings = token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap();
    assert_eq!(settings.zone_defaults.ns_ttl, 3600);

    let requests = received(&server).await;
    let request = only_request(&requests);
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        r#"{"zone_defaults":{"ns_ttl":3600,"soa":{"mname":null,"refresh":7200}}}"#
    );
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/json"
    );
}

#[tokio::test]
async fn account_edit_with_key_pair_sends_email_and_key_headers_only() {
    let server = server().await;
    mount(
        &server,
        "PATCH",
        &format!("/accounts/{ACCOUNT}/dns_settings"),
        "account_settings.json",
    )
    .await;
    key_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(AccountSettingsPatch {
            enforce_dns_only: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();

    let requests = received(&server).await;
    let request = only_request(&requests);
    assert_eq!(request.headers.get("x-auth-email").unwrap(), EMAIL);
    assert_eq!(request.headers.get("x-auth-key").unwrap(), KEY);
    assert!(request.headers.get("authorization").is_none());
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        r#"{"enforce_dns_only":true}"#
    );
}

#[tokio::test]
async fn zone_get_sends_get_to_zone_path() {
    let server = server().await;
    mount(
        &server,
        "GET",
        &format!("/zones/{ZONE}/dns_settings"),
        "zone_settings.json",
    )
    .await;
    let settings = key_client(&server)
        .zone_get()
        .zone_id(ZONE)
        .send()
        .await
        .unwrap();
    assert!(settings.flatten_all_cnames);
    let requests = received(&server).await;
    assert_eq!(
        only_request(&requests).headers.get("x-auth-key").unwrap(),
        KEY
    );
}

#[tokio::test]
async fn zone_edit_sends_patch_with_exact_body() {
    let server = server().await;
    mount(
        &server,
        "PATCH",
        &format!("/zones/{ZONE}/dns_settings"),
        "zone_settings.json",
    )
    .await;
    let patch = DnsSettingsZonePatch {
        multi_provider: Some(true),
        ..Default::default()
    };
    token_client(&server)
        .zone_edit()
        .zone_id(ZONE)
        .body(patch)
        .send()
        .await
        .unwrap();
    let requests = received(&server).await;
    let request = only_request(&requests);
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        r#"{"multi_provider":true}"#
    );
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn requests_carry_only_the_headers_meant() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(header(
            "user-agent",
            concat!("cloudflare-dns-settings/", env!("CARGO_PKG_VERSION")),
        ))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    get_account(&token_client(&server)).await.unwrap();
    let requests = received(&server).await;
    let request = only_request(&requests);
    assert!(
        request.headers.get("api-version").is_none(),
        "progenitor's api-version header must not be sent"
    );
    let mut names: Vec<&str> = request.headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["accept", "authorization", "host", "user-agent"]);
}
