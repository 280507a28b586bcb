//! No type or trait of progenitor's is part of the crate's public API, so that a progenitor
//! upgrade cannot break a user: checked on the generated code and on every hand-written file, by
//! reading what is `pub` with syn (stable toolchain, no rustdoc JSON), and by the compiler for
//! what `send()` returns. Read the same way: the test hooks are compiled only with the `testing`
//! feature (not part of the API), and no public type name is defined twice.

mod common;

use std::collections::BTreeMap;
use std::future::Future;

use cloudflare_dns_settings::types::AccountSettings;
use cloudflare_dns_settings::{Client, Error, Page};
use quote::ToTokens;
use syn::visit::Visit;

/// Names that would tie the public API to progenitor's.
const PROGENITOR: &[&str] = &[
    "progenitor",
    "ResponseValue",
    "ByteStream",
    "ClientInfo",
    "ClientHooks",
    "OperationInfo",
    "RequestBuilderExt",
    "QueryParam",
];

/// Every public signature of a file, as text: `pub` functions, fields, re-exports, type aliases,
/// and trait impls (whose every method is public when the type is).
struct PublicSignatures(Vec<String>);

fn public(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

impl<'ast> Visit<'ast> for PublicSignatures {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if public(&f.vis) {
            self.0.push(f.sig.to_token_stream().to_string());
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if public(&f.vis) {
            self.0.push(f.sig.to_token_stream().to_string());
        }
    }
    fn visit_field(&mut self, f: &'ast syn::Field) {
        if public(&f.vis) {
            self.0.push(f.ty.to_token_stream().to_string());
        }
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if public(&u.vis) {
            self.0.push(u.tree.to_token_stream().to_string());
        }
    }
    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        if public(&t.vis) {
            self.0.push(t.ty.to_token_stream().to_string());
        }
    }
    fn visit_variant(&mut self, v: &'ast syn::Variant) {
        self.0.push(v.fields.to_token_stream().to_string());
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if let Some((_, path, _)) = &i.trait_ {
            self.0.push(format!(
                "impl {} for {}",
                path.to_token_stream(),
                i.self_ty.to_token_stream()
            ));
            for item in &i.items {
                if let syn::ImplItem::Fn(f) = item {
                    self.0.push(f.sig.to_token_stream().to_string());
                }
            }
        }
        syn::visit::visit_item_impl(self, i);
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // A private module's items are not public, whatever they say.
        if public(&m.vis) {
            syn::visit::visit_item_mod(self, m);
        }
    }
}

fn offenders(source: &str, file: &str) -> Vec<String> {
    let parsed = syn::parse_file(source).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut signatures = PublicSignatures(Vec::new());
    signatures.visit_file(&parsed);
    signatures
        .0
        .into_iter()
        .filter(|s| PROGENITOR.iter().any(|p| s.contains(p)))
        .map(|s| format!("{file}: {s}"))
        .collect()
}

#[test]
fn no_progenitor_type_in_any_public_signature() {
    let mut found = offenders(cloudflare_dns_settings::testing::SOURCE, "generated.rs");
    let mut files = 0;
    for path in common::hand_written_sources() {
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        found.extend(offenders(&text, &path.display().to_string()));
    }
    assert!(files >= 10, "read {files} hand-written files");
    assert!(
        found.is_empty(),
        "progenitor in the public API:\n{}",
        found.join("\n")
    );
}

/// The check can fail: progenitor's own output, before build.rs edits it, is full of them.
#[test]
fn the_check_sees_progenitor_where_it_is() {
    let raw = "pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue};\n\
               pub mod builder { pub struct X; impl X { pub async fn send(self) -> Result<ResponseValue<u8>, Error<()>> { todo!() } } }";
    assert_eq!(offenders(raw, "progenitor").len(), 2);
}

/// What `send()` returns is the crate's own `Result`, for a single value and for a page.
#[test]
fn send_returns_the_crates_result() {
    fn returns<T>(_: impl Future<Output = Result<T, Error>>) {}
    let client = Client::builder().api_token("t").build().unwrap();
    returns::<AccountSettings>(client.account_get().account_id("a").send());
    returns::<Page<cloudflare_dns_settings::types::DnsView>>(
        client.account_views_list().account_id("a").send(),
    );
}

/// The test hooks (`cloudflare_dns_settings::testing` and what it holds): not part of the API, so
/// compiled only with the `testing` feature, which the crate's own tests turn on (Cargo.toml).
const HOOKS: &[&str] = &[
    "testing",
    "decode_body",
    "decode_response",
    "send_without_body",
    "SOURCE",
    "OPERATIONS_SOURCE",
];

/// `#[cfg(feature = "testing")]`.
fn gated(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && matches!(&attr.meta, syn::Meta::List(list)
                if list.tokens.to_string() == r#"feature = "testing""#)
    })
}

/// Every name a `use` tree mentions: its path and what it brings in (a rename by its new name).
fn use_names(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => {
            out.push(p.ident.to_string());
            use_names(&p.tree, out);
        }
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) => out.push(r.rename.to_string()),
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, out)),
    }
}

/// Every `pub` item of a file that names a hook (a module, function, constant, or a `use` that
/// brings one in), with whether it is behind `#[cfg(feature = "testing")]`, its own or an
/// enclosing module's. Items of private modules are read too: the hooks are generated in one and
/// made reachable by a `pub use`.
struct Hooks {
    file: String,
    gated: bool,
    found: Vec<(String, String, bool)>,
}

impl<'ast> Visit<'ast> for Hooks {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let (attrs, vis, names): (&[syn::Attribute], _, Vec<String>) = match item {
            syn::Item::Mod(m) => (&m.attrs, &m.vis, vec![m.ident.to_string()]),
            syn::Item::Fn(f) => (&f.attrs, &f.vis, vec![f.sig.ident.to_string()]),
            syn::Item::Const(c) => (&c.attrs, &c.vis, vec![c.ident.to_string()]),
            syn::Item::Static(s) => (&s.attrs, &s.vis, vec![s.ident.to_string()]),
            syn::Item::Use(u) => {
                let mut names = Vec::new();
                use_names(&u.tree, &mut names);
                (&u.attrs, &u.vis, names)
            }
            _ => return syn::visit::visit_item(self, item),
        };
        let outer = self.gated;
        self.gated |= gated(attrs);
        if public(vis) {
            for name in names.into_iter().filter(|n| HOOKS.contains(&n.as_str())) {
                self.found.push((self.file.clone(), name, self.gated));
            }
        }
        syn::visit::visit_item(self, item);
        self.gated = outer;
    }
}

/// Every public item naming a hook in `source`: `(file, name, gated)`.
fn hooks(source: &str, file: &str) -> Vec<(String, String, bool)> {
    let parsed = syn::parse_file(source).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut hooks = Hooks {
        file: file.to_string(),
        gated: false,
        found: Vec::new(),
    };
    hooks.visit_file(&parsed);
    hooks.found
}

/// A build that depends on the crate (the feature off) never sees the test hooks: every public
/// item named `testing`, and every hook, in the hand-written files (lib.rs re-exports
/// `generated::testing`) and in the generated code (the hook functions), is behind
/// `#[cfg(feature = "testing")]`.
#[test]
fn the_test_hooks_need_the_testing_feature() {
    let mut found = hooks(
        cloudflare_dns_settings::testing::SOURCE,
        "generated.rs (OUT_DIR)",
    );
    for path in common::hand_written_sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        found.extend(hooks(&text, &path.display().to_string()));
    }
    for hook in HOOKS {
        assert!(
            found.iter().any(|(_, name, _)| name == hook),
            "no public `{hook}` found: is this test still reading the hooks where they are?"
        );
    }
    let ungated: Vec<String> = found
        .iter()
        .filter(|(_, _, gated)| !gated)
        .map(|(file, name, _)| format!("{file}: `{name}`"))
        .collect();
    assert!(
        ungated.is_empty(),
        "test hooks public without `#[cfg(feature = \"testing\")]` (a user's build would see \
         them):\n{}",
        ungated.join("\n")
    );
}

/// The check can fail: a hook without the feature's `cfg`, or re-exported without it, is seen.
#[test]
fn the_check_sees_an_ungated_hook() {
    let raw = r#"
        #[cfg(feature = "testing")]
        pub mod testing { pub use super::decode_body; pub const SOURCE: &str = ""; }
        pub use generated::testing;
        pub fn decode_body() {}
        #[cfg(feature = "testing")]
        pub fn decode_response() {}
        mod private { pub fn send_without_body() {} }
    "#;
    let ungated: Vec<String> = hooks(raw, "raw")
        .into_iter()
        .filter(|(_, _, gated)| !gated)
        .map(|(_, name, _)| name)
        .collect();
    assert_eq!(ungated, ["testing", "decode_body", "send_without_body"]);
}

/// Every public type a file defines (struct, enum, union, trait, type alias), by name, with where:
/// items of public modules included, of private ones (`mod tests`) not.
struct PublicTypes {
    path: Vec<String>,
    found: Vec<(String, String)>,
}

impl PublicTypes {
    fn define(&mut self, vis: &syn::Visibility, ident: &syn::Ident) {
        if public(vis) {
            let at = [self.path.as_slice(), &[ident.to_string()]].concat();
            self.found.push((ident.to_string(), at.join("::")));
        }
    }
}

impl<'ast> Visit<'ast> for PublicTypes {
    fn visit_item_struct(&mut self, i: &'ast syn::ItemStruct) {
        self.define(&i.vis, &i.ident);
    }
    fn visit_item_enum(&mut self, i: &'ast syn::ItemEnum) {
        self.define(&i.vis, &i.ident);
    }
    fn visit_item_union(&mut self, i: &'ast syn::ItemUnion) {
        self.define(&i.vis, &i.ident);
    }
    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        self.define(&i.vis, &i.ident);
    }
    fn visit_item_type(&mut self, i: &'ast syn::ItemType) {
        self.define(&i.vis, &i.ident);
    }
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if public(&m.vis) {
            self.path.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.path.pop();
        }
    }
}

/// Every public type `source` defines: `(name, "file: module::path::Name")`.
fn public_types(source: &str, file: &str) -> Vec<(String, String)> {
    let parsed = syn::parse_file(source).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut types = PublicTypes {
        path: Vec::new(),
        found: Vec::new(),
    };
    types.visit_file(&parsed);
    types
        .found
        .into_iter()
        .map(|(name, at)| (name, format!("{file}: {at}")))
        .collect()
}

/// The names defined more than once among `types`, each with where.
fn defined_twice(types: Vec<(String, String)>) -> Vec<String> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, at) in types {
        by_name.entry(name).or_default().push(at);
    }
    by_name
        .into_iter()
        .filter(|(_, at)| at.len() > 1)
        .map(|(name, at)| format!("`{name}`: {}", at.join(", ")))
        .collect()
}

/// No public type name is defined twice, among the generated types and the hand-written files
/// (whatever module each is in): a reader, and an import, can tell every public type from its
/// name alone (issue 25: there were two `Applied`).
#[test]
fn no_public_type_name_is_defined_twice() {
    let mut types = public_types(
        cloudflare_dns_settings::testing::SOURCE,
        "generated.rs (OUT_DIR)",
    );
    let generated = types.len();
    for path in common::hand_written_sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path);
        types.extend(public_types(&text, &file.display().to_string()));
    }
    assert!(generated >= 40, "read {generated} generated types");
    assert!(
        types.len() - generated >= 15,
        "read {} hand-written types",
        types.len() - generated
    );
    let twice = defined_twice(types);
    assert!(
        twice.is_empty(),
        "public type names defined more than once:\n{}",
        twice.join("\n")
    );
}

/// The check can fail: a name defined in two modules is seen, one in a private module is not.
#[test]
fn the_check_sees_a_name_defined_twice() {
    let raw = "pub enum Applied { No } pub mod plan { pub struct Applied; pub struct Plan; } \
               mod tests { pub struct Plan; }";
    assert_eq!(
        defined_twice(public_types(raw, "raw")),
        ["`Applied`: raw: Applied, raw: plan::Applied"]
    );
}
