//! Properties over generated misbehaving servers (issue 17): a raw loopback HTTP server whose
//! behaviour proptest draws (pages ignored, reordered, repeated, shortened, reversed;
//! `result_info` missing, wrong, zero-based or huge; bodies cut at any byte; connections dropped
//! after the request was read; any status), and each property checked against the server's own
//! log of what it received and sent.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudflare_dns_settings::{Applied, Client, Error, ErrorKind, paginate};
use common::{ACCOUNT, TOKEN};
use futures_util::StreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one request.
#[derive(Clone, Debug)]
enum Answer {
    /// A full response.
    Full { status: u16, body: Vec<u8> },
    /// The head and the first `cut` bytes of `body` (announced whole), then the connection closes.
    Cut {
        status: u16,
        body: Vec<u8>,
        cut: usize,
    },
    /// The request is read (and counts as applied), then the connection closes with no answer.
    Drop,
}

/// One request as the server read it.
#[derive(Clone, Debug)]
struct Logged {
    method: String,
    target: String,
    body: Vec<u8>,
}

type Respond = Arc<dyn Fn(usize, &Logged) -> Answer + Send + Sync>;

/// A raw HTTP/1.1 server on loopback: `respond(n, request)` decides the answer to request `n`
/// (from 0). Returns its base URL and its log.
async fn serve(respond: Respond) -> (String, Arc<Mutex<Vec<Logged>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let server_log = log.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = server_log.clone();
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    let Some(request) = read_request(&mut socket, &mut buffer).await else {
                        return;
                    };
                    let n = {
                        let mut log = log.lock().unwrap();
                        log.push(request.clone());
                        log.len() - 1
                    };
                    let (status, body, cut) = match respond(n, &request) {
                        Answer::Drop => return,
                        Answer::Full { status, body } => (status, body.clone(), body.len()),
                        Answer::Cut { status, body, cut } => (status, body, cut),
                    };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncf-ray: 8c3f0a1b2c3d4e5f-SJC\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let mut out = head.into_bytes();
                    out.extend_from_slice(&body[..cut.min(body.len())]);
                    if socket.write_all(&out).await.is_err() || cut < body.len() {
                        return;
                    }
                }
            });
        }
    });
    (url, log)
}

async fn read_request(socket: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) -> Option<Logged> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < end + length {
        let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[end..end + length].to_vec();
    buffer.drain(..end + length);
    Some(Logged {
        method,
        target,
        body,
    })
}

fn client(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_token(TOKEN)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .pace_requests(false)
        .build()
        .unwrap()
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn view(n: usize) -> Value {
    json!({
        "id": format!("{n:032x}"), "name": format!("view {n}"), "zones": [],
        "created_time": "2014-01-01T05:20:00Z", "modified_time": "2014-01-01T05:20:00Z"
    })
}

// --- Pagination -----------------------------------------------------------------------------

/// Which page's items the server sends for the page asked.
#[derive(Clone, Copy, Debug)]
enum Serve {
    /// The page asked for.
    Honest,
    /// Page 1, whatever was asked.
    First,
    /// Another page (the number is taken modulo the pages that exist, plus one).
    Other(usize),
    /// The page it served last time.
    Previous,
    /// The page asked for without its last item.
    Shortened,
    /// The page asked for, its items in reverse order.
    Reversed,
}

/// What `result_info` says.
#[derive(Clone, Copy, Debug)]
enum Info {
    Missing,
    Correct,
    /// Counted from 0.
    ZeroBased,
    /// Totals far beyond the list.
    Huge,
    /// `page` right, totals too small.
    TooFew,
    /// Only `per_page`.
    PerPageOnly,
    /// `page`, `per_page` and `total_count`, no `total_pages`.
    CountOnly,
}

fn serve_strategy() -> impl Strategy<Value = Serve> {
    prop_oneof![
        4 => Just(Serve::Honest),
        1 => Just(Serve::First),
        1 => (0usize..8).prop_map(Serve::Other),
        1 => Just(Serve::Previous),
        1 => Just(Serve::Shortened),
        1 => Just(Serve::Reversed),
    ]
}

fn info_strategy() -> impl Strategy<Value = Info> {
    prop_oneof![
        Just(Info::Missing),
        Just(Info::Correct),
        Just(Info::ZeroBased),
        Just(Info::Huge),
        Just(Info::TooFew),
        Just(Info::PerPageOnly),
        Just(Info::CountOnly),
    ]
}

/// A list of `total` views, `per_page` a page; request `n` is served as `plan[n % len]` says.
#[derive(Clone, Debug)]
struct Listing {
    total: usize,
    per_page: usize,
    plan: Vec<Serve>,
    info: Info,
}

impl Listing {
    fn pages(&self) -> usize {
        self.total.div_ceil(self.per_page)
    }

    fn honest(&self) -> bool {
        self.plan.iter().all(|s| matches!(s, Serve::Honest))
            && matches!(
                self.info,
                Info::Missing | Info::Correct | Info::PerPageOnly | Info::CountOnly
            )
    }

    /// The items of page `page` (from 1) of the list; empty past its end.
    fn page(&self, page: usize) -> Vec<Value> {
        let start = (page.max(1) - 1) * self.per_page;
        (start..(start + self.per_page).min(self.total))
            .map(view)
            .collect()
    }

    /// The body for request `n` asking for `asked`, and the items it carries.
    fn answer(&self, n: usize, asked: usize, last: &Mutex<usize>) -> (Vec<u8>, Vec<Value>) {
        let mut previous = last.lock().unwrap();
        let served = match self.plan[n % self.plan.len()] {
            Serve::Honest | Serve::Shortened | Serve::Reversed => asked,
            Serve::First => 1,
            Serve::Other(k) => 1 + k % (self.pages() + 1),
            Serve::Previous => (*previous).max(1),
        };
        *previous = served;
        let mut items = self.page(served);
        match self.plan[n % self.plan.len()] {
            Serve::Shortened => {
                items.pop();
            }
            Serve::Reversed => items.reverse(),
            _ => {}
        }
        let (page, total) = (served as u64, self.total as u64);
        let per_page = self.per_page as u64;
        let info = match self.info {
            Info::Missing => None,
            Info::Correct => Some(json!({"page": page, "per_page": per_page,
                "count": items.len(), "total_count": total, "total_pages": self.pages()})),
            Info::ZeroBased => Some(json!({"page": page - 1, "per_page": per_page})),
            Info::Huge => Some(json!({"page": page, "per_page": per_page,
                "total_count": 1u64 << 52, "total_pages": 1u64 << 50})),
            Info::TooFew => Some(json!({"page": page, "total_pages": 1, "total_count": per_page})),
            Info::PerPageOnly => Some(json!({"per_page": per_page})),
            Info::CountOnly => {
                Some(json!({"page": page, "per_page": per_page, "total_count": total}))
            }
        };
        let mut envelope =
            json!({"success": true, "errors": [], "messages": [], "result": items.clone()});
        if let Some(info) = info {
            envelope["result_info"] = info;
        }
        (serde_json::to_vec(&envelope).unwrap(), items)
    }
}

fn listing_strategy() -> impl Strategy<Value = Listing> {
    (
        0usize..12,
        1usize..5,
        proptest::collection::vec(serve_strategy(), 1..6),
        info_strategy(),
    )
        .prop_map(|(total, per_page, plan, info)| Listing {
            total,
            per_page,
            plan,
            info,
        })
}

/// The page a logged list request asked for.
fn asked_page(target: &str) -> usize {
    target
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

/// The stream ends within one request more than the pages that exist, never yields an item
/// twice, and every page it received is either yielded whole, in order, or ends the stream with
/// an error: never dropped in silence. A server that honours `page` is read whole, `Ok`.
#[test]
fn paginate_ends_never_repeats_and_never_drops_a_page_silently() {
    proptest!(ProptestConfig::with_cases(160), |(listing in listing_strategy())| {
        let sent: Arc<Mutex<Vec<Vec<Value>>>> = Arc::default();
        let last = Arc::new(Mutex::new(0));
        let respond: Respond = {
            let (listing, sent, last) = (listing.clone(), sent.clone(), last.clone());
            Arc::new(move |n, request| {
                if n > 100 {
                    // A guard for a client that never stops: a loud, non-retried failure.
                    return Answer::Full { status: 418, body: b"{}".to_vec() };
                }
                let (body, items) = listing.answer(n, asked_page(&request.target), &last);
                sent.lock().unwrap().push(items);
                Answer::Full { status: 200, body }
            })
        };
        let (yielded, error, requests) = run(async {
            let (url, log) = serve(respond).await;
            let client = client(&url);
            let per_page = listing.per_page as i64;
            let results: Vec<_> = paginate(|page| {
                client.account_views_list().account_id(ACCOUNT).page(page).per_page(per_page).send()
            })
            .collect()
            .await;
            let mut yielded = Vec::new();
            let mut error = None;
            for result in results {
                match result {
                    Ok(view) => yielded.push(serde_json::to_value(view).unwrap()),
                    Err(e) => { error = Some(e); break; }
                }
            }
            let requests = log.lock().unwrap().len();
            (yielded, error, requests)
        });
        let sent = sent.lock().unwrap().clone();
        prop_assert!(requests <= listing.pages() + 1,
            "{} requests for {} pages ({:?})", requests, listing.pages(), error);
        let names: Vec<_> = yielded.iter().map(|v| v["name"].clone()).collect();
        for (i, name) in names.iter().enumerate() {
            prop_assert!(!names[..i].contains(name), "{} yielded twice", name);
        }
        // Every page received: yielded whole and in order, or the one that ended in an error.
        let accepted = match &error {
            None => sent.concat(),
            Some(e) if matches!(e.kind(), ErrorKind::Pagination { .. }) => sent[..sent.len() - 1].concat(),
            Some(other) => return Err(TestCaseError::fail(format!("unexpected error {other:?}"))),
        };
        prop_assert_eq!(&yielded, &accepted, "a page was dropped ({:?})", error);
        if listing.honest() {
            prop_assert!(error.is_none(), "an honest server gave {:?}", error);
            prop_assert_eq!(yielded.len(), listing.total);
            // An honest list sends no request past its end but the empty page that ends a list
            // nothing bounds; `next_page` says the same of each page.
            let bounded = !matches!(listing.info, Info::Missing | Info::PerPageOnly);
            prop_assert!(requests <= listing.pages().max(1) + usize::from(!bounded));
            for page in 1..=listing.pages() {
                let items: Vec<cloudflare_dns_settings::types::DnsView> = listing
                    .page(page)
                    .into_iter()
                    .map(|v| serde_json::from_value(v).unwrap())
                    .collect();
                let body: Value = serde_json::from_slice(&listing.answer(page - 1, page, &Mutex::new(0)).0).unwrap();
                let info = body.get("result_info").map(|i| serde_json::from_value(i.clone()).unwrap());
                let next = cloudflare_dns_settings::Page { result: items, result_info: info }.next_page(page as i64);
                let expected = (page < listing.pages() || !bounded).then_some(page as i64 + 1);
                // A list whose only hint is `per_page` ends at a short page.
                let short = matches!(listing.info, Info::PerPageOnly) && listing.page(page).len() < listing.per_page;
                prop_assert_eq!(next, if short { None } else { expected }, "page {}", page);
            }
        }
    });
}

// --- Statuses, cut bodies, dropped connections ------------------------------------------------

/// The operations the status properties call: (method, idempotent).
#[derive(Clone, Copy, Debug)]
enum Call {
    Get,
    Delete,
    Create,
}

impl Call {
    fn idempotent(self) -> bool {
        !matches!(self, Call::Create)
    }

    async fn send(self, client: &Client) -> Result<(), Error> {
        let view = "0123456789abcdef0123456789abcdef";
        match self {
            Call::Get => client
                .account_get()
                .account_id(ACCOUNT)
                .send()
                .await
                .map(drop),
            Call::Delete => client
                .account_views_delete()
                .account_id(ACCOUNT)
                .view_id(view)
                .send()
                .await
                .map(drop),
            Call::Create => client
                .account_views_create()
                .account_id(ACCOUNT)
                .body(cloudflare_dns_settings::types::DnsViewCreate {
                    name: "v".into(),
                    zones: vec![],
                })
                .send()
                .await
                .map(drop),
        }
    }
}

/// One attempt's outcome as the server plays it.
#[derive(Clone, Debug)]
enum Attempt {
    /// The request was read, then the connection closed with no answer.
    Dropped,
    /// `status` with an error envelope (or, for a 2xx, a body that does not matter), cut at a
    /// byte anywhere in it, the first to the last (`cut.index(len)` bytes sent; `None`: whole).
    Status {
        status: u16,
        cut: Option<proptest::sample::Index>,
    },
}

fn error_body(status: u16) -> Vec<u8> {
    let body = json!({"success": false, "errors": [{"code": 7000 + status as i64, "message": "no"}],
        "messages": [], "result": null});
    serde_json::to_vec(&body).unwrap()
}

/// The body served with `status`: an error envelope, or for a 2xx a success long enough that
/// cuts fall well past its first 60 bytes.
fn body_of(status: u16) -> Vec<u8> {
    if status < 300 {
        let pad = "x".repeat(200);
        format!(r#"{{"success": true, "pad": "{pad}", "result": null}}"#).into_bytes()
    } else {
        error_body(status)
    }
}

fn attempt_strategy() -> impl Strategy<Value = Attempt> {
    let status = prop_oneof![
        Just(200u16),
        Just(301),
        Just(307),
        Just(400),
        Just(401),
        Just(403),
        Just(404),
        Just(408),
        Just(409),
        Just(422),
        Just(429),
        Just(500),
        Just(502),
        Just(503),
    ];
    prop_oneof![
        1 => Just(Attempt::Dropped),
        4 => (status, proptest::option::of(any::<proptest::sample::Index>())).prop_map(|(status, cut)| Attempt::Status { status, cut }),
    ]
}

/// What one attempt alone says of whether it took effect.
fn applied_by(attempt: &Attempt) -> Applied {
    match attempt {
        Attempt::Dropped => Applied::Maybe,
        Attempt::Status { status, .. } if *status < 300 => Applied::Yes,
        Attempt::Status { status, .. } if *status >= 500 => Applied::Maybe,
        // A redirect is never followed: refused where it was sent.
        Attempt::Status { .. } => Applied::No,
    }
}

/// Whether the client sends again after `attempt`.
fn retried_after(attempt: &Attempt, idempotent: bool) -> bool {
    match attempt {
        Attempt::Dropped => idempotent,
        // A 2xx cut short was processed: sent again only when idempotent. (A whole 2xx here is
        // a decode failure or a success: never retried.)
        Attempt::Status { status, cut } if *status < 300 => idempotent && cut.is_some(),
        Attempt::Status { status, .. } => {
            *status == 429 || (idempotent && matches!(status, 408 | 409 | 500..=599))
        }
    }
}

/// An error keeps the status the server sent, whatever became of its body; retries follow that
/// status; and the error says whether the request may have taken effect, over every attempt
/// (a DELETE whose first attempt's connection dropped and whose retry was answered 404 is
/// `Maybe`, not a plain refusal).
#[test]
fn errors_keep_the_status_follow_it_in_retries_and_say_what_may_have_happened() {
    let call = prop_oneof![Just(Call::Get), Just(Call::Delete), Just(Call::Create)];
    let attempts = proptest::collection::vec(attempt_strategy(), 3);
    proptest!(ProptestConfig::with_cases(128), |(call in call, plan in attempts)| {
        let served = plan.clone();
        let respond: Respond = Arc::new(move |n, _| match served.get(n) {
            Some(Attempt::Dropped) => Answer::Drop,
            Some(Attempt::Status { status, cut }) => {
                let body = body_of(*status);
                match cut {
                    Some(cut) => {
                        let cut = cut.index(body.len());
                        Answer::Cut { status: *status, body, cut }
                    }
                    None => Answer::Full { status: *status, body },
                }
            }
            None => Answer::Full { status: 418, body: b"{}".to_vec() },
        });
        let (outcome, log) = run(async {
            let (url, log) = serve(respond).await;
            let outcome = call.send(&client(&url)).await;
            let log = log.lock().unwrap().clone();
            (outcome, log)
        });
        let requests = log.len();
        // Every attempt sends the same request, and only what the caller asked for.
        for request in &log {
            let (method, body): (&str, &[u8]) = match call {
                Call::Get => ("GET", b""),
                Call::Delete => ("DELETE", b""),
                Call::Create => ("POST", br#"{"name":"v","zones":[]}"#),
            };
            prop_assert_eq!(request.method.as_str(), method);
            prop_assert_eq!(request.body.as_slice(), body);
        }
        // The attempts the client should have made: until one is not retried, at most three.
        let mut expected = 0;
        for attempt in &plan {
            expected += 1;
            if !retried_after(attempt, call.idempotent()) {
                break;
            }
        }
        prop_assert_eq!(requests, expected, "{:?} {:?}: {:?}", call, plan, outcome);
        let last = &plan[expected - 1];
        let Err(error) = outcome else {
            // Only a whole 2xx can succeed (a delete or create whose result may be null).
            prop_assert!(matches!(last, Attempt::Status { status: 200, cut: None }), "{:?}", last);
            return Ok(());
        };
        prop_assert_eq!(error.attempts() as usize, expected);
        match last {
            Attempt::Status { status, cut } => {
                prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(*status), "{:?}", error);
                if (300..400).contains(status) {
                    prop_assert!(matches!(error.kind(), ErrorKind::Redirected { .. }), "{:?}", error);
                }
                if *status >= 300 {
                    let retryable = matches!(status, 408 | 409 | 429 | 500..=599);
                    prop_assert_eq!(error.is_retryable(), retryable, "{:?}", error);
                } else if cut.is_some() {
                    // A success cut short: sending again could succeed.
                    prop_assert!(error.is_retryable(), "{:?}", error);
                }
                // A body that broke off says which response it was.
                if matches!(error.kind(), ErrorKind::Transport { .. } | ErrorKind::Timeout { .. }) {
                    let shown = error.to_string();
                    prop_assert!(shown.contains(&format!("HTTP {status} response")), "{}", shown);
                }
            }
            Attempt::Dropped => prop_assert_eq!(error.status(), None),
        }
        let applied = plan[..expected].iter().map(applied_by).max().unwrap();
        prop_assert_eq!(error.applied(), applied, "{:?} {:?}: {}", call, plan, error);
    });
}

/// Every cut of every body, exhaustively, for one attempt of a GET: the first byte to the last of
/// an error body and of a 2xx body. The call fails (a body announced whole never arrived), keeps
/// the status, and says whether a retry could help and what may have happened, as the status
/// says.
#[test]
fn a_body_cut_at_any_byte_keeps_its_status() {
    run(async {
        for status in [200u16, 404, 429, 503] {
            let body = body_of(status);
            for cut in 0..body.len() {
                let served = body.clone();
                let respond: Respond = Arc::new(move |_, _| Answer::Cut {
                    status,
                    body: served.clone(),
                    cut,
                });
                let (url, log) = serve(respond).await;
                let client = Client::builder()
                    .base_url(url)
                    .api_token(TOKEN)
                    .max_retries(0)
                    .pace_requests(false)
                    .build()
                    .unwrap();
                let error = Call::Get.send(&client).await.unwrap_err();
                let at = format!("HTTP {status} cut at {cut} of {}: {error:?}", body.len());
                assert_eq!(log.lock().unwrap().len(), 1, "{at}");
                assert_eq!(error.attempts(), 1, "{at}");
                assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{at}");
                let retryable = matches!(status, 200 | 429 | 503);
                assert_eq!(error.is_retryable(), retryable, "{at}");
                let attempt = Attempt::Status { status, cut: None };
                assert_eq!(error.applied(), applied_by(&attempt), "{at}");
                if status < 300 {
                    // A success cut short is never taken for a success that did not decode.
                    assert!(
                        matches!(
                            error.kind(),
                            ErrorKind::Transport { .. } | ErrorKind::Timeout { .. }
                        ),
                        "{at}"
                    );
                }
            }
        }
    });
}

// --- Secrets ----------------------------------------------------------------------------------

/// No message shows a password or token put in the base URL, whatever characters it holds (`/`,
/// `#`, `?` and `@` included), and a base URL that carries one is refused.
#[test]
fn a_base_url_secret_is_refused_and_never_echoed() {
    let secret = "[A-Za-z0-9/#?@:%._~!$&'()*+,;=-]{6,24}";
    // (shape, whether it must be refused whatever the secret)
    let shape = prop_oneof![
        Just(("https://user:{s}@api.example.com/client/v4", true)),
        Just(("https://{s}@api.example.com", true)),
        Just(("http://user:{s}@example.com", true)),
        Just(("https://api.example.com/client/v4?token={s}", true)),
        Just(("https://api.example.com/#{s}", true)),
        Just(("https://user:{s}@", true)),
        Just(("{s}", false)),
        Just(("{s}://api.example.com", false)),
    ];
    proptest!(ProptestConfig::with_cases(512), |(secret in secret, (shape, refused) in shape)| {
        let url = shape.replace("{s}", &secret);
        let error = match Client::builder().api_token(TOKEN).base_url(&url).build() {
            Ok(_) => {
                prop_assert!(!refused, "`{}` was accepted", url);
                return Ok(());
            }
            Err(error) => error,
        };
        let shown = format!("{error} {error:?}");
        let fixed = shape.replace("{s}", " ");
        for i in 0..secret.len().saturating_sub(3) {
            let piece = &secret[i..i + 4];
            // Four characters of the secret that are not also text the message may show.
            if !fixed.contains(piece) && !"https://api.example.com http(s)".contains(piece) {
                prop_assert!(!shown.contains(piece), "`{}` from `{}` in: {}", piece, url, shown);
            }
        }
    });
}
