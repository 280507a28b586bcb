//! No type or trait of progenitor's is part of the crate's public API, so that a progenitor
//! upgrade cannot break a user: checked on the generated code and on every hand-written file, by
//! reading what is `pub` with syn (stable toolchain, no rustdoc JSON), and by the compiler for
//! what `send()` returns.

mod common;

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
