//! Two generic wrappers that the generated types use in place of what typify would make alone
//! (see `nullable_fields_keep_explicit_null` and `open_enums` in build/adjust.rs).

use std::fmt;

use serde::de::{Deserialize, DeserializeOwned, Deserializer, IntoDeserializer};
use serde::ser::{Serialize, Serializer};

/// A field that may be sent, or received, as an explicit JSON `null`.
///
/// In a PATCH body a nullable field has three states: `None` (the key is omitted: leave it
/// unchanged), `Some(Nullable::Null)` (send `null`: e.g. let Cloudflare assign the SOA `mname`)
/// and `Some(Nullable::Value(v))` (send `v`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Nullable<T> {
    /// JSON `null`.
    Null,
    /// A value.
    Value(T),
}

impl<T> Nullable<T> {
    /// The value, or `None` for `Null`.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Nullable::Null => None,
            Nullable::Value(v) => Some(v),
        }
    }

    /// For an optional nullable field: a present `null` is `Some(Null)`, not `None` (used by
    /// the generated code; see `explicit_null_survives_deserialization` in build/generate.rs).
    #[doc(hidden)]
    pub fn deserialize_present<'de, D>(deserializer: D) -> Result<Option<Self>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Nullable::deserialize(deserializer).map(Some)
    }

    /// Converts into an `Option`, `Null` becoming `None`.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Null => None,
            Nullable::Value(v) => Some(v),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

impl From<&str> for Nullable<String> {
    fn from(value: &str) -> Self {
        Nullable::Value(value.to_string())
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Null => serializer.serialize_none(),
            Nullable::Value(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Nullable::Null, Nullable::Value))
    }
}

/// A string enum that stays open: a value the spec lists is `Known`, any other value Cloudflare
/// sends is kept as `Other` (never an error) and serialized back unchanged.
///
/// In a request, `Other("…")` is sent exactly as given: a value Cloudflare added after this
/// version of the spec (a new `zone_mode`) can be used before the crate knows it. The spec's
/// values are the typed path: `ZoneMode::DnsOnly.into()`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpenEnum<T> {
    /// A value this version of the spec lists.
    Known(T),
    /// A value this version of the spec does not list, as received.
    Other(String),
}

impl<T> OpenEnum<T> {
    /// The known value, or `None` for a value the spec does not list.
    pub fn known(&self) -> Option<&T> {
        match self {
            OpenEnum::Known(v) => Some(v),
            OpenEnum::Other(_) => None,
        }
    }
}

impl<T> From<T> for OpenEnum<T> {
    fn from(value: T) -> Self {
        OpenEnum::Known(value)
    }
}

impl<T: fmt::Display> fmt::Display for OpenEnum<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenEnum::Known(v) => v.fmt(f),
            OpenEnum::Other(s) => f.write_str(s),
        }
    }
}

impl<T: Serialize> Serialize for OpenEnum<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OpenEnum::Known(v) => v.serialize(serializer),
            OpenEnum::Other(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OpenEnum<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The string is read borrowed where the input allows: a known value allocates nothing.
        struct Value<T>(std::marker::PhantomData<T>);
        impl<T: DeserializeOwned> serde::de::Visitor<'_> for Value<T> {
            type Value = OpenEnum<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, raw: &str) -> Result<OpenEnum<T>, E> {
                let known: Result<T, serde::de::value::Error> =
                    T::deserialize(raw.into_deserializer());
                Ok(known.map_or_else(|_| OpenEnum::Other(raw.to_string()), OpenEnum::Known))
            }
        }
        deserializer.deserialize_str(Value(std::marker::PhantomData))
    }
}

/// Decodes one variant of a union from the object the union's decoder read, naming the path of
/// a field that does not fit (the generated unions call this; see build/generate.rs).
pub(crate) fn union_variant<T, E>(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<T, E>
where
    T: DeserializeOwned,
    E: serde::de::Error,
{
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|e| {
        // A field missing from the variant itself has no path inside it: the message alone.
        match e.path().to_string().as_str() {
            "." => E::custom(e.inner()),
            path => E::custom(format_args!("at `{path}`: {}", e.inner())),
        }
    })
}
