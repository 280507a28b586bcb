//! Desired state: "make it look like this". For every pair of a GET and a PATCH on one path,
//! build.rs generates `impl Desired` for the PATCH body and a `…_apply` method on the client
//! (`account_apply`, `zone_apply`, `account_views_apply`); this file is the generic part: the
//! smallest PATCH that turns the current settings into the desired ones.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Error;

/// A PATCH body used as a desired state: every field it sets is a field to make true; every
/// field it leaves out is left alone. Generated for each GET/PATCH pair.
pub trait Desired: Serialize + DeserializeOwned + Clone {
    /// What the GET on the same path returns.
    type Current: Serialize + DeserializeOwned + Clone;
    /// Dotted paths of array fields that are sets (compared without regard to order).
    const SETS: &'static [&'static str];
    /// Dotted paths of fields compared and sent whole (unions, free-form maps), not field by
    /// field.
    const WHOLE: &'static [&'static str];
    /// Checks the desired state against the spec's bounds, as the PATCH would before sending
    /// (`ErrorKind::InvalidInput` naming the field); no I/O. `…_apply` does it first, and so can a
    /// caller that wants every refusal before any request (the fleet's tool does).
    fn check(&self) -> Result<(), Error>;
}

/// The smallest PATCH that makes the current settings look like the desired ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan<D> {
    /// What to send; `None` when there is nothing to change (no empty PATCH is ever sent).
    pub patch: Option<D>,
    /// Each field that changes, for display.
    pub changes: Vec<Change>,
}

/// One field a plan changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Dotted path (`zone_defaults.soa.refresh`).
    pub path: String,
    /// Its value now (`None`: absent).
    pub current: Option<Value>,
    /// Its value after the PATCH.
    pub desired: Value,
}

/// What an `…_apply` call did.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyReport<D: Desired> {
    /// The plan: what was sent, or with `dry_run` would have been.
    pub plan: Plan<D>,
    /// The settings read before.
    pub before: D::Current,
    /// The settings the PATCH returned; `None` when nothing was sent.
    pub after: Option<D::Current>,
    /// Each desired field the PATCH's answer does not show as desired: the API took the PATCH
    /// and kept another value (a setting it silently ignores, or one it normalizes). Empty when
    /// nothing was sent, and when the answer shows every desired field.
    pub unconverged: Vec<Unconverged>,
}

impl<D: Desired> ApplyReport<D> {
    /// Whether the settings are as desired: a PATCH was answered with every desired field, or
    /// there was nothing to change. A dry run with changes is not converged.
    pub fn converged(&self) -> bool {
        match &self.after {
            Some(_) => self.unconverged.is_empty(),
            None => self.plan.patch.is_none(),
        }
    }
}

/// A desired field that the answer to the PATCH does not show as desired.
#[derive(Clone, Debug, PartialEq)]
pub struct Unconverged {
    /// Dotted path (`zone_defaults.ns_ttl`).
    pub path: String,
    /// The value sent.
    pub desired: Value,
    /// What the API answered instead (`None`: the field is absent from the answer).
    pub kept: Option<Value>,
}

impl std::fmt::Display for Unconverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self
            .kept
            .as_ref()
            .map_or("(absent)".to_string(), Value::to_string);
        write!(
            f,
            "{}: desired {}, the API kept {kept}",
            self.path, self.desired
        )
    }
}

/// Verifies the answer to a PATCH: every field of `desired` that `after` does not show as
/// desired, by the same comparison as [`plan`] (sets as sets, unions by the fields the desired
/// value sets).
pub fn verify<D: Desired>(after: &D::Current, desired: &D) -> Result<Vec<Unconverged>, Error> {
    let left = plan(after, desired)?;
    Ok(left
        .changes
        .into_iter()
        .map(|change| Unconverged {
            path: change.path,
            desired: change.desired,
            kept: change.current,
        })
        .collect())
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self
            .current
            .as_ref()
            .map_or("(absent)".to_string(), Value::to_string);
        write!(f, "{}: {current} → {}", self.path, self.desired)
    }
}

/// Plans the smallest PATCH that makes `current` look like `desired`: only the fields that
/// differ, nested objects compared field by field, an explicit `null` where the desired value is
/// `null` and the current one is not, sets compared as sets, unions compared and sent whole.
pub fn plan<D: Desired>(current: &D::Current, desired: &D) -> Result<Plan<D>, Error> {
    let current = to_json(current)?;
    let desired_json = to_json(desired)?;
    let mut changes = Vec::new();
    let patch =
        match diff::<D>(Some(&current), &desired_json, "", &mut changes) {
            None => None,
            Some(patch) => Some(serde_json::from_value(patch).map_err(|e| {
                Error::invalid("desired", format!("does not make a valid PATCH: {e}"))
            })?),
        };
    Ok(Plan { patch, changes })
}

/// Reads a desired state from JSON, refusing what the PATCH could not send: a field the spec
/// does not have, or a value of the wrong type, named by its path. (Bounds are checked by the
/// `…_apply` call, before any request.)
pub fn desired_from_json<D: Desired>(text: &str) -> Result<D, Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let desired: D = serde_path_to_error::deserialize(de)
        .map_err(|e| Error::invalid(e.path().to_string(), e.inner().to_string()))?;
    let given: Value =
        serde_json::from_str(text).map_err(|e| Error::invalid("(root)", e.to_string()))?;
    match unknown(&given, &to_json(&desired)?, "") {
        Some(field) => Err(Error::invalid(
            field,
            "is not a field of this PATCH in the spec",
        )),
        None => Ok(desired),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::invalid("(root)", e.to_string()))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The first key of `given` that did not survive a decode into the PATCH type.
fn unknown(given: &Value, kept: &Value, path: &str) -> Option<String> {
    let (Value::Object(given), Value::Object(kept)) = (given, kept) else {
        return None;
    };
    given.iter().find_map(|(key, value)| match kept.get(key) {
        None => Some(join(path, key)),
        Some(inner) => unknown(value, inner, &join(path, key)),
    })
}

/// Whether `now` has every field of `want` with the same value.
fn covers(now: &Value, want: &Value) -> bool {
    match (now, want) {
        (Value::Object(now), Value::Object(want)) => want
            .iter()
            .all(|(key, value)| now.get(key).is_some_and(|n| covers(n, value))),
        (now, want) => now == want,
    }
}

/// The PATCH value at `path` that turns `current` into `desired`, or `None` if they agree.
fn diff<D: Desired>(
    current: Option<&Value>,
    desired: &Value,
    path: &str,
    changes: &mut Vec<Change>,
) -> Option<Value> {
    match desired {
        Value::Object(fields) if !D::WHOLE.contains(&path) => {
            let empty = Map::new();
            let now = current.and_then(Value::as_object).unwrap_or(&empty);
            let patch: Map<String, Value> = fields
                .iter()
                .filter_map(|(key, value)| {
                    Some((
                        key.clone(),
                        diff::<D>(now.get(key), value, &join(path, key), changes)?,
                    ))
                })
                .collect();
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ => {
            let same = match (current, desired) {
                (None | Some(Value::Null), Value::Null) => true,
                (Some(Value::Array(now)), Value::Array(want)) if D::SETS.contains(&path) => {
                    let key = |items: &[Value]| {
                        let mut keys: Vec<String> = items.iter().map(Value::to_string).collect();
                        keys.sort();
                        keys
                    };
                    key(now) == key(want)
                }
                // A field sent whole (a union) agrees when every field the desired value sets
                // agrees; fields only the server knows are not a difference.
                (Some(now), want) => covers(now, want),
                (None, _) => false,
            };
            if same {
                return None;
            }
            changes.push(Change {
                path: path.to_string(),
                current: current.cloned(),
                desired: desired.clone(),
            });
            Some(desired.clone())
        }
    }
}
