//! Generation, the orchestration of build/'s steps: the spec is read and adjusted (names.rs,
//! rules.rs, plans.rs, adjust.rs), progenitor generates, and its output is edited step by step
//! (surface.rs, unions.rs, sends.rs, hooks.rs, plans.rs, checks.rs, drift.rs) so that every
//! operation's `send()` goes through this crate's transport and returns `Result<T, crate::Error>`.
//! Nothing depends on this file but build.rs and the tests.
//!
//! Every reading and every edit of progenitor's output is made on the syntax tree (paths, idents,
//! the shapes of calls and statements), never on its printed text, each by one function of a step
//! that says why. Each checks that the output has the shape it expects and otherwise fails the
//! build with a message naming the operation: a progenitor upgrade that changes its output must
//! be looked at, not guessed at.

use proc_macro2::TokenStream;
use serde_json::Value;

use crate::rules::{self, OperationRules};
use crate::syntax::module;
use crate::{adjust, checks, drift, hooks, names, plans, sends, spec, surface, unions};

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
    spec::require_openapi_3_0(spec::openapi_version(&spec))?;
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

fn generate(
    tokens: TokenStream,
    operations: &[OperationRules],
    adjusted: &adjust::Adjusted,
    pairs: &[plans::Pair<'_>],
) -> Result<String, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    surface::keep_progenitor_out_of_the_public_api(&mut file)?;
    let with_default = surface::no_type_builders(&mut file)?;
    unions::unions_decode_by_their_discriminator(&mut file, &adjusted.unions)?;
    surface::deprecated_fields_say_so(&mut file, &adjusted.deprecated)?;
    let types = checks::Types::of(module(&mut file.items, "types")?);
    let builders = module(&mut file.items, "builder")?;
    let (parts, functions) =
        sends::sends_through_the_transport(builders, operations, &types, &with_default)?;
    let mut names = operations.iter().map(|op| &op.operation_id);
    if let Some(name) = names.find(|name| !parts.contains_key(*name)) {
        return Err(format!(
            "operation `{name}` has no builder with a `send` in progenitor's output"
        ));
    }
    file.items
        .extend(hooks::round_trip_hooks(operations, &parts));
    file.items.extend(plans::generate(pairs, &parts)?);
    file.items.push(syn::parse_quote! {
        /// The spec's bounds on request bodies, checked on the typed body before it is sent.
        pub(crate) mod checks {
            use super::types;
            #(#functions)*
        }
    });
    let drift = parts.iter().filter_map(|(name, builder)| {
        Some(drift::function(name, builder.result.as_ref()?, &types))
    });
    file.items.push(syn::parse_quote! {
        /// What each operation's result carries that the spec does not know, said once per path
        /// (src/drift.rs).
        pub(crate) mod drift {
            use super::types;
            #(#drift)*
        }
    });
    surface::explicit_null_survives_deserialization(&mut file);
    Ok(prettyplease::unparse(&file))
}
