//! Drift seen in production: what a response carried that `spec/` does not know (a field kept in
//! an `extra` map, an enum value kept as `OpenEnum::Other`, a union kind kept as `UnknownKind`),
//! said once per operation and JSON path per process through `tracing`: target
//! `cloudflare_dns_settings::drift`, level `info`, with the operation and the path, never the
//! value (it may be private).
//!
//! The generated code looks over every decoded result (build/drift.rs) and calls [`seen`] or
//! [`seen_field`] only where something is unknown; a known shape never reaches this file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// What was unknown at a path.
#[derive(Clone, Copy, Debug)]
// Which kinds a generated client reports depends on its spec (one without enums has no values).
#[allow(dead_code)]
pub(crate) enum Drift {
    /// A field the spec does not have.
    Field,
    /// An enum value the spec does not list.
    EnumValue,
    /// A union kind the spec does not describe.
    UnionKind,
}

impl Drift {
    fn as_str(self) -> &'static str {
        match self {
            Drift::Field => "field",
            Drift::EnumValue => "enum value",
            Drift::UnionKind => "union kind",
        }
    }
}

/// The (operation, path) pairs already said, for this process: enum values and union kinds at
/// their paths, and unknown fields by (operation, parent path) and name. Looked up without
/// building anything, so that the second time costs a lock and a lookup.
static SAID: Mutex<BTreeSet<(&str, &str)>> = Mutex::new(BTreeSet::new());
static SAID_FIELDS: Mutex<BTreeMap<(&str, &str), BTreeSet<String>>> = Mutex::new(BTreeMap::new());

/// An enum value or a union kind the spec does not know, at `path` of a result of `operation`.
pub(crate) fn seen(operation: &'static str, path: &'static str, kind: Drift) {
    let first = SAID
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert((operation, path));
    if first {
        say(operation, path, kind);
    }
}

/// A field `name` that the spec does not have, in the object at `parent`.
pub(crate) fn seen_field(operation: &'static str, parent: &'static str, name: &str) {
    let first = {
        let mut said = SAID_FIELDS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let names = said.entry((operation, parent)).or_default();
        !names.contains(name) && names.insert(name.to_string())
    };
    if first {
        say(operation, &format!("{parent}.{name}"), Drift::Field);
    }
}

fn say(operation: &str, path: &str, kind: Drift) {
    tracing::info!(
        target: "cloudflare_dns_settings::drift",
        operation,
        path,
        kind = kind.as_str(),
        "a response carried something spec/ does not know"
    );
}
