//! The generic paginator over any list operation: lazy, across pages, stopping cleanly.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudflare_dns_settings::{Client, Error, ErrorKind, paginate};
use common::*;
use futures_util::{StreamExt, TryStreamExt};
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, MockServer};

fn view(n: usize) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{n:032x}"), "name": format!("view {n}"), "zones": [],
        "created_time": "2014-01-01T05:20:00Z", "modified_time": "2014-01-01T05:20:00Z"
    })
}

/// Serves `total` views, `per_page` a page, with full `result_info`.
async fn listing(total: usize, per_page: usize) -> MockServer {
    let server = server().await;
    let pages = total.div_ceil(per_page).max(1);
    for page in 1..=pages + 1 {
        let items: Vec<_> = ((page - 1) * per_page..(page * per_page).min(total))
            .map(view)
            .collect();
        let body = serde_json::json!({
            "success": true, "errors": [], "messages": [], "result": items,
            "result_info": {"page": page, "per_page": per_page, "count": items.len(), "total_count": total}
        });
        Mock::given(method("GET"))
            .and(query_param("page", page.to_string().as_str()))
            .respond_with(json_response(200, &body.to_string()))
            .mount(&server)
            .await;
    }
    server
}

fn views(
    client: &Client,
    calls: Arc<AtomicUsize>,
) -> impl futures_util::Stream<Item = Result<cloudflare_dns_settings::types::DnsView, Error>> + '_ {
    paginate(move |page| {
        calls.fetch_add(1, Ordering::SeqCst);
        client
            .account_views_list()
            .account_id(ACCOUNT)
            .page(page)
            .per_page(3)
            .send()
    })
}

#[tokio::test]
async fn items_stream_across_several_pages_and_stop_at_the_total() {
    let server = listing(7, 3).await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let all: Vec<_> = views(&client, calls.clone()).try_collect().await.unwrap();
    assert_eq!(
        all.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        (0..7).map(|n| format!("view {n}")).collect::<Vec<_>>()
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "pages 1..=3, no request past the total"
    );
}

#[tokio::test]
async fn pages_are_fetched_lazily() {
    let server = listing(7, 3).await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let first_two: Vec<_> = views(&client, calls.clone()).take(2).collect().await;
    assert_eq!(first_two.len(), 2);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "only the first page was needed"
    );
}

#[tokio::test]
async fn an_empty_list_is_one_request_and_no_items() {
    let server = listing(0, 3).await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let all: Vec<_> = views(&client, calls.clone()).try_collect().await.unwrap();
    assert!(all.is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_totals_an_empty_page_ends_the_list() {
    let server = server().await;
    for (page, items) in [
        (1, vec![view(0), view(1), view(2)]),
        (2, vec![view(3)]),
        (3, vec![]),
    ] {
        let body =
            serde_json::json!({"success": true, "errors": [], "messages": [], "result": items});
        Mock::given(method("GET"))
            .and(query_param("page", page.to_string().as_str()))
            .respond_with(json_response(200, &body.to_string()))
            .mount(&server)
            .await;
    }
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let all: Vec<_> = views(&client, calls.clone()).try_collect().await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_mid_stream_error_is_yielded_once_after_the_earlier_items() {
    let server = server().await;
    let first = serde_json::json!({
        "success": true, "errors": [], "messages": [], "result": [view(0), view(1), view(2)],
        "result_info": {"page": 1, "per_page": 3, "total_count": 9}
    });
    Mock::given(method("GET"))
        .and(query_param("page", "1"))
        .respond_with(json_response(200, &first.to_string()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "2"))
        .respond_with(json_response(
            403,
            &fixture("error_10000_authentication.json"),
        ))
        .mount(&server)
        .await;
    let client = token_client(&server);
    let results: Vec<_> = views(&client, Arc::default()).collect().await;
    assert_eq!(
        results.len(),
        4,
        "three items, then the error, then the end"
    );
    assert!(results[..3].iter().all(Result::is_ok));
    assert_eq!(results[3].as_ref().unwrap_err().codes(), [10000]);
}

#[tokio::test]
async fn a_bad_page_names_the_envelope_path_that_failed() {
    let body =
        r#"{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"count":"many"}}"#;
    let server = serve_get(200, body).await;
    let error = token_client(&server)
        .account_views_list()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap_err();
    let ErrorKind::Decode { path, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(path, "result_info.count");
}

/// Answers each request with `page(n)`, `n` the `page` query parameter (1 when absent).
struct ByPage(fn(usize) -> serde_json::Value);

impl wiremock::Respond for ByPage {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let n = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        json_response(200, &(self.0)(n).to_string())
    }
}

async fn by_page(page: fn(usize) -> serde_json::Value) -> MockServer {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ByPage(page))
        .mount(&server)
        .await;
    server
}

fn names(all: &[cloudflare_dns_settings::types::DnsView]) -> Vec<&str> {
    all.iter().map(|v| v.name.as_str()).collect()
}

#[tokio::test]
async fn a_server_that_ignores_page_ends_the_list_with_an_error_after_one_page() {
    // The same non-empty page whatever is asked, and nothing said of the totals.
    let server = by_page(|_| {
        serde_json::json!({
            "success": true, "errors": [], "messages": [], "result": [view(0), view(1), view(2)]
        })
    })
    .await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let (all, error) = until_error(views(&client, calls.clone())).await;
    assert_eq!(names(&all), ["view 0", "view 1", "view 2"], "no repetition");
    assert!(
        matches!(error.as_ref().map(Error::kind), Some(ErrorKind::Pagination { page: 2, problem }) if problem.contains("listed already")),
        "the repeated page 2 ends the list with an error, not a silent end: {error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// The items a stream yields up to its first error, and that error.
async fn until_error<T>(
    stream: impl futures_util::Stream<Item = Result<T, Error>>,
) -> (Vec<T>, Option<Error>) {
    let results: Vec<_> = stream.collect().await;
    let mut items = Vec::new();
    for result in results {
        match result {
            Ok(item) => items.push(item),
            Err(error) => return (items, Some(error)),
        }
    }
    (items, None)
}

#[tokio::test]
async fn a_server_that_says_page_1_for_every_page_ends_the_list_with_an_error_after_the_first() {
    // Different items each time (so only the echoed page number can tell), always "page": 1.
    let server = by_page(|n| {
        let items: Vec<_> = (3 * (n - 1)..3 * n).map(view).collect();
        serde_json::json!({
            "success": true, "errors": [], "messages": [], "result": items,
            "result_info": {"page": 1, "per_page": 3, "count": 3}
        })
    })
    .await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let (all, error) = until_error(views(&client, calls.clone())).await;
    assert_eq!(names(&all), ["view 0", "view 1", "view 2"]);
    assert!(
        matches!(
            error.as_ref().map(Error::kind),
            Some(ErrorKind::Pagination { page: 2, .. })
        ),
        "{error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn total_pages_ends_the_list_even_when_more_pages_would_come() {
    // Every page is full and new, so only total_pages can end the list.
    let server = by_page(|n| {
        let items: Vec<_> = (3 * (n - 1)..3 * n).map(view).collect();
        serde_json::json!({
            "success": true, "errors": [], "messages": [], "result": items,
            "result_info": {"page": n, "total_pages": 2}
        })
    })
    .await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let all: Vec<_> = views(&client, calls.clone()).try_collect().await.unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(names(&all)[5], "view 5");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no request past page 2");
}

/// The control for the two above: a server that honours `page` is read to its empty end.
#[tokio::test]
async fn a_server_that_honours_page_is_read_until_its_empty_page() {
    let server = by_page(|n| {
        let items: Vec<_> = (3 * (n - 1)..(3 * n).min(10)).map(view).collect();
        serde_json::json!({
            "success": true, "errors": [], "messages": [], "result": items,
            "result_info": {"page": n}
        })
    })
    .await;
    let client = token_client(&server);
    let calls = Arc::new(AtomicUsize::new(0));
    let all: Vec<_> = views(&client, calls.clone()).try_collect().await.unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "pages 1-4, then the empty page 5"
    );
}

/// A `Page` a caller decodes itself: `result: null` or absent is an empty page, items are kept.
#[test]
fn a_page_decodes_on_its_own_with_null_as_empty() {
    use cloudflare_dns_settings::Page;
    let page: Page<u8> = serde_json::from_str(r#"{"result": [1, 2]}"#).unwrap();
    assert_eq!(page.result, [1, 2]);
    for body in [r#"{"result": null}"#, "{}"] {
        let page: Page<u8> = serde_json::from_str(body).unwrap();
        assert!(
            page.result.is_empty() && page.result_info.is_none(),
            "{body}"
        );
    }
}
