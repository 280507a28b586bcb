//! PATCH bodies say exactly what the caller means, and bad input never leaves the machine.

mod common;

use cloudflare_dns_settings::types::{
    AccountSettingsPatch, CustomNameserverSetPatch, DnsSettingsZonePatch, NameserversPatch,
    SoaPatch, ZoneDefaultsPatch, ZoneMode,
};
use cloudflare_dns_settings::{Error, ErrorKind, Nullable};
use common::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

async fn edit_server() -> MockServer {
    let server = server().await;
    Mock::given(method("PATCH"))
        .respond_with(json_response(200, &fixture("account_settings.json")))
        .mount(&server)
        .await;
    server
}

fn zone_defaults(z: ZoneDefaultsPatch) -> AccountSettingsPatch {
    AccountSettingsPatch {
        zone_defaults: Some(z),
        ..Default::default()
    }
}

/// Sends the account edit and returns the exact bytes the server received.
async fn sent_body(patch: AccountSettingsPatch) -> String {
    let server = edit_server().await;
    token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap();
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    String::from_utf8(requests[0].body.clone()).unwrap()
}

/// Sends the account edit expecting a refusal; asserts nothing reached the server.
async fn refused(patch: AccountSettingsPatch) -> Error {
    let server = edit_server().await;
    let error = token_client(&server)
        .account_edit()
        .account_id(ACCOUNT)
        .body(patch)
        .send()
        .await
        .unwrap_err();
    assert!(received(&server).await.is_empty(), "nothing may be sent");
    error
}

#[tokio::test]
async fn patch_with_only_ns_ttl_sends_only_ns_ttl_as_an_integer() {
    let body = sent_body(zone_defaults(ZoneDefaultsPatch {
        ns_ttl: Some(3600),
        ..Default::default()
    }))
    .await;
    assert_eq!(body, r#"{"zone_defaults":{"ns_ttl":3600}}"#);
}

#[tokio::test]
async fn patch_sends_null_to_reset_mname() {
    let soa = SoaPatch {
        mname: Some(Nullable::Null),
        ..Default::default()
    };
    let body = sent_body(zone_defaults(ZoneDefaultsPatch {
        soa: Some(soa),
        ..Default::default()
    }))
    .await;
    assert_eq!(body, r#"{"zone_defaults":{"soa":{"mname":null}}}"#);
}

#[tokio::test]
async fn patch_sends_a_set_mname_as_a_string() {
    let soa = SoaPatch {
        mname: Some("ns1.example.com".into()),
        ..Default::default()
    };
    let body = sent_body(zone_defaults(ZoneDefaultsPatch {
        soa: Some(soa),
        ..Default::default()
    }))
    .await;
    assert_eq!(
        body,
        r#"{"zone_defaults":{"soa":{"mname":"ns1.example.com"}}}"#
    );
}

#[tokio::test]
async fn empty_patch_sends_an_empty_object() {
    assert_eq!(sent_body(AccountSettingsPatch::default()).await, "{}");
}

#[tokio::test]
async fn enforce_dns_only_is_sent_beside_zone_defaults_only_when_set() {
    let patch = AccountSettingsPatch {
        enforce_dns_only: Some(true),
        ..Default::default()
    };
    assert_eq!(sent_body(patch).await, r#"{"enforce_dns_only":true}"#);
}

#[tokio::test]
async fn each_bound_of_the_spec_is_checked_with_field_value_and_range() {
    let cases: Vec<(ZoneDefaultsPatch, &str, &str)> = vec![
        (
            ZoneDefaultsPatch {
                ns_ttl: Some(29),
                ..Default::default()
            },
            "zone_defaults.ns_ttl",
            "29 is out of range; allowed 30..=86400",
        ),
        (
            ZoneDefaultsPatch {
                ns_ttl: Some(86401),
                ..Default::default()
            },
            "zone_defaults.ns_ttl",
            "86401 is out of range; allowed 30..=86400",
        ),
        (
            soa(|s| s.refresh = Some(599)),
            "zone_defaults.soa.refresh",
            "599 is out of range; allowed 600..=86400",
        ),
        (
            soa(|s| s.retry = Some(86401)),
            "zone_defaults.soa.retry",
            "allowed 600..=86400",
        ),
        (
            soa(|s| s.expire = Some(86399)),
            "zone_defaults.soa.expire",
            "allowed 86400..=2419200",
        ),
        (
            soa(|s| s.min_ttl = Some(59)),
            "zone_defaults.soa.min_ttl",
            "allowed 60..=86400",
        ),
        (
            soa(|s| s.ttl = Some(-1)),
            "zone_defaults.soa.ttl",
            "-1 is out of range; allowed 300..=86400",
        ),
    ];
    for (patch, field, problem) in cases {
        let error = refused(zone_defaults(patch)).await;
        let ErrorKind::InvalidInput {
            field: f,
            problem: p,
        } = error.kind()
        else {
            panic!("{error:?}")
        };
        assert_eq!(f, field);
        assert!(p.contains(problem), "{p}");
        assert!(error.to_string().contains("nothing was sent"), "{error}");
    }
}

#[tokio::test]
async fn values_on_the_bounds_are_accepted() {
    let patch = soa(|s| {
        s.refresh = Some(600);
        s.retry = Some(86400);
        s.expire = Some(2419200);
        s.min_ttl = Some(60);
        s.ttl = Some(300);
    });
    let body = sent_body(zone_defaults(ZoneDefaultsPatch {
        ns_ttl: Some(30),
        ..patch
    }))
    .await;
    assert_eq!(
        body,
        r#"{"zone_defaults":{"ns_ttl":30,"soa":{"expire":2419200,"min_ttl":60,"refresh":600,"retry":86400,"ttl":300}}}"#
    );
}

#[tokio::test]
async fn zone_edit_checks_the_union_member_bound() {
    let server = server().await;
    let patch = DnsSettingsZonePatch {
        nameservers: Some(NameserversPatch::CustomNameserverSetPatch(
            CustomNameserverSetPatch {
                ns_set: Some(6),
                type_: "custom.account".parse().unwrap(),
            },
        )),
        zone_mode: Some(ZoneMode::DnsOnly.into()),
        ..Default::default()
    };
    let error = token_client(&server)
        .zone_edit()
        .zone_id(ZONE)
        .body(patch)
        .send()
        .await
        .unwrap_err();
    let ErrorKind::InvalidInput { field, problem } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(field, "nameservers.ns_set");
    assert!(problem.contains("allowed 1..=5"), "{problem}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn unsafe_identifiers_are_refused_before_any_io() {
    let server = server().await;
    let client = token_client(&server);
    let too_long = "0".repeat(33);
    for id in [
        too_long.as_str(),
        "abc/def",
        "..",
        ".",
        "a..b",
        "id?x=1",
        "id#frag",
        "id%2F",
        "a b",
        "tab\there",
        "nl\n",
        "nul\0",
        "",
    ] {
        let error = client
            .account_get()
            .account_id(id)
            .send()
            .await
            .unwrap_err();
        let ErrorKind::InvalidInput { field, .. } = error.kind() else {
            panic!("{id:?}: {error:?}")
        };
        assert_eq!(field, "account_id", "{id:?}");
    }
    let error = client
        .zone_get()
        .zone_id(too_long.as_str())
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("33 characters is out of range; allowed at most 32 characters"),
        "{error}"
    );
    assert!(received(&server).await.is_empty(), "nothing may be sent");
}

fn soa(f: impl FnOnce(&mut SoaPatch)) -> ZoneDefaultsPatch {
    let mut soa = SoaPatch::default();
    f(&mut soa);
    ZoneDefaultsPatch {
        soa: Some(soa),
        ..Default::default()
    }
}

/// A PATCH sends only what the caller gave `.body(…)`: one whose `.body(…)` was never called is
/// refused, naming `body`, and nothing is sent (progenitor would send `{}`). Every PATCH of the
/// spec, over loopback.
#[tokio::test]
async fn a_body_never_given_is_refused_and_nothing_is_sent() {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("spec/dns_settings.json").unwrap()).unwrap();
    let server = server().await;
    let client = token_client(&server);
    let mut patches = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for (verb, op) in item.as_object().unwrap() {
            let (Some(id), "patch") = (op["operationId"].as_str(), verb.as_str()) else {
                continue;
            };
            patches += 1;
            let answer = cloudflare_dns_settings::testing::send_without_body(&client, id).await;
            let error = answer.unwrap_or_else(|| panic!("{id}: a PATCH without a body"));
            assert!(
                matches!(error.as_ref().map_err(Error::kind), Err(ErrorKind::InvalidInput { field, .. }) if field == "body"),
                "{id}: {error:?}"
            );
        }
    }
    assert!(patches >= 3, "{patches} PATCH operations");
    assert!(received(&server).await.is_empty(), "nothing is sent");
}
