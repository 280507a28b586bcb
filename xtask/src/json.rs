//! A JSON tree that keeps the order of object members, and RFC 7386 merge patch over it.
//!
//! Why not `serde_json::Value`: without serde_json's `preserve_order` feature its objects are
//! `BTreeMap`s, so every object of upstream's document would come out sorted by key. With the
//! feature, Cargo's feature unification would also switch it on for the library whenever the
//! workspace is built in one invocation (plain `cargo test` at the root builds both members):
//! the library's `serde_json::Map` would then keep insertion order in one build and sort in
//! another (`cargo test -p cloudflare-dns-settings`), and serde_json with everything above it
//! would be rebuilt at each switch. This tree keeps objects as ordered lists of members, so the
//! output keeps upstream's order and the library's build is left alone.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose objects keep their members in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Object),
}

/// A JSON object: members in document order, each key at most once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    members: Vec<(String, Json)>,
}

impl Object {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        self.members
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Replaces the value of an existing key where it stands, or appends a new member.
    pub fn insert(&mut self, key: impl Into<String>, value: Json) {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.members.push((key, value)),
        }
    }

    /// Removes a member; the others keep their order.
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        let index = self.members.iter().position(|(k, _)| k == key)?;
        Some(self.members.remove(index).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Builds an object from members read from a document. A repeated key keeps the position of
    /// its first occurrence and the value of its last, as `JSON.parse` and serde_json do.
    fn from_members(members: Vec<(String, Json)>) -> Self {
        if !has_repeated_key(&members) {
            return Self { members };
        }
        let mut object = Self::new();
        for (key, value) in members {
            object.insert(key, value);
        }
        object
    }
}

fn has_repeated_key(members: &[(String, Json)]) -> bool {
    if members.len() <= 8 {
        return members
            .iter()
            .enumerate()
            .any(|(i, (k, _))| members[..i].iter().any(|(earlier, _)| earlier == k));
    }
    let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|pair| pair[0] == pair[1])
}

impl FromIterator<(String, Json)> for Object {
    fn from_iter<I: IntoIterator<Item = (String, Json)>>(iter: I) -> Self {
        let mut object = Self::new();
        for (key, value) in iter {
            object.insert(key, value);
        }
        object
    }
}

impl Json {
    /// Parses a JSON document (serde_json's parser, so its error messages give line and column).
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Pretty-printed with a 2-space indent, and a trailing newline.
    pub fn to_pretty(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The value at an RFC 6901 JSON Pointer (`""` is the whole document).
    pub fn pointer(&self, pointer: &str) -> Option<&Json> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |node, segment| match node {
            Json::Object(object) => object.get(&unescape(segment)),
            Json::Array(items) => {
                let index: usize = segment.parse().ok()?;
                // RFC 6901: no leading zeros, no sign.
                if index.to_string() != segment {
                    return None;
                }
                items.get(index)
            }
            _ => None,
        })
    }
}

/// Whether two values are the same JSON, whatever the order of object members (which carries no
/// meaning in JSON). Numbers compare as serde_json does: `1` and `1.0` differ.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| same(x, y)))
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => a == b,
    }
}

/// Escapes a key for use as one JSON Pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape`].
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Applies an RFC 7386 JSON Merge Patch: an object patches member by member (`null` deletes a
/// member, a new member is appended after the existing ones), anything else replaces the target.
pub fn merge_patch(target: &mut Json, patch: &Json) {
    let Json::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !matches!(target, Json::Object(_)) {
        *target = Json::Object(Object::new());
    }
    if let Json::Object(target) = target {
        for (key, value) in patch.iter() {
            if value.is_null() {
                target.remove(key);
            } else if let Some(existing) = target.get_mut(key) {
                merge_patch(existing, value);
            } else {
                let mut fresh = Json::Null;
                merge_patch(&mut fresh, value);
                target.insert(key, fresh);
            }
        }
    }
}

/// The places (JSON Pointers) where `patch` would replace an existing array of `target` whole:
/// a merge patch cannot change one item of an array, so it carries the whole array, and any
/// later change upstream makes to that array is hidden by the patch.
pub fn replaced_arrays(target: &Json, patch: &Json) -> Vec<String> {
    fn walk(target: &Json, patch: &Json, at: &mut String, out: &mut Vec<String>) {
        let (Json::Object(target), Json::Object(patch)) = (target, patch) else {
            return;
        };
        for (key, value) in patch.iter() {
            let Some(existing) = target.get(key) else {
                continue;
            };
            let len = at.len();
            at.push('/');
            at.push_str(&escape(key));
            match (existing, value) {
                (Json::Array(_), Json::Array(_)) => out.push(at.clone()),
                _ => walk(existing, value, at, out),
            }
            at.truncate(len);
        }
    }
    let mut out = Vec::new();
    walk(target, patch, &mut String::new(), &mut out);
    out
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(object) => {
                let mut map = serializer.serialize_map(Some(object.len()))?;
                for (key, value) in object.iter() {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(member) = map.next_entry::<String, Json>()? {
            members.push(member);
        }
        Ok(Json::Object(Object::from_members(members)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        Json::parse(text).unwrap()
    }

    #[test]
    fn keeps_member_order_through_parse_and_print() {
        let text = "{\n  \"zeta\": 1,\n  \"alpha\": {\n    \"m\": [\n      true,\n      null\n    ],\n    \"b\": 1.5\n  },\n  \"empty\": {},\n  \"list\": []\n}\n";
        assert_eq!(json(text).to_pretty().unwrap(), text);
    }

    #[test]
    fn repeated_key_keeps_first_position_and_last_value() {
        let parsed = json(r#"{"a": 1, "b": 2, "a": 3}"#);
        assert_eq!(parsed, json(r#"{"a": 3, "b": 2}"#));
        let many: String = (0..20).map(|i| format!("\"k{i}\": {i}, ")).collect();
        let parsed = json(&format!("{{{many}\"k3\": \"last\"}}"));
        let object = parsed.as_object().unwrap();
        assert_eq!(object.len(), 20);
        assert_eq!(object.keys().nth(3), Some("k3"));
        assert_eq!(object.get("k3"), Some(&Json::String("last".into())));
    }

    #[test]
    fn pointer_follows_rfc_6901() {
        let doc = json(r#"{"paths": {"/a/{id}": {"get": [10, 20]}}, "t~x": 1}"#);
        assert_eq!(doc.pointer("/paths/~1a~1{id}/get/1"), Some(&json("20")));
        assert_eq!(doc.pointer("/t~0x"), Some(&json("1")));
        assert_eq!(doc.pointer("/paths/~1a~1{id}/get/01"), None);
        assert_eq!(doc.pointer(""), Some(&doc));
        assert_eq!(doc.pointer("paths"), None);
        assert_eq!(escape("/a/~b"), "~1a~1~0b");
        assert_eq!(unescape("~1a~1~0b"), "/a/~b");
    }

    /// The examples of RFC 7386, appendix A.
    #[test]
    fn merge_patch_matches_rfc_7386_appendix_a() {
        let cases = [
            (r#"{"a":"b"}"#, r#"{"a":"c"}"#, r#"{"a":"c"}"#),
            (r#"{"a":"b"}"#, r#"{"b":"c"}"#, r#"{"a":"b","b":"c"}"#),
            (r#"{"a":"b"}"#, r#"{"a":null}"#, r#"{}"#),
            (r#"{"a":"b","b":"c"}"#, r#"{"a":null}"#, r#"{"b":"c"}"#),
            (r#"{"a":["b"]}"#, r#"{"a":"c"}"#, r#"{"a":"c"}"#),
            (r#"{"a":"c"}"#, r#"{"a":["b"]}"#, r#"{"a":["b"]}"#),
            (
                r#"{"a":{"b":"c"}}"#,
                r#"{"a":{"b":"d","c":null}}"#,
                r#"{"a":{"b":"d"}}"#,
            ),
            (r#"{"a":[{"b":"c"}]}"#, r#"{"a":[1]}"#, r#"{"a":[1]}"#),
            (r#"["a","b"]"#, r#"["c","d"]"#, r#"["c","d"]"#),
            (r#"{"a":"b"}"#, r#"["c"]"#, r#"["c"]"#),
            (r#"{"a":"foo"}"#, "null", "null"),
            (r#"{"a":"foo"}"#, r#""bar""#, r#""bar""#),
            (r#"{"e":null}"#, r#"{"a":1}"#, r#"{"e":null,"a":1}"#),
            (r#"[1,2]"#, r#"{"a":"b","c":null}"#, r#"{"a":"b"}"#),
            (
                r#"{}"#,
                r#"{"a":{"bb":{"ccc":null}}}"#,
                r#"{"a":{"bb":{}}}"#,
            ),
        ];
        for (target, patch, expected) in cases {
            let mut doc = json(target);
            merge_patch(&mut doc, &json(patch));
            assert_eq!(doc, json(expected), "{target} patched with {patch}");
        }
    }

    #[test]
    fn merge_patch_appends_new_members_and_keeps_the_rest_in_place() {
        let mut doc = json(r#"{"description": "d", "type": "object", "properties": {}}"#);
        merge_patch(
            &mut doc,
            &json(r#"{"type": null, "properties": null, "oneOf": [], "description": "e"}"#),
        );
        let keys: Vec<&str> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["description", "oneOf"]);
        assert_eq!(doc.pointer("/description"), Some(&json(r#""e""#)));
    }

    #[test]
    fn same_ignores_member_order_only() {
        assert!(same(
            &json(r#"{"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}}"#),
            &json(r#"{"b": {"c": [1, {"e": 3, "d": 2}]}, "a": 1}"#)
        ));
        assert!(!same(&json("[1, 2]"), &json("[2, 1]")));
        assert!(!same(&json(r#"{"a": 1}"#), &json(r#"{"a": 1, "b": 2}"#)));
        assert!(!same(&json(r#"{"a": 1, "b": 2}"#), &json(r#"{"a": 1}"#)));
        assert!(!same(&json(r#"{"a": 1}"#), &json(r#"{"a": 1.0}"#)));
        assert!(!same(&json(r#"{"a": null}"#), &json(r#"{}"#)));
    }

    #[test]
    fn replaced_arrays_lists_existing_arrays_the_patch_overwrites() {
        let target = json(r#"{"a": {"allOf": [1], "x": [2]}, "b": [3], "c": 1}"#);
        let patch = json(r#"{"a": {"allOf": [4], "y": [5]}, "b": null, "c": [6]}"#);
        assert_eq!(replaced_arrays(&target, &patch), ["/a/allOf"]);
    }
}
