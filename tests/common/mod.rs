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

/// What a [`RawServer`] does with a request it has read in full.
pub enum RawReply {
    /// Write these bytes (a whole HTTP/1.1 response), then close the connection.
    Bytes(Vec<u8>),
    /// Close the connection without answering (after the request was read: it may have been
    /// applied).
    Drop,
    /// Keep the connection open and never answer.
    Hold,
}

/// A loopback HTTP/1.1 server written on a bare socket, for what a polite server (wiremock)
/// cannot do: any status line, any header bytes, a dropped or held connection. It counts every
/// request it read in full, and keeps their heads.
pub struct RawServer {
    pub addr: std::net::SocketAddr,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RawServer {
    /// Starts on 127.0.0.1 in the current runtime. `reply(n, head)` decides what to do with the
    /// `n`th request (from 0), given its head (request line and headers, lossily decoded).
    pub async fn start(
        reply: impl Fn(usize, &str) -> RawReply + Send + Sync + 'static,
    ) -> RawServer {
        use std::sync::Arc;
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let (count, log) = (requests.clone(), heads.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (reply, count, log) = (reply.clone(), count.clone(), log.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    log.lock().unwrap().push(head.clone());
                    match reply(n, &head) {
                        RawReply::Bytes(bytes) => {
                            let _ = socket.write_all(&bytes).await;
                            let _ = socket.shutdown().await;
                        }
                        RawReply::Drop => drop(socket),
                        RawReply::Hold => {
                            std::future::pending::<()>().await;
                            drop(socket);
                        }
                    }
                });
            }
        });
        RawServer {
            addr,
            requests,
            heads,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read in full so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The heads of the requests read so far, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// A whole HTTP/1.1 response: the status line, `headers` as given (raw bytes: anything but a
/// line break), a `content-length` unless `headers` has one, `connection: close`, the body.
pub fn raw_response(status: u16, headers: &[(&str, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Whatever\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-length"))
    {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

/// Serves `answer(now)` on loopback from the current runtime (so on its clock, paused or not),
/// each response sent `latency` after it was decided: a rate-limit model's server.
pub async fn serve_model<A>(answer: A, latency: Duration) -> String
where
    A: Fn(tokio::time::Instant) -> hyper::Response<http_body_util::Full<bytes::Bytes>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let response = answer(tokio::time::Instant::now());
                    async move {
                        if !latency.is_zero() {
                            tokio::time::sleep(latency).await;
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// A `redis-server` on a free loopback port, stopped on drop.
pub struct Redis {
    pub port: u16,
    child: std::process::Child,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::on(closed_port())
    }

    pub fn on(port: u16) -> Redis {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server; .ci/run does)");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { port, child }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every hand-written `.rs` file under `src/`, subfolders included.
pub fn hand_written_sources() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    files
}
