//! The step that adds the hidden test hooks: every operation reachable by upstream's
//! operationId, with no per-operation test code.

use std::collections::BTreeMap;

use quote::{format_ident, quote};

use crate::contract;
use crate::rules::OperationRules;
use crate::sends::BuilderParts;
use crate::syntax::generic;

/// Three hidden functions for tests, so that they can reach every operation through the spec's
/// operationIds with no per-operation test code: a call without its body, a response body
/// decoded by the same code a call uses (`crate::envelope`), and a request body decoded as the
/// body type, each serialized back to JSON. Each is compiled only with the crate's `testing`
/// feature (not part of the API; src/generated.rs's `testing` re-exports them), which the
/// crate's tests turn on.
pub fn round_trip_hooks(
    operations: &[OperationRules],
    parts: &BTreeMap<String, BuilderParts>,
) -> Vec<syn::Item> {
    let (mut responses, mut requests, mut unset_bodies) = (Vec::new(), Vec::new(), Vec::new());
    let (page, result) = (
        contract::tokens(contract::ENVELOPE_PAGE),
        contract::tokens(contract::ENVELOPE_RESULT),
    );
    let error = contract::tokens(contract::ERROR);
    let received = contract::received(quote!(body));
    for op in operations {
        let Some(generated) = parts.get(&op.operation_id) else {
            continue;
        };
        let id = &op.upstream_operation_id;
        if let Some(ty) = &generated.result {
            responses.push(match generic(ty, contract::PAGE) {
                Some(item) => quote!(#id => json(#page::<#item>(&received)),),
                None => quote!(#id => json(#result::<#ty>(&received)),),
            });
        }
        if let Some(ty) = &generated.body {
            requests.push(quote! {
                #id => ::serde_json::from_slice::<#ty>(body).and_then(::serde_json::to_value).map_err(|e| e.to_string()),
            });
            let (method, params) = (format_ident!("{}", op.operation_id), &generated.path);
            unset_bodies
                .push(quote!(#id => client.#method()#(.#params("0"))*.send().await.map(|_| ()),));
        }
    }
    vec![
        syn::parse_quote! {
            /// Sends operation `operation` (upstream's operationId) with every path parameter set
            /// and no `.body(…)`; `None` for an operation without a body. For tests.
            #[cfg(feature = "testing")]
            #[doc(hidden)]
            pub async fn send_without_body(client: &Client, operation: &str) -> Option<Result<(), #error>> {
                Some(match operation {
                    #(#unset_bodies)*
                    _ => return None,
                })
            }
        },
        syn::parse_quote! {
            /// The 2xx `body` of operation `operation` (upstream's operationId), decoded as a call
            /// decodes it and serialized back; `None` for an unknown operation. For tests.
            #[cfg(feature = "testing")]
            #[doc(hidden)]
            pub fn decode_response(operation: &str, body: &[u8]) -> Option<Result<::serde_json::Value, #error>> {
                fn json<T: ::serde::Serialize>(value: Result<T, #error>) -> Result<::serde_json::Value, #error> {
                    value.map(|v| ::serde_json::to_value(v).unwrap_or(::serde_json::Value::Null))
                }
                let received = #received;
                Some(match operation {
                    #(#responses)*
                    _ => return None,
                })
            }
        },
        syn::parse_quote! {
            /// A request `body` of operation `operation` decoded as its body type and serialized
            /// back; `None` for an operation without a body. For tests.
            #[cfg(feature = "testing")]
            #[doc(hidden)]
            pub fn decode_body(operation: &str, body: &[u8]) -> Option<Result<::serde_json::Value, String>> {
                Some(match operation {
                    #(#requests)*
                    _ => return None,
                })
            }
        },
    ]
}
