//! The step that routes every operation through the crate's transport: progenitor's builders
//! are read ([`BuilderParts`]), each `send` is rewritten to hand the built request to the runtime
//! (build/contract.rs names what it calls), the spec's checks are inserted, and the builders'
//! other functions lose progenitor's allocations.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::visit_mut::{self, VisitMut};

use crate::rules::{self, OperationRules, Rule};
use crate::syntax::{
    QueryParams, call_args, encoded_path, format_arguments, generic, generic_argument,
    header_append, idents, idents_of, is_ident, last_ident, literal_to_string, local,
    operation_info, url_format,
};
use crate::{checks, contract};

/// What progenitor's builder of one operation is made of (its body and result types, its
/// parameters), read from the builder: what the later steps (hooks.rs, plans.rs, drift.rs)
/// generate from. Not the operation: the spec's facts about it are `rules::OperationRules`, and
/// `Operation` means only the runtime table's entry (`crate::validate::Operation`).
#[derive(Default)]
pub struct BuilderParts {
    /// The body type (`types::AccountSettingsPatch`).
    pub body: Option<syn::Type>,
    /// What `send` returns: `T` of progenitor's `Result<ResponseValue<T>, Error<E>>`.
    pub result: Option<syn::Type>,
    /// The body's check (build/checks.rs), when the spec bounds something in it.
    pub check: Option<syn::Ident>,
    /// The path parameters by their Rust names (progenitor's), in the path's order.
    pub path: Vec<syn::Ident>,
    /// The query parameters' Rust names, by their names on the wire.
    pub query: BTreeMap<String, syn::Ident>,
    /// The builder's fields that hold an `Option`.
    pub optional: BTreeSet<String>,
    /// The builder's fields that hold a `String`.
    pub strings: BTreeSet<String>,
}

/// What an operation is made of, read from its builder's `send` and the builder's struct
/// `fields`: the operation (`OperationInfo { operation_id: "…" }`), the result type, the body
/// (`body: Result<types::X, String>`), the optional and `String` values, the path parameters
/// (`encode_path(&account_id.to_string())` in the URL's `format!`) and the query parameters
/// (`QueryParam::new("name.contains", &name_contains)`).
fn read_builder(
    send: &syn::ImplItemFn,
    fields: Option<&syn::Fields>,
) -> Result<(String, BuilderParts), String> {
    let stmts = &send.block.stmts;
    let name = stmts
        .iter()
        .find_map(operation_info)
        .ok_or("a builder's `send` has no `OperationInfo { operation_id }`")?;
    let mut parts = BuilderParts {
        result: match &send.sig.output {
            syn::ReturnType::Type(_, ty) => generic(ty, "Result")
                .and_then(|ok| generic(ok, "ResponseValue"))
                .cloned(),
            syn::ReturnType::Default => None,
        },
        ..BuilderParts::default()
    };
    for field in fields.into_iter().flatten() {
        let (Some(ident), Some(held)) = (&field.ident, generic(&field.ty, "Result")) else {
            continue;
        };
        if ident == "body" {
            parts.body = Some(held.clone());
        }
        if generic(held, "Option").is_some() {
            parts.optional.insert(ident.to_string());
        }
        if idents(held) == ["std", "string", "String"] {
            parts.strings.insert(ident.to_string());
        }
    }
    let url = stmts
        .iter()
        .find_map(url_format)
        .ok_or_else(|| format!("`{name}`: `send` has no `let url = format!(…)`"))?;
    let arguments = format_arguments(url).map_err(|e| format!("`{name}`: the URL: {e}"))?;
    parts.path = arguments.iter().filter_map(encoded_path).cloned().collect();
    syn::visit::Visit::visit_block(&mut QueryParams(&mut parts.query), &send.block);
    Ok((name, parts))
}

/// Each builder's `send` is progenitor's up to the built `reqwest::Request`; from there it hands
/// the request to `crate::transport` (authentication, the spec's checks, pacing, retries, the
/// bounded read and the one decode of the envelope) and returns what it returns:
/// `Result<T, crate::Error>`, where `T` is the envelope's `result`, or a `Page<T>` for a list.
/// Along the way:
/// - a builder value that was never set or did not convert is `ErrorKind::InvalidInput` naming the
///   field, not progenitor's `Error::InvalidRequest(String)`;
/// - the path and query parameters and the body are checked against the spec while still
///   typed, before anything is serialized;
/// - progenitor's `api-version` header (from `info.version`, meaningless to Cloudflare) is not
///   added, so nothing is sent that the caller did not ask for.
///
/// The builders' other functions: a required value starts as `Err(String::new())`, not as
/// `Err("account_id was not initialized".to_string())`, an allocation on every call (the
/// crate's error says "is required and was not set" for an empty message); a setter's refusal
/// names the type by its path's last segment (`String`), not by its printed tokens
/// (`:: std :: string :: String`).
///
/// One pass over progenitor's `mod builder`, once the types are final: each builder is read
/// ([`read_builder`]), its body check made (build/checks.rs) and its functions edited. Returns
/// each operation's [`BuilderParts`] by its name, and the check functions, in the operations'
/// name order.
pub fn sends_through_the_transport(
    builders: &mut [syn::Item],
    operations: &[OperationRules],
    types: &checks::Types,
    with_default: &BTreeSet<String>,
) -> Result<(BTreeMap<String, BuilderParts>, Vec<TokenStream>), String> {
    let fields: BTreeMap<String, syn::Fields> = builders
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), s.fields.clone())),
            _ => None,
        })
        .collect();
    let (mut by_name, mut functions) = (BTreeMap::new(), BTreeMap::new());
    for item in builders.iter_mut() {
        let syn::Item::Impl(i) = item else { continue };
        let send = i.items.iter().find_map(|member| match member {
            syn::ImplItem::Fn(f) if f.sig.ident == "send" => Some(f),
            _ => None,
        });
        let (Some(builder), Some(send)) = (last_ident(&i.self_ty), send) else {
            continue;
        };
        let (name, mut parts) = read_builder(send, fields.get(&builder))?;
        let rules = operations
            .iter()
            .find(|op| op.operation_id == name)
            .ok_or_else(|| format!("`send` of `{name}`, which is not an operation of the spec"))?;
        if let Some(body) = &parts.body
            && let Some((check, function)) = checks::function(rules, body, types)
        {
            parts.check = Some(check);
            functions.insert(name.clone(), function);
        }
        // The body starts unset (see surface.rs, `no_type_builders`).
        let empty = parts
            .body
            .as_ref()
            .and_then(last_ident)
            .is_some_and(|body| rules.method == "PATCH" || !with_default.contains(&body));
        for member in &mut i.items {
            match member {
                syn::ImplItem::Fn(f) if f.sig.ident == "send" => {
                    rewrite_send(f, rules, &parts).map_err(|e| format!("`{name}`: {e}"))?
                }
                syn::ImplItem::Fn(f) => BuilderEdits::of(f, empty).visit_block_mut(&mut f.block),
                _ => {}
            }
        }
        by_name.insert(name, parts);
    }
    Ok((by_name, functions.into_values().collect()))
}

fn rewrite_send(
    f: &mut syn::ImplItemFn,
    rules: &OperationRules,
    parts: &BuilderParts,
) -> Result<(), String> {
    let unknown = "`send` does not return `Result<ResponseValue<T>, Error<E>>`";
    let result = parts.result.clone().ok_or(unknown)?;
    let stmts = std::mem::take(&mut f.block.stmts);
    let info_at = stmts
        .iter()
        .position(|s| operation_info(s).is_some())
        .ok_or("`send` has no `OperationInfo`")?;
    let parameter_checks = parameter_checks(rules, parts)?;
    let other_headers = stmts[..info_at]
        .iter()
        .any(|s| header_append(s) == Some(false));
    let mut kept: Vec<syn::Stmt> = Vec::new();
    for mut stmt in stmts.into_iter().take(info_at) {
        let binding = local(&stmt).map(|(name, _)| name);
        let binding = binding.as_deref();
        if header_append(&stmt) == Some(true) || (!other_headers && binding == Some("header_map")) {
            continue;
        }
        if binding == Some("url") {
            kept.extend(parameter_checks.iter().cloned());
        }
        let mut edits = SendEdits {
            binding,
            drop_header_map: !other_headers,
            strings: &parts.strings,
        };
        edits.visit_stmt_mut(&mut stmt);
        if binding == Some("request") {
            stmt = request_built_per_attempt(stmt)?;
        }
        kept.push(stmt);
        if binding == Some("body")
            && let Some(check) = &parts.check
        {
            kept.push(syn::parse_quote! { super::checks::#check(&body)?; });
        }
    }
    let (function, decoded) = match generic(&result, contract::PAGE) {
        Some(item) => (contract::TRANSPORT_CALL_PAGE, item.clone()),
        None => (contract::TRANSPORT_CALL, result.clone()),
    };
    let (function, error) = (
        contract::tokens(function),
        contract::tokens(contract::ERROR),
    );
    let table_entry = format_ident!("{}", rules::static_name(&rules.operation_id));
    // What the result carries that the spec does not know is said (build/drift.rs).
    let drift = format_ident!("{}", rules.operation_id);
    kept.push(syn::parse_quote! {
        let result = #function::<#decoded>(client, request, &super::operations::#table_entry).await;
    });
    kept.push(syn::parse_quote! {
        if let Ok(value) = &result {
            super::drift::#drift(super::operations::#table_entry.id, value);
        }
    });
    kept.push(syn::Stmt::Expr(syn::parse_quote!(result), None));
    f.block.stmts = kept;
    f.sig.output = syn::parse_quote!(-> ::std::result::Result<#result, #error>);
    Ok(())
}

/// progenitor builds the `reqwest::Request` once (`let mut request = client.client.patch(url)
/// ….build()?;`). The transport needs a request per attempt; copying the built one before every
/// first attempt (`try_clone`) costs on every call, for the rare retry. The statement becomes a
/// closure that builds the request from the values it borrows (`url` as `url.as_str()`, `body`,
/// the query), called once per attempt.
fn request_built_per_attempt(stmt: syn::Stmt) -> Result<syn::Stmt, String> {
    let syn::Stmt::Local(syn::Local {
        init: Some(init), ..
    }) = stmt
    else {
        return Err("`request` is not bound by `let request = …`".into());
    };
    let syn::Expr::Try(built) = *init.expr else {
        return Err("`let request = ….build()?` has no `?`".into());
    };
    let expr = built.expr;
    let error = contract::tokens(contract::ERROR);
    Ok(syn::parse_quote! {
        let request = || -> ::std::result::Result<::reqwest::Request, #error> { #expr };
    })
}

/// The checks of an operation's path and query parameters, on their typed values before the URL
/// is built: every path parameter is safe in a path (not empty, no `/`, `..`, `?`, `#`, `%`,
/// whitespace or control characters: `.` or `..` would move the request elsewhere), and each
/// bound the spec sets on a parameter holds.
fn parameter_checks(
    rules: &OperationRules,
    parts: &BuilderParts,
) -> Result<Vec<syn::Stmt>, String> {
    let names: Vec<&str> = rules
        .path_template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    if names.len() != parts.path.len() {
        return Err(format!(
            "{} path parameters in progenitor's URL for {} in the template",
            parts.path.len(),
            names.len()
        ));
    }
    let mut out: Vec<syn::Stmt> = Vec::new();
    let path_param = contract::tokens(contract::VALIDATE_PATH_PARAM);
    for (name, ident) in names.iter().zip(&parts.path) {
        out.push(syn::parse_quote! { #path_param(#name, &#ident)?; });
        for rule in rules.path.iter().filter(|r| r.field == *name) {
            let check = checks::call(&rule.check, name, quote!(v));
            out.push(syn::parse_quote! { { let v = &#ident; #check } });
        }
    }
    for Rule { field, check } in &rules.query {
        let ident = parts
            .query
            .get(field)
            .ok_or_else(|| format!("query parameter `{field}` is not in progenitor's request"))?;
        let check = checks::call(check, field, quote!(v));
        out.push(if parts.optional.contains(&ident.to_string()) {
            syn::parse_quote! { if let Some(v) = &#ident { #check } }
        } else {
            syn::parse_quote! { { let v = &#ident; #check } }
        });
    }
    Ok(out)
}

/// The edits inside one statement of a `send` (see [`sends_through_the_transport`]).
struct SendEdits<'a> {
    /// The name the statement binds: the field a builder refusal is about.
    binding: Option<&'a str>,
    drop_header_map: bool,
    /// The builder's fields that hold a `String`.
    strings: &'a BTreeSet<String>,
}

impl VisitMut for SendEdits<'_> {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        // `Error::InvalidRequest` (a builder value unset or unconvertible) → our error, named.
        if let syn::Expr::Path(p) = expr
            && idents_of(&p.path) == ["Error", "InvalidRequest"]
        {
            let field = self.binding.unwrap_or("request");
            let from_builder = contract::tokens(contract::ERROR_FROM_BUILDER);
            *expr =
                syn::parse_quote!(|problem: ::std::string::String| #from_builder(#field, problem));
            return;
        }
        // `….build()?`: reqwest's builder error → ours.
        if let syn::Expr::Try(t) = expr
            && let syn::Expr::MethodCall(call) = &*t.expr
            && call.method == "build"
        {
            let inner = t.expr.clone();
            let from_reqwest = contract::tokens(contract::ERROR_FROM_REQWEST);
            *t.expr = syn::parse_quote!(#inner.map_err(#from_reqwest));
            visit_mut::visit_expr_mut(self, &mut t.expr);
            return;
        }
        // `.headers(header_map)` once the map is gone: the call goes too.
        if self.drop_header_map
            && let syn::Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && is_ident(&call.args[0], "header_map")
        {
            *expr = (*call.receiver).clone();
            self.visit_expr_mut(expr);
            return;
        }
        // `client.client.get(url)` borrows the URL: `.get(url.as_str())` (see
        // [`request_built_per_attempt`]).
        if self.binding == Some("request")
            && let syn::Expr::MethodCall(call) = expr
            && matches!(&*call.receiver, syn::Expr::Field(f) if is_ident(&f.base, "client")
                && matches!(&f.member, syn::Member::Named(m) if m == "client"))
            && call.args.len() == 1
            && is_ident(&call.args[0], "url")
        {
            call.args = syn::parse_quote!(url.as_str());
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    /// progenitor formats the URL with `encode_path(&account_id.to_string())`: for a parameter
    /// that is already a `String`, a copy made only to be borrowed, on every call. It is borrowed
    /// as it is. (read_builder has parsed these arguments already.)
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if self.binding == Some("url")
            && mac.path.is_ident("format")
            && let Ok(mut arguments) = format_arguments(mac)
        {
            for argument in arguments.iter_mut() {
                if encoded_path(argument)
                    .is_some_and(|name| self.strings.contains(&name.to_string()))
                    && let syn::Expr::Call(call) = argument
                    && let Some(syn::Expr::Reference(r)) = call.args.first_mut()
                    && let syn::Expr::MethodCall(copy) = &*r.expr
                {
                    r.expr = copy.receiver.clone();
                }
            }
            mac.tokens = arguments.into_token_stream();
        }
    }
}

/// The edits of a builder's function other than `send` (see [`sends_through_the_transport`]).
struct BuilderEdits {
    /// A setter's refusal: "conversion to `String` for account_id failed".
    refusal: Option<String>,
    /// The body starts unset (see surface.rs, `no_type_builders`).
    empty_body: bool,
}

impl BuilderEdits {
    fn of(f: &syn::ImplItemFn, empty_body: bool) -> Self {
        // The setter's `where V: TryInto<T>`.
        let generics = &f.sig.generics;
        let mut predicates = generics.where_clause.iter().flat_map(|w| &w.predicates);
        let target = predicates.find_map(|p| match p {
            syn::WherePredicate::Type(t) => match t.bounds.first()? {
                syn::TypeParamBound::Trait(t) => generic_argument(t.path.segments.last()?),
                _ => None,
            },
            _ => None,
        });
        BuilderEdits {
            refusal: target
                .and_then(last_ident)
                .map(|t| format!("conversion to `{t}` for {} failed", f.sig.ident)),
            empty_body,
        }
    }
}

impl VisitMut for BuilderEdits {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        // `Err("….to_string())` → `Err(String::new())`.
        if let syn::Expr::Call(call) = expr
            && is_ident(&call.func, "Err")
            && call.args.len() == 1
            && literal_to_string(&call.args[0])
        {
            *expr = syn::parse_quote!(Err(::std::string::String::new()));
            return;
        }
        // The setter's `.map_err(|_| "conversion to … failed".to_string())`.
        if let (syn::Expr::Closure(c), Some(refusal)) = (&mut *expr, &self.refusal)
            && literal_to_string(&c.body)
        {
            *c.body = syn::parse_quote!(#refusal.to_string());
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    /// `body: Ok(Default::default())` → `body: Err(String::new())`.
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        if self.empty_body
            && matches!(&field.member, syn::Member::Named(m) if m == "body")
            && let Some([default]) = call_args(&field.expr, "Ok").as_deref()
            && call_args(default, "default").is_some()
        {
            field.expr = syn::parse_quote!(Err(::std::string::String::new()));
        }
        visit_mut::visit_field_value_mut(self, field);
    }
}
