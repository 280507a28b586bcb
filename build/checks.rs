//! Request-body checks as typed code: for every operation whose body has bounds in the spec
//! (build/rules.rs), a function that walks the generated body type field by field and checks
//! each bounded value in place. Nothing is serialized or parsed to check a body. (An `enum` needs
//! no check: request types hold it as a closed Rust enum.)
//!
//! The walk follows the generated types themselves (read from progenitor's output), so it is
//! exact: a field's Rust name and its JSON name, `Option`, `Nullable`, `Vec`, newtypes, and the
//! variants of unions.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;

use crate::contract;
use crate::rules::{Check, OperationRules, Rule};
use crate::spec::{MAX_DEPTH, join};
use crate::syntax::{generic, last_ident};

/// The generated types, by name.
pub struct Types {
    items: BTreeMap<String, syn::Item>,
}

impl Types {
    /// The structs and enums of the generated `types` module (its `items`).
    pub fn of(items: &[syn::Item]) -> Self {
        let items = items.iter().filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), item.clone())),
            syn::Item::Enum(e) => Some((e.ident.to_string(), item.clone())),
            _ => None,
        });
        Types {
            items: items.collect(),
        }
    }

    /// The struct or enum `name`.
    pub fn get(&self, name: &str) -> Option<&syn::Item> {
        self.items.get(name)
    }
}

/// The function `check_<operation>(body: &types::Body) -> Result<(), crate::Error>` that checks
/// the rules on an operation's `body`, with its name; `None` when the spec bounds nothing in it.
pub fn function(
    op: &OperationRules,
    body: &syn::Type,
    types: &Types,
) -> Option<(syn::Ident, TokenStream)> {
    if op.body.is_empty() {
        return None;
    }
    let name = format_ident!("check_{}", op.operation_id);
    let walk = walk(body, "", quote!(body), &op.body, types, 0);
    let error = contract::tokens(contract::ERROR);
    let function = quote! {
        #[allow(unused_variables, unused_parens, clippy::all)]
        pub(crate) fn #name(body: &#body) -> ::std::result::Result<(), #error> {
            #walk
            Ok(())
        }
    };
    Some((name, function))
}

/// Code that checks `value` (an expression of type `ty`, at JSON path `path`) and what it holds.
fn walk(
    ty: &syn::Type,
    path: &str,
    value: TokenStream,
    rules: &[Rule],
    types: &Types,
    depth: usize,
) -> TokenStream {
    // A rule on `path` or below it (`path.field`, `path[]`).
    let below = |r: &Rule| {
        let rest = r.field.strip_prefix(path);
        path.is_empty() || rest.is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    let Some(name) = last_ident(ty).filter(|_| depth <= MAX_DEPTH && rules.iter().any(below))
    else {
        return TokenStream::new();
    };
    // The checks of what a wrapper holds (at `path`, reached as `v`), inside `wrap`.
    let inner = |path: &str, wrap: &dyn Fn(TokenStream) -> TokenStream| {
        let inner = generic(ty, &name).map(|t| walk(t, path, quote!(v), rules, types, depth + 1));
        inner
            .filter(|i| !i.is_empty())
            .map(wrap)
            .unwrap_or_default()
    };
    match name.as_str() {
        "Option" => inner(path, &|i| quote! { if let Some(v) = #value { #i } }),
        contract::NULLABLE => inner(path, &|i| {
            let nullable_value = contract::tokens(contract::NULLABLE_VALUE);
            quote! { if let #nullable_value(v) = #value { #i } }
        }),
        "Box" => inner(path, &|i| quote! { { let v = &**#value; #i } }),
        "Vec" => inner(
            &format!("{path}[]"),
            &|i| quote! { for v in #value.iter() { #i } },
        ),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "f32" | "f64" => {
            leaf_checks(path, value, rules, |c| matches!(c, Check::Range { .. }))
        }
        "String" => leaf_checks(path, value, rules, |c| matches!(c, Check::Length { .. })),
        other => match types.items.get(other) {
            Some(syn::Item::Struct(s)) => {
                let access = |field: &syn::Field, i: usize| {
                    let member = field.ident.clone().map_or(syn::Member::from(i), Into::into);
                    quote!((&#value.#member))
                };
                fields(&s.fields, path, &access, rules, types, depth)
            }
            Some(syn::Item::Enum(e)) => {
                let ty = format_ident!("{other}");
                let arms = e.variants.iter().filter_map(|v| {
                    let variant = &v.ident;
                    let pattern = variant_pattern(&v.fields);
                    let inner = fields(&v.fields, path, &binding, rules, types, depth);
                    (!inner.is_empty())
                        .then(|| quote! { types::#ty::#variant #pattern => { #inner } })
                });
                let arms: Vec<TokenStream> = arms.collect();
                // A closed enum needs no check: its type allows only the spec's values.
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

/// The checks of the rules on exactly `path` of the kind that applies to this leaf type.
fn leaf_checks(
    path: &str,
    value: TokenStream,
    rules: &[Rule],
    kind: fn(&Check) -> bool,
) -> TokenStream {
    rules
        .iter()
        .filter(|r| r.field == path && kind(&r.check))
        .map(|r| call(&r.check, &r.field, value.clone()))
        .collect()
}

/// The call that checks one bound (src/validate.rs) on `value`, a reference to the value.
pub fn call(check: &Check, field: &str, value: TokenStream) -> TokenStream {
    let option = |v: Option<f64>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    match check {
        Check::Range { min, max } => {
            let (min, max) = (option(*min), option(*max));
            let range = contract::tokens(contract::VALIDATE_RANGE);
            quote! { #range(#field, *#value as f64, #min, #max)?; }
        }
        Check::Length { min, max } => {
            let (min, max) = (option(min.map(|m| m as f64)), option(max.map(|m| m as f64)));
            let length = contract::tokens(contract::VALIDATE_LENGTH);
            quote! { #length(#field, #value.as_str(), #min, #max)?; }
        }
    }
}

/// The checks of each field of a struct or a variant, `access(field, index)` being how the
/// generated code reaches the field's value (`(&v.soa)` in a struct, the binding in a variant).
fn fields(
    fields: &syn::Fields,
    path: &str,
    access: &dyn Fn(&syn::Field, usize) -> TokenStream,
    rules: &[Rule],
    types: &Types,
    depth: usize,
) -> TokenStream {
    let mut out = TokenStream::new();
    for (i, field) in fields.iter().enumerate() {
        // A newtype's field is the same JSON value, one level down in Rust.
        let child = match &field.ident {
            Some(_) => join(path, ".", &json_name(field)),
            None => path.to_string(),
        };
        let value = access(field, i);
        out.extend(walk(&field.ty, &child, value, rules, types, depth + 1));
    }
    out
}

/// The name a variant's field is bound to in a pattern: its own, or `f0`, `f1`, … by position.
fn binding(field: &syn::Field, i: usize) -> TokenStream {
    match &field.ident {
        Some(ident) => quote!(#ident),
        None => format_ident!("f{i}").into_token_stream(),
    }
}

/// The pattern that binds every field of a variant (`{ a, b }`, `(f0, f1)`).
fn variant_pattern(fields: &syn::Fields) -> TokenStream {
    let names = fields.iter().enumerate().map(|(i, f)| binding(f, i));
    match fields {
        syn::Fields::Named(_) => quote!({ #(#names),* }),
        syn::Fields::Unnamed(_) => quote!(( #(#names),* )),
        syn::Fields::Unit => TokenStream::new(),
    }
}

/// A field's name in JSON: its `#[serde(rename = "…")]`, else its Rust name.
pub fn json_name(field: &syn::Field) -> String {
    let mut renamed = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                renamed.get_or_insert(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    let unraw = field.ident.as_ref().map(|i| i.unraw().to_string());
    renamed.or(unraw).unwrap_or_default()
}
