//! Responses from a newer API decode: unknown enum values, fields and union kinds are kept,
//! visible, and serialized back unchanged.

mod common;

use cloudflare_dns_settings::types::Nameservers;
use cloudflare_dns_settings::{ErrorKind, OpenEnum};
use common::*;

#[tokio::test]
async fn unknown_enum_values_and_fields_decode_and_are_kept() {
    let server = serve_get(200, &fixture("account_settings_future.json")).await;
    let settings = get_account(&token_client(&server)).await.unwrap();
    let z = &settings.zone_defaults;
    assert_eq!(z.zone_mode, OpenEnum::Other("edge_only".into()));
    assert_eq!(
        z.nameservers.type_,
        OpenEnum::Other("cloudflare.quantum".into())
    );
    assert_eq!(z.nameservers.type_.to_string(), "cloudflare.quantum");
    assert_eq!(z.extra["dnssec_presigned"], true);
    assert_eq!(z.soa.extra["serial_strategy"], "unixtime");
    assert_eq!(settings.extra["account_tier"]["name"], "enterprise");
}

#[tokio::test]
async fn unknown_values_are_serialized_back_unchanged() {
    let fixture_json = json_fixture("account_settings_future.json");
    let server = serve_get(200, &fixture_json.to_string()).await;
    let settings = get_account(&token_client(&server)).await.unwrap();
    assert_eq!(
        serde_json::to_value(&settings).unwrap(),
        fixture_json["result"]
    );
}

#[tokio::test]
async fn an_unknown_kind_of_zone_nameservers_is_kept_whole() {
    let fixture_json = json_fixture("zone_settings_future.json");
    let server = serve_get(200, &fixture_json.to_string()).await;
    let settings = token_client(&server)
        .zone_get()
        .zone_id(ZONE)
        .send()
        .await
        .unwrap();
    let Nameservers::UnknownKind(raw) = &settings.nameservers else {
        panic!("{:?}", settings.nameservers)
    };
    assert_eq!(raw["type"], "custom.global");
    assert_eq!(
        serde_json::to_value(&settings).unwrap(),
        fixture_json["result"]
    );
}

/// A field the spec calls required, missing from a response, is a decode error naming the
/// object and the field: a silently defaulted TTL (0) or flag (false) would look real and could
/// be written back by a read-modify-write.
#[tokio::test]
async fn a_missing_required_field_is_a_decode_error_naming_it() {
    let mut body = json_fixture("account_settings.json");
    body["result"]["zone_defaults"]
        .as_object_mut()
        .unwrap()
        .remove("ns_ttl");
    let server = serve_get(200, &body.to_string()).await;
    let error = get_account(&token_client(&server)).await.unwrap_err();
    let ErrorKind::Decode { path, source, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(path, "result.zone_defaults");
    assert!(
        source.to_string().contains("missing field `ns_ttl`"),
        "{source}"
    );
}

#[tokio::test]
async fn a_fractional_ttl_is_a_decode_error_not_a_silent_truncation() {
    let mut body = json_fixture("account_settings.json");
    body["result"]["zone_defaults"]["ns_ttl"] = serde_json::json!(3600.5);
    let server = serve_get(200, &body.to_string()).await;
    let error = get_account(&token_client(&server)).await.unwrap_err();
    let ErrorKind::Decode { path, .. } = error.kind() else {
        panic!("{error:?}")
    };
    assert_eq!(path, "result.zone_defaults.ns_ttl");
}
