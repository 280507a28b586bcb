//! Request enums are open: a value Cloudflare added after the spec was cut (a new
//! `nameservers.type`, a new `zone_mode`, a new kind of the zone's nameservers, a new sort order)
//! can be sent today, exactly as given; the spec's values stay the typed path, and the spec's
//! bounds are still checked before anything is sent.

mod common;

use cloudflare_dns_settings::plan::desired_from_json;
use cloudflare_dns_settings::types::{
    AccountSettingsPatch, Direction, DnsSettingsZonePatch, NameserversPatch, ZoneDefaultsPatch,
    ZoneDefaultsPatchNameservers, ZoneMode, ZonesListStatus,
};
use cloudflare_dns_settings::{ErrorKind, OpenEnum};
use common::*;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

async fn answering(verb: &str, fixture_name: &str) -> MockServer {
    let server = server().await;
    Mock::given(method(verb))
        .respond_with(json_response(200, &fixture(fixture_name)))
        .mount(&server)
        .await;
    server
}

/// The bytes of the one request the server received.
async fn only_body(server: &MockServer) -> String {
    let requests = received(server).await;
    assert_eq!(requests.len(), 1, "one request");
    String::from_utf8(requests[0].body.clone()).unwrap()
}

#[tokio::test]
async fn an_account_patch_with_unknown_enum_values_goes_out_byte_exact() {
    let server = answering("PATCH", "account_settings.json").await;
    let patch = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            nameservers: Some(ZoneDefaultsPatchNameservers {
                type_: Some(OpenEnum::Other("cloudflare.foundation".into())),
            }),
            zone_mode: Some(OpenEnum::Other("edge_only".into())),
            ..Default::default()
        }),
        ..Default::default()
    };
    token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_body(&server).await,
        r#"{"zone_defaults":{"nameservers":{"type":"cloudflare.foundation"},"zone_mode":"edge_only"}}"#
    );
}

#[tokio::test]
async fn known_values_stay_typed_and_send_the_spec_value() {
    let server = answering("PATCH", "account_settings.json").await;
    let patch = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            zone_mode: Some(ZoneMode::DnsOnly.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_body(&server).await,
        r#"{"zone_defaults":{"zone_mode":"dns_only"}}"#
    );
}

#[tokio::test]
async fn a_zone_patch_with_a_new_kind_of_nameservers_goes_out_byte_exact() {
    let server = answering("PATCH", "zone_settings.json").await;
    let kind = json!({"type": "custom.fleet", "fleet_id": "f1", "weight": 2});
    let patch = DnsSettingsZonePatch {
        nameservers: Some(NameserversPatch::UnknownKind(
            kind.as_object().unwrap().clone(),
        )),
        zone_mode: Some(OpenEnum::Other("edge_only".into())),
        ..Default::default()
    };
    token_client(&server)
        .zone_edit()
        .zone_id(ZONE)
        .body(patch)
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_body(&server).await,
        r#"{"nameservers":{"fleet_id":"f1","type":"custom.fleet","weight":2},"zone_mode":"edge_only"}"#
    );
}

#[tokio::test]
async fn a_query_enum_takes_an_unknown_value_as_given() {
    let server = server().await;
    let page = r#"{"success":true,"errors":[],"messages":[],"result":[],
        "result_info":{"page":1,"per_page":20,"count":0,"total_count":0}}"#;
    Mock::given(method("GET"))
        .respond_with(json_response(200, page))
        .mount(&server)
        .await;
    let client = token_client(&server);
    for direction in [OpenEnum::Other("sideways".into()), Direction::Desc.into()] {
        client
            .account_views_list()
            .account_id(ACCOUNT)
            .direction(direction)
            .send()
            .await
            .unwrap();
    }
    let queries: Vec<String> = received(&server)
        .await
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_string())
        .collect();
    assert_eq!(queries, ["direction=sideways", "direction=desc"]);
}

/// The zones list (issue 24) follows the same rule: its `status` filter takes a status added
/// upstream as given, and the spec's statuses stay typed.
#[tokio::test]
async fn the_zones_list_status_takes_an_unknown_value_as_given() {
    let server = server().await;
    let page = r#"{"success":true,"errors":[],"messages":[],"result":[],
        "result_info":{"page":1,"per_page":50,"count":0,"total_count":0}}"#;
    Mock::given(method("GET"))
        .respond_with(json_response(200, page))
        .mount(&server)
        .await;
    let client = token_client(&server);
    for status in [
        OpenEnum::Other("archived".into()),
        ZonesListStatus::Active.into(),
    ] {
        client
            .zones_list()
            .account_id(ACCOUNT)
            .status(status)
            .send()
            .await
            .unwrap();
    }
    let queries: Vec<String> = received(&server)
        .await
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        queries,
        [
            format!("account.id={ACCOUNT}&status=archived"),
            format!("account.id={ACCOUNT}&status=active")
        ]
    );
}

#[tokio::test]
async fn the_spec_bounds_are_still_checked_beside_an_unknown_value() {
    let server = answering("PATCH", "account_settings.json").await;
    let patch = AccountSettingsPatch {
        zone_defaults: Some(ZoneDefaultsPatch {
            ns_ttl: Some(1),
            zone_mode: Some(OpenEnum::Other("edge_only".into())),
            ..Default::default()
        }),
        ..Default::default()
    };
    let error = token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap_err();
    let ErrorKind::InvalidInput { field, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(field, "zone_defaults.ns_ttl");
    assert!(received(&server).await.is_empty(), "nothing may be sent");
}

#[test]
fn a_desired_state_may_name_new_values_but_a_union_member_must_say_its_kind() {
    let desired: DnsSettingsZonePatch = desired_from_json(
        r#"{"nameservers": {"type": "custom.fleet", "fleet_id": "f1"}, "zone_mode": "edge_only"}"#,
    )
    .unwrap();
    assert!(
        matches!(&desired.nameservers, Some(NameserversPatch::UnknownKind(k)) if k["fleet_id"] == "f1"),
        "{desired:?}"
    );
    assert_eq!(desired.zone_mode, Some(OpenEnum::Other("edge_only".into())));
    let error =
        desired_from_json::<DnsSettingsZonePatch>(r#"{"nameservers": {"ns_set": 2}}"#).unwrap_err();
    assert!(error.to_string().contains("`type` is required"), "{error}");
}
