//! The step that makes each discriminated union (adjust.rs, `Union`) decode by its discriminator.

use quote::{format_ident, quote};
use serde_json::Value;

use crate::adjust::Union;
use crate::contract;
use crate::syntax::{last_ident, module};

/// typify decodes a `oneOf` as `#[serde(untagged)]`: the first variant that accepts the object
/// wins. Variants that keep unknown fields accept nearly anything, so an MX record could come
/// back as an A record with its `priority` filed away, and a variant that fails on one field
/// falls through to the next instead of saying which field. Where the spec tells variants apart
/// by one property (adjust.rs, `Union`), the union reads the object, looks at that property and
/// decodes the variant it names, reporting the path of a field that does not fit; a value of no
/// known kind is kept whole in a response (`UnknownKind`), and in a request too when it names its
/// kind (a kind Cloudflare added since the spec was cut, sent as given).
pub fn unions_decode_by_their_discriminator(
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
        let union_variant = contract::tokens(contract::UNION_VARIANT);
        for ((_, values), ident) in union.variants.iter().zip(&variants) {
            for value in values {
                let pattern = match value {
                    Value::Bool(b) => quote!(Some(::serde_json::Value::Bool(#b))),
                    Value::String(s) => quote!(Some(::serde_json::Value::String(v)) if v == #s),
                    _ => quote!(None if false),
                };
                arms.push(quote! { #pattern => #union_variant(object).map(Self::#ident), });
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
