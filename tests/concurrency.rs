//! 200 concurrent edits against a server that injects 429s, 503s and dropped connections:
//! nothing is lost, nothing is sent more often than the retry policy allows.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudflare_dns_settings::types::{
    DnsSettingsAccountSettingsPatch, DnsSettingsDnsSettingsAccountPatch,
};
use cloudflare_dns_settings::{Client, Error, ResultExt};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Ok,
    TooMany,
    Unavailable,
    Dropped,
}

/// The server's own log: for each request, the edit it carried and what it got.
type Log = Arc<Mutex<Vec<(i64, Outcome)>>>;

/// Deterministic, well-spread choice of outcome for the n-th request.
fn outcome(n: u64) -> Outcome {
    let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) % 100;
    match x {
        0..=54 => Outcome::Ok,
        55..=69 => Outcome::TooMany,
        70..=84 => Outcome::Unavailable,
        _ => Outcome::Dropped,
    }
}

async fn serve_connection(
    mut socket: TcpStream,
    log: Log,
    counter: Arc<Mutex<u64>>,
    ok_body: Arc<String>,
) {
    let mut buf = Vec::new();
    loop {
        // Read one request: headers, then content-length bytes of body.
        let header_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
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
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: serde_json::Value =
            serde_json::from_slice(&buf[header_end..header_end + length]).unwrap();
        buf.drain(..header_end + length);
        let ns_ttl = body["zone_defaults"]["ns_ttl"].as_i64().unwrap();
        let n = {
            let mut c = counter.lock().unwrap();
            *c += 1;
            *c
        };
        let result = outcome(n);
        log.lock().unwrap().push((ns_ttl, result));
        let response = match result {
            Outcome::Dropped => return,
            Outcome::Ok => format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncf-ray: ok-{n}\r\ncontent-length: {}\r\n\r\n{}",
                ok_body.len(),
                ok_body
            ),
            Outcome::TooMany => "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\n\r\n".to_string(),
            Outcome::Unavailable => "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\nbusy!".to_string(),
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
async fn concurrent_edits_are_never_lost_or_oversent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let counter = Arc::new(Mutex::new(0u64));
    let ok_body = Arc::new(fixture("account_settings.json"));
    {
        let log = log.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_connection(
                    socket,
                    log.clone(),
                    counter.clone(),
                    ok_body.clone(),
                ));
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
    const MAX_ATTEMPTS: usize = 3; // the default: 2 retries

    let edits: Vec<_> = (0..200i64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let ns_ttl = 100 + i;
                let patch = DnsSettingsAccountSettingsPatch {
                    zone_defaults: Some(DnsSettingsDnsSettingsAccountPatch {
                        ns_ttl: Some(ns_ttl),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                (
                    ns_ttl,
                    client
                        .account_edit()
                        .account_id(ACCOUNT)
                        .body(patch)
                        .send()
                        .into_result()
                        .await,
                )
            })
        })
        .collect();
    let mut results = HashMap::new();
    for edit in edits {
        let (ns_ttl, result) = edit.await.expect("no task panicked");
        results.insert(ns_ttl, result);
    }

    let log = log.lock().unwrap();
    let (mut succeeded, mut failed) = (0, 0);
    for (ns_ttl, result) in &results {
        let seen: Vec<Outcome> = log
            .iter()
            .filter(|(t, _)| t == ns_ttl)
            .map(|(_, o)| *o)
            .collect();
        assert!(
            !seen.is_empty() && seen.len() <= MAX_ATTEMPTS,
            "edit {ns_ttl} was sent {} times",
            seen.len()
        );
        match result {
            Ok(_) => {
                assert_eq!(
                    seen.last(),
                    Some(&Outcome::Ok),
                    "edit {ns_ttl}: success without a 200: {seen:?}"
                );
                succeeded += 1;
            }
            Err(error) => {
                assert!(
                    !seen.contains(&Outcome::Ok),
                    "edit {ns_ttl} got a 200 but reported {error}"
                );
                assert!(
                    matches!(
                        error,
                        Error::Api { .. }
                            | Error::UnexpectedResponse { .. }
                            | Error::Transport { .. }
                    ),
                    "edit {ns_ttl}: {error:?}"
                );
                assert_eq!(
                    error.attempts() as usize,
                    seen.len().max(error.attempts() as usize)
                );
                assert!(error.attempts() as usize <= MAX_ATTEMPTS);
                failed += 1;
            }
        }
    }
    assert_eq!(succeeded + failed, 200);
    assert!(
        succeeded > 150,
        "most edits succeed after retries ({succeeded} did)"
    );
    assert!(
        log.iter().any(|(_, o)| *o == Outcome::Dropped),
        "the test dropped some connections"
    );
}
