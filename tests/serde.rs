//! `serde` support: maps and strings round-trip through serde_json with Go's
//! assignment semantics, and a hostile size hint allocates nothing big.

use gomap::{GoMap, GoStr, GoStrRef};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

#[test]
fn string_map_round_trips() {
    let n: u32 = if cfg!(miri) { 40 } else { 1000 };
    let m: GoMap<GoStr, u32> = (0..n).map(|i| (GoStr::from(format!("key-{i}")), i)).collect();
    let json = serde_json::to_string(&m).unwrap();
    let back: GoMap<GoStr, u32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), n as usize);
    assert_eq!(back, m);
    // The text holds each entry once, in the order the map iterated.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), n as usize);
    for i in 0..n {
        assert_eq!(obj[&format!("key-{i}")], serde_json::json!(i));
    }
}

#[test]
fn integer_keys_and_owned_values_round_trip() {
    let m: GoMap<u64, String> = (0..100u64).map(|i| (i * 7919, format!("v{i}"))).collect();
    let json = serde_json::to_string(&m).unwrap();
    let back: GoMap<u64, String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
    let empty: GoMap<u64, String> = serde_json::from_str("{}").unwrap();
    assert!(empty.is_empty());
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
}

#[test]
fn a_repeated_key_keeps_its_last_value() {
    // Go's `m[k] = v` for each entry in input order.
    let m: GoMap<GoStr, u32> = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[&GoStr::from("a")], 3);
    assert_eq!(m[&GoStr::from("b")], 2);
}

#[test]
fn a_bad_value_is_an_error_and_leaks_nothing() {
    // Under Miri the leak checker sees any key or value left behind.
    let r: Result<GoMap<GoStr, String>, _> = serde_json::from_str(r#"{"a":"x","b":7}"#);
    assert!(r.is_err());
    let r: Result<GoMap<GoStr, u32>, _> = serde_json::from_str(r#"[1, 2]"#);
    assert!(r.is_err());
}

#[test]
fn strings_serialize_as_strings() {
    let s = GoStr::from("héllo");
    assert_eq!(serde_json::to_string(&s).unwrap(), r#""héllo""#);
    let back: GoStr = serde_json::from_str(r#""h\u00e9llo""#).unwrap();
    assert_eq!(back, s);
    let text = String::from(r#""borrowed""#);
    let r: GoStrRef<'_> = serde_json::from_str(&text).unwrap();
    assert_eq!(r.as_str(), "borrowed");
    assert_eq!(serde_json::to_string(&r).unwrap(), text);
}

/// A map deserializer that claims `.0` entries and yields none.
struct Liar(usize);

impl<'de> MapAccess<'de> for Liar {
    type Error = de::value::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>, Self::Error> {
        Ok(None)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, Self::Error> {
        unreachable!("no key was given")
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0)
    }
}

impl<'de> Deserializer<'de> for Liar {
    type Error = de::value::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[test]
fn a_hostile_size_hint_is_capped() {
    // The hint is capped at 2^20 bytes of entries: 2^20 / 16 = 65,536
    // `(u64, u64)` entries. `make`'s rule (overLoadFactor: more than 6.5
    // per bucket) gives B = 14 for that (13 * 2^12 = 53,248 < 65,536 <=
    // 13 * 2^13), capacity 13 << 13. Uncapped, a claimed 2^26 entries
    // would allocate 2^23 buckets (1.2 GB) before any entry arrived.
    for claimed in [1usize << 26, usize::MAX] {
        let m: GoMap<u64, u64> = serde::Deserialize::deserialize(Liar(claimed)).unwrap();
        assert!(m.is_empty());
        assert_eq!(m.capacity(), 13 << 13, "claimed {claimed}");
    }
    // A small honest hint is taken as given: 10 entries need B = 1.
    let m: GoMap<u64, u64> = serde::Deserialize::deserialize(Liar(10)).unwrap();
    assert_eq!(m.capacity(), 13);
}
