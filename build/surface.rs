//! The step that keeps progenitor's and typify's own API out of the crate's: no re-exports,
//! no type builders, `#[deprecated]` where the spec says so, and explicit `null` kept.

use std::collections::BTreeSet;

use syn::visit_mut::{self, VisitMut};

use crate::adjust::Deprecated;
use crate::checks;
use crate::contract::{self, CRATE};
use crate::syntax::{derives, generic, idents, module};

/// progenitor re-exports its own `Error`, `ResponseValue`, `ByteStream` and `ClientInfo`, has a
/// `prelude` module, implements `ClientInfo` and `ClientHooks` for the client, and gives it
/// public constructors (`new`, which panics if the HTTP client cannot be built, and
/// `new_with_client`, which skips the credential and https checks). None of that is part of this
/// crate's API: a progenitor upgrade must not break users, and nothing public may bypass
/// `ClientBuilder::build`. The re-exports become private imports (the generated builders still
/// use them), the prelude, the impls and `new` go, and `new_with_client` becomes `pub(crate)`.
pub fn keep_progenitor_out_of_the_public_api(file: &mut syn::File) -> Result<(), String> {
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
pub fn no_type_builders(file: &mut syn::File) -> Result<BTreeSet<String>, String> {
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

/// A field the spec marks `deprecated` (`foundation_dns`) is `#[deprecated]` with the spec's
/// note, so that a caller who sets or reads it hears of it from the compiler. typify does not
/// say so itself.
pub fn deprecated_fields_say_so(
    file: &mut syn::File,
    deprecated: &[Deprecated],
) -> Result<(), String> {
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
pub fn explicit_null_survives_deserialization(file: &mut syn::File) {
    struct Fields;
    impl VisitMut for Fields {
        fn visit_field_mut(&mut self, field: &mut syn::Field) {
            if generic(&field.ty, "Option")
                .is_some_and(|t| idents(t) == [CRATE, contract::NULLABLE])
            {
                let present = contract::NULLABLE_DESERIALIZE_PRESENT;
                field.attrs.push(syn::parse_quote!(
                    #[serde(default, deserialize_with = #present)]
                ));
            }
            visit_mut::visit_field_mut(self, field);
        }
    }
    Fields.visit_file_mut(file);
}
