//! The generator on a shape spec/ does not have: Cloudflare's DNS records union (a `oneOf` of
//! `allOf` variants, told apart by `type`), cut from the 2024 upstream file with no SDK hints.
//! Records decode to the variant their `type` names and serialize back to exactly what the server
//! sent; a record of an unknown type is kept whole; a record that fails on one field says which.

#[path = "../../spec_values/mod.rs"]
mod spec_values;

use generator_fixture::testing::decode_response;
use generator_fixture::types::DnsRecord;
use proptest::prelude::*;
use serde_json::{Value, json};
use spec_values::{Side, operation_schemas, spec, value_for};

const LIST: &str = "dns-records-for-a-zone-list-dns-records";
const GET: &str = "dns-records-for-a-zone-dns-record-details";

fn a_record() -> Value {
    json!({"id": "023e105f4ecef8ad9ca31a8372d0c353", "zone_id": "023e105f4ecef8ad9ca31a8372d0c353",
        "zone_name": "example.com", "name": "www.example.com", "type": "A", "content": "198.51.100.4",
        "proxiable": true, "proxied": true, "ttl": 1, "settings": {},
        "meta": {"auto_added": false, "managed_by_apps": false, "source": "primary"},
        "comment": "Domain verification record", "tags": ["owner:dns-team"],
        "created_on": "2014-01-01T05:20:00.12345Z", "modified_on": "2014-01-01T05:20:00.12345Z",
        "comment_modified_on": "2024-01-01T05:20:00.12345Z"})
}

fn mx_record() -> Value {
    json!({"id": "372e67954025e0ba6aaa6d586b9e0b59", "zone_id": "023e105f4ecef8ad9ca31a8372d0c353",
        "zone_name": "example.com", "name": "example.com", "type": "MX", "content": "mx.example.com",
        "priority": 10, "proxiable": false, "proxied": false, "ttl": 3600, "settings": {},
        "meta": {"auto_added": false}, "comment": "primary mail", "tags": ["owner:mail", "tier:1"],
        "created_on": "2014-01-01T05:20:00.12345Z", "modified_on": "2014-01-01T05:20:00.12345Z"})
}

fn envelope(result: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"success": true, "errors": [], "messages": [], "result": result,
        "result_info": {"page": 1, "per_page": 100, "count": 2, "total_count": 2, "total_pages": 1}}))
    .unwrap()
}

#[test]
fn a_and_mx_records_decode_to_their_variants_and_lose_nothing() {
    let list = json!([a_record(), mx_record()]);
    let back = decode_response(LIST, &envelope(list.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(
        back["result"], list,
        "ttl, proxied, comment, tags and priority all kept"
    );

    let records: Vec<DnsRecord> = serde_json::from_value(list).unwrap();
    let DnsRecord::ARecord(a) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(a.proxied, Some(true));
    let DnsRecord::MxRecord(mx) = &records[1] else {
        panic!("{:?}", records[1])
    };
    assert_eq!(mx.priority, 10);
}

#[test]
fn a_record_of_an_unknown_type_is_kept_whole() {
    let future =
        json!({"id": "x", "name": "_sip._udp.example.com", "type": "NAPTR2", "data": {"order": 1}});
    let back = decode_response(GET, &envelope(future.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(back, future);
}

#[test]
fn a_record_that_fails_on_one_field_names_it() {
    let mut broken = mx_record();
    broken["priority"] = json!("high");
    let error = decode_response(GET, &envelope(broken))
        .unwrap()
        .unwrap_err();
    let message = format!(
        "{error}: {}",
        std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(message.contains("priority"), "{message}");
}

#[test]
fn every_response_of_the_fixture_round_trips() {
    let spec = spec();
    let mut covered = 0;
    for spec_values::OperationSchemas {
        id, result, paged, ..
    } in operation_schemas(&spec)
    {
        let Some(result) = result else { continue };
        covered += 1;
        proptest!(ProptestConfig::with_cases(64), |(value in value_for(&result, &spec, Side::Response))| {
            let mut body = json!({"success": true, "errors": [], "messages": [], "result": value});
            if paged {
                body["result_info"] = json!({"page": 1});
            }
            let back = decode_response(&id, &serde_json::to_vec(&body).unwrap()).unwrap();
            let back = back.map_err(|e| TestCaseError::fail(format!("{id}: {e}")))?;
            let got = if paged { back["result"].clone() } else { back };
            prop_assert_eq!(got, value);
        });
    }
    assert_eq!(covered, 3);
}

/// Method names came from the paths: no SDK hints in this spec.
#[test]
fn operations_without_hints_are_named_from_their_paths() {
    let client = generator_fixture::Client::builder()
        .api_token("t")
        .build()
        .unwrap();
    let _ = client.zone_dns_records_list();
    let _ = client.zone_dns_records_create();
    let _ = client.zone_dns_record_get();
}
