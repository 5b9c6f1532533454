//! Generations, iterator pins and generation records: what an iterator
//! that is never ended keeps alive (gomap only, no Go twin; the rules are
//! in `docs/memory.md`, "Generations and pins").
//!
//! The map counts *generations* (`HMap::generation`): `hash_grow` (a new
//! bucket array) and `mapclear` (the array zeroed in place, Go's
//! `clearSeq`) each start a new one. A bucket array, or a list of heap
//! overflow buckets, is in the map during a range of generations; once it
//! leaves, only an iterator that stepped during that range can still reach
//! it (through `it.buckets`, the old array it read during a growth, or its
//! `bptr`).
//!
//! An iterator *pins* the range of generations it stepped in: `lo` is the
//! generation `mapiterinit` saw, `hi` the one its last `mapiternext` saw
//! (each call moves `hi` up to the map's generation before it reads
//! anything). Pins live in a per-map table of `(range, count)` entries,
//! four inline and the rest spilled to a block of the map's allocator,
//! under a spin lock: iterators are readers, and Go lets readers run
//! concurrently.
//!
//! What leaves the map while its range meets a pin becomes a [`Record`]:
//! the array (with its B and the seed its entries were placed with), its
//! heap overflow buckets, and the out-of-line or deferred-drop keys that
//! stale slots in them may still point to. The iterator that releases the
//! last pin meeting a record's range frees it, so a record outlives no
//! iterator that could reach it, and storage no pinned range meets is
//! freed at once, even while older iterators stay live.
//!
//! A kept key may sit in the stale slots of several records; it is kept
//! with the first one found, and when that one is freed, it moves to
//! another record that still holds it (found the same way), or is freed.

use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::alloc::{self, Allocator, Header, Kind};
use crate::map::*;
use crate::maptype::{BUCKET_CNT, MapType};

/// A closed range `lo..=hi` of generations.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinRange {
    /// First generation of the range.
    pub(crate) lo: u64,
    /// Last generation of the range (`lo <= hi`).
    pub(crate) hi: u64,
}

impl PinRange {
    /// Every generation: what an iterator pins when the table cannot take
    /// its own range (its spill block cannot grow). It keeps what every
    /// iterator kept before generations, and never fails.
    pub(crate) const ALL: PinRange = PinRange { lo: 0, hi: u64::MAX };

    /// The range of the one generation `g`.
    pub(crate) const fn at(g: u64) -> PinRange {
        PinRange { lo: g, hi: g }
    }
    /// Whether the two ranges share a generation.
    fn meets(self, o: PinRange) -> bool {
        self.lo <= o.hi && o.lo <= self.hi
    }
}

/// One entry of the pin table: `count` iterators pin `range`. A count of
/// 0 marks a free entry (a zeroed entry is free).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
struct PinEntry {
    range: PinRange,
    count: usize,
}

/// Entries kept inside the map header.
const INLINE_PINS: usize = 4;

/// Storage that left the map while an iterator could still reach it, kept
/// until no pin meets `range`. Lives in a [`Kind::Plain`] block of the
/// map's allocator.
#[repr(C)]
pub(crate) struct Record {
    /// Next record of the map.
    next: *mut Record,
    /// The generations during which the storage was in the map.
    range: PinRange,
    /// A bucket array that left the map (an array block's payload), or
    /// null (a record of overflow buckets cut off by `mapclear`).
    array: *mut u8,
    /// `array`'s B.
    b: u8,
    /// Whether `evacuate` cut chains of `array` (zeroing a first bucket's
    /// data while no iterator was on it): then stale slots may sit in
    /// overflow buckets no chain reaches, and a search scans `overflow`.
    chains_cut: bool,
    /// The seed the entries of `array` were placed with (the map's `hash0`
    /// when it became the old array).
    hash0: u32,
    /// Heap overflow buckets of `array`'s chains (or the cut-off ones),
    /// a `push_retired` list.
    overflow: *mut Header,
    /// Kept keys: out-of-line key blocks (their drop deferred, as
    /// [`Kind::Key`]) and [`Kind::Key`] copies of inline keys whose drop is
    /// deferred; a `push_retired` list.
    keys: *mut Header,
}

/// The pin table and the records (under [`Pins::lock`]).
struct PinTable {
    inline: [PinEntry; INLINE_PINS],
    /// A [`Kind::Plain`] block of `spill_cap` entries, or null.
    spill: *mut PinEntry,
    spill_cap: usize,
    /// Pins of [`PinRange::ALL`] (an allocation failure's fallback).
    all: usize,
    /// The map's records, linked through `Record::next`.
    records: *mut Record,
}

/// The pin table of a map, with its lock.
pub(crate) struct Pins {
    lock: AtomicBool,
    table: UnsafeCell<PinTable>,
}

impl Pins {
    /// An empty table.
    pub(crate) const fn new() -> Pins {
        Pins {
            lock: AtomicBool::new(false),
            table: UnsafeCell::new(PinTable {
                inline: [PinEntry { range: PinRange { lo: 0, hi: 0 }, count: 0 }; INLINE_PINS],
                spill: ptr::null_mut(),
                spill_cap: 0,
                all: 0,
                records: ptr::null_mut(),
            }),
        }
    }

    /// Takes the lock; the returned guard releases it when dropped (also
    /// when a hasher called under it unwinds).
    fn lock(&self) -> Locked<'_> {
        while self.lock.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        Locked { pins: self }
    }
}

/// The held lock of a [`Pins`].
struct Locked<'a> {
    pins: &'a Pins,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.pins.lock.store(false, Ordering::Release);
    }
}

impl Locked<'_> {
    /// The table, ours while the lock is held.
    fn table(&mut self) -> &mut PinTable {
        // SAFETY: the lock is held (this guard exists): no one else reads
        // or writes the table until it is dropped, and `&mut self` ties the
        // reference to the guard.
        unsafe { &mut *self.pins.table.get() }
    }
}

impl PinTable {
    /// Every entry, free ones included.
    fn entries(&mut self) -> impl Iterator<Item = &mut PinEntry> {
        let spill: &mut [PinEntry] = if self.spill.is_null() {
            &mut []
        } else {
            // SAFETY: [`core::slice::from_raw_parts_mut`]: `spill` is the
            // payload of a live block of `spill_cap` entries (initialised:
            // zeroed or written as entries), 8-aligned, owned by this table
            // and borrowed through `&mut self`.
            unsafe { core::slice::from_raw_parts_mut(self.spill, self.spill_cap) }
        };
        self.inline.iter_mut().chain(spill.iter_mut())
    }

    /// Whether a pin meets `r`.
    fn meets(&mut self, r: PinRange) -> bool {
        self.all != 0 || self.entries().any(|e| e.count != 0 && e.range.meets(r))
    }

    /// Adds one pin of `r`; spills to a bigger block of `a` when full.
    /// Returns the range pinned: `r`, or [`PinRange::ALL`] when the spill
    /// block cannot grow (an allocation failure costs memory kept, never
    /// an error: `mapiterinit` and `mapiternext` cannot fail in Go).
    fn add(&mut self, a: &Allocator, r: PinRange) -> PinRange {
        if r == PinRange::ALL {
            self.all += 1;
            return r;
        }
        let mut free = None;
        for e in self.entries() {
            if e.count != 0 && e.range == r {
                e.count += 1;
                return r;
            }
            if e.count == 0 && free.is_none() {
                free = Some(e as *mut PinEntry);
            }
        }
        // A match, not `free.or_else(|| self.grow(a))`: that closure would
        // borrow `self` uniquely and invalidate the pointer `free` holds
        // (Stacked Borrows; Miri's inline_step_equals_mapiternext).
        let slot = match free {
            Some(e) => e,
            None => match self.grow(a) {
                Some(e) => e,
                None => {
                    self.all += 1;
                    return PinRange::ALL;
                }
            },
        };
        // SAFETY: `slot` is a free entry of this table (inline, or in the
        // spill block), live and aligned, not otherwise borrowed now.
        unsafe { *slot = PinEntry { range: r, count: 1 } };
        r
    }

    /// Doubles the spill block; returns a free entry in it, or `None` if
    /// the allocator refuses (the table is unchanged).
    #[cold]
    fn grow(&mut self, a: &Allocator) -> Option<*mut PinEntry> {
        let cap = (self.spill_cap * 2).max(8);
        let size = cap * core::mem::size_of::<PinEntry>();
        // SAFETY: [`alloc::alloc_block`]: 1. `a` is the map's own
        // allocator, valid while the map lives.
        let p = unsafe { alloc::alloc_block(a, size, Kind::Plain) }?;
        let p = p.cast::<PinEntry>().as_ptr();
        if let Some(old) = NonNull::new(self.spill) {
            // SAFETY: [`ptr::copy_nonoverlapping`]: `old` holds `spill_cap`
            // entries, `p` room for `cap > spill_cap`, distinct blocks, both
            // 8-aligned.
            unsafe { ptr::copy_nonoverlapping(old.as_ptr(), p, self.spill_cap) };
            // SAFETY: [`alloc::free_block`]: 1. the old spill block, from
            // `a`; 2. unused from now on (its entries were copied).
            unsafe { alloc::free_block(a, old.cast()) };
        }
        let first_free = self.spill_cap;
        self.spill = p;
        self.spill_cap = cap;
        // SAFETY: `first_free < cap`: inside the new block (zeroed: free).
        Some(unsafe { p.add(first_free) })
    }

    /// Frees the spill block once no pin is left in it.
    fn shed_spill(&mut self, a: &Allocator) {
        let Some(sp) = NonNull::new(self.spill) else { return };
        // Entries move to the spill block only when the inline ones are
        // full, and never back: free it once it is empty.
        let spill_empty = self.entries().skip(INLINE_PINS).all(|e| e.count == 0);
        if spill_empty {
            self.spill = ptr::null_mut();
            self.spill_cap = 0;
            // SAFETY: [`alloc::free_block`]: 1. the spill block, from the
            // map's allocator `a`; 2. unused: taken off the table, and no
            // entry in it is in use.
            unsafe { alloc::free_block(a, sp.cast()) };
        }
    }

    /// Drops one pin of `r`; returns whether that was its last one.
    fn remove(&mut self, r: PinRange) -> bool {
        if r == PinRange::ALL && self.all != 0 {
            self.all -= 1;
            return self.all == 0;
        }
        for e in self.entries() {
            if e.count != 0 && e.range == r {
                e.count -= 1;
                return e.count == 0;
            }
        }
        crate::fatal::throw("iterator pin not found")
    }
}

/// Reads slot `i`'s tophash and whether it may be a copy of a key: filled,
/// or evacuated with its bytes left for iterators.
///
/// # Safety
/// 1. `b` is a bucket of `t` that stays allocated during the call.
unsafe fn may_hold_key(b: *mut u8, i: usize) -> bool {
    // SAFETY: [`th`]: 1. `b` is a bucket (point 1); 2. `i < 8` (caller loops).
    let top = unsafe { th(b, i) };
    !is_empty(top) && top != EVACUATED_EMPTY
}

/// Whether a slot of the chain from `b` may hold the kept key `k`: for
/// out-of-line keys, a slot pointing to `k`'s block (exact); for inline
/// keys, any slot that may hold a key (conservative: stale slots keep
/// their bytes, but an evacuated marker replaced the tophash).
///
/// # Safety
/// 1. `b` is null or a bucket of `t` whose chain stays allocated.
unsafe fn chain_holds(t: &MapType, mut b: *mut u8, k: *mut u8) -> bool {
    while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: 1. `b` is a bucket of the chain (point 1).
            if !unsafe { may_hold_key(b, i) } {
                continue;
            }
            if !t.indirect_key() {
                return true;
            }
            // SAFETY: [`key_at`]: 1. `b` is a bucket of `t`; 2. `i < 8`.
            let slot = unsafe { key_at(t, b, i) };
            // SAFETY: [`deref_slot`]: an out-of-line key slot of `t`,
            // 8-aligned pointer storage; the pointer is only compared.
            if unsafe { deref_slot(slot) } == k {
                return true;
            }
        }
        // SAFETY: [`overflow`]: 1. `b` is a bucket of `t`.
        b = unsafe { overflow(t, b) };
    }
    false
}

/// Whether record `r`'s storage may hold a stale copy of the key `k`.
///
/// # Safety
/// 1. `r` is a live record of a map of type `t`;
/// 2. `k` is a key of `t` (a live key, or a kept one whose drop is
///    deferred): for out-of-line keys its block, for inline keys the value.
unsafe fn record_holds(t: &MapType, r: &Record, k: *mut u8) -> bool {
    if let Some(arr) = NonNull::new(r.array) {
        // SAFETY: `k` is a key of `t` (point 2), both times.
        if t.reflexive_key() || unsafe { t.key_equal(k, k) } {
            // SAFETY: [`MapType::hash`]: 1. `k` is a key of `t` (point 2).
            let hash = unsafe { t.hash(k, r.hash0 as usize) };
            // SAFETY: [`bucket_at`]: 1. `arr` holds 2^B buckets of `t`, and
            // the index is masked below that.
            let b = unsafe { bucket_at(t, arr.as_ptr(), hash & bucket_mask(r.b)) };
            // SAFETY: 1. `b` is a bucket of the record's array, kept with
            // its chains (point 1).
            if unsafe { chain_holds(t, b, k) } {
                return true;
            }
        } else {
            // k != k: its hash is not reproducible; look everywhere.
            for i in 0..bucket_shift(r.b) {
                // SAFETY: [`bucket_at`]: 1. `i < 2^B`.
                let b = unsafe { bucket_at(t, arr.as_ptr(), i) };
                // SAFETY: 1. as above.
                if unsafe { chain_holds(t, b, k) } {
                    return true;
                }
            }
        }
        if !r.chains_cut {
            return false;
        }
    }
    // The heap overflow buckets, one by one (each as a chain of one: their
    // links lead to buckets of this same list).
    // SAFETY: [`alloc::first_on_list`]: 1. `r.overflow` heads a list of
    // live blocks (point 1).
    let mut p = unsafe { alloc::first_on_list(r.overflow) };
    while let Some(b) = p {
        for i in 0..BUCKET_CNT {
            // SAFETY: 1. `b` is a kept overflow bucket of `t`.
            if !unsafe { may_hold_key(b.as_ptr(), i) } {
                continue;
            }
            if !t.indirect_key() {
                return true;
            }
            // SAFETY: [`key_at`]: 1. `b` is a bucket of `t`; 2. `i < 8`.
            let slot = unsafe { key_at(t, b.as_ptr(), i) };
            // SAFETY: [`deref_slot`]: pointer storage, only compared.
            if unsafe { deref_slot(slot) } == k {
                return true;
            }
        }
        // SAFETY: [`alloc::next_on_list`]: 1. `b` is on the record's list,
        // which no one changes meanwhile.
        p = unsafe { alloc::next_on_list(b) };
    }
    false
}

/// The first record of the list from `head` that may hold `k`.
///
/// # Safety
/// 1. `head` heads a list of live records of a map of type `t`;
/// 2. as [`record_holds`]'s point 2.
unsafe fn find_in(t: &MapType, mut head: *mut Record, k: *mut u8) -> Option<NonNull<Record>> {
    while let Some(r) = NonNull::new(head) {
        // SAFETY: `r` is a live record (point 1): aligned, initialised.
        let rr = unsafe { r.as_ref() };
        // SAFETY: [`record_holds`]: 1. a live record of the map; 2. point 2.
        if unsafe { record_holds(t, rr, k) } {
            return Some(r);
        }
        head = rr.next;
    }
    None
}

/// Frees a record's storage: its array, its overflow buckets, the keys
/// left on it (drop hooks run) and the record block.
///
/// # Safety
/// 1. `r` is a live record of a map of type `t` allocated with `a`,
///    unlinked from the map;
/// 2. no iterator can reach its storage any more.
unsafe fn free_record(t: &MapType, a: &Allocator, r: NonNull<Record>) {
    // SAFETY: `r` is a live record, ours alone (point 1).
    let rec = unsafe { r.read() };
    if let Some(arr) = NonNull::new(rec.array) {
        // SAFETY: [`alloc::free_block`]: 1. a retired array block of the
        // map, from `a` (point 1); 2. unreachable (point 2).
        unsafe { alloc::free_block(a, arr) };
    }
    for mut list in [rec.overflow, rec.keys] {
        // SAFETY: [`alloc::pop_retired`]: 1. a list of live blocks.
        while let Some(p) = unsafe { alloc::pop_retired(&mut list) } {
            // SAFETY: [`crate::retire::free_now`]: 1. a live block of the map
            // of type `t`, from `a` (a `Key` block holds a key whose drop is
            // due); 2. unreachable (point 2).
            unsafe { crate::retire::free_now(t, a, p) };
        }
    }
    // SAFETY: [`alloc::free_block`]: 1. the record's own block, from `a`;
    // 2. unused from now on.
    unsafe { alloc::free_block(a, r.cast()) };
}

/// What a removed key needs (see [`HMap::key_home`]).
pub(crate) enum Home {
    /// Nothing can reach a stale copy: drop and free it now.
    Free,
    /// A stale slot of the map's old array may point to it.
    Old,
    /// Record `r` may hold a stale copy.
    Record(NonNull<Record>),
    /// `clear` could not allocate its record: the retire list keeps it.
    Fallback,
}

impl HMap {
    /// Pins `r` for an iterator (`mapiterinit`); returns the range
    /// pinned (`r`, or [`PinRange::ALL`] if the table could not grow).
    #[must_use]
    pub(crate) fn pin(&self, r: PinRange) -> PinRange {
        self.pins.lock().table().add(&self.alloc, r)
    }

    /// Moves an iterator's pin from `old` to `new`, a range containing it
    /// (`mapiternext`): no record can become free. Returns the range now
    /// pinned (`new`, or [`PinRange::ALL`] as in [`HMap::pin`]).
    #[must_use]
    pub(crate) fn repin(&self, old: PinRange, new: PinRange) -> PinRange {
        debug_assert!(new.lo <= old.lo && old.hi <= new.hi);
        if old == PinRange::ALL {
            return old;
        }
        let mut l = self.pins.lock();
        let got = l.table().add(&self.alloc, new);
        l.table().remove(old);
        got
    }

    /// Drops an iterator's pin of `r` (`mapiterend`); if it was the last
    /// of its range, frees the records no pin meets any more.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, and the iterator held a pin of
    ///    `r` and no longer uses what it reached.
    pub(crate) unsafe fn unpin(&self, t: &MapType, r: PinRange) {
        let mut l = self.pins.lock();
        if !l.table().remove(r) {
            return;
        }
        l.table().shed_spill(&self.alloc);
        // Unlink the records no pin meets; move their keys that another
        // record still holds (under the lock: another reader may be
        // unpinning too).
        let mut dead: *mut Record = ptr::null_mut();
        let mut free_keys: *mut Header = ptr::null_mut();
        {
            let tab = l.table();
            let mut link: *mut *mut Record = &raw mut tab.records;
            // SAFETY: `link` points to the list head or a live record's
            // `next` (the loop keeps it so), under the lock.
            while let Some(rp) = NonNull::new(unsafe { *link }) {
                // SAFETY: `rp` is a live record (on the list): aligned.
                let range = unsafe { (*rp.as_ptr()).range };
                if tab.meets(range) {
                    // SAFETY: `rp` is a live record; its `next` field.
                    link = unsafe { &raw mut (*rp.as_ptr()).next };
                    continue;
                }
                // SAFETY: `rp` is a live record (on the list): its `next`.
                let after = unsafe { (*rp.as_ptr()).next };
                // SAFETY: unlink: `link` points to the head or a live
                // record's `next` field, under the lock.
                unsafe { *link = after };
                // SAFETY: `rp` is unlinked, ours: push it on `dead`.
                unsafe { (*rp.as_ptr()).next = dead };
                dead = rp.as_ptr();
            }
            let mut d = dead;
            while let Some(rp) = NonNull::new(d) {
                // SAFETY: `rp` is a dead record, ours; its key list.
                let mut keys = unsafe { core::mem::replace(&mut (*rp.as_ptr()).keys, ptr::null_mut()) };
                // SAFETY: [`alloc::pop_retired`]: 1. a list of live blocks.
                while let Some(k) = unsafe { alloc::pop_retired(&mut keys) } {
                    // SAFETY: [`find_in`]: 1. `tab.records` lists the live
                    // records of this map of type `t` (point 1); 2. `k` is a
                    // kept key of `t`, its drop deferred.
                    let home = unsafe { find_in(t, tab.records, k.as_ptr()) };
                    let list = match home {
                        // SAFETY: `h` is a live record on the list.
                        Some(h) => unsafe { &mut (*h.as_ptr()).keys },
                        None => &mut free_keys,
                    };
                    // SAFETY: [`alloc::push_retired`]: 1. `k` was just
                    // popped: on no list; 2. `list` heads a list of live
                    // blocks.
                    unsafe { alloc::push_retired(list, k) };
                }
                // SAFETY: `rp` is a dead record, ours.
                d = unsafe { (*rp.as_ptr()).next };
            }
        }
        drop(l);
        // Nothing reaches these any more: free them outside the lock (drop
        // hooks may run).
        // SAFETY: [`alloc::pop_retired`]: 1. a list of live key blocks.
        while let Some(k) = unsafe { alloc::pop_retired(&mut free_keys) } {
            // SAFETY: [`crate::retire::free_now`]: 1. a kept key block of
            // this map of type `t`; 2. no record holds it and no pinned
            // range reaches the records that did.
            unsafe { crate::retire::free_now(t, &self.alloc, k) };
        }
        while let Some(rp) = NonNull::new(dead) {
            // SAFETY: `rp` is a dead record, ours.
            dead = unsafe { (*rp.as_ptr()).next };
            // SAFETY: [`free_record`]: 1. a record of this map of type `t`,
            // from its allocator, unlinked; 2. no pin meets its range.
            unsafe { free_record(t, &self.alloc, rp) };
        }
    }

    /// Whether an iterator's pin meets `r`.
    pub(crate) fn pinned(&self, r: PinRange) -> bool {
        self.live_iters.load(Ordering::Acquire) != 0 && self.pins.lock().table().meets(r)
    }

    /// Where a key leaving the map must wait, if anywhere: on the old
    /// array's list while it may hold a stale copy, with a record that may
    /// hold one, or nowhere.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, under a write (or the caller's
    ///    alone);
    /// 2. `k` is the leaving key: its out-of-line block, or the inline value.
    pub(crate) unsafe fn key_home(&self, t: &MapType, k: *mut u8) -> Home {
        let iters = self.live_iters.load(Ordering::Acquire) != 0;
        if self.growing() && (self.flags() & OLD_ITERATOR != 0 || iters) {
            return Home::Old;
        }
        if let Some(r) = NonNull::new(self.clear_rec) {
            return Home::Record(r);
        }
        if self.clear_fallback {
            return Home::Fallback;
        }
        if !iters {
            return Home::Free;
        }
        // SAFETY: [`Self::find_record`]: 1. point 1; 2. point 2.
        match unsafe { self.find_record(t, k) } {
            Some(r) => Home::Record(r),
            None => Home::Free,
        }
    }

    /// The first record that may hold a stale copy of the key `k`.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`;
    /// 2. `k` is a key of `t` (a live key, or a kept one whose drop is
    ///    deferred): for out-of-line keys its block, for inline keys the
    ///    value.
    pub(crate) unsafe fn find_record(&self, t: &MapType, k: *mut u8) -> Option<NonNull<Record>> {
        let mut l = self.pins.lock();
        // SAFETY: [`find_in`]: 1. the map's records (point 1), under the
        // lock; 2. point 2.
        unsafe { find_in(t, l.table().records, k) }
    }

    /// Adds the kept key block `k` to record `r`.
    ///
    /// # Safety
    /// 1. `r` is a live record of this map; 2. `k` is a live block on no
    ///    list; 3. under a write.
    pub(crate) unsafe fn keep_in_record(&self, r: NonNull<Record>, k: NonNull<u8>) {
        let _l = self.pins.lock();
        // SAFETY: `r` is a live record (point 1), its fields changed only
        // under the lock, which is held: the reference is unique.
        let keys = unsafe { &mut (*r.as_ptr()).keys };
        // SAFETY: [`alloc::push_retired`]: 1. `k` on no list (point 2); 2.
        // the record's key list, under the lock.
        unsafe { alloc::push_retired(keys, k) };
    }

    /// Allocates a record for storage leaving the map with `range`; `None`
    /// if the allocator fails (the caller then keeps the storage on the
    /// retire list, freed when the last iterator ends).
    pub(crate) fn new_record(&self, range: PinRange, array: *mut u8, b: u8, hash0: u32) -> Option<NonNull<Record>> {
        // SAFETY: [`alloc::alloc_block`]: 1. the map's own allocator.
        let p = unsafe { alloc::alloc_block(&self.alloc, core::mem::size_of::<Record>(), Kind::Plain) }?;
        let r = p.cast::<Record>();
        let rec = Record {
            next: ptr::null_mut(),
            range,
            array,
            b,
            chains_cut: self.chains_cut,
            hash0,
            overflow: ptr::null_mut(),
            keys: ptr::null_mut(),
        };
        // SAFETY: a fresh block of `size_of::<Record>()` bytes, 8-aligned.
        unsafe { r.write(rec) };
        Some(r)
    }

    /// Links a record with its overflow list into the map.
    ///
    /// # Safety
    /// 1. `r` is a fresh record of this map ([`Self::new_record`]), on no
    ///    list; 2. `overflow` is null or a list of live heap overflow
    ///    buckets of the record's storage, out of the map; 3. under a write.
    pub(crate) unsafe fn link_record(&self, r: NonNull<Record>, overflow: *mut Header) {
        let mut l = self.pins.lock();
        let tab = l.table();
        // SAFETY: `r` is a live record, ours until linked (point 1).
        unsafe { (*r.as_ptr()).overflow = overflow };
        // SAFETY: as above.
        unsafe { (*r.as_ptr()).next = tab.records };
        tab.records = r.as_ptr();
    }

    /// `mapclear`, before the entries are released: if an iterator may be
    /// walking the current array's heap overflow buckets (which the clear
    /// cuts off), allocates the record that keeps them, so that the keys of
    /// the cleared entries go to it ([`Self::key_home`]). While growing,
    /// the keys wait with the old array instead, whose generations include
    /// these.
    pub(crate) fn prepare_clear_record(&mut self) {
        if self.growing() || self.extra.overflow.is_null() {
            return;
        }
        let range = PinRange { lo: self.ovf_epoch, hi: self.generation };
        if !self.pinned(range) {
            return;
        }
        match self.new_record(range, ptr::null_mut(), 0, 0) {
            Some(r) => self.clear_rec = r.as_ptr(),
            None => self.clear_fallback = true,
        }
    }

    /// Frees every record and the spill block, and forgets every pin: the
    /// map's iterators are dead (`mapfree`, or a map whose leaked
    /// iterators are declared dead).
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, the caller's alone;
    /// 2. no iterator of the map is used again.
    pub(crate) unsafe fn free_pins(&self, t: &MapType) {
        // SAFETY: point 1: the map is the caller's alone, so no one else
        // reads or writes its pin table during the call, and this is the
        // only reference to it; the lock, which orders pin changes between
        // threads, has nothing to order (and its atomic exchange would cost
        // each free of a map two of them).
        let tab = unsafe { &mut *self.pins.table.get() };
        let mut head = core::mem::replace(&mut tab.records, ptr::null_mut());
        // The spill block's entries go with it (freed below, unread); only
        // the inline ones stay with the map.
        for e in &mut tab.inline {
            e.count = 0;
        }
        let spill = core::mem::replace(&mut tab.spill, ptr::null_mut());
        tab.spill_cap = 0;
        while let Some(rp) = NonNull::new(head) {
            // SAFETY: `rp` is a record taken off the map: live, ours.
            head = unsafe { (*rp.as_ptr()).next };
            // SAFETY: [`free_record`]: 1. a record of this map of type `t`,
            // unlinked; 2. no iterator is used again (point 2).
            unsafe { free_record(t, &self.alloc, rp) };
        }
        if let Some(s) = NonNull::new(spill) {
            // SAFETY: [`alloc::free_block`]: 1. the spill block, from the
            // map's allocator; 2. unused: taken off the table.
            unsafe { alloc::free_block(&self.alloc, s.cast()) };
        }
    }

    /// Calls `f(item, block)` for every block the records keep and the
    /// spill block (for `visit` and `inspect`).
    ///
    /// # Safety
    /// 1. `self` is a live map, not under a write during the call; `f` does
    ///    not touch it.
    pub(crate) unsafe fn for_each_kept(&self, mut f: impl FnMut(NonNull<u8>)) {
        let mut l = self.pins.lock();
        let tab = l.table();
        if let Some(s) = NonNull::new(tab.spill) {
            f(s.cast());
        }
        let mut head = tab.records;
        while let Some(rp) = NonNull::new(head) {
            // SAFETY: `rp` is a live record (on the list, under the lock).
            let rec = unsafe { rp.as_ref() };
            f(rp.cast());
            if let Some(a) = NonNull::new(rec.array) {
                f(a);
            }
            for list in [rec.overflow, rec.keys] {
                // SAFETY: [`alloc::first_on_list`]: 1. a list of live blocks.
                let mut p = unsafe { alloc::first_on_list(list) };
                while let Some(b) = p {
                    f(b);
                    // SAFETY: [`alloc::next_on_list`]: 1. on the list, which
                    // no one changes under the lock.
                    p = unsafe { alloc::next_on_list(b) };
                }
            }
            head = rec.next;
        }
    }
}
