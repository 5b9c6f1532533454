//! Owned iteration and capacity for [`GoMap`]: `into_iter`, `drain`,
//! `extract_if`, `reserve`.
//!
//! Go has no moves, so it has none of these; they are built from Go's own
//! pieces. An iteration is Go's (`mapiterinit` / `mapiternext`, a random
//! start every time), and an entry leaves the map in one of two ways:
//!
//! * **bitwise**: the key and elem are read out of their slots as they are
//!   produced and the map is later freed or cleared with a *bare*
//!   descriptor: the map's own with no drop hooks. What `mapfree` and
//!   `mapclear` release splits cleanly: the drop hooks run only in
//!   `HMap::drop_key_value` / `release_elem` (and `free_now` for a deferred
//!   key drop), while every block (bucket arrays, overflow buckets,
//!   out-of-line key and elem storage, retired blocks, the `hmap`) is freed
//!   by the layout, which the bare descriptor shares. So the moved-out
//!   entries are not dropped again, and nothing leaks.
//! * **by delete**: the key is copied out bitwise and deleted through
//!   `mapdelete_into` with the bare descriptor, which moves the elem out and
//!   drops nothing (Go allows deletes during a range).
//!
//! Bitwise reading needs the iterator never to read a slot it has produced
//! again. Without writes that holds except in one case: while the map
//! grows to double size, `mapiternext` reads an old bucket that is not
//! evacuated twice, once for each of the two new buckets it splits into,
//! and hashes every key in it the second time too, including keys already
//! moved out (a `String` the caller may have freed). So maps whose keys own
//! anything (`needs_drop::<K>()`) and that are growing take entries by
//! delete: the delete evacuates the old bucket first, after which the
//! iterator reads the new buckets, where the deleted keys are gone.
//! `extract_if` always deletes (the map keeps the other entries). An entry
//! whose key is not equal to itself (a NaN) cannot be deleted, in Go as
//! here: `extract_if` leaves it in the map; taking entries by delete skips
//! and leaks it (only a key type that owns memory *and* has such values can
//! meet this; `f32`/`f64` keys own nothing and are always read bitwise).
//!
//! Either way the order is Go's: bitwise, that of `iter()` (the same
//! random start gives the same sequence); by delete, that of Go's `for k :=
//! range m { delete(m, k) }`, in which the deletes' evacuations move
//! entries the loop has not reached, so it may differ from `iter()`'s.
//!
//! A leaked [`Drain`] must leave the map safe to use: [`GoMap::drain`]
//! moves the map's `hmap` into the `Drain` and gives the `GoMap` a fresh
//! empty one (as hashbrown's `drain` swaps its table out); the `Drain`'s
//! drop clears the real one and puts it back. Leaked, the `Drain` leaks
//! the entries it did not produce, and the map is empty. A leaked
//! [`ExtractIf`] leaves a consistent map (every produced entry was
//! deleted) and a registered iterator nobody ends, which `GoMap`'s drop
//! declares dead.

use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use crate::fatal::MapError;
use crate::gomap::{GoKey, GoMap, type_info};
use crate::map::{self, HIter, HMap};
use crate::maptype::MapType;
use crate::scopeguard::guard;

/// Panics with the map's out-of-memory message (as `GoMap`'s other
/// operations do).
fn oom<T>(r: Result<T, MapError>) -> T {
    r.unwrap_or_else(|e| panic!("gomap: {e}"))
}

/// The bare descriptor: the map's, without drop (or clone) hooks.
enum Bare {
    /// `GoMap::STATIC_T_BARE`.
    Static(&'static MapType),
    /// Built for a key without `SPEC`.
    Owned(MapType),
}

impl Bare {
    fn of<K: GoKey, V>(t: &MapType) -> Bare {
        match GoMap::<K, V>::STATIC_T_BARE {
            Some(b) => Bare::Static(b),
            None => Bare::Owned(t.duplicate().with_hooks(None, None, None, None)),
        }
    }

    fn get(&self) -> &MapType {
        match self {
            Bare::Static(t) => t,
            Bare::Owned(t) => t,
        }
    }
}

/// Copies the entry the iterator stands on out of the map and deletes it
/// through the bare descriptor: the elem moves out, nothing is dropped.
/// `None` if the delete cannot find the key: a key not equal to itself (a
/// NaN), which Go's `delete` cannot remove either; the entry stays.
///
/// # Safety
/// 1. `h` is a live map of type `t` (the `GoMap` invariant), whose keys
///    are `K`s and elems `V`s, accessed by no one else during the call;
/// 2. `bare` is `t` without drop hooks;
/// 3. `it` is a registered iterator of `h` standing on an entry
///    (`it.key` not null).
unsafe fn take_by_delete<K, V>(bare: &MapType, h: NonNull<HMap>, it: &HIter) -> Option<(K, V)> {
    let mut k = MaybeUninit::<K>::uninit();
    // SAFETY: [`ptr::copy_nonoverlapping`]: `it.key` is the entry's live,
    // aligned `K` (point 3), readable; `k` is a local with room for one.
    unsafe { ptr::copy_nonoverlapping(it.key.cast::<K>().cast_const(), k.as_mut_ptr(), 1) };
    let mut v = MaybeUninit::<V>::uninit();
    // SAFETY: mapdelete_into's points: 1. a live map of type `bare` (point
    // 1; `bare` shares `t`'s layout and hasher, point 2), no one else
    // accessing it; 2. `k` holds the entry's key bytes, outside the map;
    // `v` is valid for writes of one elem, not overlapping the map.
    let found = oom(unsafe { map::mapdelete_into(bare, h.as_ptr(), k.as_ptr().cast(), v.as_mut_ptr().cast()) });
    if !found {
        // `k` holds a copy of a key the map still owns: not dropped.
        return None;
    }
    // SAFETY: the delete found the entry (checked), and with no key drop
    // hook it left the key bytes copied into `k` to us: initialised, owned.
    let k = unsafe { k.assume_init() };
    // SAFETY: the delete moved the found entry's elem into `v`.
    Some((k, unsafe { v.assume_init() }))
}

/// An iteration that takes the entries out of a map it has to itself, in
/// Go's order ([`IntoIter`], [`Drain`]).
struct Take<K, V> {
    it: HIter,
    /// The map's descriptor; alive while `it` is registered (the owner
    /// frees it after [`Take::end`]).
    t: NonNull<MapType>,
    /// The map: a live map of type `*t` that this iteration has to itself.
    h: NonNull<HMap>,
    /// `*t` without drop hooks.
    bare: Bare,
    /// Entries not yet produced.
    left: usize,
    /// Take entries by delete (see the module docs), else bitwise.
    by_delete: bool,
    /// Set while `mapiternext` runs (which may call the hasher): if it
    /// unwinds, the rest is leaked instead of stepped again during the
    /// unwind.
    poisoned: bool,
    _marker: PhantomData<(K, V)>,
}

impl<K: GoKey, V> Take<K, V> {
    /// Starts the iteration.
    ///
    /// # Safety
    /// 1. `h` is a live map of type `*t` holding `K`s and `V`s, which the
    ///    `Take` has to itself until [`Take::end`];
    /// 2. `*t` is valid and stays so until [`Take::end`].
    unsafe fn new(t: NonNull<MapType>, h: NonNull<HMap>) -> Self {
        // SAFETY: `t` is valid (point 2).
        let tr = unsafe { t.as_ref() };
        // SAFETY: `h` is a live map (point 1), not written meanwhile.
        let hr = unsafe { h.as_ref() };
        let (left, by_delete) = (hr.len(), core::mem::needs_drop::<K>() && hr.growing());
        let mut it = HIter::new();
        // SAFETY: mapiterinit's points: 1. `h` is a live map of type `t`,
        // ours alone (point 1); 2. `it` is fresh; 3. the map and `t` stay
        // alive until `end` (points 1, 2), which the owners call before
        // freeing either, and `Take`'s drop ends it too.
        unsafe { map::mapiterinit(tr, h.as_ptr(), &mut it) };
        Take { it, t, h, bare: Bare::of::<K, V>(tr), left, by_delete, poisoned: false, _marker: PhantomData }
    }

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            if self.it.key.is_null() {
                return None;
            }
            if let Some(kv) = self.step() {
                return Some(kv);
            }
        }
    }

    /// Takes the entry the iterator stands on (`None`: a NaN key the delete
    /// cannot find, left in the map) and advances.
    fn step(&mut self) -> Option<(K, V)> {
        let kv = if self.by_delete {
            // SAFETY: 1. `h` is a live map of type `t` holding `K`s and
            // `V`s, ours alone (`new`'s point 1); 2. `bare` is `t` without
            // hooks; 3. `it` is registered on `h` and stands on an entry.
            unsafe { take_by_delete::<K, V>(self.bare.get(), self.h, &self.it) }
        } else {
            // SAFETY: a non-null `it.key` is the entry's live, aligned `K`;
            // read once: the iteration does not produce it again (no writes,
            // and no doubling growth for keys that own anything), and the
            // map is later freed or cleared without drop hooks.
            let k = unsafe { self.it.key.cast::<K>().read() };
            // SAFETY: as for the key, `it.elem` is the entry's `V`, read once.
            let v = unsafe { self.it.elem.cast::<V>().read() };
            Some((k, v))
        };
        self.left = self.left.saturating_sub(1);
        self.poisoned = true;
        // The static descriptor by name where there is one, as in `GoMap::t`.
        let t = match GoMap::<K, V>::STATIC_T {
            Some(t) => t,
            // SAFETY: `t` is valid while the iteration runs (`new`'s point 2).
            None => unsafe { self.t.as_ref() },
        };
        // SAFETY: as `mapiternext`: `it` was started by `mapiterinit` and its
        // map and type are alive (`new`'s points); `t` is its map's type.
        unsafe { map::mapiternext_inline(t, &mut self.it) };
        self.poisoned = false;
        kv
    }

    /// Drops the entries not produced yet (unless a step unwound).
    fn drop_rest(&mut self) {
        if !self.poisoned {
            while let Some(kv) = self.next() {
                drop(kv);
            }
        }
    }

    /// Ends the iteration (idempotent).
    fn end(&mut self) {
        // SAFETY: if registered, the iterator's map and type are alive: the
        // owners call this before freeing either (`new`'s points).
        unsafe { map::mapiterend(&mut self.it) }
    }
}

impl<K, V> Drop for Take<K, V> {
    fn drop(&mut self) {
        // Normally ended already by the owner; this covers a `Take` whose
        // owner was never built (a failure right after `new`).
        // SAFETY: as in `Take::end`.
        unsafe { map::mapiterend(&mut self.it) }
    }
}

impl<K: GoKey, V> GoMap<K, V> {
    /// [`Self::STATIC_T`] without drop hooks: what owned iteration frees,
    /// clears and deletes with.
    pub(crate) const STATIC_T_BARE: Option<&'static MapType> = match K::SPEC {
        Some(spec) => Some(&MapType::from_spec(spec, type_info::<V>(), None, None, None, None)),
        None => None,
    };

    /// The keys, in Go's order, consuming the map.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, &str> = [(1, "a"), (2, "b")].into();
    /// let mut keys: Vec<u64> = m.into_keys().collect();
    /// keys.sort();
    /// assert_eq!(keys, [1, 2]);
    /// ```
    pub fn into_keys(self) -> IntoKeys<K, V> {
        IntoKeys { inner: self.into_iter() }
    }

    /// The values, in Go's order, consuming the map.
    ///
    /// ```
    /// let m: gomap::GoMap<u64, String> = [(1, "a".to_string()), (2, "b".to_string())].into();
    /// let mut values: Vec<String> = m.into_values().collect();
    /// values.sort();
    /// assert_eq!(values, ["a", "b"]);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V> {
        IntoValues { inner: self.into_iter() }
    }

    /// Takes every entry out, in Go's order; the map is empty afterwards
    /// and keeps its bucket array (as `clear` does). Entries the `Drain`
    /// does not produce are dropped with it. If the `Drain` is leaked
    /// (`mem::forget`), the map is left empty and the entries it did not
    /// produce are leaked.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, String> = (0..100).map(|i| (i, i.to_string())).collect();
    /// let cap = m.capacity();
    /// let mut got: Vec<(u64, String)> = m.drain().collect();
    /// got.sort();
    /// assert_eq!(got.len(), 100);
    /// assert_eq!(got[7], (7, "7".to_string()));
    /// assert!(m.is_empty());
    /// assert_eq!(m.capacity(), cap);
    /// ```
    pub fn drain(&mut self) -> Drain<'_, K, V> {
        // A map without an hmap yet gets one: the `Drain` takes a live map.
        let h = oom(self.live());
        // SAFETY: `h` is a live map (the invariant), not written meanwhile.
        let a = unsafe { h.as_ref() }.alloc;
        // The iteration starts before the placeholder is made so that its
        // random start is the first draw, as for `iter()`.
        // SAFETY: 1. `h` is a live map of type `t` holding `K`s and `V`s,
        // which the `Drain` has to itself: `&mut self` for its lifetime, and
        // the `GoMap` holds the placeholder meanwhile; 2. `t` is the map's
        // descriptor, alive while the map is borrowed.
        let take = unsafe { Take::<K, V>::new(self.t, h) };
        // If this fails, `take` ends its iteration as it drops.
        let placeholder = oom(map::makemap_small_in(&a));
        self.h = placeholder;
        Drain { take: ManuallyDrop::new(take), m: self }
    }

    /// Removes and yields the entries for which `pred` returns true (std's
    /// `extract_if`), visiting every entry once in Go's order; the others
    /// stay. Dropping the iterator early keeps the entries it has not
    /// visited. `pred` may change the value. An entry whose key is not
    /// equal to itself (a NaN) cannot be removed (Go's `delete` cannot
    /// either): it stays in the map even if `pred` picks it.
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..10).map(|i| (i, i * 10)).collect();
    /// let mut odd: Vec<(u64, u64)> = m.extract_if(|k, _| k % 2 == 1).collect();
    /// odd.sort();
    /// assert_eq!(odd, [(1, 10), (3, 30), (5, 50), (7, 70), (9, 90)]);
    /// assert_eq!(m.len(), 5);
    /// ```
    pub fn extract_if<F: FnMut(&K, &mut V) -> bool>(&mut self, pred: F) -> ExtractIf<'_, K, V, F> {
        let bare = Bare::of::<K, V>(self.t());
        let mut it = HIter::new();
        // SAFETY: 1. `h` is a live map of type `t` (the invariant); 2. `it`
        // is fresh; 3. the iteration ends in `ExtractIf`'s drop, which the
        // borrow of `self` (holding the map and `t`) outlives.
        unsafe { map::mapiterinit(self.t(), self.hp(), &mut it) };
        ExtractIf { it, m: self, bare, pred }
    }

    /// Makes room for `additional` more entries: afterwards `len() +
    /// additional` entries fit without the bucket array doubling (Go's
    /// `make` hint, applied to a map that exists). An empty map gets the
    /// bucket array `with_capacity(additional)` would have; a non-empty
    /// one that needs more buckets is rebuilt at once into the larger array
    /// (entries move bitwise, every key is hashed once; a growth in progress
    /// is completed), as [`crate::shrink`] rebuilds into a smaller one. A
    /// same-size growth (too many overflow buckets after many deletes) can
    /// still happen later, as in Go.
    ///
    /// # Panics
    /// If the memory cannot be allocated or the size overflows (see
    /// [`Self::try_reserve`]).
    ///
    /// ```
    /// let mut m: gomap::GoMap<u64, u64> = (0..10).map(|i| (i, i)).collect();
    /// m.reserve(1000);
    /// assert!(m.capacity() >= 1010);
    /// assert_eq!(m[&3], 3);
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        oom(self.try_reserve(additional));
    }

    /// [`Self::reserve`] reporting failure instead of panicking, the map
    /// unchanged: [`MapError::AllocFailed`] if the bucket array cannot be
    /// allocated, or if `len() + additional` entries could not be held by
    /// any array (the size overflows); [`MapError::Busy`] if a leaked
    /// (`mem::forget`) iterator of the map is still registered, as for
    /// [`crate::shrink::mapshrink`].
    ///
    /// ```
    /// let mut m = gomap::GoMap::<u64, u64>::new();
    /// assert!(m.try_reserve(100).is_ok());
    /// assert!(m.capacity() >= 100);
    /// assert_eq!(m.try_reserve(usize::MAX), Err(gomap::fatal::MapError::AllocFailed));
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), MapError> {
        let want = self.len().checked_add(additional).ok_or(MapError::AllocFailed)?;
        if want <= self.capacity() {
            return Ok(());
        }
        let h = self.live()?;
        grow_for(self.t(), h, want)
    }
}

/// The out-of-line part of `try_reserve`: the map needs a larger array.
#[cold]
fn grow_for(t: &MapType, h: NonNull<HMap>, want: usize) -> Result<(), MapError> {
    if want > isize::MAX as usize {
        return Err(MapError::AllocFailed);
    }
    let new_b = crate::shrink::bucket_bits_for_hint(want);
    // 2^new_b buckets of `t` must be addressable; the allocation checks the
    // rest.
    if new_b as u32 >= usize::BITS
        || (1usize << new_b).checked_mul(t.bucketsize()).is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(MapError::AllocFailed);
    }
    // SAFETY: `h` is a live map (the `GoMap` invariant; the caller holds
    // `&mut` to it), so the exclusive reference aliases nothing.
    let hr = unsafe { &mut *h.as_ptr() };
    // SAFETY: grow_to's points: 1. a live map of type `t` (the invariant);
    // 2. `&mut` access (the caller's `&mut self`); 3. `want` exceeds the
    // capacity of B (checked by the caller), so `new_b > B`, and it is
    // `bucket_bits_for_hint`'s.
    unsafe { crate::shrink::grow_to(t, hr, new_b) }
}

/// The owned iterator of a [`GoMap`] ([`GoMap::into_iter`]): yields `(K,
/// V)` in Go's order.
pub struct IntoIter<K: GoKey, V> {
    take: ManuallyDrop<Take<K, V>>,
    /// Whether `take.t` is a box this iterator owns (the map's `owned_t`).
    owned_t: bool,
}

// SAFETY: the iterator owns the map's keys and values, as `GoMap` does.
unsafe impl<K: GoKey + Send, V: Send> Send for IntoIter<K, V> {}
// SAFETY: shared access reads nothing of the map.
unsafe impl<K: GoKey + Sync, V: Sync> Sync for IntoIter<K, V> {}

impl<K: GoKey, V> IntoIterator for GoMap<K, V> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    /// Consumes the map, yielding its entries in Go's order (a random
    /// start, as `iter` has; see the [module docs](crate::owned) for a map
    /// in the middle of a growth).
    ///
    /// ```
    /// let m: gomap::GoMap<String, u64> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
    /// let mut all: Vec<(String, u64)> = m.into_iter().collect();
    /// all.sort();
    /// assert_eq!(all, [("a".to_string(), 1), ("b".to_string(), 2)]);
    /// ```
    fn into_iter(mut self) -> IntoIter<K, V> {
        // A map without an hmap yet gets one: the iterator takes a live map.
        let h = oom(self.live());
        let m = ManuallyDrop::new(self);
        // SAFETY: 1. `m.h` is a live map of type `m.t` holding `K`s and `V`s
        // (the invariant), now the iterator's alone (`m` is never dropped or
        // used again); 2. `m.t` stays valid: static, or a box the iterator
        // now owns and frees after ending the iteration.
        let take = unsafe { Take::<K, V>::new(m.t, h) };
        IntoIter { take: ManuallyDrop::new(take), owned_t: m.owned_t }
    }
}

impl<K: GoKey, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        self.take.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.take.left, Some(self.take.left))
    }
}

impl<K: GoKey, V> ExactSizeIterator for IntoIter<K, V> {}
impl<K: GoKey, V> FusedIterator for IntoIter<K, V> {}

impl<K: GoKey, V> Drop for IntoIter<K, V> {
    fn drop(&mut self) {
        // Frees the map and its descriptor also if a drop below unwinds;
        // the entries not reached then are leaked, none dropped twice.
        let mut this = guard(self, |this| {
            let owned_t = this.owned_t;
            // SAFETY: `take` is dropped once, here (`ManuallyDrop`).
            let mut take = unsafe { ManuallyDrop::take(&mut this.take) };
            take.end();
            // SAFETY: `h` is a live map (`Take::new`'s point 1), ours alone:
            // only shared access is made here.
            let hr = unsafe { take.h.as_ref() };
            if hr.live_iters.load(Ordering::Acquire) != 0 {
                // A leaked iterator's registration (ours just ended) kept
                // retired memory, and key drops deferred for it: they run
                // now, with the map's hooks, before the hookless free.
                hr.live_iters.store(0, Ordering::Release);
                // SAFETY: `t` is the map's descriptor, still alive (freed
                // below).
                let t = unsafe { take.t.as_ref() };
                // SAFETY: free_retired's points: 1. a live map of type `t`
                // (the invariant, handed over by `into_iter`); 2. no
                // registered iterator can reach retired memory: ours ended,
                // and a leaked one is never used again; 3. no write runs (the
                // map is ours alone).
                unsafe { hr.free_retired(t) };
                // SAFETY: [`HMap::free_pins`]: 1. a live map of type `t`,
                // ours alone; 2. the leaked iterator is never used again.
                unsafe { hr.free_pins(t) };
            }
            // SAFETY: mapfree's points: 1. `h` is a live map of type `bare`
            // (`t` without hooks: same layout), whose produced entries are no
            // longer its to drop and whose others are leaked; 2. the iterator
            // had it to itself and drops it now. No iterator is registered
            // (just above), so it does not fail with `Busy`.
            let r = unsafe { map::mapfree(take.bare.get(), take.h.as_ptr()) };
            debug_assert!(r.is_ok());
            if owned_t {
                // SAFETY: the map's boxed descriptor (`owned_t`), handed over
                // by `into_iter`; the map is gone and the iteration ended, so
                // nothing refers to it (the bare copy owns its own context).
                drop(unsafe { Box::from_raw(take.t.as_ptr()) });
            }
        });
        this.take.drop_rest();
    }
}

/// The keys of a consumed map ([`GoMap::into_keys`]).
pub struct IntoKeys<K: GoKey, V> {
    inner: IntoIter<K, V>,
}

impl<K: GoKey, V> Iterator for IntoKeys<K, V> {
    type Item = K;
    fn next(&mut self) -> Option<K> {
        self.inner.next().map(|(k, _)| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K: GoKey, V> ExactSizeIterator for IntoKeys<K, V> {}
impl<K: GoKey, V> FusedIterator for IntoKeys<K, V> {}

/// The values of a consumed map ([`GoMap::into_values`]).
pub struct IntoValues<K: GoKey, V> {
    inner: IntoIter<K, V>,
}

impl<K: GoKey, V> Iterator for IntoValues<K, V> {
    type Item = V;
    fn next(&mut self) -> Option<V> {
        self.inner.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K: GoKey, V> ExactSizeIterator for IntoValues<K, V> {}
impl<K: GoKey, V> FusedIterator for IntoValues<K, V> {}

/// A draining iterator ([`GoMap::drain`]).
pub struct Drain<'a, K: GoKey, V> {
    /// The iteration over the map's real `hmap`, which the `GoMap` gets
    /// back when the `Drain` drops.
    take: ManuallyDrop<Take<K, V>>,
    /// The map, holding an empty placeholder meanwhile.
    m: &'a mut GoMap<K, V>,
}

// SAFETY: the drain owns the entries it moves, and borrows the map mutably.
unsafe impl<K: GoKey + Send, V: Send> Send for Drain<'_, K, V> {}
// SAFETY: shared access reads nothing of the map.
unsafe impl<K: GoKey + Sync, V: Sync> Sync for Drain<'_, K, V> {}

impl<K: GoKey, V> Iterator for Drain<'_, K, V> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        self.take.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.take.left, Some(self.take.left))
    }
}

impl<K: GoKey, V> ExactSizeIterator for Drain<'_, K, V> {}
impl<K: GoKey, V> FusedIterator for Drain<'_, K, V> {}

impl<K: GoKey, V> Drop for Drain<'_, K, V> {
    fn drop(&mut self) {
        // Clears the real map and puts it back also if a drop below
        // unwinds; the entries not reached then are leaked.
        let mut this = guard(self, |this| {
            // SAFETY: `take` is dropped once, here (`ManuallyDrop`).
            let mut take = unsafe { ManuallyDrop::take(&mut this.take) };
            take.end();
            // SAFETY: mapclear's point: `h` is a live map of type `bare`
            // (`t` without hooks: same layout), which the drain has to
            // itself; its produced entries are no longer its to drop, the
            // others are leaked.
            unsafe { map::mapclear(take.bare.get(), take.h.as_ptr()) };
            let placeholder = core::mem::replace(&mut this.m.h, take.h);
            // SAFETY: mapfree's points: 1. the placeholder is a live map of
            // type `t` (an empty `makemap_small`), never used by anyone: the
            // `GoMap` was borrowed by the drain; 2. nobody uses it again.
            let r = unsafe { map::mapfree(this.m.t(), placeholder.as_ptr()) };
            debug_assert!(r.is_ok());
        });
        this.take.drop_rest();
    }
}

/// Removes the entries a predicate picks ([`GoMap::extract_if`]).
pub struct ExtractIf<'a, K: GoKey, V, F> {
    it: HIter,
    m: &'a mut GoMap<K, V>,
    /// The map's descriptor without drop hooks, for the deletes.
    bare: Bare,
    pred: F,
}

impl<K: GoKey, V, F: FnMut(&K, &mut V) -> bool> Iterator for ExtractIf<'_, K, V, F> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        while !self.it.key.is_null() {
            let pick = {
                // SAFETY: a non-null `it.key` is an aligned `K` of the map (a
                // live entry's key, or a byte copy of it in an old bucket),
                // only read, and no write runs while `pred` holds it.
                let k = unsafe { &*self.it.key.cast::<K>() };
                // SAFETY: `it.elem` is that entry's live, aligned `V`; no
                // other reference to it exists while `pred` runs.
                let v = unsafe { &mut *self.it.elem.cast::<V>() };
                (self.pred)(k, v)
            };
            let kv = if pick {
                // SAFETY: 1. the map is a live map of type `t` holding `K`s
                // and `V`s (the invariant), ours through `&mut`; 2. `bare` is
                // `t` without hooks; 3. `it` is registered on it and stands
                // on an entry (non-null key).
                unsafe { take_by_delete::<K, V>(self.bare.get(), oom(self.m.live()), &self.it) }
            } else {
                None
            };
            // SAFETY: as `mapiternext`: `it` was started by `mapiterinit`,
            // and its map and type are alive (borrowed for the iterator's
            // lifetime); `self.m.t()` is the type of the iterator's map.
            unsafe { map::mapiternext_inline(self.m.t(), &mut self.it) };
            if kv.is_some() {
                return kv;
            }
        }
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.m.len()))
    }
}

impl<K: GoKey, V, F: FnMut(&K, &mut V) -> bool> FusedIterator for ExtractIf<'_, K, V, F> {}

impl<K: GoKey, V, F> Drop for ExtractIf<'_, K, V, F> {
    fn drop(&mut self) {
        // SAFETY: if registered, the iterator's map and type are alive: both
        // are borrowed for the iterator's lifetime.
        unsafe { map::mapiterend(&mut self.it) }
    }
}
