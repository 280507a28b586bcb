//! Drift seen in production: for every operation, a function that looks over a decoded result
//! for what the spec does not know (a field kept in an `extra` map, an `OpenEnum::Other`, a
//! union's `UnknownKind`) and tells `crate::drift` where, by JSON path (src/drift.rs says it
//! once per operation and path, through `tracing`).
//!
//! The walk follows the generated types themselves, as build/checks.rs does: each path is known
//! here, so the generated code holds it as a string literal, and a known shape costs one test per
//! field (an empty map, an enum variant) and no allocation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::checks::{self, Types};
use crate::contract;
use crate::spec::{MAX_DEPTH, join};
use crate::syntax::{generic, idents, last_ident};

/// `fn <operation>(operation: &'static str, value: &Result)`, the walk of one operation's result.
pub fn function(operation: &str, result: &syn::Type, types: &Types) -> TokenStream {
    let name = format_ident!("{operation}");
    let walk = walk(result, "result", quote!(value), types, 0);
    quote! {
        #[allow(unused_variables, unused_parens, clippy::all)]
        pub(crate) fn #name(operation: &'static str, value: &#result) {
            #walk
        }
    }
}

/// Code that looks over `value` (an expression of type `ty`, at JSON path `path`) and what it holds.
fn walk(
    ty: &syn::Type,
    path: &str,
    value: TokenStream,
    types: &Types,
    depth: usize,
) -> TokenStream {
    let Some(name) = last_ident(ty).filter(|_| depth <= MAX_DEPTH) else {
        return TokenStream::new();
    };
    let inner = |path: &str| {
        generic(ty, &name)
            .map(|t| walk(t, path, quote!(v), types, depth + 1))
            .unwrap_or_default()
    };
    let wrap = |inner: TokenStream, around: &dyn Fn(TokenStream) -> TokenStream| {
        if inner.is_empty() {
            inner
        } else {
            around(inner)
        }
    };
    match name.as_str() {
        "Option" => wrap(inner(path), &|i| quote! { if let Some(v) = #value { #i } }),
        contract::NULLABLE => wrap(inner(path), &|i| {
            let nullable_value = contract::tokens(contract::NULLABLE_VALUE);
            quote! { if let #nullable_value(v) = #value { #i } }
        }),
        "Box" => wrap(inner(path), &|i| quote! { { let v = &**#value; #i } }),
        "Vec" => wrap(inner(&format!("{path}[]")), &|i| {
            quote! { for v in #value.iter() { #i } }
        }),
        contract::PAGE => {
            let item = generic(ty, contract::PAGE)
                .map(|t| walk(t, &format!("{path}[]"), quote!(v), types, depth + 1))
                .unwrap_or_default();
            wrap(item, &|i| quote! { for v in #value.result.iter() { #i } })
        }
        contract::OPEN_ENUM => {
            let other = contract::tokens(contract::OPEN_ENUM_OTHER);
            let (seen, enum_value) = (
                contract::tokens(contract::DRIFT_SEEN),
                contract::tokens(contract::DRIFT_ENUM_VALUE),
            );
            quote! {
                if let #other(_) = #value {
                    #seen(operation, #path, #enum_value);
                }
            }
        }
        other => match types.get(other) {
            Some(syn::Item::Struct(s)) => {
                let mut out = TokenStream::new();
                for field in &s.fields {
                    let Some(ident) = &field.ident else { continue };
                    let member = quote!((&#value.#ident));
                    if flattened(field) && idents(&field.ty).last().is_some_and(|t| t == "Map") {
                        // Tested before iterating: a known shape's map is empty.
                        let seen_field = contract::tokens(contract::DRIFT_SEEN_FIELD);
                        out.extend(quote! {
                            if !#member.is_empty() {
                                for key in #member.keys() {
                                    #seen_field(operation, #path, key);
                                }
                            }
                        });
                    } else {
                        let child = join(path, ".", &checks::json_name(field));
                        out.extend(walk(&field.ty, &child, member, types, depth + 1));
                    }
                }
                out
            }
            Some(syn::Item::Enum(e)) => {
                let ty = format_ident!("{other}");
                let mut arms = Vec::new();
                for variant in &e.variants {
                    let v = &variant.ident;
                    let syn::Fields::Unnamed(fields) = &variant.fields else {
                        continue;
                    };
                    let Some(field) = fields.unnamed.first() else {
                        continue;
                    };
                    if v == "UnknownKind" {
                        let (seen, union_kind) = (
                            contract::tokens(contract::DRIFT_SEEN),
                            contract::tokens(contract::DRIFT_UNION_KIND),
                        );
                        arms.push(quote! {
                            types::#ty::UnknownKind(_) => {
                                #seen(operation, #path, #union_kind);
                            }
                        });
                    } else {
                        let inner = walk(&field.ty, path, quote!(v), types, depth + 1);
                        if !inner.is_empty() {
                            arms.push(quote! { types::#ty::#v(v) => { #inner } });
                        }
                    }
                }
                if arms.is_empty() {
                    return TokenStream::new();
                }
                quote! {
                    #[allow(unreachable_patterns)]
                    match #value { #(#arms)* _ => {} }
                }
            }
            _ => TokenStream::new(),
        },
    }
}

/// Whether a field is `#[serde(flatten)]` (typify's `extra` map of unknown fields).
fn flattened(field: &syn::Field) -> bool {
    field.attrs.iter().any(|attr| {
        let mut found = false;
        if attr.path().is_ident("serde") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("flatten") {
                    found = true;
                } else if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                }
                Ok(())
            });
        }
        found
    })
}
