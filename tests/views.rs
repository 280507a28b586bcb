//! Internal DNS views: five operations added to spec/ with no hand-written code, driven like
//! every other operation (method, path, query, exact body, checks before sending).

mod common;

use cloudflare_dns_settings::ErrorKind;
use cloudflare_dns_settings::types::{Direction, DnsViewCreate, DnsViewPatch, Match};
use common::*;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

const VIEW: &str = "023e105f4ecef8ad9ca31a8372d0c353";

async fn mount(server: &MockServer, verb: &str, route: String, body: String) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(json_response(200, &body))
        .expect(1)
        .mount(server)
        .await;
}

fn body_of(requests: &[wiremock::Request]) -> String {
    assert_eq!(requests.len(), 1);
    String::from_utf8(requests[0].body.clone()).unwrap()
}

#[tokio::test]
async fn create_posts_exactly_name_and_zones() {
    let server = server().await;
    mount(
        &server,
        "POST",
        format!("/accounts/{ACCOUNT}/dns_settings/views"),
        fixture("view.json"),
    )
    .await;
    let view = DnsViewCreate {
        name: "my view".into(),
        zones: vec![ZONE.into()],
    };
    let created = token_client(&server)
        .account_views_create()
        .account_id(ACCOUNT)
        .body(view)
        .send()
        .await
        .unwrap();
    assert_eq!(created.id, VIEW);
    assert_eq!(created.created_time, "2014-01-01T05:20:00.12345Z");
    assert_eq!(
        body_of(&received(&server).await),
        format!(r#"{{"name":"my view","zones":["{ZONE}"]}}"#)
    );
}

#[tokio::test]
async fn get_edit_and_delete_address_one_view() {
    let server = server().await;
    let route = format!("/accounts/{ACCOUNT}/dns_settings/views/{VIEW}");
    mount(&server, "GET", route.clone(), fixture("view.json")).await;
    mount(&server, "PATCH", route.clone(), fixture("view.json")).await;
    let deleted =
        format!(r#"{{"success":true,"errors":[],"messages":[],"result":{{"id":"{VIEW}"}}}}"#);
    mount(&server, "DELETE", route, deleted).await;
    let client = token_client(&server);

    let view = client
        .account_views_get()
        .account_id(ACCOUNT)
        .view_id(VIEW)
        .send()
        .await
        .unwrap();
    assert_eq!(view.name, "my view");
    let rename = DnsViewPatch {
        name: Some("renamed".into()),
        ..Default::default()
    };
    client
        .account_views_edit()
        .account_id(ACCOUNT)
        .view_id(VIEW)
        .body(rename)
        .send()
        .await
        .unwrap();
    let gone = client
        .account_views_delete()
        .account_id(ACCOUNT)
        .view_id(VIEW)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.and_then(|d| d.id).as_deref(), Some(VIEW));

    let requests = received(&server).await;
    assert_eq!(requests.len(), 3);
    assert_eq!(
        std::str::from_utf8(&requests[1].body).unwrap(),
        r#"{"name":"renamed"}"#
    );
    assert!(requests[2].body.is_empty());
}

#[tokio::test]
async fn list_sends_only_the_query_parameters_set() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(format!("/accounts/{ACCOUNT}/dns_settings/views")))
        .and(query_param("name.contains", "prod"))
        .and(query_param("match", "any"))
        .and(query_param("direction", "desc"))
        .and(query_param("page", "2"))
        .and(query_param("per_page", "50"))
        .respond_with(json_response(
            200,
            r#"{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"page":2,"per_page":50,"count":0,"total_count":50}}"#,
        ))
        .mount(&server)
        .await;
    let page = token_client(&server)
        .account_views_list()
        .account_id(ACCOUNT)
        .name_contains("prod")
        .match_(Match::Any)
        .direction(Direction::Desc)
        .page(2)
        .per_page(50)
        .send()
        .await
        .unwrap();
    assert!(page.result.is_empty());
    assert_eq!(page.result_info.and_then(|i| i.total_count), Some(50));
    let requests = received(&server).await;
    let query = requests[0].url.query().unwrap_or_default();
    let mut keys: Vec<&str> = query
        .split('&')
        .map(|kv| kv.split('=').next().unwrap_or_default())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["direction", "match", "name.contains", "page", "per_page"]
    );
}

#[tokio::test]
async fn view_bounds_from_the_spec_are_checked_before_sending() {
    let server = server().await;
    let client = token_client(&server);
    let too_long = DnsViewCreate {
        name: "x".repeat(256),
        zones: vec![ZONE.into()],
    };
    let error = client
        .account_views_create()
        .account_id(ACCOUNT)
        .body(too_long)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "name"),
        "{error:?}"
    );

    let short_zone = DnsViewCreate {
        name: "v".into(),
        zones: vec![ZONE.into(), "abc".into()],
    };
    let error = client
        .account_views_create()
        .account_id(ACCOUNT)
        .body(short_zone)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "zones[]"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("3 characters is out of range; allowed 32..=32 characters"),
        "{error}"
    );

    let error = client
        .account_views_list()
        .account_id(ACCOUNT)
        .page(0)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "page"),
        "{error:?}"
    );
    let error = client
        .account_views_get()
        .account_id(ACCOUNT)
        .view_id("../x")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::InvalidInput { field, .. } if field == "view_id"),
        "{error:?}"
    );
    assert!(received(&server).await.is_empty(), "nothing may be sent");
}
