//! Generation: progenitor's output for the adjusted spec (build.rs runs progenitor), edited so
//! that every operation's `send()` goes through this crate's transport and returns
//! `Result<T, crate::Error>`.
//!
//! Every reading and every edit of progenitor's output is made on the syntax tree (paths, idents,
//! the shapes of calls and statements), never on its printed text, each by one function below
//! that says why. Each checks that the output has the shape it expects and otherwise fails the
//! build with a message naming the operation: a progenitor upgrade that changes its output must
//! be looked at, not guessed at.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};

use crate::adjust::{CRATE, Deprecated, Union};
use crate::rules::{self, OperationRules, Rule};
use crate::{adjust, checks, drift, names, plans};

/// What build.rs writes to `OUT_DIR`.
pub struct Output {
    pub adjusted_spec: String,
    pub progenitor: String,
    pub client: String,
    pub operations: String,
}

/// Every step from the spec's text to the generated files, `progenitor` being the generator
/// itself (build.rs; tests/codegen.rs gives it progenitor's output printed differently).
pub fn pipeline(
    spec: &str,
    progenitor: impl FnOnce(Value) -> Result<TokenStream, String>,
) -> Result<Output, String> {
    let mut spec: Value = serde_json::from_str(spec).map_err(|e| format!("not valid JSON: {e}"))?;
    adjust::require_openapi_3_0(&spec)?;
    names::operation_names(&mut spec)?;
    let operations = rules::extract(&spec)?;
    let pairs = plans::pairs(&spec, &operations)?;
    let adjusted = adjust::for_generator(&mut spec)?;
    let adjusted_spec = serde_json::to_string_pretty(&spec).unwrap_or_default();
    let tokens = progenitor(spec)?;
    Ok(Output {
        adjusted_spec,
        progenitor: tokens.to_string(),
        client: generate(tokens, &operations, &adjusted, &pairs)?,
        operations: rules::render(&operations),
    })
}

/// What one operation's generated code is made of, read from progenitor's builder for it.
#[derive(Default)]
pub struct Operation {
    /// The body type (`types::AccountSettingsPatch`).
    pub body: Option<syn::Type>,
    /// What `send` returns: `T` of progenitor's `Result<ResponseValue<T>, Error<E>>`.
    pub result: Option<syn::Type>,
    /// The body's check (build/checks.rs), when the spec bounds something in it.
    pub check: Option<syn::Ident>,
    /// The path parameters by their Rust names (progenitor's), in the path's order.
    pub path: Vec<syn::Ident>,
    /// The query parameters' Rust names, by their names on the wire.
    query: BTreeMap<String, syn::Ident>,
    /// The builder's fields that hold an `Option`.
    optional: BTreeSet<String>,
    /// The builder's fields that hold a `String`.
    strings: BTreeSet<String>,
}

fn generate(
    tokens: TokenStream,
    operations: &[OperationRules],
    adjusted: &adjust::Adjusted,
    pairs: &[plans::Pair<'_>],
) -> Result<String, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    keep_progenitor_out_of_the_public_api(&mut file)?;
    let with_default = no_type_builders(&mut file)?;
    unions_decode_by_their_discriminator(&mut file, &adjusted.unions)?;
    deprecated_fields_say_so(&mut file, &adjusted.deprecated)?;
    let types = checks::Types::of(module(&mut file.items, "types")?);
    let builders = module(&mut file.items, "builder")?;
    let (ops, functions) =
        sends_through_the_transport(builders, operations, &types, &with_default)?;
    let mut names = operations.iter().map(|op| &op.operation_id);
    if let Some(name) = names.find(|name| !ops.contains_key(*name)) {
        return Err(format!(
            "operation `{name}` has no builder with a `send` in progenitor's output"
        ));
    }
    file.items.extend(round_trip_hooks(operations, &ops));
    file.items.extend(plans::generate(pairs, &ops)?);
    file.items.push(syn::parse_quote! {
        /// The spec's bounds on request bodies, checked on the typed body before it is sent.
        pub(crate) mod checks {
            use super::types;
            #(#functions)*
        }
    });
    let drift = ops
        .iter()
        .filter_map(|(name, op)| Some(drift::function(name, op.result.as_ref()?, &types)));
    file.items.push(syn::parse_quote! {
        /// What each operation's result carries that the spec does not know, said once per path
        /// (src/drift.rs).
        pub(crate) mod drift {
            use super::types;
            #(#drift)*
        }
    });
    explicit_null_survives_deserialization(&mut file);
    Ok(prettyplease::unparse(&file))
}

/// The items of the module `name` of progenitor's output (`types`, `builder`).
fn module<'a>(items: &'a mut [syn::Item], name: &str) -> Result<&'a mut Vec<syn::Item>, String> {
    items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor's output has no `mod {name}`"))
}

/// What an operation is made of, read from its builder's `send` and the builder's struct
/// `fields`: the operation (`OperationInfo { operation_id: "…" }`), the result type, the body
/// (`body: Result<types::X, String>`), the optional and `String` values, the path parameters
/// (`encode_path(&account_id.to_string())` in the URL's `format!`) and the query parameters
/// (`QueryParam::new("name.contains", &name_contains)`).
fn read_builder(
    send: &syn::ImplItemFn,
    fields: Option<&syn::Fields>,
) -> Result<(String, Operation), String> {
    let stmts = &send.block.stmts;
    let name = stmts
        .iter()
        .find_map(operation_info)
        .ok_or("a builder's `send` has no `OperationInfo { operation_id }`")?;
    let mut op = Operation {
        result: match &send.sig.output {
            syn::ReturnType::Type(_, ty) => generic(ty, "Result")
                .and_then(|ok| generic(ok, "ResponseValue"))
                .cloned(),
            syn::ReturnType::Default => None,
        },
        ..Operation::default()
    };
    for field in fields.into_iter().flatten() {
        let (Some(ident), Some(held)) = (&field.ident, generic(&field.ty, "Result")) else {
            continue;
        };
        if ident == "body" {
            op.body = Some(held.clone());
        }
        if generic(held, "Option").is_some() {
            op.optional.insert(ident.to_string());
        }
        if idents(held) == ["std", "string", "String"] {
            op.strings.insert(ident.to_string());
        }
    }
    let url = stmts
        .iter()
        .find_map(url_format)
        .ok_or_else(|| format!("`{name}`: `send` has no `let url = format!(…)`"))?;
    let arguments = format_arguments(url).map_err(|e| format!("`{name}`: the URL: {e}"))?;
    op.path = arguments.iter().filter_map(encoded_path).cloned().collect();
    syn::visit::Visit::visit_block(&mut QueryParams(&mut op.query), &send.block);
    Ok((name, op))
}

/// progenitor re-exports its own `Error`, `ResponseValue`, `ByteStream` and `ClientInfo`, has a
/// `prelude` module, implements `ClientInfo` and `ClientHooks` for the client, and gives it
/// public constructors (`new`, which panics if the HTTP client cannot be built, and
/// `new_with_client`, which skips the credential and https checks). None of that is part of this
/// crate's API: a progenitor upgrade must not break users, and nothing public may bypass
/// `ClientBuilder::build`. The re-exports become private imports (the generated builders still
/// use them), the prelude, the impls and `new` go, and `new_with_client` becomes `pub(crate)`.
fn keep_progenitor_out_of_the_public_api(file: &mut syn::File) -> Result<(), String> {
    let mut found_constructor = false;
    file.items.retain_mut(|item| match item {
        syn::Item::Use(u) => {
            if matches!(&u.tree, syn::UseTree::Path(p) if p.ident == "progenitor_client") {
                u.vis = syn::Visibility::Inherited;
            }
            true
        }
        syn::Item::Mod(m) => m.ident != "prelude",
        syn::Item::Impl(i) if i.trait_.is_some() => {
            let name = i
                .trait_
                .as_ref()
                .and_then(|(_, path, _)| path.segments.last());
            !name.is_some_and(|s| s.ident == "ClientInfo" || s.ident == "ClientHooks")
        }
        syn::Item::Impl(i) => {
            i.items.retain_mut(|member| match member {
                syn::ImplItem::Fn(f) if f.sig.ident == "new" => false,
                syn::ImplItem::Fn(f) if f.sig.ident == "new_with_client" => {
                    f.vis = syn::parse_quote!(pub(crate));
                    found_constructor = true;
                    true
                }
                _ => true,
            });
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

/// typify gives every struct a builder (`types::builder::AccountSettingsPatch`, a struct of
/// `Result`s per field), and progenitor's operation builders hold a body as one. Half of the
/// generated code, compiled on every clean build, for a second way of writing what a struct
/// literal says (the README uses literals; `Default` fills optional fields). The builders go;
/// an operation builder holds its body as the type itself (`body_map` maps that). The body
/// starts empty ("body is required and was not set") when its type has no `Default`, and for
/// every PATCH: a PATCH whose `.body(…)` was never called would otherwise send `{}`, and an
/// empty PATCH is never sent.
fn no_type_builders(file: &mut syn::File) -> Result<BTreeSet<String>, String> {
    let types = module(&mut file.items, "types")?;
    types.retain(|item| match item {
        syn::Item::Mod(inner) => inner.ident != "builder",
        // `impl X { pub fn builder() -> builder::X }`
        syn::Item::Impl(i) => {
            !(i.trait_.is_none()
                && matches!(&i.items[..], [syn::ImplItem::Fn(f)] if f.sig.ident == "builder"))
        }
        _ => true,
    });
    let with_default = types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) if derives(&s.attrs, "Default") => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    /// `types::builder::X` becomes `types::X`.
    struct Paths;
    impl VisitMut for Paths {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if let [types, builder, last] = &path.segments.iter().collect::<Vec<_>>()[..]
                && types.ident == "types"
                && builder.ident == "builder"
            {
                let last = (*last).clone();
                path.segments = syn::parse_quote!(types::#last);
            }
            visit_mut::visit_path_mut(self, path);
        }
    }
    Paths.visit_file_mut(file);
    Ok(with_default)
}

/// Each builder's `send` is progenitor's up to the built `reqwest::Request`; from there it hands
/// the request to `crate::transport` (authentication, the spec's checks, pacing, retries, the
/// bounded read and the one decode of the envelope) and returns what it returns:
/// `Result<T, crate::Error>`, where `T` is the envelope's `result`, or a `Page<T>` for a list.
/// Along the way:
/// - a builder value that was never set or did not convert is `Error::InvalidInput` naming the
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
/// the operations by name and the check functions, in the operations' name order.
fn sends_through_the_transport(
    builders: &mut [syn::Item],
    operations: &[OperationRules],
    types: &checks::Types,
    with_default: &BTreeSet<String>,
) -> Result<(BTreeMap<String, Operation>, Vec<TokenStream>), String> {
    let fields: BTreeMap<String, syn::Fields> = builders
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), s.fields.clone())),
            _ => None,
        })
        .collect();
    let (mut ops, mut functions) = (BTreeMap::new(), BTreeMap::new());
    for item in builders.iter_mut() {
        let syn::Item::Impl(i) = item else { continue };
        let send = i.items.iter().find_map(|member| match member {
            syn::ImplItem::Fn(f) if f.sig.ident == "send" => Some(f),
            _ => None,
        });
        let (Some(builder), Some(send)) = (last_ident(&i.self_ty), send) else {
            continue;
        };
        let (name, mut op) = read_builder(send, fields.get(&builder))?;
        let rules = operations
            .iter()
            .find(|op| op.operation_id == name)
            .ok_or_else(|| format!("`send` of `{name}`, which is not an operation of the spec"))?;
        if let Some(body) = &op.body
            && let Some((check, function)) = checks::function(rules, body, types)
        {
            op.check = Some(check);
            functions.insert(name.clone(), function);
        }
        // The body starts unset (see `no_type_builders`).
        let empty = op
            .body
            .as_ref()
            .and_then(last_ident)
            .is_some_and(|body| rules.method == "PATCH" || !with_default.contains(&body));
        for member in &mut i.items {
            match member {
                syn::ImplItem::Fn(f) if f.sig.ident == "send" => {
                    rewrite_send(f, rules, &op).map_err(|e| format!("`{name}`: {e}"))?
                }
                syn::ImplItem::Fn(f) => BuilderEdits::of(f, empty).visit_block_mut(&mut f.block),
                _ => {}
            }
        }
        ops.insert(name, op);
    }
    Ok((ops, functions.into_values().collect()))
}

fn rewrite_send(
    f: &mut syn::ImplItemFn,
    rules: &OperationRules,
    op: &Operation,
) -> Result<(), String> {
    let unknown = "`send` does not return `Result<ResponseValue<T>, Error<E>>`";
    let result = op.result.clone().ok_or(unknown)?;
    let stmts = std::mem::take(&mut f.block.stmts);
    let info_at = stmts
        .iter()
        .position(|s| operation_info(s).is_some())
        .ok_or("`send` has no `OperationInfo`")?;
    let parameter_checks = parameter_checks(rules, op)?;
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
            strings: &op.strings,
        };
        edits.visit_stmt_mut(&mut stmt);
        if binding == Some("request") {
            stmt = request_built_per_attempt(stmt)?;
        }
        kept.push(stmt);
        if binding == Some("body")
            && let Some(check) = &op.check
        {
            kept.push(syn::parse_quote! { super::checks::#check(&body)?; });
        }
    }
    let (function, decoded) = match generic(&result, "Page") {
        Some(item) => (quote!(call_page), item.clone()),
        None => (quote!(call), result.clone()),
    };
    let table_entry = format_ident!("{}", rules::static_name(&rules.operation_id));
    // What the result carries that the spec does not know is said (build/drift.rs).
    let drift = format_ident!("{}", rules.operation_id);
    kept.push(syn::parse_quote! {
        let result = crate::transport::#function::<#decoded>(client, request, &super::operations::#table_entry).await;
    });
    kept.push(syn::parse_quote! {
        if let Ok(value) = &result {
            super::drift::#drift(super::operations::#table_entry.id, value);
        }
    });
    kept.push(syn::Stmt::Expr(syn::parse_quote!(result), None));
    f.block.stmts = kept;
    f.sig.output = syn::parse_quote!(-> ::std::result::Result<#result, crate::Error>);
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
    Ok(syn::parse_quote! {
        let request = || -> ::std::result::Result<::reqwest::Request, crate::Error> { #expr };
    })
}

/// The checks of an operation's path and query parameters, on their typed values before the URL
/// is built: every path parameter is safe in a path (not empty, no `/`, `..`, `?`, `#`, `%`,
/// whitespace or control characters: `.` or `..` would move the request elsewhere), and each
/// bound the spec sets on a parameter holds.
fn parameter_checks(rules: &OperationRules, op: &Operation) -> Result<Vec<syn::Stmt>, String> {
    let names: Vec<&str> = rules
        .path_template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    if names.len() != op.path.len() {
        return Err(format!(
            "{} path parameters in progenitor's URL for {} in the template",
            op.path.len(),
            names.len()
        ));
    }
    let mut out: Vec<syn::Stmt> = Vec::new();
    for (name, ident) in names.iter().zip(&op.path) {
        out.push(syn::parse_quote! { crate::validate::path_param(#name, &#ident)?; });
        for rule in rules.path.iter().filter(|r| r.field == *name) {
            let check = checks::call(&rule.check, name, quote!(v));
            out.push(syn::parse_quote! { { let v = &#ident; #check } });
        }
    }
    for Rule { field, check } in &rules.query {
        let ident = op
            .query
            .get(field)
            .ok_or_else(|| format!("query parameter `{field}` is not in progenitor's request"))?;
        let check = checks::call(check, field, quote!(v));
        out.push(if op.optional.contains(&ident.to_string()) {
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
    /// The body starts unset (see [`no_type_builders`]).
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

/// Three hidden functions for tests, so that they can reach every operation through the spec's
/// operationIds with no per-operation test code: a call without its body, a response body
/// decoded by the same code a call uses (`crate::envelope`), and a request body decoded as the
/// body type, each serialized back to JSON.
fn round_trip_hooks(
    operations: &[OperationRules],
    ops: &BTreeMap<String, Operation>,
) -> Vec<syn::Item> {
    let (mut responses, mut requests, mut unset_bodies) = (Vec::new(), Vec::new(), Vec::new());
    for op in operations {
        let Some(generated) = ops.get(&op.operation_id) else {
            continue;
        };
        let id = &op.upstream_operation_id;
        if let Some(ty) = &generated.result {
            responses.push(match generic(ty, "Page") {
                Some(item) => quote!(#id => json(crate::envelope::page::<#item>(&received)),),
                None => quote!(#id => json(crate::envelope::result::<#ty>(&received)),),
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
            #[doc(hidden)]
            pub async fn send_without_body(client: &Client, operation: &str) -> Option<Result<(), crate::Error>> {
                Some(match operation {
                    #(#unset_bodies)*
                    _ => return None,
                })
            }
        },
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

/// typify decodes a `oneOf` as `#[serde(untagged)]`: the first variant that accepts the object
/// wins. Variants that keep unknown fields accept nearly anything, so an MX record could come
/// back as an A record with its `priority` filed away, and a variant that fails on one field
/// falls through to the next instead of saying which field. Where the spec tells variants apart
/// by one property (adjust.rs, `Union`), the union reads the object, looks at that property and
/// decodes the variant it names, reporting the path of a field that does not fit; a value of no
/// known kind is kept whole in a response (`UnknownKind`), and in a request too when it names its
/// kind (a kind Cloudflare added since the spec was cut, sent as given).
fn unions_decode_by_their_discriminator(
    file: &mut syn::File,
    unions: &[Union],
) -> Result<(), String> {
    let types = module(&mut file.items, "types")?;
    for union in unions {
        let name = format_ident!("{}", union.name);
        // typify's own enum goes (it may have made struct variants of internally tagged kinds),
        // with its `From` impls; ours has one tuple variant per variant type.
        let docs: Vec<syn::Attribute> = types
            .iter()
            .find_map(|item| match item {
                syn::Item::Enum(e) if e.ident == name => Some(e.attrs.clone()),
                _ => None,
            })
            .ok_or_else(|| format!("union `{name}` is not an enum in the generated types"))?
            .into_iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        types.retain(|item| match item {
            syn::Item::Enum(e) => e.ident != name,
            syn::Item::Impl(i) => {
                i.trait_.is_none() || last_ident(&i.self_ty).is_none_or(|t| name != t)
            }
            _ => true,
        });
        let variants: Vec<syn::Ident> = union
            .variants
            .iter()
            .map(|(ty, _)| format_ident!("{ty}"))
            .collect();
        let unknown = quote! {
            /// A kind this version of the spec does not describe: in a response, kept as
            /// received; in a request, sent as given.
            UnknownKind(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        };
        let property = &union.property;
        // One arm per value of the property, to its variant.
        let (mut arms, mut allowed) = (Vec::new(), Vec::new());
        for ((_, values), ident) in union.variants.iter().zip(&variants) {
            for value in values {
                let pattern = match value {
                    Value::Bool(b) => quote!(Some(::serde_json::Value::Bool(#b))),
                    Value::String(s) => quote!(Some(::serde_json::Value::String(v)) if v == #s),
                    _ => quote!(None if false),
                };
                arms.push(quote! { #pattern => crate::wrappers::union_variant(object).map(Self::#ident), });
                allowed.push(value.to_string());
            }
        }
        let other = if union.received {
            quote! { _ => Ok(Self::UnknownKind(object)), }
        } else {
            let message = format!(
                "`{property}` is required: one of {}, or a kind of your own",
                allowed.join(", ")
            );
            quote! {
                Some(::serde_json::Value::String(_) | ::serde_json::Value::Bool(_)) => Ok(Self::UnknownKind(object)),
                _ => Err(<D::Error as ::serde::de::Error>::custom(#message)),
            }
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

/// A field the spec marks `deprecated` (`foundation_dns`) is `#[deprecated]` with the spec's
/// note, so that a caller who sets or reads it hears of it from the compiler. typify does not
/// say so itself.
fn deprecated_fields_say_so(file: &mut syn::File, deprecated: &[Deprecated]) -> Result<(), String> {
    let types = module(&mut file.items, "types")?;
    for d in deprecated {
        let field = types
            .iter_mut()
            .filter_map(|item| match item {
                syn::Item::Struct(s) if s.ident == d.type_name => Some(s.fields.iter_mut()),
                _ => None,
            })
            .flatten()
            .find(|f| f.ident.is_some() && checks::json_name(f) == d.field)
            .ok_or_else(|| {
                format!(
                    "deprecated field `{}` of `{}` is not in the generated types",
                    d.field, d.type_name
                )
            })?;
        let note = &d.note;
        field.attrs.push(syn::parse_quote!(#[deprecated = #note]));
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
            if generic(&field.ty, "Option").is_some_and(|t| idents(t) == [CRATE, "Nullable"]) {
                field.attrs.push(syn::parse_quote!(
                    #[serde(default, deserialize_with = "::cloudflare_dns_settings::Nullable::deserialize_present")]
                ));
            }
            visit_mut::visit_field_mut(self, field);
        }
    }
    Fields.visit_file_mut(file);
}

// Reading progenitor's syntax: names come from idents, shapes from the tree.

/// The idents of a path (`::std::string::String` is `["std", "string", "String"]`).
fn idents_of(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The idents of a type's path; empty for a type that is not a path.
pub fn idents(ty: &syn::Type) -> Vec<String> {
    match ty {
        syn::Type::Path(p) => idents_of(&p.path),
        _ => Vec::new(),
    }
}

/// The name of a type's last path segment (`Page` of `::cloudflare_dns_settings::Page<T>`).
pub fn last_ident(ty: &syn::Type) -> Option<String> {
    idents(ty).pop()
}

/// The first type argument of a path segment (`T` of `Option<T>`).
fn generic_argument(segment: &syn::PathSegment) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `T` of a type `name<T>` (`generic(ty, "Option")`), by the last segment of its path.
pub fn generic<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last().filter(|s| s.ident == name)?;
    generic_argument(last)
}

/// Whether `expr` is the plain name `name`.
fn is_ident(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// The arguments of a call to a function whose path ends in `name` (`Ok(…)`, `…::default()`).
fn call_args<'a>(expr: &'a syn::Expr, name: &str) -> Option<Vec<&'a syn::Expr>> {
    let syn::Expr::Call(call) = expr else {
        return None;
    };
    let syn::Expr::Path(f) = &*call.func else {
        return None;
    };
    (f.path.segments.last()?.ident == name).then(|| call.args.iter().collect())
}

/// Whether `expr` is `"…".to_string()`.
fn literal_to_string(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::MethodCall(m)
        if m.method == "to_string" && m.args.is_empty() && lit_str(&m.receiver).is_some())
}

/// Whether the attributes derive `name` (`#[derive(Debug, Default)]`).
fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    let mut derive = attrs.iter().filter(|a| a.path().is_ident("derive"));
    derive.any(|a| {
        let paths = a.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated);
        let last = |p: &syn::Path| p.segments.last().is_some_and(|s| s.ident == name);
        paths.is_ok_and(|paths| paths.iter().any(last))
    })
}

/// The name and the value of `let name = value;` (or `let name: T = value;`).
fn local(stmt: &syn::Stmt) -> Option<(String, &syn::Expr)> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let pat = match &local.pat {
        syn::Pat::Type(t) => &*t.pat,
        pat => pat,
    };
    let syn::Pat::Ident(p) = pat else { return None };
    Some((p.ident.to_string(), &local.init.as_ref()?.expr))
}

/// The operation of `let info = OperationInfo { operation_id: "…" };`.
fn operation_info(stmt: &syn::Stmt) -> Option<String> {
    let (_, syn::Expr::Struct(info)) = local(stmt)? else {
        return None;
    };
    (info.path.segments.last()?.ident == "OperationInfo").then_some(())?;
    info.fields.iter().find_map(|field| match &field.member {
        syn::Member::Named(m) if m == "operation_id" => lit_str(&field.expr),
        _ => None,
    })
}

/// The value of a string literal.
fn lit_str(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The `format!(…)` of `let url = format!(…);`.
fn url_format(stmt: &syn::Stmt) -> Option<&syn::Macro> {
    match local(stmt)? {
        (name, syn::Expr::Macro(m)) if name == "url" && m.mac.path.is_ident("format") => {
            Some(&m.mac)
        }
        _ => None,
    }
}

/// The arguments of a `format!`, as expressions.
fn format_arguments(mac: &syn::Macro) -> Result<Punctuated<syn::Expr, syn::Token![,]>, String> {
    mac.parse_body_with(Punctuated::parse_terminated)
        .map_err(|e| format!("`format!` arguments that are not expressions: {e}"))
}

/// The parameter of `encode_path(&name.to_string())` or `encode_path(&name)`.
fn encoded_path(expr: &syn::Expr) -> Option<&syn::Ident> {
    let Some([syn::Expr::Reference(r)]) = call_args(expr, "encode_path").as_deref() else {
        return None;
    };
    let value = match &*r.expr {
        syn::Expr::MethodCall(m) if m.method == "to_string" => &*m.receiver,
        value => value,
    };
    match value {
        syn::Expr::Path(p) => p.path.get_ident(),
        _ => None,
    }
}

/// `Some(true)` for `header_map.append(HeaderName::from_static("api-version"), …)`, `Some(false)`
/// for any other `header_map.append(…)`.
fn header_append(stmt: &syn::Stmt) -> Option<bool> {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return None;
    };
    if call.method != "append" || !is_ident(&call.receiver, "header_map") {
        return None;
    }
    let name = call_args(call.args.first()?, "from_static");
    Some(name.as_deref().and_then(|n| lit_str(n.first()?)).as_deref() == Some("api-version"))
}

/// The query parameters of a `send`: `QueryParam::new("name", &name)`, by wire name.
struct QueryParams<'a>(&'a mut BTreeMap<String, syn::Ident>);

impl<'ast> syn::visit::Visit<'ast> for QueryParams<'_> {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(f) = &*call.func
            && idents_of(&f.path).ends_with(&["QueryParam".into(), "new".into()])
            && let [name, syn::Expr::Reference(value)] = &call.args.iter().collect::<Vec<_>>()[..]
            && let (Some(name), syn::Expr::Path(p)) = (lit_str(name), &*value.expr)
            && let Some(ident) = p.path.get_ident()
        {
            self.0.insert(name, ident.clone());
        }
        syn::visit::visit_expr_call(self, call);
    }
}
