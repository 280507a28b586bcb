//! Generation: progenitor on the adjusted spec, then a few edits to its output so that every
//! operation's `send()` goes through this crate's transport and returns `Result<T, crate::Error>`.
//!
//! The edits are made on the syntax tree, each by one function below that says why; every one
//! checks that progenitor's output has the shape it expects and fails the build with a message
//! otherwise (a progenitor upgrade that changes its output must be looked at, not guessed at).

use std::collections::{BTreeMap, BTreeSet};

use quote::{ToTokens, format_ident, quote};
use serde_json::Value;
use syn::visit_mut::{self, VisitMut};

use crate::adjust::{CRATE, Union};
use crate::checks;
use crate::plans::{self, Pair};
use crate::rules::{self, OperationRules};

/// Generates the client from the adjusted spec and the table of operations (build/rules.rs).
pub fn generate(
    spec: Value,
    operations: &[OperationRules],
    unions: &[Union],
    pairs: &[Pair<'_>],
) -> Result<String, String> {
    let statics: BTreeMap<String, String> = operations
        .iter()
        .map(|op| {
            (
                op.operation_id.clone(),
                rules::static_name(&op.operation_id),
            )
        })
        .collect();
    let api: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(
            "crate::client::ClientState"
                .parse()
                .map_err(|_| "inner type")?,
        )
        .with_derive("PartialEq")
        .with_crate(CRATE.replace('_', "-"), progenitor::CrateVers::Any, None)
        // `Option<Vec<T>>` for optional arrays (see adjust.rs).
        .with_crate("std", progenitor::CrateVers::Any, None);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&api)
        .map_err(|e| format!("progenitor cannot generate a client: {e}"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    keep_progenitor_out_of_the_public_api(&mut file)?;
    no_type_builders(&mut file)?;
    unions_decode_by_their_discriminator(&mut file, unions)?;
    let builders = builders(&file);
    let bodies: BTreeMap<String, syn::Type> = builders
        .iter()
        .filter_map(|(op, b)| Some((op.clone(), b.body.clone()?)))
        .collect();
    let strings: BTreeMap<String, BTreeSet<String>> = builders
        .iter()
        .map(|(op, b)| (op.clone(), b.strings.clone()))
        .collect();
    let paths: BTreeMap<String, Vec<String>> = builders
        .iter()
        .map(|(op, b)| (op.clone(), b.path.clone()))
        .collect();
    let optional: BTreeMap<String, BTreeSet<String>> = builders
        .into_iter()
        .map(|(op, b)| (op, b.optional))
        .collect();
    let results = result_types(&file);
    let checks = checks::functions(operations, &bodies, &checks::Types::of(&file));
    let mut sends = SendsThroughTheTransport {
        statics: &statics,
        operations: operations
            .iter()
            .map(|op| (op.operation_id.clone(), op))
            .collect(),
        optional: &optional,
        strings: &strings,
        checks: checks
            .iter()
            .map(|(op, (name, _))| (op.clone(), name.clone()))
            .collect(),
        rewritten: 0,
        problem: None,
    };
    sends.visit_file_mut(&mut file);
    if let Some(problem) = sends.problem {
        return Err(problem);
    }
    if sends.rewritten != statics.len() {
        return Err(format!(
            "progenitor's output has {} `send` functions for {} operations",
            sends.rewritten,
            statics.len()
        ));
    }
    file.items
        .extend(round_trip_hooks(operations, &bodies, &results));
    let check_names = checks
        .iter()
        .map(|(op, (name, _))| (op.clone(), name.clone()))
        .collect();
    file.items.extend(plans::generate(
        pairs,
        &bodies,
        &results,
        &check_names,
        &paths,
    )?);
    let functions = checks.values().map(|(_, function)| function);
    file.items.push(syn::parse_quote! {
        /// The spec's bounds on request bodies, checked on the typed body before it is sent.
        pub(crate) mod checks {
            use super::types;
            #(#functions)*
        }
    });
    explicit_null_survives_deserialization(&mut file);
    Ok(prettyplease::unparse(&file))
}

/// Two hidden functions for the round-trip tests, so that they can reach every operation's types
/// through the spec's operationIds with no per-operation test code: a response body decoded by
/// the same code a call uses (`crate::envelope`), and a request body decoded as the body type,
/// each serialized back to JSON.
fn round_trip_hooks(
    operations: &[OperationRules],
    bodies: &BTreeMap<String, syn::Type>,
    results: &BTreeMap<String, syn::Type>,
) -> Vec<syn::Item> {
    let responses = operations.iter().filter_map(|op| {
        let ty = results.get(&op.operation_id)?;
        let id = &op.upstream_operation_id;
        Some(match page_item(ty) {
            Some(item) => quote!(#id => json(crate::envelope::page::<#item>(&received)),),
            None => quote!(#id => json(crate::envelope::result::<#ty>(&received)),),
        })
    });
    let requests = operations.iter().filter_map(|op| {
        let ty = bodies.get(&op.operation_id)?;
        let id = &op.upstream_operation_id;
        Some(quote! {
            #id => ::serde_json::from_slice::<#ty>(body).and_then(::serde_json::to_value).map_err(|e| e.to_string()),
        })
    });
    vec![
        syn::parse_quote! {
            /// The 2xx `body` of operation `operation` (upstream's operationId), decoded as a call
            /// decodes it and serialized back; `None` for an unknown operation. For tests.
            #[doc(hidden)]
            pub fn decode_response(operation: &str, body: &[u8]) -> Option<Result<::serde_json::Value, crate::Error>> {
                fn json<T: ::serde::Serialize>(value: Result<T, crate::Error>) -> Result<::serde_json::Value, crate::Error> {
                    value.map(|v| ::serde_json::to_value(v).unwrap_or(::serde_json::Value::Null))
                }
                let received = crate::envelope::Received {
                    status: ::reqwest::StatusCode::OK,
                    headers: ::reqwest::header::HeaderMap::new(),
                    body: ::bytes::Bytes::copy_from_slice(body),
                    attempts: 1,
                    earlier: crate::Applied::No,
                };
                Some(match operation {
                    #(#responses)*
                    _ => return None,
                })
            }
        },
        syn::parse_quote! {
            /// A request `body` of operation `operation` decoded as its body type and serialized
            /// back; `None` for an operation without a body. For tests.
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

/// Each operation's result type, from progenitor's `send` (`Result<ResponseValue<T>, …>`),
/// keyed by the operation's name. Read before the sends are rewritten.
fn result_types(file: &syn::File) -> BTreeMap<String, syn::Type> {
    let mut out = BTreeMap::new();
    struct Sends<'a>(&'a mut BTreeMap<String, syn::Type>);
    impl<'ast> syn::visit::Visit<'ast> for Sends<'_> {
        fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
            if f.sig.ident == "send"
                && let (Some(op), Some(ty)) = (
                    f.block.stmts.iter().find_map(operation_id),
                    result_type(&f.sig.output),
                )
            {
                self.0.insert(op, ty);
            }
        }
    }
    syn::visit::Visit::visit_file(&mut Sends(&mut out), file);
    out
}

/// What an operation's builder holds, read from progenitor's `mod builder`: the body type
/// (`body: Result<types::X, String>`, or `types::builder::X`, which converts into `types::X`) and
/// the optional fields (`Result<Option<T>, String>`), keyed by the operation's name.
#[derive(Default)]
struct Builder {
    body: Option<syn::Type>,
    optional: BTreeSet<String>,
    /// Fields that hold a `String` (`Result<String, String>`).
    strings: BTreeSet<String>,
    /// The path parameters' names in Rust (progenitor's, sanitized), in the path's order.
    path: Vec<String>,
}

fn builders(file: &syn::File) -> BTreeMap<String, Builder> {
    let mut by_builder: BTreeMap<String, Builder> = BTreeMap::new();
    let mut operation_of: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let items = file.items.iter().filter_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    });
    for inner in items.flatten() {
        match inner {
            syn::Item::Struct(s) => {
                let mut builder = Builder::default();
                for field in &s.fields {
                    let (Some(name), Some(held)) =
                        (&field.ident, first_generic(&field.ty, "Result"))
                    else {
                        continue;
                    };
                    if name == "body"
                        && let syn::Type::Path(p) = &held
                        && let Some(last) = p.path.segments.last().map(|s| &s.ident)
                    {
                        builder.body = Some(syn::parse_quote!(types::#last));
                    }
                    if first_generic(&held, "Option").is_some() {
                        builder.optional.insert(name.to_string());
                    }
                    if held.to_token_stream().to_string().replace(' ', "")
                        == "::std::string::String"
                    {
                        builder.strings.insert(name.to_string());
                    }
                }
                by_builder.insert(s.ident.to_string(), builder);
            }
            syn::Item::Impl(i) => {
                let syn::Type::Path(self_ty) = &*i.self_ty else {
                    continue;
                };
                let Some(name) = self_ty.path.segments.last().map(|s| s.ident.to_string()) else {
                    continue;
                };
                for member in &i.items {
                    if let syn::ImplItem::Fn(f) = member
                        && f.sig.ident == "send"
                        && let Some(op) = f.block.stmts.iter().find_map(operation_id)
                    {
                        let text = f.block.to_token_stream().to_string();
                        operation_of.insert(name.clone(), (op, path_arguments(&text)));
                    }
                }
            }
            _ => {}
        }
    }
    operation_of
        .into_iter()
        .filter_map(|(builder, (op, path))| {
            let mut builder = by_builder.remove(&builder)?;
            builder.path = path;
            Some((op, builder))
        })
        .collect()
}

/// The path parameters of a `send` (its tokens as text), in the path's order, by the names
/// progenitor gave them: `encode_path(&account_id.to_string())` in the URL.
fn path_arguments(text: &str) -> Vec<String> {
    text.split("encode_path (& ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next().map(String::from))
        .collect()
}

/// progenitor re-exports its own `Error`, `ResponseValue`, `ByteStream` and `ClientInfo`,
/// implements `ClientInfo` and `ClientHooks` for the client, and gives it public constructors
/// (`new`, which panics if the HTTP client cannot be built, and `new_with_client`, which skips the
/// credential and https checks). None of that is part of this crate's API: a progenitor upgrade
/// must not break users, and nothing public may bypass `ClientBuilder::build`. The re-exports
/// become private imports (the generated builders still use them), the impls go, `new` goes and
/// `new_with_client` becomes `pub(crate)`.
fn keep_progenitor_out_of_the_public_api(file: &mut syn::File) -> Result<(), String> {
    let mut found_constructor = false;
    file.items.retain_mut(|item| match item {
        syn::Item::Use(u) => {
            if u.tree
                .to_token_stream()
                .to_string()
                .starts_with("progenitor_client")
            {
                u.vis = syn::Visibility::Inherited;
            }
            true
        }
        syn::Item::Impl(i) => {
            let is_progenitor_trait = i.trait_.as_ref().is_some_and(|(_, path, _)| {
                path.segments
                    .last()
                    .is_some_and(|s| s.ident == "ClientInfo" || s.ident == "ClientHooks")
            });
            if is_progenitor_trait {
                return false;
            }
            if i.trait_.is_none() {
                i.items.retain_mut(|member| match member {
                    syn::ImplItem::Fn(f) if f.sig.ident == "new" => false,
                    syn::ImplItem::Fn(f) if f.sig.ident == "new_with_client" => {
                        f.vis = syn::parse_quote!(pub(crate));
                        found_constructor = true;
                        true
                    }
                    _ => true,
                });
            }
            true
        }
        // progenitor's check that `ClientHooks` is implemented: there are no hooks any more.
        syn::Item::Const(c) => c.ident != "_",
        _ => true,
    });
    if found_constructor {
        Ok(())
    } else {
        Err("progenitor's output has no `Client::new_with_client` to make crate-private".into())
    }
}

/// Each builder's `send` is progenitor's up to the built `reqwest::Request`; from there it hands
/// the request to `crate::transport` (authentication, the spec's checks, pacing, retries, the
/// bounded read and the one decode of the envelope) and returns what it returns:
/// `Result<T, crate::Error>`, where `T` is the envelope's `result`, or a `Page<T>` for a list.
/// Along the way:
/// - a builder value that was never set or did not convert is `Error::InvalidInput` naming the
///   field, not progenitor's `Error::InvalidRequest(String)`;
/// - the body is checked against the spec's bounds while still typed, before it is serialized;
/// - progenitor's `api-version` header (from `info.version`, meaningless to Cloudflare) is not
///   added, so nothing is sent that the caller did not ask for.
struct SendsThroughTheTransport<'a> {
    statics: &'a BTreeMap<String, String>,
    operations: BTreeMap<String, &'a OperationRules>,
    /// Per operation, the builder fields that are optional (`Option<T>`).
    optional: &'a BTreeMap<String, BTreeSet<String>>,
    /// Per operation, the builder fields that are strings.
    strings: &'a BTreeMap<String, BTreeSet<String>>,
    /// The name of each operation's body check, for those that have one.
    checks: BTreeMap<String, syn::Ident>,
    rewritten: usize,
    problem: Option<String>,
}

impl VisitMut for SendsThroughTheTransport<'_> {
    /// A builder starts each required value as `Err("account_id was not initialized".to_string())`,
    /// an allocation on every call; it starts as `Err(String::new())` instead, and the crate's
    /// error says "is required and was not set" for an empty message.
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        let text = call.to_token_stream().to_string();
        if text.starts_with("Err (\"") && text.ends_with("was not initialized\" . to_string ())") {
            *call = syn::parse_quote!(Err(::std::string::String::new()));
            return;
        }
        visit_mut::visit_expr_call_mut(self, call);
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        if f.sig.ident == "send" && f.sig.asyncness.is_some() {
            match rewrite_send(f, self) {
                Ok(()) => self.rewritten += 1,
                Err(problem) => {
                    self.problem.get_or_insert(problem);
                }
            }
            return;
        }
        visit_mut::visit_impl_item_fn_mut(self, f);
    }
}

fn rewrite_send(
    f: &mut syn::ImplItemFn,
    context: &SendsThroughTheTransport<'_>,
) -> Result<(), String> {
    let (statics, checks) = (context.statics, &context.checks);
    let result = result_type(&f.sig.output)
        .ok_or("a generated `send` does not return `Result<ResponseValue<T>, Error<E>>`")?;
    let stmts = std::mem::take(&mut f.block.stmts);
    let Some(info_at) = stmts
        .iter()
        .position(|s| s.to_token_stream().to_string().contains("OperationInfo"))
    else {
        return Err("a generated `send` has no `OperationInfo`".into());
    };
    let operation =
        operation_id(&stmts[info_at]).ok_or("a generated `send` has no `operation_id: \"…\"`")?;
    let table_entry = statics
        .get(&operation)
        .ok_or_else(|| format!("operation `{operation}` is not in the operation table"))?;
    let table_entry: syn::Ident = syn::parse_str(table_entry).map_err(|e| e.to_string())?;
    let rules = context
        .operations
        .get(&operation)
        .ok_or_else(|| format!("operation `{operation}` has no rules"))?;
    let no_optional = BTreeSet::new();
    let optional = context.optional.get(&operation).unwrap_or(&no_optional);
    let parameter_checks = parameter_checks(&stmts[..info_at], rules, optional)?;

    let header_map_used_elsewhere = stmts[..info_at].iter().any(|s| {
        let text = s.to_token_stream().to_string();
        text.contains("header_map . append") && !text.contains("\"api-version\"")
    });
    let mut kept: Vec<syn::Stmt> = Vec::new();
    for mut stmt in stmts.into_iter().take(info_at) {
        let text = stmt.to_token_stream().to_string();
        if text.contains("\"api-version\"") {
            continue;
        }
        if !header_map_used_elsewhere && text.starts_with("let mut header_map") {
            continue;
        }
        if text.starts_with("let url") {
            kept.extend(parameter_checks.iter().cloned());
            stmt = path_strings_not_copied(&stmt, context.strings.get(&operation))?;
        }
        let binding = local_name(&stmt);
        let mut edits = SendEdits {
            binding: binding.clone(),
            drop_header_map: !header_map_used_elsewhere,
        };
        edits.visit_stmt_mut(&mut stmt);
        if binding.as_deref() == Some("request") {
            stmt = request_built_per_attempt(stmt)?;
        }
        kept.push(stmt);
        if binding.as_deref() == Some("body")
            && let Some(check) = checks.get(&operation)
        {
            kept.push(syn::parse_quote! { super::checks::#check(&body)?; });
        }
    }
    let (function, decoded) = match page_item(&result) {
        Some(item) => (quote!(call_page), item),
        None => (quote!(call), result.clone()),
    };
    kept.push(syn::Stmt::Expr(
        syn::parse_quote! {
            crate::transport::#function::<#decoded>(client, request, &super::operations::#table_entry).await
        },
        None,
    ));
    f.block.stmts = kept;
    f.sig.output = syn::parse_quote!(-> ::std::result::Result<#result, crate::Error>);
    Ok(())
}

/// progenitor formats the URL with `encode_path(&account_id.to_string())`: for a parameter that
/// is already a `String`, a copy made only to be borrowed, on every call. It is borrowed as it is.
fn path_strings_not_copied(
    stmt: &syn::Stmt,
    strings: Option<&BTreeSet<String>>,
) -> Result<syn::Stmt, String> {
    let mut text = stmt.to_token_stream().to_string();
    for name in strings.into_iter().flatten() {
        text = text.replace(
            &format!("encode_path (& {name} . to_string ())"),
            &format!("encode_path (& {name})"),
        );
    }
    syn::parse_str(&text).map_err(|e| format!("the URL statement no longer parses: {e}"))
}

/// progenitor builds the `reqwest::Request` once (`let mut request = client.client.patch(url)
/// ….build()?;`). The transport needs a request per attempt; copying the built one before every
/// first attempt (`try_clone`) costs on every call, for the rare retry. The statement becomes a
/// closure that builds the request from the values it borrows (`url`, `body`, the query), called
/// once per attempt.
fn request_built_per_attempt(stmt: syn::Stmt) -> Result<syn::Stmt, String> {
    let syn::Stmt::Local(mut local) = stmt else {
        return Err("`request` is not bound by a `let`".into());
    };
    let Some(init) = local.init.take() else {
        return Err("`let request` has no value".into());
    };
    let syn::Expr::Try(built) = *init.expr else {
        return Err("`let request = ….build()?` has no `?`".into());
    };
    struct UrlBorrowed;
    impl VisitMut for UrlBorrowed {
        fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
            if call.receiver.to_token_stream().to_string() == "client . client"
                && call.args.to_token_stream().to_string() == "url"
            {
                call.args = syn::parse_quote!(url.as_str());
            }
            visit_mut::visit_expr_method_call_mut(self, call);
        }
    }
    let mut expr = *built.expr;
    UrlBorrowed.visit_expr_mut(&mut expr);
    Ok(syn::parse_quote! {
        let request = || -> ::std::result::Result<::reqwest::Request, crate::Error> { #expr };
    })
}

/// The checks of an operation's path and query parameters, on their typed values before the URL
/// is built: every path parameter is safe in a path (not empty, no `/`, `..`, `?`, `#`, `%`,
/// whitespace or control characters: `.` or `..` would move the request elsewhere), and each
/// bound the spec sets on a parameter holds. The parameters' names in Rust are read from
/// progenitor's code: `encode_path(&account_id.to_string())` in the URL, in the path's order, and
/// `QueryParam::new("name.contains", &name_contains)`.
fn parameter_checks(
    stmts: &[syn::Stmt],
    rules: &OperationRules,
    optional: &BTreeSet<String>,
) -> Result<Vec<syn::Stmt>, String> {
    let text: String = stmts
        .iter()
        .map(|s| s.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let path_args = path_arguments(&text);
    let path_names: Vec<&str> = rules
        .path_template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    if path_args.len() != path_names.len() {
        return Err(format!(
            "`{}`: {} path parameters in progenitor's URL for {} in the template",
            rules.operation_id,
            path_args.len(),
            path_names.len()
        ));
    }
    let query_args: BTreeMap<String, String> = text
        .split("QueryParam :: new (\"")
        .skip(1)
        .filter_map(|rest| {
            let (wire, after) = rest.split_once('"')?;
            let ident =
                after.trim_start_matches(|c: char| c == ',' || c == '&' || c.is_whitespace());
            Some((
                wire.to_string(),
                ident
                    .split_whitespace()
                    .next()?
                    .trim_end_matches(')')
                    .to_string(),
            ))
        })
        .collect();
    let mut out: Vec<syn::Stmt> = Vec::new();
    for (name, arg) in path_names.iter().zip(&path_args) {
        let ident: syn::Ident = syn::parse_str(arg).map_err(|e| e.to_string())?;
        out.push(syn::parse_quote! { crate::validate::path_param(#name, &#ident)?; });
        for rule in rules.path.iter().filter(|r| r.field == *name) {
            out.extend(bound(&rule.check, name, quote!(#ident), false));
        }
    }
    for rule in &rules.query {
        let Some(arg) = query_args.get(&rule.field) else {
            continue;
        };
        let ident: syn::Ident = syn::parse_str(arg).map_err(|e| e.to_string())?;
        out.extend(bound(
            &rule.check,
            &rule.field,
            quote!(#ident),
            optional.contains(arg),
        ));
    }
    Ok(out)
}

/// The check of one bound on a parameter (an `enum` needs none: the parameter is a Rust enum).
fn bound(
    check: &rules::Check,
    field: &str,
    value: proc_macro2::TokenStream,
    optional: bool,
) -> Option<syn::Stmt> {
    let option = |v: &Option<f64>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    let call = match check {
        rules::Check::Range { min, max } => {
            let (min, max) = (option(min), option(max));
            quote!(crate::validate::range(#field, *v as f64, #min, #max)?;)
        }
        rules::Check::Length { min, max } => {
            let (min, max) = (
                option(&min.map(|m| m as f64)),
                option(&max.map(|m| m as f64)),
            );
            quote!(crate::validate::length(#field, v.as_str(), #min, #max)?;)
        }
        rules::Check::OneOf(_) => return None,
    };
    Some(if optional {
        syn::parse_quote! { if let Some(v) = &#value { #call } }
    } else {
        syn::parse_quote! { { let v = &#value; #call } }
    })
}

/// `T` of `Result<ResponseValue<T>, Error<E>>`.
fn result_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let ok = first_generic(ty, "Result")?;
    first_generic(&ok, "ResponseValue")
}

/// `Item` of `::cloudflare_dns_settings::Page<Item>`.
fn page_item(ty: &syn::Type) -> Option<syn::Type> {
    first_generic(ty, "Page")
}

fn first_generic(ty: &syn::Type, name: &str) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

fn operation_id(stmt: &syn::Stmt) -> Option<String> {
    let text = stmt.to_token_stream().to_string();
    let start = text.find("operation_id")?;
    let rest = &text[start..];
    let open = rest.find('"')?;
    let close = rest[open + 1..].find('"')?;
    Some(rest[open + 1..open + 1 + close].to_string())
}

/// The name a `let` statement binds, if it binds one name.
fn local_name(stmt: &syn::Stmt) -> Option<String> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    match &local.pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(t) => match &*t.pat {
            syn::Pat::Ident(p) => Some(p.ident.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The edits inside one statement of a `send` (see [`SendsThroughTheTransport`]).
struct SendEdits {
    /// The name the statement binds: the field a builder refusal is about.
    binding: Option<String>,
    drop_header_map: bool,
}

impl VisitMut for SendEdits {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        // `Error::InvalidRequest` (a builder value unset or unconvertible) → our error, named.
        if let syn::Expr::Path(p) = expr
            && p.path.segments.len() == 2
            && p.path.segments[0].ident == "Error"
            && p.path.segments[1].ident == "InvalidRequest"
        {
            let field = self.binding.clone().unwrap_or_else(|| "request".into());
            *expr = syn::parse_quote!(|problem: ::std::string::String| crate::Error::from_builder(#field, problem));
            return;
        }
        // `….build()?`: reqwest's builder error → ours.
        if let syn::Expr::Try(t) = expr
            && let syn::Expr::MethodCall(call) = &*t.expr
            && call.method == "build"
        {
            let inner = t.expr.clone();
            *t.expr = syn::parse_quote!(#inner.map_err(crate::Error::from_reqwest));
            visit_mut::visit_expr_mut(self, &mut t.expr);
            return;
        }
        // `.headers(header_map)` once the map is gone: the call goes too.
        if self.drop_header_map
            && let syn::Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.to_token_stream().to_string() == "header_map"
        {
            *expr = (*call.receiver).clone();
            self.visit_expr_mut(expr);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// typify gives every struct a builder (`types::builder::AccountSettingsPatch`, a struct of
/// `Result`s per field), and progenitor's operation builders hold a body as one. Half of the
/// generated code, compiled on every clean build, for a second way of writing what a struct
/// literal says (the README uses literals; `Default` fills optional fields). The builders go;
/// an operation builder holds its body as the type itself (`body_map` maps that), starting empty
/// for a body with required fields ("body is required and was not set").
fn no_type_builders(file: &mut syn::File) -> Result<(), String> {
    let mut with_default = BTreeSet::new();
    for item in file.items.iter_mut() {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "types" {
            continue;
        }
        let Some((_, items)) = &mut m.content else {
            continue;
        };
        items.retain(|item| match item {
            syn::Item::Mod(inner) => inner.ident != "builder",
            // `impl X { pub fn builder() -> builder::X }`
            syn::Item::Impl(i) => {
                !(i.trait_.is_none()
                    && i.items.len() == 1
                    && matches!(&i.items[0], syn::ImplItem::Fn(f) if f.sig.ident == "builder"))
            }
            _ => true,
        });
        for item in items.iter() {
            if let syn::Item::Struct(s) = item
                && s.attrs.iter().any(|a| {
                    a.path().is_ident("derive")
                        && a.to_token_stream().to_string().contains("Default")
                })
            {
                with_default.insert(s.ident.to_string());
            }
        }
    }
    /// `types::builder::X` becomes `types::X`; a builder whose body type has no `Default`
    /// starts it empty.
    struct Bodies<'a> {
        with_default: &'a BTreeSet<String>,
        /// Each operation builder's body type.
        bodies: BTreeMap<String, String>,
        /// Whether the builder being visited can start its body as `Default::default()`.
        defaults: bool,
    }
    impl VisitMut for Bodies<'_> {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if path.segments.len() == 3
                && path.segments[0].ident == "types"
                && path.segments[1].ident == "builder"
            {
                let last = path.segments[2].clone();
                path.segments = syn::parse_quote!(types::#last);
            }
            visit_mut::visit_path_mut(self, path);
        }
        fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
            let builder = i.self_ty.to_token_stream().to_string();
            let builder = builder.split_whitespace().next().unwrap_or_default();
            self.defaults = self
                .bodies
                .get(builder)
                .is_none_or(|body| self.with_default.contains(body));
            visit_mut::visit_item_impl_mut(self, i);
        }
        fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
            if !self.defaults
                && field.member.to_token_stream().to_string() == "body"
                && field
                    .expr
                    .to_token_stream()
                    .to_string()
                    .starts_with("Ok (:: std :: default :: Default :: default ())")
            {
                field.expr = syn::parse_quote!(Err(::std::string::String::new()));
            }
            visit_mut::visit_field_value_mut(self, field);
        }
    }
    for item in file.items.iter_mut() {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        let mut bodies = BTreeMap::new();
        for item in m.content.iter().flat_map(|(_, items)| items) {
            let syn::Item::Struct(s) = item else { continue };
            let body = s
                .fields
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| i == "body"));
            if let Some(syn::Type::Path(p)) = body.and_then(|f| first_generic(&f.ty, "Result"))
                && let Some(last) = p.path.segments.last()
            {
                bodies.insert(s.ident.to_string(), last.ident.to_string());
            }
        }
        Bodies {
            with_default: &with_default,
            bodies,
            defaults: true,
        }
        .visit_item_mod_mut(m);
    }
    Ok(())
}

/// typify decodes a `oneOf` as `#[serde(untagged)]`: the first variant that accepts the object
/// wins. Variants that keep unknown fields accept nearly anything, so an MX record could come
/// back as an A record with its `priority` filed away, and a variant that fails on one field
/// falls through to the next instead of saying which field. Where the spec tells variants apart
/// by one property (adjust.rs, `Union`), the union reads the object, looks at that property and
/// decodes the variant it names, reporting the path of a field that does not fit; a value of no
/// known kind is kept whole in a response (`UnknownKind`) and refused in a request.
fn unions_decode_by_their_discriminator(
    file: &mut syn::File,
    unions: &[Union],
) -> Result<(), String> {
    let Some(types) = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    }) else {
        return Err("progenitor's output has no `types` module".into());
    };
    for union in unions {
        let name = format_ident!("{}", union.name);
        let Some(at) = types
            .iter()
            .position(|item| matches!(item, syn::Item::Enum(e) if e.ident == name))
        else {
            return Err(format!(
                "union `{name}` is not an enum in the generated types"
            ));
        };
        // typify's own enum goes (it may have made struct variants of internally tagged kinds),
        // with its `From` impls; ours has one tuple variant per variant type.
        let syn::Item::Enum(original) = types.remove(at) else {
            unreachable!("matched an enum above")
        };
        types.retain(|item| !matches!(item, syn::Item::Impl(i) if i.trait_.is_some() && name == i.self_ty.to_token_stream().to_string()));
        let docs: Vec<&syn::Attribute> = original
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        let variants: Vec<syn::Ident> = union
            .variants
            .iter()
            .map(|(ty, _)| format_ident!("{ty}"))
            .collect();
        let unknown = union.open.then(|| {
            quote! {
                /// A kind this version of the spec does not describe, kept as received.
                UnknownKind(::serde_json::Map<::std::string::String, ::serde_json::Value>),
            }
        });
        let property = &union.property;
        let arms = union
            .variants
            .iter()
            .zip(&variants)
            .flat_map(|((_, values), ident)| {
                values.iter().map(move |v| {
                    let pattern = match v {
                        Value::Bool(b) => quote!(Some(::serde_json::Value::Bool(#b))),
                        Value::String(s) => quote!(Some(::serde_json::Value::String(v)) if v == #s),
                        _ => quote!(None if false),
                    };
                    quote! { #pattern => crate::wrappers::union_variant(object).map(Self::#ident), }
                })
            });
        let other = if union.open {
            quote! { _ => Ok(Self::UnknownKind(object)), }
        } else {
            let allowed: Vec<String> = union
                .variants
                .iter()
                .flat_map(|(_, v)| v)
                .map(Value::to_string)
                .collect();
            let message = format!("`{property}` must be one of {}", allowed.join(", "));
            quote! { _ => Err(<D::Error as ::serde::de::Error>::custom(#message)), }
        };
        let file: syn::File = syn::parse_quote! {
            #(#docs)*
            #[derive(::serde::Serialize, Clone, Debug, PartialEq)]
            #[serde(untagged)]
            pub enum #name {
                #( #variants(#variants), )*
                #unknown
            }
            #(
                impl ::std::convert::From<#variants> for #name {
                    fn from(value: #variants) -> Self {
                        Self::#variants(value)
                    }
                }
            )*
            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    let object = <::serde_json::Map<::std::string::String, ::serde_json::Value> as ::serde::Deserialize>::deserialize(deserializer)?;
                    match object.get(#property) {
                        #(#arms)*
                        #other
                    }
                }
            }
        };
        types.extend(file.items);
    }
    Ok(())
}

/// serde reads an explicit `null` into an `Option<Nullable<T>>` as `None` (the `Option` takes the
/// `null` before `Nullable` sees it), so a PATCH body `{"mname":null}` would not survive a round
/// trip. Such fields get the usual double-option fix: absent is `None`, present is `Some(..)`.
fn explicit_null_survives_deserialization(file: &mut syn::File) {
    struct Fields;
    impl VisitMut for Fields {
        fn visit_field_mut(&mut self, field: &mut syn::Field) {
            let ty = field.ty.to_token_stream().to_string().replace(' ', "");
            if ty.starts_with("::std::option::Option<::cloudflare_dns_settings::Nullable<") {
                field.attrs.push(syn::parse_quote!(
                    #[serde(default, deserialize_with = "::cloudflare_dns_settings::Nullable::deserialize_present")]
                ));
            }
            visit_mut::visit_field_mut(self, field);
        }
    }
    Fields.visit_file_mut(file);
}
