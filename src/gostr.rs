//! `GoStr`: an owned, immutable string laid out exactly like Go's string
//! header `{ptr, len}` ([`crate::alg::GoString`]), so that `GoMap<GoStr, V>`
//! stores Go's 16-byte string slots, hashes with `strhash` and runs on the
//! `faststr` paths, as a Go `map[string]V` does.

use core::fmt;
use core::ops::Deref;
use core::ptr::NonNull;

use crate::gomap::{FastKind, GoKey};
use crate::maptype::KeySpec;

/// An owned UTF-8 string with Go's string-header layout.
///
/// The key type of Go's `map[string]V`: two words `{ptr, len}` per slot,
/// hashed with `strhash`, on the `faststr` paths.
///
/// ```
/// use gomap::{GoMap, GoStr};
/// let mut m: GoMap<GoStr, u32> = GoMap::new();
/// m.insert(GoStr::from("go"), 1);
/// m.insert("map".into(), 2);
/// assert_eq!(m[&GoStr::from("map")], 2);
/// assert_eq!(size_of::<GoStr>(), 2 * size_of::<usize>()); // Go's string header
/// ```
#[repr(C)]
pub struct GoStr {
    /// Start of the bytes: from a leaked `Box<[u8]>` (dangling when empty).
    ptr: NonNull<u8>,
    len: usize,
}

const _: () = assert!(core::mem::size_of::<GoStr>() == core::mem::size_of::<crate::alg::GoString>());
const _: () = assert!(core::mem::align_of::<GoStr>() == core::mem::align_of::<crate::alg::GoString>());

// SAFETY: GoStr owns its bytes, like a Box<str>.
unsafe impl Send for GoStr {}
// SAFETY: shared access only reads the bytes.
unsafe impl Sync for GoStr {}

impl GoStr {
    /// Copies `s`.
    ///
    /// ```
    /// let s = gomap::GoStr::new("héllo");
    /// assert_eq!(s.len(), 6); // bytes, through `Deref<Target = str>`
    /// ```
    pub fn new(s: &str) -> GoStr {
        let b: Box<[u8]> = s.as_bytes().into();
        let len = b.len();
        // SAFETY: `Box::into_raw` never returns null (dangling but non-null
        // for an empty box).
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(b).cast::<u8>()) };
        GoStr { ptr, len }
    }

    /// The string.
    ///
    /// ```
    /// let s = gomap::GoStr::from(String::from("go"));
    /// assert_eq!(s.as_str(), "go");
    /// ```
    pub fn as_str(&self) -> &str {
        // SAFETY: `ptr`/`len` are a `Box<[u8]>` this value owns (non-null,
        // valid for reads of `len` bytes, never mutated) and live as long as
        // the borrow of `self`.
        let bytes = unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) };
        // SAFETY: the box was copied from a `&str`: valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }
}

impl Drop for GoStr {
    fn drop(&mut self) {
        let raw = core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len);
        // SAFETY: `raw` is the `Box<[u8]>` leaked in `new` (same pointer and
        // length), rebuilt exactly once: `drop` runs once per value.
        drop(unsafe { Box::from_raw(raw) });
    }
}

impl Clone for GoStr {
    fn clone(&self) -> GoStr {
        GoStr::new(self.as_str())
    }
}

impl Deref for GoStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for GoStr {
    fn eq(&self, o: &GoStr) -> bool {
        self.as_str() == o.as_str()
    }
}
impl Eq for GoStr {}

impl core::hash::Hash for GoStr {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl fmt::Debug for GoStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for GoStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for GoStr {
    fn from(s: &str) -> GoStr {
        GoStr::new(s)
    }
}

impl From<String> for GoStr {
    fn from(s: String) -> GoStr {
        GoStr::new(&s)
    }
}

// SAFETY: GoStr is a Go string header; str_key hashes and compares exactly
// that, and FastStr is Go's choice for string keys.
unsafe impl GoKey for GoStr {
    const SPEC: Option<KeySpec> = Some(KeySpec::string());
    const FAST: FastKind = FastKind::FastStr;
}

/// A borrowed string with Go's string-header layout: what a Go `string`
/// value is (a header pointing at bytes someone else keeps alive), without
/// ownership. `GoMap<GoStrRef<'a>, V>` stores Go's 16-byte string slots,
/// runs on the `faststr` paths, and, unlike [`GoStr`], has nothing to drop
/// or deep-copy: `clear`, `remove` and `clone` touch only the map's own
/// memory, as Go's do. The map cannot outlive the bytes (`'a`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct GoStrRef<'a> {
    ptr: NonNull<u8>,
    len: usize,
    _bytes: core::marker::PhantomData<&'a str>,
}

const _: () = assert!(core::mem::size_of::<GoStrRef<'static>>() == core::mem::size_of::<crate::alg::GoString>());
const _: () = assert!(core::mem::align_of::<GoStrRef<'static>>() == core::mem::align_of::<crate::alg::GoString>());

// SAFETY: a shared borrow of a str.
unsafe impl Send for GoStrRef<'_> {}
// SAFETY: a shared borrow of a str.
unsafe impl Sync for GoStrRef<'_> {}

impl<'a> GoStrRef<'a> {
    /// Borrows `s`.
    ///
    /// ```
    /// use gomap::{GoMap, GoStrRef};
    /// let text = String::from("a b a");
    /// let mut counts: GoMap<GoStrRef<'_>, u32> = GoMap::new();
    /// for w in text.split(' ') {
    ///     let n = counts.get(&GoStrRef::new(w)).copied().unwrap_or(0);
    ///     counts.insert(GoStrRef::new(w), n + 1);
    /// }
    /// assert_eq!(counts[&GoStrRef::new("a")], 2);
    /// ```
    pub const fn new(s: &'a str) -> GoStrRef<'a> {
        // SAFETY: a str's pointer is never null (dangling but non-null when
        // empty).
        let ptr = unsafe { NonNull::new_unchecked(s.as_ptr().cast_mut()) };
        GoStrRef { ptr, len: s.len(), _bytes: core::marker::PhantomData }
    }

    /// The string, borrowed for `'a` (not only for the borrow of `self`).
    ///
    /// ```
    /// let r = gomap::GoStrRef::from("go");
    /// let s: &'static str = r.as_str();
    /// assert_eq!(s, "go");
    /// ```
    pub fn as_str(&self) -> &'a str {
        // SAFETY: `ptr`/`len` are those of a `&'a str`: valid for reads of
        // `len` bytes, not mutated, for `'a`.
        let bytes: &'a [u8] = unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) };
        // SAFETY: the bytes of a `str`: valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }
}

impl<'a> From<&'a str> for GoStrRef<'a> {
    fn from(s: &'a str) -> GoStrRef<'a> {
        GoStrRef::new(s)
    }
}

impl<'a> Deref for GoStrRef<'a> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for GoStrRef<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.as_str() == o.as_str()
    }
}
impl Eq for GoStrRef<'_> {}

impl core::hash::Hash for GoStrRef<'_> {
    fn hash<H: core::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl fmt::Debug for GoStrRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

// SAFETY: GoStrRef is a Go string header, like GoStr; see GoStr's impl.
unsafe impl GoKey for GoStrRef<'_> {
    const SPEC: Option<KeySpec> = Some(KeySpec::string());
    const FAST: FastKind = FastKind::FastStr;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GoMap;

    #[test]
    fn gostr_maps_use_go_string_slots() {
        let mut m: GoMap<GoStr, u64> = GoMap::new();
        assert_eq!(m.map_type().keysize(), 2 * size_of::<usize>());
        for i in 0..(if cfg!(miri) { 30 } else { 300 }) {
            m.insert(GoStr::new(&format!("k{i}")), i);
        }
        m.insert("k7".into(), 700);
        assert_eq!(m.get("k7"), Some(&700));
        assert_eq!(m.remove("k8"), Some(8));
        assert!(m.get("k8").is_none());
        let c = m.clone();
        assert_eq!(c.len(), m.len());
        assert_eq!(GoStr::new("").as_str(), "");
    }

    #[test]
    fn gostrref_maps_borrow_their_keys() {
        let words: Vec<String> = (0..(if cfg!(miri) { 30 } else { 300 })).map(|i| format!("w{i}")).collect();
        let mut m: GoMap<GoStrRef<'_>, usize> = GoMap::new();
        assert_eq!(m.map_type().keysize(), 2 * size_of::<usize>());
        for (i, w) in words.iter().enumerate() {
            assert_eq!(m.insert(GoStrRef::new(w), i), None);
        }
        // An equal key at another address finds the entry.
        let probe = String::from("w7");
        assert_eq!(m.get(&GoStrRef::new(&probe)), Some(&7));
        assert_eq!(m.remove("w8"), Some(8));
        assert_eq!(m.remove("w8"), None);
        let c = m.clone();
        assert_eq!(c.len(), words.len() - 1);
        assert_eq!(c.get("w9"), Some(&9));
        assert_eq!(GoStrRef::new("").as_str(), "");
    }
}
