//! Shared by the integration tests: a loopback mock Cloudflare and fixtures.
#![allow(dead_code)]

use std::time::Duration;

use cloudflare_dns_settings::types::AccountSettings;
use cloudflare_dns_settings::{Client, ClientBuilder, Error};
use wiremock::matchers::{any, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const ZONE: &str = "372e67954025e0ba6aaa6d586b9e0b59";
pub const TOKEN: &str = "cfut_test-token-Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQ";
pub const EMAIL: &str = "user@example.com";
pub const KEY: &str = "144c9defac04969c7bfad8efaa8ea194";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn json_fixture(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).expect("fixture is JSON")
}

/// A mock server whose unmatched requests get a loud 500.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500).set_body_string("no mock matched this request"))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// Default settings but for a backoff of milliseconds, to keep retried tests fast.
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .base_url(server.uri())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

pub fn token_client(server: &MockServer) -> Client {
    builder(server)
        .api_token(TOKEN)
        .build()
        .expect("client builds")
}

pub fn key_client(server: &MockServer) -> Client {
    builder(server)
        .api_key(EMAIL, KEY)
        .build()
        .expect("client builds")
}

pub fn json_response(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .insert_header("cf-ray", "8c3f0a1b2c3d4e5f-SJC")
        .set_body_string(body.to_string())
}

/// Requests the server received that reached a real mock (not the catch-all).
pub async fn received(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

/// A server answering every GET with `status` and the JSON `body`.
pub async fn serve_get(status: u16, body: &str) -> MockServer {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(json_response(status, body))
        .mount(&server)
        .await;
    server
}

/// The account settings read through `client`.
pub async fn get_account(client: &Client) -> Result<AccountSettings, Error> {
    client.account_get().account_id(ACCOUNT).send().await
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
