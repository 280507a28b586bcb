//! 200 concurrent calls, half edits (PATCH) and half creates (POST), against a raw server that
//! injects 429s, 503s and dropped connections: checked against the server's own log, every call
//! was sent exactly as often as the client says, a success had exactly one 200, and no create
//! was ever applied twice.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudflare_dns_settings::types::{AccountSettingsPatch, DnsViewCreate, ZoneDefaultsPatch};
use cloudflare_dns_settings::{Client, Error, ErrorKind};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Applied, answered 200.
    Ok,
    /// Refused before processing: 429.
    TooMany,
    /// Not applied, answered 503 (the client cannot know it was not applied).
    Unavailable,
    /// Applied, then the connection dropped before the answer: the worst case for a create.
    Dropped,
}

/// One request as the server saw it: which call, and what it did.
#[derive(Clone, Debug)]
struct Seen {
    call: String,
    post: bool,
    outcome: Outcome,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// The outcome of attempt `attempt` of call `call`: fixed per call and attempt, so the test is
/// the same whatever the interleaving.
fn outcome(call: &str, attempt: usize) -> Outcome {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in call.bytes().chain([attempt as u8]) {
        x = (x ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    match x % 100 {
        0..=54 => Outcome::Ok,
        55..=69 => Outcome::TooMany,
        70..=84 => Outcome::Unavailable,
        _ => Outcome::Dropped,
    }
}

/// Reads one HTTP/1.1 request: `(method, body)`, or `None` at the end of the connection.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let method = head.split(' ').next().unwrap_or_default().to_uppercase();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let mut chunk = [0u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf[header_end..header_end + length].to_vec();
    buf.drain(..header_end + length);
    Some((method, body))
}

async fn serve_connection(mut socket: TcpStream, log: Log) {
    let mut buf = Vec::new();
    while let Some((method, body)) = read_request(&mut socket, &mut buf).await {
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let post = method == "POST";
        let call = if post {
            body["name"].as_str().unwrap().to_string()
        } else {
            body["zone_defaults"]["ns_ttl"].to_string()
        };
        let result = {
            let mut log = log.lock().unwrap();
            let attempt = log.iter().filter(|s| s.call == call).count();
            let result = outcome(&call, attempt);
            log.push(Seen {
                call: call.clone(),
                post,
                outcome: result,
            });
            result
        };
        let ok_body = if post {
            fixture("view.json")
        } else {
            fixture("account_settings.json")
        };
        let response = match result {
            Outcome::Dropped => return,
            Outcome::Ok => format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ok_body}",
                ok_body.len()
            ),
            Outcome::TooMany => {
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\n\r\n".to_string()
            }
            Outcome::Unavailable => {
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\nbusy!"
                    .to_string()
            }
        };
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

#[test]
fn client_is_clone_send_and_sync() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Client>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_and_creates_are_sent_as_often_as_reported_and_never_applied_twice() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    {
        let log = log.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_connection(socket, log.clone()));
            }
        });
    }
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://{addr}"))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let calls: Vec<_> = (0..200i64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let ns_ttl = 100 + i;
                    let patch = AccountSettingsPatch {
                        zone_defaults: Some(ZoneDefaultsPatch {
                            ns_ttl: Some(ns_ttl),
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    let result = client
                        .account_edit()
                        .account_id(ACCOUNT)
                        .body(patch)
                        .send()
                        .await;
                    (ns_ttl.to_string(), result.map(drop))
                } else {
                    let name = format!("view-{i}");
                    let view = DnsViewCreate {
                        name: name.clone(),
                        zones: vec![ZONE.into()],
                    };
                    let result = client
                        .account_views_create()
                        .account_id(ACCOUNT)
                        .body(view)
                        .send()
                        .await;
                    (name, result.map(drop))
                }
            })
        })
        .collect();
    let mut results: HashMap<String, Result<(), Error>> = HashMap::new();
    for call in calls {
        let (id, result) = call.await.expect("no task panicked");
        results.insert(id, result);
    }

    let log = log.lock().unwrap();
    const MAX_ATTEMPTS: usize = 3; // the default: 2 retries
    let (mut succeeded, mut posts_failed_after_drop) = (0, 0);
    for (call, result) in &results {
        let seen: Vec<&Seen> = log.iter().filter(|s| &s.call == call).collect();
        let outcomes: Vec<Outcome> = seen.iter().map(|s| s.outcome).collect();
        let post = seen.first().is_some_and(|s| s.post);
        assert!(
            !seen.is_empty() && seen.len() <= MAX_ATTEMPTS,
            "{call}: {outcomes:?}"
        );
        let oks = outcomes.iter().filter(|o| **o == Outcome::Ok).count();
        match result {
            Ok(()) => {
                assert_eq!(
                    oks, 1,
                    "{call}: a success has exactly one 200: {outcomes:?}"
                );
                assert_eq!(outcomes.last(), Some(&Outcome::Ok), "{call}: {outcomes:?}");
                succeeded += 1;
            }
            Err(error) => {
                assert_eq!(oks, 0, "{call} got a 200 but reported {error}");
                assert_eq!(
                    error.attempts() as usize,
                    seen.len(),
                    "{call}: the client's count of attempts is the server's: {outcomes:?} vs {error:?}"
                );
                assert!(
                    matches!(
                        error.kind(),
                        ErrorKind::RateLimited { .. }
                            | ErrorKind::UnexpectedResponse { .. }
                            | ErrorKind::Transport { .. }
                    ),
                    "{call}: {error:?}"
                );
            }
        }
        if post {
            // A create is sent again only after a 429, which says it was not processed.
            for pair in outcomes.windows(2) {
                assert_eq!(
                    pair[0],
                    Outcome::TooMany,
                    "{call}: a create was re-sent after {outcomes:?}"
                );
            }
            let applied = outcomes
                .iter()
                .filter(|o| matches!(o, Outcome::Ok | Outcome::Dropped))
                .count();
            assert!(
                applied <= 1,
                "{call}: applied {applied} times: {outcomes:?}"
            );
            if result.is_ok() {
                assert_eq!(applied, 1, "{call}: {outcomes:?}");
            }
            if outcomes.last() == Some(&Outcome::Dropped) {
                posts_failed_after_drop += 1;
            }
        }
    }
    assert_eq!(results.len(), 200);
    assert!(succeeded > 100, "most calls succeed ({succeeded} did)");
    assert!(
        posts_failed_after_drop > 0,
        "the test covered a create whose answer was lost"
    );
    assert!(
        log.iter().any(|s| !s.post && s.outcome == Outcome::Dropped),
        "the test dropped some edits' connections"
    );
}
