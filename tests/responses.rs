//! Responses parsed from recorded envelopes, through the public API.

mod common;

use cloudflare_dns_settings::types::{
    CustomNameserverSet, Nameservers, ZoneDefaultsNameserversType, ZoneMode,
};
use cloudflare_dns_settings::{ErrorKind, Nullable, OpenEnum};
use common::*;

/// The seed's sample with its placeholder `errors`/`messages` emptied: every field decodes.
#[tokio::test]
#[allow(deprecated)] // every field, the deprecated `foundation_dns` too
async fn seed_sample_result_decodes_every_field() {
    let mut sample = json_fixture("seed_account_edit_response.json");
    sample["errors"] = serde_json::json!([]);
    sample["messages"] = serde_json::json!([]);
    let server = serve_get(200, &sample.to_string()).await;
    let settings = get_account(&token_client(&server)).await.unwrap();
    let z = &settings.zone_defaults;
    assert!(
        !z.flatten_all_cnames
            && z.foundation_dns == Some(false)
            && !z.multi_provider
            && !z.secondary_overrides
    );
    assert_eq!(
        z.internal_dns.reference_zone_id.as_deref(),
        Some("reference_zone_id")
    );
    assert_eq!(
        z.nameservers.type_,
        OpenEnum::Known(ZoneDefaultsNameserversType::CloudflareStandard)
    );
    assert_eq!(z.ns_ttl, 86400);
    assert_eq!(
        (
            z.soa.expire,
            z.soa.min_ttl,
            z.soa.refresh,
            z.soa.retry,
            z.soa.ttl
        ),
        (
            Some(604800),
            Some(1800),
            Some(10000),
            Some(2400),
            Some(3600)
        )
    );
    assert_eq!(
        z.soa.mname,
        Some(Nullable::Value("kristina.ns.cloudflare.com".to_string()))
    );
    assert_eq!(z.soa.rname.as_deref(), Some("admin.example.com"));
    assert_eq!(z.zone_mode, OpenEnum::Known(ZoneMode::DnsOnly));
    assert_eq!(settings.enforce_dns_only, None);
}

/// The seed's sample as published carries `errors` next to `success: true`: per the envelope
/// rule (a non-empty `errors` is a failure at any status) that is an API error, fully parsed.
#[tokio::test]
async fn seed_sample_as_published_is_an_api_error_because_errors_is_not_empty() {
    let server = serve_get(200, &fixture("seed_account_edit_response.json")).await;
    let error = get_account(&token_client(&server)).await.unwrap_err();
    let ErrorKind::Api { messages, .. } = error.kind() else {
        panic!("expected Api, got {error:?}")
    };
    let errors = error.errors();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(errors[0].code, 1000);
    assert_eq!(
        errors[0].documentation_url.as_deref(),
        Some("documentation_url")
    );
    assert_eq!(
        errors[0].source.as_ref().and_then(|s| s.pointer.as_deref()),
        Some("pointer")
    );
    assert_eq!(messages.len(), 1);
    assert_eq!(error.ray_id(), Some("8c3f0a1b2c3d4e5f-SJC"));
}

#[tokio::test]
async fn null_mname_decodes_as_explicit_null() {
    let server = serve_get(200, &fixture("account_settings.json")).await;
    let settings = get_account(&token_client(&server)).await.unwrap();
    assert_eq!(settings.zone_defaults.soa.mname, Some(Nullable::Null));
    assert_eq!(settings.enforce_dns_only, Some(false));
}

#[tokio::test]
async fn zone_nameservers_union_picks_the_custom_set_variant() {
    let server = serve_get(200, &fixture("zone_settings.json")).await;
    let settings = token_client(&server)
        .zone_get()
        .zone_id(ZONE)
        .send()
        .await
        .unwrap();
    match settings.nameservers {
        Nameservers::CustomNameserverSet(CustomNameserverSet { ns_set, .. }) => {
            assert_eq!(ns_set, Some(2))
        }
        other => panic!("wrong variant: {other:?}"),
    }
}

/// A delete answers `result: null` (the spec allows it): `None`, not a crash (found by Prism).
#[tokio::test]
async fn a_null_or_absent_result_is_none_where_the_spec_allows_it() {
    for body in [
        r#"{"success":true,"errors":[],"messages":[],"result":null}"#,
        r#"{"success":true,"errors":[],"messages":[]}"#,
    ] {
        let server = server().await;
        wiremock::Mock::given(wiremock::matchers::method("DELETE"))
            .respond_with(json_response(200, body))
            .mount(&server)
            .await;
        let deleted = token_client(&server)
            .account_views_delete()
            .account_id(ACCOUNT)
            .view_id(ZONE)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted, None, "{body}");
    }
}
