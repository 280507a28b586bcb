//! Custom nameserver sets: four operations added to spec/ with no hand-written code. The exact
//! bytes sent, the spec's bounds checked before sending, both response shapes (told apart by
//! `advanced`), a future shape kept whole, pagination, and the create following the POST rule.

mod common;

use cloudflare_dns_settings::types::{
    NameserverSet, NameserverSetCreate, NameserverSetMemberCreate,
};
use cloudflare_dns_settings::{ErrorKind, paginate};
use common::*;
use futures_util::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SET: &str = "0123456789abcdef0123456789abcdef";

fn route() -> String {
    format!("/accounts/{ACCOUNT}/dns_settings/nameserver_sets")
}

async fn mount(server: &MockServer, verb: &str, at: String, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

fn create(ip_count: Option<i64>, ip_set: Option<i64>) -> NameserverSetCreate {
    NameserverSetCreate {
        advanced: Some(true),
        ip_set,
        nameservers: vec![
            NameserverSetMemberCreate {
                ip_count,
                name: "ns1.example.net".into(),
            },
            NameserverSetMemberCreate {
                ip_count: None,
                name: "ns2.example.net".into(),
            },
        ],
    }
}

#[tokio::test]
async fn create_posts_exactly_what_was_set_and_decodes_the_advanced_shape() {
    let server = server().await;
    mount(
        &server,
        "POST",
        route(),
        json_response(200, &fixture("nameserver_set_advanced.json")),
    )
    .await;
    let created = token_client(&server)
        .account_nameserver_sets_create()
        .account_id(ACCOUNT)
        .body(create(Some(2), Some(2)))
        .send()
        .await
        .unwrap();
    let NameserverSet::NameserverSetAdvanced(set) = created else {
        panic!("the advanced shape: {created:?}")
    };
    assert_eq!(set.nameservers[1].ipv4_groups.len(), 2);
    assert_eq!(set.nameservers[1].ipv4_groups[0].to_string(), "c");
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(
        String::from_utf8(requests[0].body.clone()).unwrap(),
        r#"{"advanced":true,"ip_set":2,"nameservers":[{"ip_count":2,"name":"ns1.example.net"},{"name":"ns2.example.net"}]}"#
    );
}

#[tokio::test]
async fn get_decodes_the_standard_shape_and_delete_returns_the_id() {
    let server = server().await;
    let one = format!("{}/{SET}", route());
    mount(
        &server,
        "GET",
        one.clone(),
        json_response(200, &fixture("nameserver_set_standard.json")),
    )
    .await;
    let deleted =
        format!(r#"{{"success":true,"errors":[],"messages":[],"result":{{"id":"{SET}"}}}}"#);
    mount(&server, "DELETE", one, json_response(200, &deleted)).await;
    let client = token_client(&server);
    let got = client
        .account_nameserver_sets_get()
        .account_id(ACCOUNT)
        .nameserver_set_id(SET)
        .send()
        .await
        .unwrap();
    let NameserverSet::NameserverSetStandard(set) = got else {
        panic!("the standard shape: {got:?}")
    };
    assert_eq!(set.nameservers[0].ipv6, vec!["2001:db8::1".to_string()]);
    let gone = client
        .account_nameserver_sets_delete()
        .account_id(ACCOUNT)
        .nameserver_set_id(SET)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.id, SET);
}

/// A shape a newer API could send (neither `advanced: true` nor `false`) is kept whole, and
/// serializes back unchanged.
#[tokio::test]
async fn a_future_shape_is_kept_whole() {
    let server = server().await;
    let future = json!({"id": SET, "advanced": "partly", "created_on": "2027-01-01T00:00:00Z",
        "ip_set": 1, "nameservers": [], "anycast": {"groups": 4}});
    let body = json!({"success": true, "errors": [], "messages": [], "result": future}).to_string();
    mount(
        &server,
        "GET",
        format!("{}/{SET}", route()),
        json_response(200, &body),
    )
    .await;
    let got = token_client(&server)
        .account_nameserver_sets_get()
        .account_id(ACCOUNT)
        .nameserver_set_id(SET)
        .send()
        .await
        .unwrap();
    assert!(matches!(got, NameserverSet::UnknownKind(_)), "{got:?}");
    assert_eq!(serde_json::to_value(&got).unwrap(), future);
}

/// A variant that fails on one field says which, rather than falling through to a variant that
/// would drop it.
#[tokio::test]
async fn a_broken_advanced_set_names_the_field_that_failed() {
    let server = server().await;
    let mut body: serde_json::Value =
        serde_json::from_str(&fixture("nameserver_set_advanced.json")).unwrap();
    body["result"]["nameservers"][0]["ipv4"] = json!("not a list");
    mount(
        &server,
        "GET",
        format!("{}/{SET}", route()),
        json_response(200, &body.to_string()),
    )
    .await;
    let error = token_client(&server)
        .account_nameserver_sets_get()
        .account_id(ACCOUNT)
        .nameserver_set_id(SET)
        .send()
        .await
        .unwrap_err();
    let ErrorKind::Decode { path, source, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(path, "result");
    assert!(
        source.to_string().contains("nameservers[0].ipv4"),
        "{source}"
    );
}

#[tokio::test]
async fn the_spec_bounds_are_checked_before_sending() {
    let server = server().await;
    let client = token_client(&server);
    let cases = [
        (
            create(Some(4), None),
            "nameservers[].ip_count",
            "4 is out of range; allowed 1..=3",
        ),
        (
            create(Some(0), None),
            "nameservers[].ip_count",
            "0 is out of range; allowed 1..=3",
        ),
        (
            create(None, Some(0)),
            "ip_set",
            "0 is out of range; allowed at least 1",
        ),
    ];
    for (body, field, problem) in cases {
        let error = client
            .account_nameserver_sets_create()
            .account_id(ACCOUNT)
            .body(body)
            .send()
            .await
            .unwrap_err();
        let ErrorKind::InvalidInput {
            field: f,
            problem: p,
        } = error.kind()
        else {
            panic!("{error:?}")
        };
        assert_eq!((f.as_str(), p.as_str()), (field, problem));
    }
    // The id is exactly 32 characters.
    for bad in ["0123", "0123456789abcdef0123456789abcdef0"] {
        let error = client
            .account_nameserver_sets_get()
            .account_id(ACCOUNT)
            .nameserver_set_id(bad)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "nameserver_set_id"),
            "{bad}: {error:?}"
        );
    }
    assert!(received(&server).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn list_pages_through_every_set() {
    let server = server().await;
    let page = |n: u64, set: &str| {
        let one: serde_json::Value = serde_json::from_str(&fixture(set)).unwrap();
        json!({"success": true, "errors": [], "messages": [], "result": [one["result"]],
            "result_info": {"page": n, "per_page": 1, "count": 1, "total_count": 2, "total_pages": 2}})
        .to_string()
    };
    for (n, set) in [
        (1, "nameserver_set_standard.json"),
        (2, "nameserver_set_advanced.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(route()))
            .and(query_param("page", n.to_string()))
            .respond_with(json_response(200, &page(n, set)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = token_client(&server);
    let sets: Vec<NameserverSet> = paginate(|n| {
        client
            .account_nameserver_sets_list()
            .account_id(ACCOUNT)
            .page(n)
            .per_page(1)
            .send()
    })
    .try_collect()
    .await
    .unwrap();
    assert!(matches!(
        sets[..],
        [
            NameserverSet::NameserverSetStandard(_),
            NameserverSet::NameserverSetAdvanced(_)
        ]
    ));
}

/// Create is a POST: a 503 may come after the set was made, so it is not sent again.
#[tokio::test]
async fn a_create_answered_503_is_not_sent_again() {
    let server = server().await;
    mount(&server, "POST", route(), ResponseTemplate::new(503)).await;
    let error = token_client(&server)
        .account_nameserver_sets_create()
        .account_id(ACCOUNT)
        .body(create(None, None))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(received(&server).await.len(), 1);
}
