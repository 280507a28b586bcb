//! What build.rs makes from spec/: snapshots of the generated code and checks, and proof that
//! the checks follow the spec and that the hand-written layer names no endpoint.

#![allow(dead_code)]

mod common;

#[path = "../build/adjust.rs"]
mod adjust;
#[path = "../build/checks.rs"]
mod checks;
#[path = "../build/contract.rs"]
mod contract;
#[path = "../build/drift.rs"]
mod drift;
#[path = "../build/generate.rs"]
mod generate;
#[path = "../build/hooks.rs"]
mod hooks;
#[path = "../build/names.rs"]
mod names;
#[path = "../build/plans.rs"]
mod plans;
#[path = "../build/rules.rs"]
mod rules;
#[path = "../build/sends.rs"]
mod sends;
#[path = "../build/spec.rs"]
mod spec;
#[path = "../build/surface.rs"]
mod surface;
#[path = "../build/syntax.rs"]
mod syntax;
#[path = "../build/unions.rs"]
mod unions;

use proc_macro2::{Group, Punct, Spacing, TokenStream, TokenTree};
use serde_json::Value;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/dns_settings.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A change to the spec or to progenitor shows up here as a reviewable diff.
/// Accept an intended change with `EXPECTORATE=overwrite cargo test --test codegen`.
#[test]
fn generated_client_matches_snapshot() {
    expectorate::assert_contents(
        "tests/snapshots/generated.rs.snap",
        cloudflare_dns_settings::testing::SOURCE,
    );
}

#[test]
fn generated_checks_match_snapshot() {
    expectorate::assert_contents(
        "tests/snapshots/operations.rs.snap",
        cloudflare_dns_settings::testing::OPERATIONS_SOURCE,
    );
}

/// What progenitor wrote for spec/ (build.rs keeps it in `OUT_DIR`), before build/ edited it.
const PROGENITOR: &str = include_str!(concat!(env!("OUT_DIR"), "/progenitor.rs"));

/// build/'s steps after progenitor, on `tokens` as progenitor's output.
fn generated_from(tokens: TokenStream) -> Result<String, String> {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/dns_settings.json"
    ))
    .unwrap();
    generate::pipeline(&spec, |_| Ok(tokens)).map(|out| out.client)
}

/// `tokens` printed differently: every punctuation mark that is followed by something other than
/// punctuation is printed joined to it (`&account_id .to_string ()`, `#[doc`), which a reader of
/// the syntax tree cannot tell apart and a reader of the printed text can.
fn respaced(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        out.push(match tree {
            TokenTree::Group(g) => {
                TokenTree::Group(Group::new(g.delimiter(), respaced(g.stream())))
            }
            TokenTree::Punct(p)
                if !matches!(trees.get(i + 1), None | Some(TokenTree::Punct(_))) =>
            {
                TokenTree::Punct(Punct::new(p.as_char(), Spacing::Joint))
            }
            other => other.clone(),
        });
    }
    out.into_iter().collect()
}

/// The tokens of Rust source, spacing aside.
fn tokens_of(source: &str) -> Vec<String> {
    fn flatten(tokens: TokenStream, out: &mut Vec<String>) {
        for tree in tokens {
            match tree {
                TokenTree::Group(g) => {
                    out.push(format!("{:?}(", g.delimiter()));
                    flatten(g.stream(), out);
                    out.push(")".into());
                }
                TokenTree::Punct(p) => out.push(p.as_char().to_string()),
                other => out.push(other.to_string()),
            }
        }
    }
    let mut out = Vec::new();
    flatten(source.parse().unwrap(), &mut out);
    out
}

/// build/ reads progenitor's output as syntax, not as printed text: the same output printed with
/// other spacing (as another version of proc-macro2 might print it) gives the same client.
#[test]
fn the_client_does_not_depend_on_how_progenitor_is_printed() {
    let original: TokenStream = PROGENITOR.parse().unwrap();
    let respaced = respaced(original.clone());
    assert_ne!(
        respaced.to_string(),
        PROGENITOR,
        "the respaced output prints differently"
    );
    let client = generated_from(original).unwrap();
    assert_eq!(
        client,
        cloudflare_dns_settings::testing::SOURCE,
        "the test runs build.rs's steps"
    );
    let other = generated_from(respaced).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        tokens_of(&other) == tokens_of(&client),
        "a different client from progenitor's output printed differently"
    );
}

/// A shape of progenitor's output the generator does not know fails the build, naming the
/// operation, rather than being guessed at: here the first operation's URL is not a `format!`.
#[test]
fn an_unknown_shape_fails_naming_the_operation() {
    struct UrlNotFormatted(bool);
    impl syn::visit_mut::VisitMut for UrlNotFormatted {
        fn visit_local_mut(&mut self, local: &mut syn::Local) {
            if !self.0
                && matches!(&local.pat, syn::Pat::Ident(p) if p.ident == "url")
                && let Some(init) = &mut local.init
            {
                *init.expr = syn::parse_quote!(client.baseurl.clone());
                self.0 = true;
            }
            syn::visit_mut::visit_local_mut(self, local);
        }
    }
    let mut file: syn::File = syn::parse_str(PROGENITOR).unwrap();
    let mut edit = UrlNotFormatted(false);
    syn::visit_mut::VisitMut::visit_file_mut(&mut edit, &mut file);
    assert!(edit.0, "progenitor's output has a `let url`");
    let error = generated_from(quote::ToTokens::into_token_stream(file)).unwrap_err();
    assert!(
        error.contains("`account_get`") && error.contains("`let url = format!(…)`"),
        "{error}"
    );
}

/// The checks come from the spec: changing a bound there changes the check, with no hand edit.
#[test]
fn changing_a_bound_in_the_spec_changes_the_check() {
    let compact = |s: &str| s.split_whitespace().collect::<String>();
    assert!(
        compact(cloudflare_dns_settings::testing::SOURCE).contains(&compact(
            r#""zone_defaults.soa.refresh", *v as f64, Some(600f64), Some(86400f64)"#
        )),
        "the compiled client checks the spec's bound on the typed body"
    );
    let refresh = |spec: &Value| {
        let ops = rules::extract(spec).unwrap();
        let edit = ops
            .iter()
            .find(|op| op.method == "PATCH" && op.path_template.starts_with("/accounts"))
            .unwrap();
        edit.body
            .iter()
            .find(|r| r.field == "zone_defaults.soa.refresh")
            .map(|r| r.check.clone())
            .unwrap()
    };
    let mut spec = spec();
    assert_eq!(
        refresh(&spec),
        rules::Check::Range {
            min: Some(600.0),
            max: Some(86400.0)
        }
    );
    spec["components"]["schemas"]["dns-settings_soa-base"]["properties"]["refresh"]["maximum"] =
        43200.into();
    assert_eq!(
        refresh(&spec),
        rules::Check::Range {
            min: Some(600.0),
            max: Some(43200.0)
        }
    );
}

/// The components of the adjusted spec (what progenitor reads) that list `field` as required.
fn requiring(mut spec: Value, field: &str) -> Vec<String> {
    names::operation_names(&mut spec).unwrap();
    adjust::for_generator(&mut spec).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let lists = |s: &Value| {
        s["required"]
            .as_array()
            .is_some_and(|r| r.contains(&field.into()))
    };
    schemas
        .iter()
        .filter(|(_, s)| lists(s))
        .map(|(name, _)| name.clone())
        .collect()
}

/// A response field becomes optional by being marked deprecated in spec/, whichever it is: the
/// rule reads the flag, not a list of names.
#[test]
fn a_field_marked_deprecated_is_optional_in_responses() {
    let spec = spec();
    assert_eq!(
        requiring(spec.clone(), "foundation_dns"),
        Vec::<String>::new()
    );
    let before = requiring(spec.clone(), "flatten_all_cnames");
    assert!(before.len() >= 2, "required in the responses: {before:?}");
    let mut marked = spec;
    marked["components"]["schemas"]["dns-settings_flatten_all_cnames"]["deprecated"] = true.into();
    assert_eq!(
        requiring(marked, "flatten_all_cnames"),
        Vec::<String>::new()
    );
}

#[test]
fn a_dangling_ref_is_a_clear_error() {
    let mut spec = spec();
    spec["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("dns-settings_soa-base");
    let err = rules::extract(&spec).unwrap_err();
    assert!(
        err.contains("dns-settings_soa-base") && err.contains("points at nothing"),
        "{err}"
    );
}

/// Adding an operation to spec/ needs no hand-written code: nothing hand-written may name one.
#[test]
fn hand_written_code_names_no_endpoint() {
    let spec = spec();
    let mut names: Vec<String> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        names.push(path.clone());
        for op in item.as_object().unwrap().values() {
            for key in ["operationId", "x-fern-sdk-group-name"] {
                if let Some(v) = op.get(key).and_then(Value::as_str) {
                    names.push(v.to_string());
                }
            }
            // The hinted method name (`views_list`); an operation without hints (`zones-get`)
            // is named from its path, which is in the list already.
            let group = op["x-fern-sdk-group-name"].as_str();
            let method = op["x-fern-sdk-method-name"].as_str();
            if let (Some(group), Some(method)) = (group, method) {
                names.push(format!(
                    "{}_{method}",
                    group.rsplit('.').next().unwrap_or_default()
                ));
            }
        }
    }
    names.extend(
        spec["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned(),
    );
    names.extend([
        "accounts/".to_string(),
        "zones/".to_string(),
        "DnsSettings".to_string(),
    ]);

    for path in common::hand_written_sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for name in &names {
            assert!(
                !code.contains(name.as_str()),
                "{} names `{name}`",
                path.display()
            );
        }
    }
}

/// Every `crate::…` and `::cloudflare_dns_settings::…` path the Rust `source` names (in code or in
/// an attribute's string, `deserialize_with = "…"`), and every field of a struct literal of such a
/// path, as `"<path>.<field>"`.
fn runtime_names(source: &str) -> std::collections::BTreeSet<String> {
    use syn::visit::Visit;
    struct Names(std::collections::BTreeSet<String>);
    fn name(path: &syn::Path) -> Option<String> {
        let idents: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        match (
            path.leading_colon.is_some(),
            idents.first().map(String::as_str),
        ) {
            (false, Some("crate")) if idents.len() > 1 => Some(idents.join("::")),
            (true, Some(contract::CRATE)) => Some(format!("::{}", idents.join("::"))),
            _ => None,
        }
    }
    impl<'ast> Visit<'ast> for Names {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            self.0.extend(name(path));
            syn::visit::visit_path(self, path);
        }
        fn visit_expr_struct(&mut self, literal: &'ast syn::ExprStruct) {
            if let Some(path) = name(&literal.path) {
                for field in &literal.fields {
                    if let syn::Member::Named(member) = &field.member {
                        self.0.insert(format!("{path}.{member}"));
                    }
                }
            }
            syn::visit::visit_expr_struct(self, literal);
        }
        fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
            if let Ok(path) = syn::parse_str::<syn::Path>(&literal.value()) {
                self.0.extend(name(&path));
            }
        }
        fn visit_attribute(&mut self, attribute: &'ast syn::Attribute) {
            fn strings(tokens: TokenStream, out: &mut Vec<syn::LitStr>) {
                for tree in tokens {
                    match tree {
                        TokenTree::Group(g) => strings(g.stream(), out),
                        TokenTree::Literal(l) => out.extend(syn::parse_str(&l.to_string()).ok()),
                        _ => {}
                    }
                }
            }
            if !attribute.path().is_ident("doc") {
                let mut found = Vec::new();
                strings(
                    quote::ToTokens::to_token_stream(&attribute.meta),
                    &mut found,
                );
                found.iter().for_each(|s| self.visit_lit_str(s));
            }
            syn::visit::visit_attribute(self, attribute);
        }
    }
    let file = syn::parse_file(source).expect("the generated source parses");
    let mut names = Names(Default::default());
    names.visit_file(&file);
    names.0
}

/// The runtime contract is one list, on both sides: every item of the crate the generated code
/// names is listed in build/contract.rs (the only place in build/ that names one), and
/// src/contract.rs lists exactly what build/contract.rs lists.
#[test]
fn the_runtime_contract_is_one_list() {
    use std::collections::BTreeSet;
    let build: BTreeSet<String> = contract::PATHS
        .iter()
        .chain(contract::FIELDS)
        .map(|s| s.to_string())
        .collect();
    let generated = runtime_names(cloudflare_dns_settings::testing::SOURCE);
    let unlisted: Vec<&String> = generated.difference(&build).collect();
    assert!(
        unlisted.is_empty(),
        "the generated code names {unlisted:?}, which build/contract.rs does not list: name it \
         there (PATHS or FIELDS), take it from there in build/, and list it in src/contract.rs"
    );

    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/contract.rs")).unwrap();
    let file = syn::parse_file(&text).unwrap();
    let items = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Const(c) if c.ident == "ITEMS" => Some(&c.expr),
            _ => None,
        })
        .expect("src/contract.rs has `const ITEMS`");
    struct Strings(BTreeSet<String>);
    impl<'ast> syn::visit::Visit<'ast> for Strings {
        fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
            self.0.insert(literal.value());
        }
    }
    let mut crate_side = Strings(BTreeSet::new());
    syn::visit::Visit::visit_expr(&mut crate_side, items);
    let crate_side = crate_side.0;
    let only_build: Vec<&String> = build.difference(&crate_side).collect();
    let only_crate: Vec<&String> = crate_side.difference(&build).collect();
    assert!(
        only_build.is_empty() && only_crate.is_empty(),
        "the two sides of the runtime contract differ: build/contract.rs alone lists \
         {only_build:?}, src/contract.rs alone lists {only_crate:?}"
    );
}

/// build/'s files import one way: helpers (syntax.rs, spec.rs, contract.rs) at the bottom, the
/// steps above them, generate.rs (the orchestration) on top. An import cycle fails here, named.
#[test]
fn build_has_no_import_cycle() {
    use std::collections::BTreeMap;
    fn crate_modules(tree: &syn::UseTree, out: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => out.push(p.ident.to_string()),
            syn::UseTree::Name(n) => out.push(n.ident.to_string()),
            syn::UseTree::Rename(r) => out.push(r.ident.to_string()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| crate_modules(t, out)),
            syn::UseTree::Glob(_) => {}
        }
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/build");
    let mut imports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let file = syn::parse_file(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut modules = Vec::new();
        for item in &file.items {
            if let syn::Item::Use(u) = item
                && let syn::UseTree::Path(p) = &u.tree
                && p.ident == "crate"
            {
                crate_modules(&p.tree, &mut modules);
            }
        }
        modules.retain(|m| m != "self" && m != name);
        imports.insert(name.to_string(), modules);
    }
    assert!(imports.contains_key("generate") && imports.contains_key("syntax"));
    // Depth-first, with the path so far: a module met again on it closes a cycle.
    fn visit(
        module: &str,
        imports: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|m| m == module) {
            panic!(
                "build/ has an import cycle: {} -> {module}",
                path[at..].join(" -> ")
            );
        }
        if done.iter().any(|m| m == module) {
            return;
        }
        path.push(module.to_string());
        for next in imports.get(module).into_iter().flatten() {
            if imports.contains_key(next) {
                visit(next, imports, path, done);
            }
        }
        path.pop();
        done.push(module.to_string());
    }
    let mut done = Vec::new();
    for module in imports.keys() {
        visit(module, &imports, &mut Vec::new(), &mut done);
    }
}
