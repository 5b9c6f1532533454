//! `serde` support (feature `serde`): a [`GoMap`] serializes as a map, its
//! entries in Go's iteration order (a fresh random start each time, as a Go
//! `range` or `encoding/json`'s input order would be; `encoding/json` sorts
//! keys, serde formats keep what they are given); a [`GoStr`] and a
//! [`GoStrRef`] as a string.
//!
//! Deserializing a map builds it with `make(map[K]V, hint)` from the
//! format's size hint, then assigns the entries in input order; a repeated
//! key keeps its last value (Go's `m[k] = v`), and every NaN key is a new
//! entry.
//!
//! ```
//! let m: gomap::GoMap<gomap::GoStr, u32> = [("a".into(), 1), ("b".into(), 2)].into();
//! let json = serde_json::to_string(&m).unwrap();
//! let back: gomap::GoMap<gomap::GoStr, u32> = serde_json::from_str(&json).unwrap();
//! assert_eq!(back, m);
//! ```

use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::gomap::{GoKey, GoMap};
use crate::gostr::{GoStr, GoStrRef};

impl<K: GoKey + Serialize, V: Serialize> Serialize for GoMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Builds a [`GoMap`] from a serde map.
struct GoMapVisitor<K, V>(PhantomData<fn() -> (K, V)>);

impl<'de, K: GoKey + Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for GoMapVisitor<K, V> {
    type Value = GoMap<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        // A hostile size hint must not allocate a huge bucket array before
        // any entry arrives: cap it at about 1 MiB of entries, as serde's
        // own collections do (`size_hint::cautious`).
        let entry = core::mem::size_of::<(K, V)>().max(1);
        let hint = access.size_hint().unwrap_or(0).min((1 << 20) / entry);
        let mut m = GoMap::with_capacity(hint);
        while let Some((k, v)) = access.next_entry()? {
            m.insert(k, v);
        }
        Ok(m)
    }
}

impl<'de, K: GoKey + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for GoMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(GoMapVisitor(PhantomData))
    }
}

impl Serialize for GoStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GoStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Copies any string the format gives into a [`GoStr`].
        struct StrVisitor;
        impl Visitor<'_> for StrVisitor {
            type Value = GoStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<GoStr, E> {
                Ok(GoStr::new(s))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

impl Serialize for GoStrRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for GoStrRef<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s: &'a str = Deserialize::deserialize(deserializer)?;
        Ok(GoStrRef::from(s))
    }
}
