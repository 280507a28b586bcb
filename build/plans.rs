//! Desired-state plan and apply, generated for every pair of a `GET` and a `PATCH` on the same
//! path (account settings, zone settings, a view): the PATCH body type learns how to be planned
//! against the GET's result (`impl Desired`), and the client gets `…_apply`, which reads, plans
//! and sends the smallest PATCH. The diff itself is generic (src/plan.rs); what is generated is
//! which fields are sets and which must be sent whole, read from the spec.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::contract;
use crate::rules::OperationRules;
use crate::sends::BuilderParts;
use crate::spec::{type_of, walk};

/// One GET/PATCH pair.
pub struct Pair<'a> {
    pub get: &'a OperationRules,
    pub patch: &'a OperationRules,
    /// Array fields of the PATCH body the spec marks as sets (`x-stainless-collection-type: set`
    /// or `uniqueItems: true`): compared without regard to order.
    pub sets: Vec<String>,
    /// Fields compared and sent whole rather than field by field: unions (a changed kind must be
    /// sent complete) and free-form maps.
    pub whole: Vec<String>,
}

/// The pairs of the spec (named, not yet adjusted).
pub fn pairs<'a>(spec: &Value, operations: &'a [OperationRules]) -> Result<Vec<Pair<'a>>, String> {
    let mut out = Vec::new();
    for patch in operations.iter().filter(|op| op.method == "PATCH") {
        let Some(get) = operations
            .iter()
            .find(|op| op.method == "GET" && op.path_template == patch.path_template)
        else {
            continue;
        };
        let (mut sets, mut whole) = (Vec::new(), Vec::new());
        let op = &spec["paths"][&patch.path_template]["patch"];
        if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
            walk(body, spec, "", &mut |path, _, schema| {
                let union = schema.get("oneOf").is_some() || schema.get("anyOf").is_some();
                let array = type_of(schema) == Some("array");
                let map = schema.get("properties").is_none()
                    && schema.get("additionalProperties").is_some();
                if !path.is_empty() && (union || map) {
                    whole.push(path.to_string());
                }
                let set =
                    schema["x-stainless-collection-type"] == "set" || schema["uniqueItems"] == true;
                if array && set {
                    sets.push(path.to_string());
                }
                !(union || array)
            })?;
        }
        out.push(Pair {
            get,
            patch,
            sets,
            whole,
        });
    }
    Ok(out)
}

/// The `impl Desired` of each pair's PATCH body and the client's `…_apply` methods.
pub fn generate(
    pairs: &[Pair<'_>],
    parts: &BTreeMap<String, BuilderParts>,
) -> Result<Vec<syn::Item>, String> {
    let mut items = Vec::new();
    for pair in pairs {
        let (get, patch) = (&pair.get.operation_id, &pair.patch.operation_id);
        let (Some(get_op), Some(patch_op)) = (parts.get(get), parts.get(patch)) else {
            return Err(format!(
                "`{get}` or `{patch}` is not in progenitor's output"
            ));
        };
        let desired = patch_op
            .body
            .as_ref()
            .ok_or_else(|| format!("`{patch}` has no body type to plan"))?;
        let current = get_op
            .result
            .as_ref()
            .ok_or_else(|| format!("`{get}` has no result type to plan against"))?;
        let (sets, whole) = (&pair.sets, &pair.whole);
        let body_check: TokenStream = match &patch_op.check {
            Some(check) => quote!(checks::#check(self)?;),
            None => TokenStream::new(),
        };
        let (desired_trait, error) = (
            contract::tokens(contract::PLAN_DESIRED),
            contract::tokens(contract::ERROR),
        );
        items.push(syn::parse_quote! {
            impl #desired_trait for #desired {
                type Current = #current;
                const SETS: &'static [&'static str] = &[#(#sets),*];
                const WHOLE: &'static [&'static str] = &[#(#whole),*];
                fn check(&self) -> ::std::result::Result<(), #error> {
                    #body_check
                    Ok(())
                }
            }
        });
        // Operation names are identifiers (build/names.rs checks), and so is the shared part.
        let name = format_ident!("{}", apply_name(get, patch));
        let (get_fn, patch_fn) = (format_ident!("{get}"), format_ident!("{patch}"));
        // The parameters by the names progenitor gave the builders' setters (`{zone-id}` is
        // `zone_id`, `{type}` is `type_`): the same for the GET and the PATCH of one path.
        if get_op.path != patch_op.path {
            return Err(format!(
                "`{get}` and `{patch}` do not take the same path parameters"
            ));
        }
        let params = &patch_op.path;
        let check: TokenStream = match &patch_op.check {
            Some(check) => quote!(checks::#check(desired)?;),
            None => TokenStream::new(),
        };
        let doc = format!(
            "Makes the settings at `{}` look like `desired`: reads them ([`Client::{get}`]), \
             plans the smallest PATCH ([`{plan}`]) and sends it ([`Client::{patch}`]) \
             unless there is nothing to change or `dry_run`, then checks the answer against \
             `desired` ([`{verify}`]): a field the API kept otherwise is in \
             `unconverged`. `desired` is checked against the \
             spec before anything is sent. The read and the PATCH are two calls, each bounded by \
             the client's deadline.",
            pair.patch.path_template,
            plan = contract::PLAN_PLAN,
            verify = contract::PLAN_VERIFY,
        );
        let (report, plan, verify) = (
            contract::tokens(contract::PLAN_APPLY_REPORT),
            contract::tokens(contract::PLAN_PLAN),
            contract::tokens(contract::PLAN_VERIFY),
        );
        let report_value = contract::apply_report();
        items.push(syn::parse_quote! {
            impl Client {
                #[doc = #doc]
                pub async fn #name(
                    &self,
                    #(#params: &str,)*
                    desired: &#desired,
                    dry_run: bool,
                ) -> ::std::result::Result<#report<#desired>, #error> {
                    #check
                    let before = self.#get_fn()#(.#params(#params))*.send().await?;
                    let plan = #plan(&before, desired)?;
                    let after = match (&plan.patch, dry_run) {
                        (Some(patch), false) => Some(
                            self.#patch_fn()#(.#params(#params))*.body(patch.clone()).send().await?,
                        ),
                        _ => None,
                    };
                    // What the PATCH answered is checked against the desired state: a field
                    // the API kept otherwise is reported, never counted as done.
                    let unconverged = match &after {
                        Some(after) => #verify(after, desired)?,
                        None => ::std::vec::Vec::new(),
                    };
                    Ok(#report_value)
                }
            }
        });
    }
    Ok(items)
}

/// `account_get` + `account_edit` is `account_apply`: the words the two names share, then `apply`.
fn apply_name(get: &str, patch: &str) -> String {
    let shared = get
        .split('_')
        .zip(patch.split('_'))
        .take_while(|(a, b)| a == b);
    let mut words: Vec<&str> = shared.map(|(a, _)| a).collect();
    words.push("apply");
    words.join("_")
}
