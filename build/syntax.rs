//! Reading and matching Rust syntax (progenitor's output): names come from idents, shapes from
//! the tree. Helpers only: this file depends on no other file of build/, and every step that
//! reads or edits the syntax tree uses these.

use std::collections::BTreeMap;

use syn::punctuated::Punctuated;

/// The items of the module `name` of progenitor's output (`types`, `builder`).
pub fn module<'a>(
    items: &'a mut [syn::Item],
    name: &str,
) -> Result<&'a mut Vec<syn::Item>, String> {
    items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor's output has no `mod {name}`"))
}

/// The idents of a path (`::std::string::String` is `["std", "string", "String"]`).
pub fn idents_of(path: &syn::Path) -> Vec<String> {
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
pub fn generic_argument(segment: &syn::PathSegment) -> Option<&syn::Type> {
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
pub fn is_ident(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// The arguments of a call to a function whose path ends in `name` (`Ok(…)`, `…::default()`).
pub fn call_args<'a>(expr: &'a syn::Expr, name: &str) -> Option<Vec<&'a syn::Expr>> {
    let syn::Expr::Call(call) = expr else {
        return None;
    };
    let syn::Expr::Path(f) = &*call.func else {
        return None;
    };
    (f.path.segments.last()?.ident == name).then(|| call.args.iter().collect())
}

/// Whether `expr` is `"…".to_string()`.
pub fn literal_to_string(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::MethodCall(m)
        if m.method == "to_string" && m.args.is_empty() && lit_str(&m.receiver).is_some())
}

/// Whether the attributes derive `name` (`#[derive(Debug, Default)]`).
pub fn derives(attrs: &[syn::Attribute], name: &str) -> bool {
    let mut derive = attrs.iter().filter(|a| a.path().is_ident("derive"));
    derive.any(|a| {
        let paths = a.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated);
        let last = |p: &syn::Path| p.segments.last().is_some_and(|s| s.ident == name);
        paths.is_ok_and(|paths| paths.iter().any(last))
    })
}

/// The name and the value of `let name = value;` (or `let name: T = value;`).
pub fn local(stmt: &syn::Stmt) -> Option<(String, &syn::Expr)> {
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
pub fn operation_info(stmt: &syn::Stmt) -> Option<String> {
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
pub fn lit_str(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The `format!(…)` of `let url = format!(…);`.
pub fn url_format(stmt: &syn::Stmt) -> Option<&syn::Macro> {
    match local(stmt)? {
        (name, syn::Expr::Macro(m)) if name == "url" && m.mac.path.is_ident("format") => {
            Some(&m.mac)
        }
        _ => None,
    }
}

/// The arguments of a `format!`, as expressions.
pub fn format_arguments(mac: &syn::Macro) -> Result<Punctuated<syn::Expr, syn::Token![,]>, String> {
    mac.parse_body_with(Punctuated::parse_terminated)
        .map_err(|e| format!("`format!` arguments that are not expressions: {e}"))
}

/// The parameter of `encode_path(&name.to_string())` or `encode_path(&name)`.
pub fn encoded_path(expr: &syn::Expr) -> Option<&syn::Ident> {
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
pub fn header_append(stmt: &syn::Stmt) -> Option<bool> {
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
pub struct QueryParams<'a>(pub &'a mut BTreeMap<String, syn::Ident>);

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
