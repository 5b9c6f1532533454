//! The map itself: a line-by-line port of Go 1.24.11's `runtime/map_noswiss.go`.
//!
//! # Design (the same as Go's; `docs/concordance.md` maps every function,
//! `docs/memory.md` gives the memory rules)
//!
//! A map is an array of 2^B buckets. A bucket holds 8 entries: their 8
//! *tophash* bytes (the high byte of each key's hash, or a marker below
//! [`MIN_TOP_HASH`]), then the 8 keys, then the 8 elems, then a pointer to an
//! overflow bucket. A key's bucket is chosen by the low B bits of its hash; the
//! tophash lets a lookup skip most slots without comparing keys.
//!
//! When the average load passes 6.5 entries per bucket (or overflow buckets
//! pile up), the map *grows*: a new array (twice as large, or the same size to
//! compact) is allocated and the old one is evacuated a bucket or two at a
//! time by later writes (`growWork`), so no single operation pays for the
//! whole copy. During growth each old bucket's entries go to bucket X (same
//! index) or Y (index + old size) of the new array, decided by one more hash
//! bit. Entries never move inside a bucket array, which is what lets iterators
//! keep walking through inserts, deletes and growth.
//!
//! # What differs from Go, and why
//!
//! * No GC: every allocation is a block from [`crate::alloc`], owned by exactly
//!   one map. Memory that a live iterator could still reach is kept for it:
//!   iterators pin the generations they stepped in, and storage that leaves
//!   the map while a pin meets its generations is kept as a record until the
//!   last such pin is dropped ([`mapiterend`]) or the map is freed
//!   ([`mapfree`]) (`crate::pins`); out-of-line keys/elems that stale slots
//!   of the old array still point to are kept until that array leaves the
//!   map (`HMap::release_old_array`). `mapextra`'s `overflow`/`oldoverflow`
//!   slices, which Go fills only to keep overflow buckets alive for its GC,
//!   become intrusive lists that own every heap overflow bucket, so whole
//!   lists are released when their array goes, without walking chains;
//!   `mapextra` itself is embedded in the `hmap` so that creating it can
//!   never fail.
//! * Allocation failure is an error, not a crash: writes reserve the overflow
//!   buckets growth work may need before changing anything, so a failed
//!   allocation leaves the map's contents unchanged.
//! * Out-of-line keys are never shared between two maps (Go's `mapclone2`
//!   shares them; we copy, because each map frees its own).
//! * Go's recoverable panics become [`MapError`]s; Go's fatal errors go through
//!   [`crate::fatal::fatal`] with Go's exact messages.

use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};

use crate::alloc::{self, Allocator, Header, Kind};
use crate::fatal::{
    CONCURRENT_CLONE_WRITE, CONCURRENT_ITER_WRITE, CONCURRENT_READ_WRITE, CONCURRENT_WRITES, MapError, fatal, throw,
};
use crate::guards::OwnedBlock;
use crate::maptype::{BUCKET_CNT, CloneFn, DATA_OFFSET, MapType, PTR_SIZE};
use crate::mem::{MEMCLR_STREAM_MIN, memclr_stream};
use crate::msize::{exceeds_max_alloc, roundupsize};
use crate::reserve::{grow_work_decided, needs_decisions};
use crate::scan::{TopScan, first_empty_slot, iter_slots, tophash_word};
use crate::scopeguard::{ScopeGuard, guard};

pub use crate::iter_inline::{mapiternext_inline, mapiternext_own_type};
pub use crate::retire::{mapfree, mapfree_abandoning_iterators};

// ---------------------------------------------------------------------------
// Constants (map_noswiss.go:69-106)
// ---------------------------------------------------------------------------

/// Numerator of the load factor 13/2 = 6.5 entries per bucket, kept as a
/// fraction for integer math (`loadFactorNum` = 2 * 8 * 13 / 16).
pub const LOAD_FACTOR_NUM: usize = 13;
/// Denominator of the load factor (`loadFactorDen`).
pub const LOAD_FACTOR_DEN: usize = 2;

/// Tophash marker: this slot is empty and so is every later slot of the bucket
/// and of its overflow chain, so a search may stop here (`emptyRest`).
/// Being 0, it is what a freshly zeroed bucket holds.
pub const EMPTY_REST: u8 = 0;
/// Tophash marker: this slot is empty (`emptyOne`).
pub const EMPTY_ONE: u8 = 1;
/// Tophash marker in an old bucket: the entry was moved to the X half
/// (`evacuatedX`). The key and elem bytes may still be there for iterators.
pub const EVACUATED_X: u8 = 2;
/// Tophash marker in an old bucket: moved to the Y half (`evacuatedY`).
pub const EVACUATED_Y: u8 = 3;
/// Tophash marker in an old bucket: the slot was empty when it was evacuated
/// (`evacuatedEmpty`).
pub const EVACUATED_EMPTY: u8 = 4;
/// Smallest tophash of a filled slot; real tophashes below it are bumped up
/// so they cannot be mistaken for markers (`minTopHash`).
pub const MIN_TOP_HASH: u8 = 5;

/// `hmap.flags`: an iterator may be using `buckets` (`iterator`).
pub const ITERATOR: u8 = 1;
/// `hmap.flags`: an iterator may be using `oldbuckets` (`oldIterator`).
pub const OLD_ITERATOR: u8 = 2;
/// `hmap.flags`: a write is in progress (`hashWriting`).
pub const HASH_WRITING: u8 = 4;
/// `hmap.flags`: the current growth keeps the bucket count (`sameSizeGrow`).
pub const SAME_SIZE_GROW: u8 = 8;

/// `hiter.checkBucket` value meaning "no filtering needed" (`noCheck`).
pub const NO_CHECK: usize = usize::MAX;

/// Reports whether a tophash marks an empty slot (`isEmpty`, :109).
#[inline(always)]
pub fn is_empty(x: u8) -> bool {
    x <= EMPTY_ONE
}

/// 1024 zero bytes, aligned to [`ZERO_VAL_ALIGN`]: what [`mapaccess1`]
/// returns for a missing key (Go's `zeroVal`, `abi.ZeroValSize`; Go needs
/// only 8, gomap also serves elems aligned above 8, up to a cache line).
#[repr(C, align(64))]
struct ZeroVal([u8; 1024]);
static ZERO_VAL: ZeroVal = ZeroVal([0; 1024]);

/// Size of the shared zero value; larger elems need [`mapaccess1_fat`].
pub const ZERO_VAL_SIZE: usize = 1024;
/// Alignment of the shared zero value; elems aligned above it need
/// [`mapaccess1_fat`].
pub const ZERO_VAL_ALIGN: usize = 64;
const _: () = assert!(core::mem::align_of::<ZeroVal>() == ZERO_VAL_ALIGN);

/// Pointer to the shared zero value.
#[inline(always)]
pub fn zero_val() -> *const u8 {
    ZERO_VAL.0.as_ptr()
}

// ---------------------------------------------------------------------------
// Types (map_noswiss.go:114-182)
// ---------------------------------------------------------------------------

/// Go's `mapextra` (:132), embedded in [`HMap`] (Go allocates it lazily).
///
/// Go keeps `overflow` and `oldoverflow` only for buckets without pointers,
/// so that its GC, which then does not scan them, still sees the overflow
/// buckets as alive. gomap keeps them for every map, as the owner of every
/// heap overflow bucket: an intrusive list threaded through the blocks'
/// headers (the link `alloc::push_retired` uses), so recording a bucket
/// never allocates. Each heap overflow bucket is on exactly one list at a
/// time: `spare` (reserved, unused), `overflow` (hung into the current
/// array's chains), `oldoverflow` (the old array's, during growth) or the
/// retire list. Whole lists are released when their array goes (growth end,
/// clear, free), so no chain walk is ever needed to find them.
#[repr(C)]
#[derive(Debug)]
pub struct MapExtra {
    /// Heap overflow buckets of the current array's chains (Go: `overflow`).
    pub(crate) overflow: *mut Header,
    /// Heap overflow buckets of the old array's chains; null unless growing
    /// (Go: `oldoverflow`).
    pub(crate) oldoverflow: *mut Header,
    /// Next unused preallocated overflow bucket at the end of `buckets`, or
    /// null. The last preallocated bucket's overflow pointer is set to the
    /// array start as an end marker (see [`make_bucket_array`]).
    pub(crate) next_overflow: *mut u8,
}

impl MapExtra {
    /// An empty `mapextra` (Go: `mapextra{}`).
    pub(crate) const fn new() -> Self {
        MapExtra { overflow: ptr::null_mut(), oldoverflow: ptr::null_mut(), next_overflow: ptr::null_mut() }
    }
}

/// The map header: Go's `hmap` (:114), followed by gomap's own bookkeeping.
///
/// Go's fields keep their order and meaning. `flags` is atomic because
/// readers set the iterator bits (`mapiterinit`'s `atomic.Or8`).
#[repr(C)]
pub struct HMap {
    /// Live entries (`count`). `len()` reads it.
    pub(crate) count: usize,
    /// `ITERATOR | OLD_ITERATOR | HASH_WRITING | SAME_SIZE_GROW` bits.
    pub(crate) flags: AtomicU8,
    /// log2 of the bucket count: the map holds up to 6.5 * 2^B entries.
    ///
    /// gomap: the order in which a write publishes a new bucket array and a
    /// reader reads it, so that a reader racing with `hash_grow` never pairs
    /// a larger B with the smaller array (reading past its end): `hash_grow`
    /// stores `oldbuckets` and `buckets`, then B after a release fence;
    /// readers (`lookup_bucket`, `mapiterinit`) load B, then the arrays
    /// after an acquire fence. A reader that sees the new B sees the new
    /// array; one that sees the old B indexes either array within bounds.
    /// (No cost on x86, where both fences only stop the compiler.) A shrink
    /// makes the array smaller and cannot be ordered this way; it is a
    /// gomap-only call, documented with the quarantine.
    pub(crate) b: u8,
    /// Approximate count of overflow buckets (exact while B < 16; see
    /// [`HMap::incrnoverflow`]).
    pub(crate) noverflow: u16,
    /// Hash seed, redrawn on make, on delete-to-empty and on clear.
    pub(crate) hash0: u32,
    /// The 2^B buckets (plus preallocated overflow buckets); null while a
    /// map made with B = 0 is still empty.
    pub(crate) buckets: *mut u8,
    /// The previous array during growth; null otherwise.
    pub(crate) oldbuckets: *mut u8,
    /// Evacuation progress: old buckets below this index are evacuated.
    pub(crate) nevacuate: usize,
    /// Incremented by every clear, so iterators notice (golang/go#70189).
    pub(crate) clear_seq: u64,
    /// `mapextra`, embedded.
    pub(crate) extra: MapExtra,

    // --- gomap's bookkeeping (no Go twin: it replaces the GC) ---
    /// Where this map's blocks come from and go back to.
    pub(crate) alloc: Allocator,
    /// Iterators that have started and not ended.
    pub(crate) live_iters: AtomicUsize,
    /// Blocks no part of the map references any more, waiting for the last
    /// live iterator to end. Empty while no iterator is live.
    pub(crate) retired: AtomicPtr<Header>,
    /// Out-of-line elems of removed entries that evacuated slots of the old
    /// array may still point to (removed while growing with `OLD_ITERATOR`
    /// set). Empty unless growing; freed when the old array leaves the map
    /// ([`HMap::release_old_array`]).
    pub(crate) oldstorage: AtomicPtr<Header>,
    /// Keys of removed entries (out-of-line key blocks, `Key` copies of
    /// inline keys with a drop hook) that slots of the old array may still
    /// hold (removed while growing with `OLD_ITERATOR` set or an iterator
    /// live). Empty unless growing; go with the old array when it leaves.
    pub(crate) oldkeys: AtomicPtr<Header>,
    /// Overflow buckets reserved ahead of a write, so the write cannot fail
    /// half-way (see [`HMap::reserve_overflow`]).
    pub(crate) spare: *mut Header,
    /// Number of blocks on `spare`.
    pub(crate) nspare: usize,
    /// When the map shrinks by itself (`crate::shrink`); `None`, the
    /// default, never (Go's maps never shrink).
    pub(crate) shrink_policy: Option<crate::shrink::ShrinkPolicy>,
    /// A word for the layer that made the map; map code never reads or
    /// writes it. The C ABI keeps its type's counted reference here, so that
    /// a `gomap_map *` is the `hmap` itself. Null for maps made in Rust.
    pub(crate) owner: *const (),
    /// gomap: the quarantine that lives in this hmap's own block, after
    /// the `HMap` (`crate::quarantine`), or null. A map made from an
    /// allocator with a quarantine gets one there, so a quarantine costs no
    /// allocation of its own; `&mut HMap` never covers it.
    pub(crate) qtail: *const crate::quarantine::Quarantine,

    // --- gomap's iterator pins (`crate::pins`), kept last: cold ---
    /// The generation: bumped by `hash_grow` (a new array) and `mapclear`
    /// (the array cleared in place). Iterators pin the generations they
    /// stepped in (`crate::pins`).
    pub(crate) generation: u64,
    /// The generation in which the current array was installed.
    pub(crate) cur_first: u64,
    /// The generation from which `extra.overflow` collected its buckets
    /// (the current array's install, or the last `clear`).
    pub(crate) ovf_epoch: u64,
    /// While growing: the generation in which the old array was installed.
    pub(crate) old_first: u64,
    /// While growing: the seed the old array's entries were placed with.
    pub(crate) old_hash0: u32,
    /// While growing: whether `evacuate` cut a chain of the old array.
    pub(crate) chains_cut: bool,
    /// During `mapclear` only: whether the cut-off overflow buckets are
    /// kept on the retire list (no memory for their record).
    pub(crate) clear_fallback: bool,
    /// During `mapclear` only: the record for the cut-off overflow buckets
    /// and the keys of the cleared entries, or null.
    pub(crate) clear_rec: *mut crate::pins::Record,
    /// Iterator pins and the records they keep (`crate::pins`).
    pub(crate) pins: crate::pins::Pins,
}

/// Go's iterator state `hiter` (:164), same fields in the same order.
///
/// A zeroed `HIter` ([`HIter::new`]) is ready for [`mapiterinit`]. Between
/// `mapiterinit` and [`mapiterend`] the iterator keeps alive what it can
/// still reach (the arrays of the generations it stepped in); it must not
/// outlive the map. The `key` and `elem` it produces are valid until the
/// next write to the map.
#[repr(C)]
#[derive(Debug)]
pub struct HIter {
    /// Current key, or null when iteration is over.
    pub key: *mut u8,
    /// Current elem.
    pub elem: *mut u8,
    pub(crate) t: *const MapType,
    pub(crate) h: *mut HMap,
    /// The bucket array at `mapiterinit` time.
    pub(crate) buckets: *mut u8,
    /// Current bucket.
    pub(crate) bptr: *mut u8,
    /// gomap: the generations this iterator pins while registered (see
    /// `crate::pins`). In the place of Go's `overflow` and `oldoverflow`,
    /// which keep overflow buckets alive for Go's GC: the same job.
    pub(crate) pins: crate::pins::PinRange,
    /// The random bucket iteration started at.
    pub(crate) start_bucket: usize,
    /// The random slot offset used in every bucket (0..8).
    pub(crate) offset: u8,
    /// Whether iteration wrapped from the last bucket to bucket 0.
    pub(crate) wrapped: bool,
    /// B at `mapiterinit` time.
    pub(crate) b: u8,
    /// Next slot to look at in `bptr`.
    pub(crate) i: u8,
    /// gomap: whether this iterator is counted in the map's `live_iters`
    /// (sits in what is padding in Go's struct).
    pub(crate) registered: bool,
    /// gomap: a borrowed iteration ([`mapiterinit_borrowed`]): registered
    /// without being counted or pinning a generation (also padding in Go's
    /// struct).
    pub(crate) borrowed: bool,
    /// Next bucket index to visit.
    pub(crate) bucket: usize,
    /// Bucket whose entries an old bucket must be filtered for, or [`NO_CHECK`].
    pub(crate) check_bucket: usize,
    /// The map's `clear_seq` at `mapiterinit` time.
    pub(crate) clear_seq: u64,
}

// Go checks hiter's size in mapiterinit (8 + 12 pointers); on 64-bit our
// extra flag lives in padding, so the size is the same. Go's 32-bit hiter
// has no padding there (`i` ends a word), so the flag adds a word, and the
// pin range (two u64 where Go has two pointers) two more. Where Rust
// aligns u64 to 8 on a 32-bit target (arm, wasm32), `clear_seq` starts a
// word later.
const HITER_U64_PAD: usize = if PTR_SIZE == 4 && core::mem::align_of::<u64>() == 8 { 4 } else { 0 };
const _: () =
    assert!(core::mem::size_of::<HIter>() == 8 + 12 * PTR_SIZE + if PTR_SIZE == 4 { 12 } else { 0 } + HITER_U64_PAD);
const _: () = assert!(core::mem::offset_of!(HIter, key) == 0);
const _: () = assert!(core::mem::offset_of!(HIter, elem) == PTR_SIZE);
// Go's hmap is 2*8 + 5 pointers: 56 bytes on 64-bit, 36 on 32-bit where
// clearSeq is 4-aligned (TestHmapSize; the compiler's check,
// reflectdata/map_noswiss.go:185); ours keeps that prefix and appends its
// bookkeeping.
const _: () = assert!(core::mem::offset_of!(HMap, extra) == 2 * 8 + 4 * PTR_SIZE);
// The pin range sits in the two words of Go's overflow/oldoverflow; on
// 32-bit its two u64 take two more words.
const _: () =
    assert!(core::mem::offset_of!(HIter, start_bucket) == 6 * PTR_SIZE + core::mem::size_of::<crate::pins::PinRange>());

impl HIter {
    /// Whether this iterator is registered with its map: started by
    /// [`mapiterinit`] and not ended yet (gomap only).
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// A fresh iterator, ready for [`mapiterinit`].
    pub const fn new() -> Self {
        HIter {
            key: ptr::null_mut(),
            elem: ptr::null_mut(),
            t: ptr::null(),
            h: ptr::null_mut(),
            buckets: ptr::null_mut(),
            bptr: ptr::null_mut(),
            pins: crate::pins::PinRange::at(0),
            start_bucket: 0,
            offset: 0,
            wrapped: false,
            b: 0,
            i: 0,
            registered: false,
            borrowed: false,
            bucket: 0,
            check_bucket: 0,
            clear_seq: 0,
        }
    }
    /// Views caller-owned storage as an iterator, after checking what can
    /// be checked: `p` is 8-aligned, its `registered` bool holds 0 or 1
    /// and its `borrowed` bool 0 (only the typed map's iterators, never
    /// caller-owned storage, are borrowed ones). `None` otherwise.
    ///
    /// # Safety
    /// 1. `p` is non-null, valid for reads and writes of
    ///    `size_of::<HIter>()` bytes and not aliased for `'a`;
    /// 2. its bytes were zeroed or last written by map code as an `HIter`.
    pub unsafe fn from_raw<'a>(p: *mut u8) -> Option<&'a mut HIter> {
        if p.addr() % core::mem::align_of::<HIter>() != 0 {
            return None;
        }
        // SAFETY: `offset_of!(HIter, registered)` is inside the
        // `size_of::<HIter>()` bytes `p` is valid for (point 1).
        let regp = unsafe { p.add(core::mem::offset_of!(HIter, registered)) };
        // SAFETY: `regp` is valid for reads of one byte (point 1; any
        // address is aligned for `u8`), initialised: zeroed or written as
        // an `HIter`'s `registered` (point 2).
        let reg = unsafe { regp.read() };
        if reg > 1 {
            return None;
        }
        // SAFETY: as for `regp`, at `borrowed`'s offset.
        let borp = unsafe { p.add(core::mem::offset_of!(HIter, borrowed)) };
        // SAFETY: as for `reg`.
        if unsafe { borp.read() } != 0 {
            return None;
        }
        // SAFETY: `p` is aligned for `HIter` (checked), valid for reads and
        // writes of its size and unaliased for `'a` (point 1); its bytes
        // are initialised (point 2), and every field is valid for any
        // initialised bits except `registered` and `borrowed` (checked).
        Some(unsafe { &mut *p.cast::<HIter>() })
    }
    /// The random start the iterator drew: `(start_bucket, offset)`.
    pub fn start(&self) -> (usize, u8) {
        (self.start_bucket, self.offset)
    }
}

impl Default for HIter {
    fn default() -> Self {
        Self::new()
    }
}

/// Result of [`mapassign`]: the elem slot for the key, and whether the key was
/// newly inserted (then the map took a copy of the key's bytes).
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    /// Where the caller writes the elem. Valid until the next write.
    pub elem: NonNull<u8>,
    /// True if the key was not in the map before.
    pub inserted: bool,
}

// ---------------------------------------------------------------------------
// Small helpers (map_noswiss.go:184-225). One unsafe operation each.
// ---------------------------------------------------------------------------

/// 2^b as a bucket count (`bucketShift`, :184). The mask keeps the shift in
/// range like Go's, so a corrupted B cannot cause an overflowing shift.
#[inline(always)]
pub fn bucket_shift(b: u8) -> usize {
    1usize << (b & (usize::BITS as u8 - 1))
}

/// 2^b - 1 (`bucketMask`, :190).
#[inline(always)]
pub fn bucket_mask(b: u8) -> usize {
    bucket_shift(b) - 1
}

/// The tophash of a hash: its top byte, bumped past the markers (`tophash`, :195).
#[inline(always)]
pub fn tophash(hash: usize) -> u8 {
    let mut top = (hash >> (usize::BITS - 8)) as u8;
    if top < MIN_TOP_HASH {
        top += MIN_TOP_HASH;
    }
    top
}

/// Bucket `i` of the array at `base`.
///
/// # Safety
/// 1. `base` is the first bucket of an array of at least `i + 1` buckets of
///    `t` (a live map's `buckets` or `oldbuckets`, or an array
///    [`make_bucket_array`] returned), so the result is a bucket of `t`.
#[inline(always)]
pub(crate) unsafe fn bucket_at(t: &MapType, base: *mut u8, i: usize) -> *mut u8 {
    // SAFETY: `i * t.bucketsize()` is the offset of the array's bucket `i`,
    // inside the array's one allocation (point 1): no overflow, in bounds.
    unsafe { base.add(i * t.bucketsize()) }
}

/// `b.tophash[i]`.
///
/// # Safety
/// 1. `b` is a bucket (of any `t`: `tophash[8]` opens every bucket);
/// 2. slot `i`: `i < BUCKET_CNT`.
#[inline(always)]
pub(crate) unsafe fn th(b: *mut u8, i: usize) -> u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: `tophash[i]`, `i < 8` (point 2), is inside the bucket
    // (point 1).
    let p = unsafe { b.add(i) };
    // SAFETY: `p` is valid for reads of one byte (point 1), initialised
    // (buckets come zeroed); `u8` needs no alignment.
    unsafe { p.read() }
}

/// `b.tophash[i] = v`.
///
/// # Safety
/// 1. `b` is a bucket;
/// 2. slot `i`: `i < BUCKET_CNT`;
/// 3. the map is under a write (or the bucket is private to the caller):
///    no other thread reads or writes the bucket.
#[inline(always)]
pub(crate) unsafe fn set_th(b: *mut u8, i: usize, v: u8) {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: `tophash[i]`, `i < 8` (point 2), is inside the bucket
    // (point 1).
    let p = unsafe { b.add(i) };
    // SAFETY: `p` is valid for writes of one byte (point 1); the write
    // races with nothing (point 3).
    unsafe { p.write(v) }
}

/// Address of key slot `i` of bucket `b`.
///
/// # Safety
/// 1. `b` is a bucket of `t`;
/// 2. slot `i`: `i < BUCKET_CNT`.
#[inline(always)]
pub(crate) unsafe fn key_at(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: `keys[8]` start at `DATA_OFFSET`; key slot `i < 8` (point 2)
    // lies inside the bucket's `t.bucketsize()` bytes (point 1).
    unsafe { b.add(DATA_OFFSET + i * t.keysize()) }
}

/// Address of elem slot `i` of bucket `b`.
///
/// # Safety
/// 1. `b` is a bucket of `t`;
/// 2. slot `i`: `i < BUCKET_CNT`.
#[inline(always)]
pub(crate) unsafe fn elem_at(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    debug_assert!(i < BUCKET_CNT);
    // SAFETY: `elems[8]` follow `keys[8]`; elem slot `i < 8` (point 2) lies
    // inside the bucket's `t.bucketsize()` bytes (point 1).
    unsafe { b.add(DATA_OFFSET + BUCKET_CNT * t.keysize() + i * t.valuesize()) }
}

/// Follows an out-of-line slot: the key or elem the slot points to.
///
/// # Safety
/// 1. `slot` is a key slot of a bucket of a `t` with indirect keys, or an
///    elem slot of one with indirect elems: 8 bytes of pointer storage,
///    8-aligned, initialised (zeroed, or written by [`write_slot_ptr`]).
#[inline(always)]
pub(crate) unsafe fn deref_slot(slot: *mut u8) -> *mut u8 {
    // SAFETY: `slot` is valid for reads of a pointer, 8-aligned and
    // initialised (point 1).
    unsafe { slot.cast::<*mut u8>().read() }
}

/// [`deref_slot`] for a slot whose tophash says it is filled: its pointer
/// is never null then, unless a write racing with this access emptied the
/// slot between the two reads (or, in Go's own iterator bug described in
/// docs/concordance.md, evacuation zeroed a slot an iterator still
/// reads). gomap reports that as the fatal error `msg` rather than hand a
/// null key or elem on (Go would fault on the nil pointer).
///
/// # Safety
/// 1. As [`deref_slot`]'s point 1.
#[inline(always)]
pub(crate) unsafe fn deref_live(slot: *mut u8, msg: &'static str) -> *mut u8 {
    // SAFETY: point 1 is deref_slot's.
    let p = unsafe { deref_slot(slot) };
    if p.is_null() {
        fatal(msg);
    }
    p
}

/// Stores a pointer in an out-of-line slot.
///
/// # Safety
/// 1. `slot` is an out-of-line slot, as in [`deref_slot`]'s point 1;
/// 2. the map is under a write (or the bucket is private to the caller).
#[inline(always)]
pub(crate) unsafe fn write_slot_ptr(slot: *mut u8, p: *mut u8) {
    // SAFETY: `slot` is valid for writes of a pointer and 8-aligned
    // (point 1); the write races with nothing (point 2).
    unsafe { slot.cast::<*mut u8>().write(p) }
}

/// The key stored in slot `i`, following the indirection if any.
///
/// # Safety
/// 1. `b` is a bucket of `t`;
/// 2. slot `i`: `i < BUCKET_CNT`.
#[inline(always)]
pub(crate) unsafe fn key_of(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    // SAFETY: 1. `b` is a bucket of `t` (point 1); 2. `i < 8` (point 2).
    let k = unsafe { key_at(t, b, i) };
    // SAFETY: 1. `t` has indirect keys, so `k` is an out-of-line key slot of
    // a bucket (points 1 and 2).
    if t.indirect_key() { unsafe { deref_live(k, CONCURRENT_READ_WRITE) } } else { k }
}

/// The elem stored in slot `i`, following the indirection if any.
///
/// # Safety
/// 1. `b` is a bucket of `t`;
/// 2. slot `i`: `i < BUCKET_CNT`.
#[inline(always)]
pub(crate) unsafe fn elem_of(t: &MapType, b: *mut u8, i: usize) -> *mut u8 {
    // SAFETY: 1. `b` is a bucket of `t` (point 1); 2. `i < 8` (point 2).
    let e = unsafe { elem_at(t, b, i) };
    // SAFETY: 1. `t` has indirect elems, so `e` is an out-of-line elem slot
    // of a bucket (points 1 and 2).
    if t.indirect_elem() { unsafe { deref_live(e, CONCURRENT_READ_WRITE) } } else { e }
}

/// Reports whether bucket `b` has been evacuated: its first tophash is one of
/// the evacuation markers (`evacuated`, :203).
///
/// # Safety
/// 1. `b` is a bucket.
#[inline(always)]
pub(crate) unsafe fn evacuated(b: *mut u8) -> bool {
    // SAFETY: 1. `b` is a bucket (point 1); 2. `0 < 8`.
    let h = unsafe { th(b, 0) };
    h > EMPTY_ONE && h < MIN_TOP_HASH
}

/// `b.overflow(t)` (:208): the next bucket of the chain, or null.
///
/// # Safety
/// 1. `b` is a bucket of `t`.
#[inline(always)]
pub(crate) unsafe fn overflow(t: &MapType, b: *mut u8) -> *mut u8 {
    // SAFETY: `b` has `t.bucketsize()` bytes (point 1), so its last
    // `PTR_SIZE` bytes, the overflow word, start inside it.
    let w = unsafe { b.add(t.bucketsize() - PTR_SIZE) };
    // SAFETY: `w` is valid for reads of a pointer (the bucket's last 8
    // bytes, point 1), 8-aligned (the bucket is, and `t.bucketsize()` is a
    // multiple of 8), initialised (buckets come zeroed; only pointers are
    // stored here).
    unsafe { w.cast::<*mut u8>().read() }
}

/// `b.setoverflow(t, ovf)` (:212).
///
/// # Safety
/// 1. `b` is a bucket of `t`;
/// 2. the map is under a write (or the bucket is private to the caller).
#[inline(always)]
pub(crate) unsafe fn set_overflow(t: &MapType, b: *mut u8, ovf: *mut u8) {
    // SAFETY: the overflow word starts inside the bucket (point 1; see
    // [`overflow`]).
    let w = unsafe { b.add(t.bucketsize() - PTR_SIZE) };
    // SAFETY: `w` is valid for writes of a pointer and 8-aligned (point 1;
    // see [`overflow`]); no other thread reads the bucket (point 2).
    unsafe { w.cast::<*mut u8>().write(ovf) }
}

/// Copies a key or elem: Go's `typedmemmove` (a memmove: a caller may pass a
/// key that aliases a slot).
///
/// # Safety
/// 1. `src` is valid for reads of `n` bytes, initialised;
/// 2. `dst` is valid for writes of `n` bytes (the two may overlap).
#[inline(always)]
pub(crate) unsafe fn memmove(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: `src` readable (point 1), `dst` writable (point 2) for `n`
    // bytes; `u8` needs no alignment; `copy` allows overlap.
    unsafe { ptr::copy(src, dst, n) }
}

/// Zeroes `n` bytes: Go's `memclrHasPointers`/`memclrNoHeapPointers`.
///
/// # Safety
/// 1. `p` is valid for writes of `n` bytes (within one allocation).
#[inline(always)]
pub(crate) unsafe fn memclr(p: *mut u8, n: usize) {
    if n >= MEMCLR_STREAM_MIN && cfg!(all(target_arch = "x86_64", not(miri))) {
        // SAFETY: 1. `p` is valid for writes of `n` bytes, in one
        // allocation (point 1).
        return unsafe { memclr_stream(p, n) };
    }
    // SAFETY: `p` is valid for writes of `n` bytes (point 1); `u8` needs no
    // alignment.
    unsafe { ptr::write_bytes(p, 0, n) }
}

/// Go's `mapKeyError` (alg.go): fails for keys that cannot be hashed, for
/// types that declare `HashMightPanic`.
///
/// # Safety
/// 1. `key` is a key of `t`.
#[inline]
pub unsafe fn map_key_error(t: &MapType, key: *const u8) -> Result<(), MapError> {
    if t.hash_might_panic() {
        if let Some(check) = t.key_check {
            // SAFETY: `KeyCheckFn`'s points: `key` is a
            // key of `t` (point 1); `t.ctx` is `t`'s own context.
            if !unsafe { check(key, t.ctx) } {
                return Err(MapError::UnhashableKey);
            }
        }
    }
    Ok(())
}

impl HMap {
    /// An empty map header that takes its blocks from `alloc`: Go's zero
    /// `hmap` (B = 0, no buckets, seed 0, no flags) with gomap's
    /// bookkeeping empty. The one place that lists every field; callers set
    /// what differs (`makemap`'s seed and B, a shrink's staging map).
    pub(crate) const fn new(alloc: Allocator) -> HMap {
        HMap {
            count: 0,
            flags: AtomicU8::new(0),
            b: 0,
            noverflow: 0,
            hash0: 0,
            buckets: ptr::null_mut(),
            oldbuckets: ptr::null_mut(),
            nevacuate: 0,
            clear_seq: 0,
            extra: MapExtra::new(),
            alloc,
            live_iters: AtomicUsize::new(0),
            retired: AtomicPtr::new(ptr::null_mut()),
            oldstorage: AtomicPtr::new(ptr::null_mut()),
            oldkeys: AtomicPtr::new(ptr::null_mut()),
            generation: 0,
            cur_first: 0,
            ovf_epoch: 0,
            old_first: 0,
            old_hash0: 0,
            chains_cut: false,
            clear_fallback: false,
            clear_rec: ptr::null_mut(),
            pins: crate::pins::Pins::new(),
            spare: ptr::null_mut(),
            nspare: 0,
            shrink_policy: None,
            owner: ptr::null(),
            qtail: ptr::null(),
        }
    }

    /// The owner word of a live map (see the field `owner`): whatever the
    /// layer that made the map stored with [`HMap::set_owner`]; null for a
    /// map nobody claimed. Map code never reads it.
    ///
    /// # Safety
    /// 1. `h` is a live map (of any type).
    #[inline(always)]
    pub unsafe fn owner(h: NonNull<HMap>) -> *const () {
        // SAFETY: `h` is a live map (point 1): its `owner` field is
        // readable, aligned and initialised; only the word is read, no
        // reference to the whole hmap is made, and map code never writes
        // it concurrently.
        unsafe { (*h.as_ptr()).owner }
    }
    /// Stores the owner word of a map (see [`HMap::owner`]).
    ///
    /// # Safety
    /// 1. `h` is a live map (of any type) that no other thread uses during
    ///    the call.
    #[inline(always)]
    pub unsafe fn set_owner(h: NonNull<HMap>, owner: *const ()) {
        // SAFETY: `h` is a live map (point 1): its `owner` field is
        // writable and aligned; unshared (point 1), so the write races with
        // nothing.
        unsafe { (*h.as_ptr()).owner = owner }
    }
    #[inline(always)]
    pub(crate) fn flags(&self) -> u8 {
        self.flags.load(Ordering::Relaxed)
    }
    #[inline(always)]
    pub(crate) fn set_flags(&self, f: u8) {
        self.flags.store(f, Ordering::Relaxed)
    }

    // -----------------------------------------------------------------------
    // Overflow buckets (map_noswiss.go:227-281)
    // -----------------------------------------------------------------------

    /// Counts a new overflow bucket (`incrnoverflow`, :227). Exact while
    /// B < 16; above that it counts with probability 1/2^(B-15), so the count
    /// stays comparable to 2^15 (it is a u16).
    pub(crate) fn incrnoverflow(&mut self) {
        if self.b < 16 {
            self.noverflow = self.noverflow.wrapping_add(1);
            return;
        }
        let mask = (1u32 << (self.b - 15)) - 1;
        if (crate::rand::rand() as u32) & mask == 0 {
            self.noverflow = self.noverflow.wrapping_add(1);
        }
    }

    /// Hangs a fresh overflow bucket off `b` and returns it (`newoverflow`,
    /// :246). It comes from the preallocated ones at the end of the bucket
    /// array while they last, else from the reserve, else from the allocator.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, under a write (or private to the
    ///    caller, as a clone under construction);
    /// 2. `b` is a bucket of `t` of this map that ends its chain (its
    ///    overflow pointer is null).
    pub(crate) unsafe fn newoverflow(&mut self, t: &MapType, b: *mut u8) -> Result<*mut u8, MapError> {
        let ovf;
        if !self.extra.next_overflow.is_null() {
            // Take the next preallocated bucket. Only the last one has a
            // non-null overflow pointer (the end marker): clear it and note
            // that none are left.
            ovf = self.extra.next_overflow;
            // SAFETY: 1. a non-null `next_overflow` is a preallocated bucket
            // of the current array, a bucket of `t` (the field's invariant,
            // point 1).
            if unsafe { overflow(t, ovf) }.is_null() {
                // SAFETY: only the array's last bucket carries the end
                // marker, so `ovf` is not the last: the next bucket is
                // inside the same array.
                self.extra.next_overflow = unsafe { ovf.add(t.bucketsize()) };
            } else {
                // SAFETY: 1. `ovf` is a bucket of `t` (as above); 2. under a
                // write or private (point 1).
                unsafe { set_overflow(t, ovf, ptr::null_mut()) };
                self.extra.next_overflow = ptr::null_mut();
            }
        } else {
            // SAFETY: 1. `spare` is null or heads a list of live blocks built
            // by `push_retired`: zeroed blocks of `t.bucketsize()` bytes from
            // this map's allocator (`HMap::reserve_overflow`).
            ovf = match unsafe { alloc::pop_retired(&mut self.spare) } {
                Some(p) => {
                    self.nspare -= 1;
                    // SAFETY: 1. `p` is the payload of a live block from
                    // `alloc_block` (it was on the spare list).
                    let hdr = unsafe { alloc::header_of(p) };
                    // SAFETY: `hdr` is the block's live, aligned header; the
                    // block left the spare list, so no list reads its link.
                    unsafe { (*hdr.as_ptr()).clear_next() };
                    p.as_ptr()
                }
                // SAFETY: 1. the map's own allocator, valid while the map
                // is live (point 1).
                None => unsafe { alloc::alloc_reusable(&self.alloc, t.bucketsize(), 8, Kind::Plain) }
                    .ok_or(MapError::AllocFailed)?
                    .as_ptr(),
            };
            // Go records heap overflow buckets in `extra.overflow` (for
            // pointer-free buckets only); gomap always does: the list is how
            // they are found again when the array goes.
            // SAFETY: `ovf` is a block payload (spare or fresh), never null.
            let ovf_nn = unsafe { NonNull::new_unchecked(ovf) };
            // SAFETY: 1. `ovf_nn` is the payload of a live block from
            // `alloc_block`, on no list (fresh, or just popped with its link
            // cleared); 2. `extra.overflow` heads a `push_retired` list of
            // live blocks (its invariant).
            unsafe { alloc::push_retired(&mut self.extra.overflow, ovf_nn) };
        }
        self.incrnoverflow();
        // SAFETY: 1. `b` is a bucket of `t` (point 2); 2. under a write or
        // private (point 1). `ovf` is a zeroed bucket of `t`: an empty bucket
        // that ends the chain.
        unsafe { set_overflow(t, b, ovf) };
        Ok(ovf)
    }

    /// Reports whether the map is growing (`growing`, :1182).
    #[inline(always)]
    pub(crate) fn growing(&self) -> bool {
        !self.oldbuckets.is_null()
    }

    /// gomap: the old array and the mask of its buckets, for a reader that
    /// read B as `b`: the flags first, then the array after an acquire
    /// fence. The writer stores them in the opposite order (`hash_grow`
    /// sets the flags before `oldbuckets`; a growth's end clears
    /// `oldbuckets` before the flags, with a release fence between), so a
    /// reader racing with writes never pairs a doubling growth's old array
    /// (2^(b-1) buckets) with a later same-size growth's flag (which would
    /// index 2^b). See the field [`HMap::b`].
    #[inline(always)]
    pub(crate) fn old_array(&self, b: u8) -> Option<(*mut u8, usize)> {
        // Not growing (the common case): one load, as before.
        if self.oldbuckets.is_null() {
            return None;
        }
        let same = self.same_size_grow();
        core::sync::atomic::fence(Ordering::Acquire);
        let c = self.oldbuckets;
        if c.is_null() {
            return None;
        }
        let m = bucket_mask(b);
        Some((c, if same { m } else { m >> 1 }))
    }

    /// Reports whether the current growth keeps the size (`sameSizeGrow`, :1187).
    #[inline(always)]
    pub(crate) fn same_size_grow(&self) -> bool {
        self.flags() & SAME_SIZE_GROW != 0
    }

    /// Number of buckets in the old array (`noldbuckets`, :1197).
    #[inline(always)]
    pub(crate) fn noldbuckets(&self) -> usize {
        let mut old_b = self.b;
        if !self.same_size_grow() {
            old_b -= 1;
        }
        bucket_shift(old_b)
    }

    /// `noldbuckets() - 1` (`oldbucketmask`, :1206).
    #[inline(always)]
    pub(crate) fn oldbucketmask(&self) -> usize {
        self.noldbuckets() - 1
    }

    /// Number of entries (Go's `len(m)`).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Reports whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

// ---------------------------------------------------------------------------
// Making maps (map_noswiss.go:283-413)
// ---------------------------------------------------------------------------

/// Allocates an `hmap` holding [`HMap::new`]`(*a)` (Go's `new(hmap)` in
/// `makemap_small`, :304, and `makemap`, :332). The block stays the
/// caller's, freed if dropped, until it publishes it as the map.
///
/// If `a` is a live map's allocator with a quarantine (a clone's source),
/// the new map gets a quarantine of its own with the same floor.
fn new_hmap(a: &Allocator) -> Result<OwnedBlock, MapError> {
    let own = a.without_quarantine();
    // SAFETY: [`crate::quarantine::setting_of`]: 1. `a.q` is null, the
    // template, or a live map's quarantine (the field's invariant).
    let setting = unsafe { crate::quarantine::setting_of(a.q) };
    const HMAP: usize = core::mem::size_of::<HMap>();
    const _: () = assert!(HMAP % core::mem::align_of::<crate::quarantine::Quarantine>() == 0);
    let size = if setting.is_some() { HMAP + core::mem::size_of::<crate::quarantine::Quarantine>() } else { HMAP };
    // SAFETY: 1. `own` is a valid allocator: an `Allocator` is valid by
    // construction (`Allocator::new`'s contract, or `LIBC`).
    let p = unsafe { OwnedBlock::alloc(&own, size, Kind::Hmap) }?;
    let h = p.as_ptr().cast::<HMap>();
    // SAFETY: a fresh block of at least `size_of::<HMap>()` bytes, valid
    // for writes and 8-aligned (block payloads are; `HMap` needs 8), owned
    // by `p`.
    unsafe { h.write(HMap::new(own)) };
    if let Some((min, roles)) = setting {
        // SAFETY: the block's tail, `HMAP` bytes in: inside it (`size`),
        // 8-aligned (asserted above), with the block's provenance (not
        // the `HMap`'s: no reference to the map covers it).
        let q = unsafe { p.as_ptr().add(HMAP) }.cast::<crate::quarantine::Quarantine>();
        // SAFETY: [`crate::quarantine::Quarantine::init_zeroed`]: 1. `q` is
        // valid for reads and writes of a `Quarantine`, 8-aligned, zeroed
        // (a fresh block), ours alone.
        unsafe { crate::quarantine::Quarantine::init_zeroed(q, min, roles) };
        // SAFETY: `h` holds the map just written: live, aligned, not yet
        // published, so this is the only reference to it.
        let hr = unsafe { &mut *h };
        hr.qtail = q;
        hr.alloc.q = q;
    }
    Ok(p)
}

/// `make(map[k]v, hint)` with a 64-bit hint (`makemap64`, :283). On 64-bit
/// targets an int64 always fits an int, so this is [`makemap`].
pub fn makemap64(t: &MapType, hint: i64) -> Result<NonNull<HMap>, MapError> {
    makemap(t, hint as isize)
}

/// `make(map[k]v)` or a hint of at most 8 (`makemap_small`, :303): B = 0 and
/// no buckets until the first insert.
pub fn makemap_small() -> Result<NonNull<HMap>, MapError> {
    makemap_small_in(&crate::alloc::default_allocator())
}

/// [`makemap_small`] with an explicit allocator.
pub fn makemap_small_in(a: &Allocator) -> Result<NonNull<HMap>, MapError> {
    let h = new_hmap(a)?.publish().cast::<HMap>();
    // SAFETY: `h` is the hmap `new_hmap` just wrote: aligned, initialised,
    // and not yet returned to anyone, so the write races with nothing.
    unsafe { (*h.as_ptr()).hash0 = crate::rand::rand() as u32 };
    Ok(h)
}

/// gomap: [`makemap_small_in`] with a seed drawn earlier, and the roles of
/// a quarantine the allocator asks for named by `t`: the typed map draws
/// its seed at `make`, as Go does, and makes its hmap at its first write.
pub(crate) fn makemap_seeded_in(t: &MapType, a: &Allocator, hash0: u32) -> Result<NonNull<HMap>, MapError> {
    let hp = new_hmap(a)?;
    // SAFETY: `hp` holds the hmap `new_hmap` just wrote: aligned,
    // initialised, and ours alone until published (no other reference).
    let h = unsafe { &mut *hp.as_ptr().cast::<HMap>() };
    h.hash0 = hash0;
    h.init_roles(t);
    Ok(hp.publish().cast())
}

/// `make(map[k]v, hint)` (`makemap`, :324): picks the smallest B whose
/// buckets hold `hint` entries under the load factor; allocates them now
/// unless B = 0. A negative or absurd hint counts as 0, like Go's.
pub fn makemap(t: &MapType, hint: isize) -> Result<NonNull<HMap>, MapError> {
    makemap_in(t, hint, &crate::alloc::default_allocator())
}

/// [`makemap`] with an explicit allocator.
pub fn makemap_in(t: &MapType, hint: isize, a: &Allocator) -> Result<NonNull<HMap>, MapError> {
    let mut hint = hint;
    match (hint as usize).checked_mul(t.bucketsize()) {
        Some(mem) if !exceeds_max_alloc(mem) => {}
        _ => hint = 0,
    }

    // Freed by its guard if the bucket array cannot be allocated.
    let hp = new_hmap(a)?;
    // SAFETY: `hp` holds the hmap `new_hmap` just wrote: aligned,
    // initialised, and ours alone until published (no other reference).
    let h = unsafe { &mut *hp.as_ptr().cast::<HMap>() };
    h.hash0 = crate::rand::rand() as u32;
    // gomap: a quarantine made with the map pools by the type's roles.
    h.init_roles(t);

    // Smallest B whose buckets hold `hint` entries at 6.5 per bucket.
    let mut b = 0u8;
    while over_load_factor(hint, b) {
        b += 1;
    }
    h.b = b;

    // B > 0: allocate now. B == 0: mapassign allocates the one bucket.
    if h.b != 0 {
        // SAFETY: 1. `h.alloc` is `a`, a valid allocator; 2. `dirtyalloc`
        // is null: a fresh array.
        let (buckets, next_overflow) =
            unsafe { make_bucket_array(t, &h.alloc, h.b, ptr::null_mut()) }.ok_or(MapError::AllocFailed)?;
        h.buckets = buckets;
        h.extra.next_overflow = next_overflow;
    }
    Ok(hp.publish().cast())
}

/// Allocates (or, given `dirtyalloc`, clears) a bucket array for 2^b buckets
/// (`makeBucketArray`, :365). Returns the array and the first preallocated
/// overflow bucket, or null if there are none.
///
/// For b >= 4 it adds about 2^(b-4) overflow buckets, then rounds the request
/// up to Go's malloc size class and keeps every whole bucket that fits: the
/// count depends on that rounding, which is why [`roundupsize`] is ported.
///
/// # Safety
/// 1. `a` is a valid allocator (the contract of [`Allocator::new`]), such as
///    the allocator of a live map;
/// 2. `dirtyalloc` is null, or an array this function returned for the same
///    `t` and `b`, still allocated, that no other thread uses: it is
///    cleared in place and its contents are discarded (nothing is dropped).
#[doc(alias = "makeBucketArray")]
pub(crate) unsafe fn make_bucket_array(
    t: &MapType,
    a: &Allocator,
    b: u8,
    dirtyalloc: *mut u8,
) -> Option<(*mut u8, *mut u8)> {
    let base = bucket_shift(b);
    let mut nbuckets = base;
    // Only from b = 4 on does Go add room for overflow buckets.
    if b >= 4 {
        nbuckets += bucket_shift(b - 4);
        let sz = t.bucketsize().checked_mul(nbuckets)?;
        let up = roundupsize(sz, !t.bucket_pointers());
        if up != sz {
            nbuckets = up / t.bucketsize();
        }
    }

    let buckets = if dirtyalloc.is_null() {
        let size = t.bucketsize().checked_mul(nbuckets)?;
        // SAFETY: 1. `a` is a valid allocator (point 1).
        unsafe { alloc::alloc_reusable(a, size, 8, Kind::Array) }?.as_ptr()
    } else {
        // SAFETY: 1. `dirtyalloc` is an array this function made for the
        // same `t` and `b` (point 2), so of exactly `nbuckets` buckets
        // (computed the same way): writable for `t.bucketsize() * nbuckets`
        // bytes, one allocation, used by no one else.
        unsafe { memclr(dirtyalloc, t.bucketsize() * nbuckets) };
        dirtyalloc
    };

    let mut next_overflow = ptr::null_mut();
    if base != nbuckets {
        // Preallocated overflow buckets follow the 2^b main ones. A null
        // overflow pointer means "more follow"; the last bucket points back
        // at the array start to mark the end (any non-null value would do).
        // SAFETY: 1. `buckets` is an array of `nbuckets` buckets of `t`,
        // and `base < nbuckets`.
        next_overflow = unsafe { bucket_at(t, buckets, base) };
        // SAFETY: 1. as above: `nbuckets - 1 < nbuckets`.
        let last = unsafe { bucket_at(t, buckets, nbuckets - 1) };
        // SAFETY: 1. `last` is a bucket of `t`; 2. the array is not yet any
        // map's, or `dirtyalloc` used by no one else (point 2).
        unsafe { set_overflow(t, last, buckets) };
    }
    Some((buckets, next_overflow))
}

// ---------------------------------------------------------------------------
// Lookup (map_noswiss.go:415-618)
// ---------------------------------------------------------------------------

/// The bucket a lookup of `hash` starts at: bucket `hash & mask` of the
/// current array, or, while growing, of the old array if that one is not
/// evacuated yet (the step every `mapaccess` function of map.go and the fast
/// files repeats; gomap keeps it once).
///
/// # Safety
/// 1. `h` is a live map of type `t`, not written by another thread during
///    the call;
/// 2. `h.buckets` is not null.
#[inline(always)]
pub(crate) unsafe fn lookup_bucket(t: &MapType, h: &HMap, hash: usize) -> *mut u8 {
    let bb = h.b;
    let m = bucket_mask(bb);
    // gomap: B before the arrays (`HMap::b`).
    core::sync::atomic::fence(Ordering::Acquire);
    // SAFETY: 1. `h.buckets` is the map's array of `2^B` buckets of `t`
    // (points 1 and 2), and `hash & m < 2^B`.
    let mut b = unsafe { bucket_at(t, h.buckets, hash & m) };
    // A doubling grow's old array is half as big: one bit fewer selects
    // its bucket (`old_array`'s mask).
    if let Some((c, m)) = h.old_array(bb) {
        // SAFETY: 1. `c` is the old array of buckets of `t` (point 1):
        // `2^(B-1)` of them when doubling (`m` lost its top bit), `2^B` for
        // a same-size grow; `hash & m` is below that.
        let oldb = unsafe { bucket_at(t, c, hash & m) };
        // SAFETY: 1. `oldb` is a bucket (`bucket_at`, just above).
        if !unsafe { evacuated(oldb) } {
            b = oldb;
        }
    }
    b
}

/// The first slot of the chain at `b` whose tophash is `top` and for which
/// `eq(bucket, slot)` holds, looking no further than the chain's first
/// `emptyRest`; the bucket-and-slot walk of every lookup.
///
/// Go walks i = 0..8 in each bucket and compares the key of every slot whose
/// tophash matches (the fast files: of every slot whose length or value
/// could match), the generic code stopping at the first `emptyRest`. The
/// same slot, from word operations: the matching slots below the first
/// `emptyRest`, in slot order (`top >= MIN_TOP_HASH` never equals a marker).
/// A live slot holding the key carries `tophash(hash)` and precedes the
/// chain's first `emptyRest` (invariants `check_invariants` verifies), so
/// the fast paths find exactly the slot Go's loops return, and most misses
/// read only the tophash word.
///
/// `eq` is called with a bucket of the chain and a slot `i < 8` whose
/// tophash is `top`.
///
/// # Safety
/// 1. `b` is null or a bucket of `t` of a live map, whose chain is not
///    written by another thread during the call.
#[inline(always)]
pub(crate) unsafe fn find_in_chain(
    t: &MapType,
    mut b: *mut u8,
    top: u8,
    mut eq: impl FnMut(*mut u8, usize) -> bool,
) -> Option<(*mut u8, usize)> {
    while !b.is_null() {
        // SAFETY: 1. `b` is a bucket of `t` (point 1): its `tophash[8]`
        // is readable, and it is 8-aligned.
        let w = unsafe { tophash_word(b) };
        let mut scan = TopScan::new(w, top);
        for i in scan.by_ref() {
            if eq(b, i) {
                return Some((b, i));
            }
        }
        if scan.chain_ends {
            break;
        }
        // SAFETY: 1. `b` is a bucket of `t` (point 1; the next one is too).
        b = unsafe { overflow(t, b) };
    }
    None
}

/// The lookup shared by the three `mapaccess` functions: the bucket for
/// `hash` ([`lookup_bucket`]), then its chain ([`find_in_chain`]). Returns
/// the key and elem, or nulls.
///
/// # Safety
/// 1. `h` is a live map of type `t`, not empty;
/// 2. `key` is a key of `t`.
#[inline(always)]
unsafe fn lookup(t: &MapType, h: &HMap, key: *const u8, hash: usize) -> (*mut u8, *mut u8) {
    // SAFETY: 1. a live map of type `t` (point 1), with a bucket array: a
    // map holding entries has one.
    let b = unsafe { lookup_bucket(t, h, hash) };
    let eq = |b, i| {
        // SAFETY: 1. `find_in_chain` passes a bucket of `t` of the chain;
        // 2. and a slot `i < 8`.
        let k = unsafe { key_of(t, b, i) };
        // SAFETY: `key` is a key of `t` (point 2); `k` is the key of a
        // filled slot (its tophash is `top`, not a marker), a key of `t`.
        unsafe { t.key_equal(key, k) }
    };
    // SAFETY: 1. `b` is a bucket of `t` of the live map (point 1); `eq`
    // only reads the key slot it is given.
    match unsafe { find_in_chain(t, b, tophash(hash), eq) } {
        Some((b, i)) => {
            // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8` (returned by
            // `find_in_chain`).
            let k = unsafe { key_of(t, b, i) };
            // SAFETY: 1. and 2. as for `key_of`.
            let e = unsafe { elem_of(t, b, i) };
            (k, e)
        }
        None => (ptr::null_mut(), ptr::null_mut()),
    }
}

/// `v := m[k]` (`mapaccess1`, :415): a pointer to the elem, or to the shared
/// zero value if the key is absent. Never null. For elems larger than
/// [`ZERO_VAL_SIZE`] or aligned above [`ZERO_VAL_ALIGN`] use
/// [`mapaccess1_fat`].
///
/// The result is valid until the next write to the map.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `key` is a key of `t`.
pub unsafe fn mapaccess1(t: &MapType, h: *const HMap, key: *const u8) -> Result<*const u8, MapError> {
    // SAFETY: 1. `h` is null or a live map of type `t`, not being written
    // (point 1); 2. `key` is a key of `t` (point 2).
    let (e, _) = unsafe { mapaccess2(t, h, key) }?;
    Ok(e)
}

/// `v, ok := m[k]` (`mapaccess2`, :485).
///
/// The result is valid until the next write to the map.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `key` is a key of `t`.
pub unsafe fn mapaccess2(t: &MapType, h: *const HMap, key: *const u8) -> Result<(*const u8, bool), MapError> {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised;
    // the shared reference lives for this call, during which no one writes
    // the map (point 1).
    let Some(h) = (unsafe { h.as_ref() }) else {
        // SAFETY: 1. `key` is a key of `t` (point 2).
        unsafe { map_key_error(t, key) }?;
        return Ok((zero_val(), false));
    };
    if h.count == 0 {
        // SAFETY: 1. `key` is a key of `t` (point 2).
        unsafe { map_key_error(t, key) }?;
        return Ok((zero_val(), false));
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    // SAFETY: 1. `key` is a key of `t` (point 2).
    unsafe { map_key_error(t, key) }?;
    // SAFETY: 1. `key` is a key of `t` (point 2).
    let hash = unsafe { t.hash(key, h.hash0 as usize) };
    // SAFETY: 1. a live map of type `t` (point 1), not empty (checked);
    // 2. `key` is a key of `t` (point 2).
    let (_, e) = unsafe { lookup(t, h, key, hash) };
    if e.is_null() { Ok((zero_val(), false)) } else { Ok((e, true)) }
}

/// gomap: Go's read check (`hashWriting` set: "concurrent map read and
/// map write"; mapaccess1, map_noswiss.go:434) repeated after a lookup, for
/// callers that hand the map to code that may race (the C ABI calls it
/// after each `mapaccess1`/`mapaccess2`, generic and fast). Go checks
/// only before the lookup; a writer that started during it is caught here
/// too, so fewer racing reads go unnoticed. The acquire fence keeps the
/// lookup's loads before the flag's. Two instructions on x86 (a test of
/// the flag byte in memory and a branch); safe Rust cannot race on a
/// `GoMap`, so the typed wrapper does not pay even that.
///
/// # Safety
/// 1. `h` is a live map.
#[inline(always)]
pub unsafe fn recheck_read(h: NonNull<HMap>) {
    core::sync::atomic::fence(Ordering::Acquire);
    // SAFETY: a live map (point 1): aligned, initialised; only its atomic
    // flags are read.
    if unsafe { h.as_ref() }.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
}

/// Returns both the stored key and elem, or nulls (`mapaccessK`, :547).
/// Used by iterators to re-find entries that moved. Does not check for
/// concurrent writes (Go's does not either: iterators call it mid-write).
///
/// The results are valid until the next write to the map.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `key` is a key of `t` (it may point into the map's buckets).
#[doc(alias = "mapaccessK")]
pub unsafe fn mapaccess_k(t: &MapType, h: *const HMap, key: *const u8) -> (*mut u8, *mut u8) {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised;
    // no one writes it during this call (point 1).
    let Some(h) = (unsafe { h.as_ref() }) else { return (ptr::null_mut(), ptr::null_mut()) };
    if h.count == 0 {
        return (ptr::null_mut(), ptr::null_mut());
    }
    // SAFETY: 1. `key` is a key of `t` (point 2).
    let hash = unsafe { t.hash(key, h.hash0 as usize) };
    // SAFETY: 1. a live map of type `t` (point 1), not empty (checked);
    // 2. `key` is a key of `t` (point 2).
    unsafe { lookup(t, h, key, hash) }
}

/// [`mapaccess1`] with a caller-supplied zero value, for big elems
/// (`mapaccess1_fat`, :590).
///
/// The result is valid until the next write to the map (or, for `zero`,
/// as long as the caller keeps it).
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `key` is a key of `t`;
/// 3. `zero` points to a zero elem of `t` (it is returned, not read).
pub unsafe fn mapaccess1_fat(
    t: &MapType,
    h: *const HMap,
    key: *const u8,
    zero: *const u8,
) -> Result<*const u8, MapError> {
    // SAFETY: 1. `h` is null or a live map of type `t`, not being written
    // (point 1); 2. `key` is a key of `t` (point 2).
    let (e, ok) = unsafe { mapaccess2(t, h, key) }?;
    Ok(if ok { e } else { zero })
}

/// [`mapaccess2`] with a caller-supplied zero value (`mapaccess2_fat`, :598).
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `key` is a key of `t`;
/// 3. `zero` points to a zero elem of `t` (it is returned, not read).
pub unsafe fn mapaccess2_fat(
    t: &MapType,
    h: *const HMap,
    key: *const u8,
    zero: *const u8,
) -> Result<(*const u8, bool), MapError> {
    // SAFETY: 1. `h` is null or a live map of type `t`, not being written
    // (point 1); 2. `key` is a key of `t` (point 2).
    let (e, ok) = unsafe { mapaccess2(t, h, key) }?;
    Ok(if ok { (e, true) } else { (zero, false) })
}

/// gomap helper, no Go twin: [`mapaccess_k`] for a query that is not a key
/// of `t` (a `&str` looking up `String` keys): the caller hashes the query
/// with the map's seed (`hash(seed)`, called only for a map holding
/// entries, as [`mapaccess2`] hashes only then) and says which stored key
/// equals it (`eq(k)`, called with keys of `t` whose tophash matches).
/// Returns the stored key and elem, or nulls. Like [`mapaccess2`], it
/// reports a write running at the same time.
///
/// The results are valid until the next write to the map.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `hash` returns what `t.hash` returns for the keys `eq` accepts, under
///    the same seed (so a key equal to the query lies in the probed chain).
#[inline(always)]
pub(crate) unsafe fn mapaccess_k_by(
    t: &MapType,
    h: *const HMap,
    hash: impl FnOnce(usize) -> usize,
    mut eq: impl FnMut(*const u8) -> bool,
) -> (*mut u8, *mut u8) {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised;
    // no one writes it during this call (point 1).
    let Some(h) = (unsafe { h.as_ref() }) else { return (ptr::null_mut(), ptr::null_mut()) };
    if h.count == 0 {
        return (ptr::null_mut(), ptr::null_mut());
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_READ_WRITE);
    }
    let hash = hash(h.hash0 as usize);
    // SAFETY: 1. a live map of type `t` (point 1) with entries, so with a
    // bucket array; 2. not null for the same reason.
    let b = unsafe { lookup_bucket(t, h, hash) };
    let found = |b, i| {
        // SAFETY: 1. `find_in_chain` passes a bucket of `t` of the chain;
        // 2. and a slot `i < 8`.
        eq(unsafe { key_of(t, b, i) })
    };
    // SAFETY: 1. `b` is a bucket of `t` of the live map (point 1); `found`
    // only reads the key slot it is given.
    match unsafe { find_in_chain(t, b, tophash(hash), found) } {
        Some((b, i)) => {
            // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8` (returned by
            // `find_in_chain`).
            let k = unsafe { key_of(t, b, i) };
            // SAFETY: 1. and 2. as for `key_of`.
            let e = unsafe { elem_of(t, b, i) };
            (k, e)
        }
        None => (ptr::null_mut(), ptr::null_mut()),
    }
}

// ---------------------------------------------------------------------------
// Assign and delete (map_noswiss.go:620-879)
// ---------------------------------------------------------------------------

impl HMap {
    /// Gives the map its first bucket if it has no bucket array (made with
    /// B = 0, or shrunk to nothing): Go allocates the one bucket in the
    /// first write that stores an entry (`mapassign`, map_noswiss.go:645-647; the same lines in
    /// `mapassign_fast32`/`fast64`, map_fast{32,64}_noswiss.go:131-133,
    /// `mapassign_faststr`, map_faststr_noswiss.go:242-244, and `mapclone2`,
    /// :1679 and :1686). If the allocation fails the map is unchanged.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, under a write (or private to the
    ///    caller, as a clone under construction).
    #[inline(always)]
    pub(crate) unsafe fn ensure_buckets(&mut self, t: &MapType) -> Result<(), MapError> {
        if self.buckets.is_null() {
            // SAFETY: 1. a live map of type `t`, under a write or private
            // (point 1).
            return unsafe { self.alloc_first_bucket(t) };
        }
        Ok(())
    }

    /// The allocation of [`HMap::ensure_buckets`], once per map: out of line.
    ///
    /// # Safety
    /// 1. `self` is a live map of type `t`, under a write (or private to the
    ///    caller).
    #[cold]
    #[inline(never)]
    unsafe fn alloc_first_bucket(&mut self, t: &MapType) -> Result<(), MapError> {
        // SAFETY: 1. the map's own allocator, valid while the map is live
        // (point 1).
        let b = unsafe { alloc::alloc_reusable(&self.alloc, t.bucketsize(), 8, Kind::Array) }
            .ok_or(MapError::AllocFailed)?;
        // A one-bucket array (B = 0): no preallocated overflow buckets.
        self.buckets = b.as_ptr();
        Ok(())
    }
}

/// `m[k] = v`, first half (`mapassign`, :620): finds or makes the slot for
/// `key` and returns its elem slot, for the caller to write the elem into.
/// A new key's bytes are copied into the map; an existing key's are too
/// when the type needs key updates (floats: +0 replaced by -0).
///
/// Errors: nil map (`h` null), unhashable key, allocation failure; in each
/// case the map's contents are unchanged.
///
/// The returned slot is valid until the next write to the map.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t` that no other thread
///    reads or writes during the call (the call puts it under a write);
/// 2. `key` is a key of `t`, not pointing into the map's own memory (its
///    buckets or out-of-line blocks).
pub unsafe fn mapassign(t: &MapType, h: *mut HMap, key: *const u8) -> Result<Slot, MapError> {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised,
    // and used by no one else during this call, so the exclusive reference
    // aliases nothing.
    let Some(h) = (unsafe { h.as_mut() }) else { return Err(MapError::NilMapAssign) };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: 1. `key` is a key of `t` (point 2).
    unsafe { map_key_error(t, key) }?;
    // SAFETY: 1. `key` is a key of `t` (point 2).
    let hash = unsafe { t.hash(key, h.hash0 as usize) };

    // Mark the write only now: if the hasher fails, nothing was written.
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    // SAFETY: 1. a live map of type `t` (point 1), under this write.
    unsafe { h.ensure_buckets(t) }?;

    let mut inserted = false;
    let elem: *mut u8;
    'done: {
        'again: loop {
            let bucket = hash & bucket_mask(h.b);
            if h.growing() {
                // SAFETY: the map is growing (checked) and `t` is its type
                // (point 1).
                unsafe { h.reserve_grow_work(t, bucket, 1) }?;
                // SAFETY: 1. a live map of type `t`, growing (checked), under
                // this write; 2. reserved just above, for this `bucket`.
                unsafe { grow_work(t, &mut h, bucket) }?;
            }
            // SAFETY: 1. `h.buckets` is the map's array of `2^B` buckets of
            // `t` (`ensure_buckets` made sure there is one), and `bucket` is
            // masked below `2^B`.
            let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
            let top = tophash(hash);

            let mut inserti: *mut u8 = ptr::null_mut();
            let mut insertk: *mut u8 = ptr::null_mut();
            let mut inserte: *mut u8 = ptr::null_mut();
            'bucketloop: loop {
                // Go's loop over the 8 slots, a word at a time (see
                // `crate::scan`): it stops at the first `emptyRest`,
                // compares the keys of the slots before it whose tophash is
                // `top` (never an empty marker: `top >= MIN_TOP_HASH`), in
                // order, and remembers the chain's first empty slot.
                // SAFETY: [`tophash_word`]: `b` is a bucket of `t` of the
                // chain.
                let w = unsafe { tophash_word(b) };
                let mut scan = TopScan::new(w, top);
                for i in scan.by_ref() {
                    // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8` (a slot
                    // of the scan).
                    let k = unsafe { key_of(t, b, i) };
                    // SAFETY: `key` is a key of `t` (point 2); slot `i` is
                    // filled (its tophash is `top`, not a marker), so `k` is
                    // a key of `t`.
                    if !unsafe { t.key_equal(key, k) } {
                        continue;
                    }
                    // Found: an update. Float-like keys take the new key's bits.
                    if t.need_key_update() {
                        // SAFETY: `k` is a live key value of this map, being
                        // discarded: overwritten just below.
                        unsafe { h.drop_key_value(t, k) }?;
                        // SAFETY: 1. `key` is readable for `t.key.size` bytes
                        // (point 2); 2. `k` is the stored key, writable for
                        // as many (the key slot, or its out-of-line block),
                        // under this write.
                        unsafe { memmove(k, key, t.key.size) };
                    }
                    // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`.
                    elem = unsafe { elem_at(t, b, i) };
                    break 'done;
                }
                if inserti.is_null() {
                    if let Some(i) = first_empty_slot(w) {
                        // SAFETY: `b.add(i)` is `tophash[i]`, inside the
                        // bucket `b` (`i < 8`).
                        inserti = unsafe { b.add(i) };
                        // SAFETY: 1. `b` is a bucket of `t` of the chain; 2.
                        // `i < 8`.
                        insertk = unsafe { key_at(t, b, i) };
                        // SAFETY: 1. and 2. as for `key_at`.
                        inserte = unsafe { elem_at(t, b, i) };
                    }
                }
                if scan.chain_ends {
                    break 'bucketloop;
                }
                // SAFETY: 1. `b` is a bucket of `t`.
                let ovf = unsafe { overflow(t, b) };
                if ovf.is_null() {
                    break;
                }
                b = ovf;
            }

            // The key is new: it needs a slot.

            // Go grows before inserting when one more entry would pass 6.5
            // per bucket or overflow buckets have piled up, unless a growth
            // is already under way; the table changed, so search again.
            if !h.growing()
                && (over_load_factor(h.count as isize + 1, h.b) || too_many_overflow_buckets(h.noverflow, h.b))
            {
                // SAFETY: 1. a live map of type `t` (point 1), not growing
                // (checked), under this write.
                unsafe { hash_grow(t, &mut h) }?;
                continue 'again;
            }

            // Out-of-line storage first (Go allocates it after `newoverflow`,
            // :713-721), so that a failure leaves no trace: the blocks are the
            // write's until the slot points to them, and their guards free
            // them on any early exit (a failed `newoverflow` below).
            let kmem = if t.indirect_key() {
                // SAFETY: 1. the map's own allocator, valid while the map is
                // live (point 1); 2. a validated alignment, a power of two.
                Some(unsafe { OwnedBlock::alloc_reusable(&h.alloc, t.key.size, t.key.align) }?)
            } else {
                None
            };
            let vmem = if t.indirect_elem() {
                // SAFETY: 1. the map's own allocator, valid while the map is
                // live (point 1); 2. a validated alignment, a power of two.
                Some(unsafe { OwnedBlock::alloc_reusable(&h.alloc, t.elem.size, t.elem.align) }?)
            } else {
                None
            };

            if inserti.is_null() {
                // No free slot anywhere in the chain: hang a new overflow
                // bucket off its end and use its first slot.
                // SAFETY: 1. a live map of type `t` (point 1), under this
                // write; 2. `b` is the chain's last bucket (the walk above
                // stopped at a null overflow pointer, or at `emptyRest` with
                // a free slot, so `inserti` would not be null). While growing
                // the reserve makes this infallible; else it fails cleanly.
                let newb = unsafe { h.newoverflow(t, b) }?;
                inserti = newb;
                // SAFETY: 1. `newb` is a bucket of `t` (`newoverflow`
                // returned it); 2. `0 < 8`.
                insertk = unsafe { key_at(t, newb, 0) };
                // SAFETY: 1. and 2. as for `key_at`.
                inserte = unsafe { elem_at(t, newb, 0) };
            }

            // Fill the slot: out-of-line pointers (the slot owns the blocks
            // from here: nothing below can fail), key bytes, then the tophash.
            if let Some(kmem) = kmem {
                let kmem = kmem.publish().as_ptr();
                // SAFETY: 1. `insertk` is a key slot of a bucket of the map
                // and `t` has indirect keys: an out-of-line slot; 2. under
                // this write.
                unsafe { write_slot_ptr(insertk, kmem) };
                insertk = kmem;
            }
            if let Some(vmem) = vmem {
                // SAFETY: 1. `inserte` is an elem slot of a bucket of the map
                // and `t` has indirect elems: an out-of-line slot; 2. under
                // this write.
                unsafe { write_slot_ptr(inserte, vmem.publish().as_ptr()) };
            }
            // SAFETY: 1. `key` is readable for `t.key.size` bytes (point 2);
            // 2. `insertk` is the free key slot, or the fresh block it points
            // to, writable for as many.
            unsafe { memmove(insertk, key, t.key.size) };
            // SAFETY: `inserti` is `tophash[i]` of the bucket holding the
            // free slot (`b.add(i)`, or slot 0 of `newb`): valid for writes
            // of one byte, under this write.
            unsafe { inserti.write(top) };
            h.count += 1;
            inserted = true;
            elem = inserte;
            break 'done;
        }
    }

    h.end_writing();
    // SAFETY: 1. `t` has indirect elems, so `elem`, an elem slot of a bucket
    // of the map, is an out-of-line slot (pointing to a live block: the
    // entry is filled).
    let e = if t.indirect_elem() { unsafe { deref_live(elem, CONCURRENT_WRITES) } } else { elem };
    // SAFETY: `e` is a slot address inside a bucket, or the out-of-line block
    // a filled slot points to: never null (`deref_live` checked it).
    Ok(Slot { elem: unsafe { NonNull::new_unchecked(e) }, inserted })
}

/// `delete(m, k)` (`mapdelete`, :746). Turns the slot into `emptyOne`, then
/// walks backwards turning trailing `emptyOne`s into `emptyRest` across the
/// chain; draws a new seed when the map becomes empty.
///
/// Errors: unhashable key; allocation failure (only possible while growth
/// work needs an overflow bucket, or for a deferred key drop): the map's
/// contents are then unchanged.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t` that no other thread
///    reads or writes during the call (the call puts it under a write);
/// 2. `key` is a key of `t`.
pub unsafe fn mapdelete(t: &MapType, h: *mut HMap, key: *const u8) -> Result<(), MapError> {
    // SAFETY: 1. point 1; 2. point 2; 3. `out` is null: the elem is
    // dropped.
    unsafe { mapdelete_into(t, h, key, ptr::null_mut()) }.map(|_| ())
}

/// [`mapdelete`] that moves the deleted entry's elem to `out` instead of
/// dropping it (when `out` is not null) and reports whether an entry was
/// deleted (gomap: one lookup for a typed `remove`, where Go's `delete`
/// returns nothing). The decisions and the map's state are exactly
/// [`mapdelete`]'s.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t` that no other thread
///    reads or writes during the call (the call puts it under a write);
/// 2. `key` is a key of `t`;
/// 3. `out` is null, or valid for writes of one elem of `t`
///    (`t.elem().size` bytes) and not overlapping the map (what it held is
///    overwritten, not dropped).
#[doc(alias = "mapdelete")]
pub unsafe fn mapdelete_into(t: &MapType, h: *mut HMap, key: *const u8, out: *mut u8) -> Result<bool, MapError> {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised,
    // and used by no one else during this call.
    let Some(h) = (unsafe { h.as_mut() }) else {
        // SAFETY: 1. `key` is a key of `t` (point 2).
        return unsafe { map_key_error(t, key) }.map(|()| false);
    };
    if h.count == 0 {
        // SAFETY: 1. `key` is a key of `t` (point 2).
        return unsafe { map_key_error(t, key) }.map(|()| false);
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // SAFETY: 1. `key` is a key of `t` (point 2).
    unsafe { map_key_error(t, key) }?;
    // SAFETY: 1. `key` is a key of `t` (point 2).
    let hash = unsafe { t.hash(key, h.hash0 as usize) };

    // Mark the write only after hashing (the hasher may fail).
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();

    let bucket = hash & bucket_mask(h.b);
    if h.growing() {
        // SAFETY: the map is growing (checked) and `t` is its type (point 1).
        unsafe { h.reserve_grow_work(t, bucket, 0) }?;
        // SAFETY: 1. a live map of type `t`, growing (checked), under this
        // write; 2. reserved just above, for this `bucket`.
        unsafe { grow_work(t, &mut h, bucket) }?;
    }
    // SAFETY: 1. `h.buckets` is the map's array of `2^B` buckets of `t` (a
    // map with entries has one), and `bucket` is masked below `2^B`.
    let mut b = unsafe { bucket_at(t, h.buckets, bucket) };
    let b_orig = b;
    let top = tophash(hash);
    let mut found = false;
    'search: while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: 1. `b` is a bucket of the chain; 2. `i < 8`: the loop
            // bound.
            let thi = unsafe { th(b, i) };
            if thi != top {
                if thi == EMPTY_REST {
                    break 'search;
                }
                continue;
            }
            // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`.
            let k = unsafe { key_at(t, b, i) };
            // SAFETY: 1. `t` has indirect keys: `k` is an out-of-line key
            // slot.
            let k2 = if t.indirect_key() { unsafe { deref_slot(k) } } else { k };
            // SAFETY: `key` is a key of `t` (point 2); slot `i` is filled
            // (its tophash is `top`, not a marker), so `k2` is a key of `t`.
            if !unsafe { t.key_equal(key, k2) } {
                continue;
            }
            // Release the key first: it is the only step that can fail.
            // SAFETY: `k` is a live key slot of this map (filled), whose
            // entry is being removed.
            unsafe { h.release_key(t, k) }?;
            // Zero the key only where stale bytes could pin memory (pointers);
            // the elem is always zeroed, as Go does.
            if t.indirect_key() {
                // SAFETY: 1. `k` is an out-of-line key slot (`t` has
                // indirect keys); 2. under this write.
                unsafe { write_slot_ptr(k, ptr::null_mut()) };
            } else if t.key.pointers {
                // SAFETY: 1. `k` is an inline key slot, writable for
                // `t.key.size` bytes inside the bucket, under this write.
                unsafe { memclr(k, t.key.size) };
            }
            // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`.
            let e = unsafe { elem_at(t, b, i) };
            // SAFETY: `e` is the live elem slot of the entry being removed;
            // `out` is null or valid for writing one elem (point 3).
            unsafe { h.release_elem_into(t, e, out) };
            if t.indirect_elem() {
                // SAFETY: 1. `e` is an out-of-line elem slot (`t` has
                // indirect elems); 2. under this write.
                unsafe { write_slot_ptr(e, ptr::null_mut()) };
            } else {
                // SAFETY: 1. `e` is an inline elem slot, writable for
                // `t.elem.size` bytes inside the bucket, under this write.
                unsafe { memclr(e, t.elem.size) };
            }
            // SAFETY: 1. a live map of type `t`, under this write; 2. `b` is
            // on the chain starting at `b_orig` (walked from it); 3. slot
            // `i < 8` of `b` held the entry just removed.
            unsafe { delete_slot(t, &mut h, b_orig, b, i) };
            found = true;
            break 'search;
        }
        // SAFETY: 1. `b` is a bucket of `t`.
        b = unsafe { overflow(t, b) };
    }

    let h = h.end_writing();
    if h.shrink_policy.is_some() {
        // SAFETY: `h` is a live map of type `t` (point 1), just written by
        // this delete.
        unsafe { crate::shrink::after_delete(t, h) };
    }
    Ok(found)
}

/// The end of every delete (`mapdelete` :813-855 and its fast twins): marks
/// slot `i` of bucket `b` empty; if nothing live follows it in the chain
/// that starts at `b_orig`, walks backwards turning the trailing run of
/// `emptyOne` into `emptyRest`, so searches stop early; then counts the
/// entry out and draws a fresh seed once the map is empty (golang/go#25237:
/// keys an attacker found colliding stop colliding).
///
/// # Safety
/// 1. `h` is a live map of type `t`, under a write;
/// 2. `b_orig` is the first bucket of one of its chains (a bucket of the
///    current array), and `b` a bucket on that chain;
/// 3. slot `i < BUCKET_CNT` of `b` held the entry just removed.
#[inline(always)]
pub(crate) unsafe fn delete_slot(t: &MapType, h: &mut HMap, b_orig: *mut u8, mut b: *mut u8, i: usize) {
    // SAFETY: 1. `b` is a bucket (point 2); 2. `i < 8` (point 3); 3. under a
    // write (point 1).
    unsafe { set_th(b, i, EMPTY_ONE) };
    'not_last: {
        if i == BUCKET_CNT - 1 {
            // SAFETY: 1. `b` is a bucket of `t` (point 2).
            let ovf = unsafe { overflow(t, b) };
            // SAFETY: 1. a non-null `ovf` is the next bucket of the chain;
            // 2. `0 < 8`.
            if !ovf.is_null() && unsafe { th(ovf, 0) } != EMPTY_REST {
                break 'not_last;
            }
        // SAFETY: 1. `b` is a bucket (point 2); 2. `i + 1 < 8` (`i` is not
        // the last slot).
        } else if unsafe { th(b, i + 1) } != EMPTY_REST {
            break 'not_last;
        }
        let mut i = i;
        loop {
            // SAFETY: 1. `b` is a bucket of the chain; 2. `i < 8` (point 3,
            // or 7 after a step back, or decremented from a positive
            // value); 3. under a write (point 1).
            unsafe { set_th(b, i, EMPTY_REST) };
            if i == 0 {
                if b == b_orig {
                    break; // reached slot 0 of the chain's first bucket
                }
                // Step back to the bucket before `c` (chains are singly
                // linked: walk from the start) and its last slot.
                let c = b;
                b = b_orig;
                // SAFETY: 1. `b` walks the chain from `b_orig` (point 2),
                // and stops before `c`, which is on it and not its first.
                while unsafe { overflow(t, b) } != c {
                    // SAFETY: 1. as above: a bucket of the chain before `c`.
                    b = unsafe { overflow(t, b) };
                }
                i = BUCKET_CNT - 1;
            } else {
                i -= 1;
            }
            // SAFETY: 1. `b` is a bucket of the chain; 2. `i < 8`.
            if unsafe { th(b, i) } != EMPTY_ONE {
                break;
            }
        }
    }
    h.count -= 1;
    if h.count == 0 {
        h.hash0 = crate::rand::rand() as u32;
    }
}

// ---------------------------------------------------------------------------
// Iteration (map_noswiss.go:881-1068)
// ---------------------------------------------------------------------------

/// Starts an iteration (`mapiterinit`, :881): draws the random start bucket
/// and slot offset, marks the map as iterated, and advances to the first
/// entry (`it.key` null if none). The iterator must be ended with
/// [`mapiterend`] (or run to its end) before the map is freed.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t`, not written by
///    another thread during the call;
/// 2. `it` is not a registered iterator (a fresh or ended `HIter`);
/// 3. `t` and the map stay alive while `it` is a registered iterator (until
///    [`mapiterend`], or [`mapiternext`] reaching the end).
pub unsafe fn mapiterinit(t: &MapType, h: *mut HMap, it: &mut HIter) {
    // SAFETY: this function's points are `iter_start`'s; `borrowed` false
    // asks for nothing more.
    unsafe { iter_start(t, h, it, false) }
}

/// gomap: [`mapiterinit`] for an iteration that holds a shared borrow of
/// the map for its whole life (`GoMap::iter`, `keys`, `values`,
/// `iter_mut`). No write can run before it ends, so nothing it reaches can
/// be retired: it is neither counted in `live_iters` nor pins a
/// generation, which saves two locked instructions and the pin table's
/// lock at the start and again at the end (measured in docs/memory.md,
/// "Generations and pins"). Draws, flags and results are `mapiterinit`'s.
///
/// # Safety
/// The points of [`mapiterinit`], and:
/// 4. no write to the map (assign, delete, clear, shrink, free) runs until
///    the iteration ends ([`mapiterend`], or [`mapiternext`] reaching the
///    end).
pub(crate) unsafe fn mapiterinit_borrowed(t: &MapType, h: *mut HMap, it: &mut HIter) {
    // SAFETY: this function's points 1-3 are `iter_start`'s, point 4 is
    // what `borrowed` asks for.
    unsafe { iter_start(t, h, it, true) }
}

/// The body of [`mapiterinit`] and [`mapiterinit_borrowed`].
///
/// # Safety
/// The points of [`mapiterinit`]; with `borrowed`, also point 4 of
/// [`mapiterinit_borrowed`].
#[inline(always)]
unsafe fn iter_start(t: &MapType, h: *mut HMap, it: &mut HIter, borrowed: bool) {
    // SAFETY: 1. `it` is not a registered iterator (point 2): the call only
    // checks that (a registered one would be released).
    unsafe { mapiterend(it) };
    *it = HIter::new();
    it.t = t;
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised; no
    // one writes it during this call (point 1).
    let Some(hr) = (unsafe { h.as_ref() }) else { return };
    if hr.count == 0 {
        return;
    }
    it.h = h;
    it.clear_seq = hr.clear_seq;

    // The iterator walks the array as it is now, even if the map grows.
    it.b = hr.b;
    // gomap: B before the array (`HMap::b`).
    core::sync::atomic::fence(Ordering::Acquire);
    it.buckets = hr.buckets;
    if borrowed {
        // gomap: nothing is retired while the borrow lasts (point 4), so
        // the generation stays as it is and needs no pin.
        it.pins = crate::pins::PinRange::at(hr.generation);
        it.borrowed = true;
    } else {
        hr.live_iters.fetch_add(1, Ordering::AcqRel);
        // gomap: pin the generation; `mapiternext` widens the pin to each
        // generation it steps in.
        it.pins = hr.pin(crate::pins::PinRange::at(hr.generation));
    }
    it.registered = true;

    // One draw picks both the first bucket and the slot offset.
    let r = crate::rand::rand() as usize;
    // gomap: `it.b`, not B again (a racing growth may have changed it; the
    // start must index `it.buckets`).
    it.start_bucket = r & bucket_mask(it.b);
    it.offset = ((r >> it.b) & (BUCKET_CNT - 1)) as u8;

    it.bucket = it.start_bucket;

    // Mark the map as iterated (both arrays); several readers may do this
    // at once, hence the atomic or.
    let old = hr.flags();
    if old & (ITERATOR | OLD_ITERATOR) != ITERATOR | OLD_ITERATOR {
        hr.flags.fetch_or(ITERATOR | OLD_ITERATOR, Ordering::Relaxed);
    }

    // SAFETY: 1. `it` was just started on a live map of type `t`, and is
    // registered: its map and type stay alive (point 3); 2. no one writes
    // the map during this call (point 1).
    unsafe { mapiternext(it) };
}

/// Advances to the next entry (`mapiternext`, :941); `it.key` becomes null
/// at the end, and the iterator then ends itself (as [`mapiterend`]).
///
/// Entries are produced in bucket order from the random start, each bucket
/// from the random offset. During growth, an iterator that started at the
/// current size walks old buckets that are not evacuated yet, producing only
/// the entries that will land in the new bucket it stands for
/// (`checkBucket`); entries that moved are looked up again, so their current
/// value is produced, and skipped if deleted.
///
/// # Safety
/// 1. `it` is a fresh `HIter`, or one [`mapiterinit`] started; if it is a
///    registered iterator, its map and type are still alive;
/// 2. its map is not written by another thread during the call.
pub unsafe fn mapiternext(it: &mut HIter) {
    let hp = it.h;
    if hp.is_null() || !it.registered {
        it.key = ptr::null_mut();
        it.elem = ptr::null_mut();
        return;
    }
    // SAFETY: a registered iterator's map is a live map (point 1), set by
    // `mapiterinit`: aligned, initialised; not written meanwhile (point 2).
    let h = unsafe { &*hp };
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_ITER_WRITE);
    }
    // SAFETY: a registered iterator's type is alive (point 1), set by
    // `mapiterinit` from a `&MapType`.
    let t = unsafe { &*it.t };
    if it.pins.hi != h.generation && it.pins != crate::pins::PinRange::ALL && !it.borrowed {
        // gomap: the map moved on since the last step; pin the generations
        // up to now before reading anything (this step may read the
        // current old array, or follow chains hung in since).
        let wider = crate::pins::PinRange { lo: it.pins.lo, hi: h.generation };
        it.pins = h.repin(it.pins, wider);
    }
    let mut bucket = it.bucket;
    let mut b = it.bptr;
    let mut i = it.i as usize;
    let mut check_bucket = it.check_bucket;

    'next: loop {
        if b.is_null() {
            if bucket == it.start_bucket && it.wrapped {
                // Back at the start after wrapping: done.
                it.key = ptr::null_mut();
                it.elem = ptr::null_mut();
                // SAFETY: 1. `it` is registered, and its map and type are
                // alive (point 1).
                unsafe { mapiterend(it) };
                return;
            }
            let old = if it.b == h.b { h.old_array(it.b) } else { None };
            if let Some((c, oldmask)) = old {
                // Same B as the map and a growth in progress: new bucket
                // `bucket` may still be empty because its old bucket has not
                // moved yet. Then read the old bucket instead, keeping only
                // the entries that will land in `bucket` (check_bucket).
                let oldbucket = bucket & oldmask;
                // SAFETY: 1. `c` is the map's old array of `oldmask + 1`
                // buckets of `t` (growing; `old_array`), and `oldbucket` is
                // masked below that.
                b = unsafe { bucket_at(t, c, oldbucket) };
                // SAFETY: 1. `b` is a bucket (`bucket_at`, just above).
                if !unsafe { evacuated(b) } {
                    check_bucket = bucket;
                } else {
                    // SAFETY: 1. `it.buckets` is the array of `2^it.b`
                    // buckets of `t` the iteration started on, still
                    // allocated (see below), and `bucket < 2^it.b`.
                    b = unsafe { bucket_at(t, it.buckets, bucket) };
                    check_bucket = NO_CHECK;
                }
            } else {
                // SAFETY: 1. `it.buckets` is the array of `2^it.b` buckets of
                // `t` the iteration started on, still allocated (the map's
                // current or old array, or retired and kept while this
                // iterator is registered), and `bucket < 2^it.b`.
                b = unsafe { bucket_at(t, it.buckets, bucket) };
                check_bucket = NO_CHECK;
            }
            bucket += 1;
            if bucket == bucket_shift(it.b) {
                bucket = 0;
                it.wrapped = true;
            }
            i = 0;
        }
        while i < BUCKET_CNT {
            // Go visits i = 0..8 and skips empty and evacuatedEmpty slots one
            // by one; we jump straight to the next slot it would not skip.
            // Slot `offi = (i + offset) & 7` is bit `i` of the rotated mask.
            // (emptyRest cannot end the bucket early here: the walk starts at
            // a random offset and wraps.)
            // SAFETY: 1. `b` is a bucket of `t` (live, or retired and still
            // allocated while this iterator is registered): its
            // `tophash[8]` readable, 8-aligned.
            let w = unsafe { tophash_word(b) };
            let live = (iter_slots(w) as u8).rotate_right(it.offset as u32) as u32;
            let ahead = live >> i;
            if ahead == 0 {
                break;
            }
            i += ahead.trailing_zeros() as usize;
            let offi = (i + it.offset as usize) & (BUCKET_CNT - 1);
            // SAFETY: 1. `b` is a bucket (as above); 2. `offi` is masked
            // below 8.
            let top = unsafe { th(b, offi) };
            debug_assert!(!is_empty(top) && top != EVACUATED_EMPTY);
            // SAFETY: 1. `b` is a bucket of `t`; 2. `offi < 8`.
            let k = unsafe { key_of(t, b, offi) };
            // SAFETY: 1. `b` is a bucket of `t`; 2. `offi < 8`.
            let e = unsafe { elem_at(t, b, offi) };
            // Slot `offi` is filled, or evacuated with its bytes kept for
            // iterators (`OLD_ITERATOR` is set: this iterator set it, or
            // `hash_grow` carried it over), so `k` is a key of `t`: a live
            // one, or a stale copy whose storage and drop wait for the old
            // array to go or for the last iterator to end (docs/memory.md).
            if check_bucket != NO_CHECK && !h.same_size_grow() {
                // Reading an unevacuated old bucket during a doubling: skip
                // entries bound for the other half (X vs Y).
                // SAFETY: `k` is a key of `t` (see above), both times.
                if t.reflexive_key() || unsafe { t.key_equal(k, k) } {
                    // SAFETY: 1. `k` is a key of `t` (see above).
                    let hash = unsafe { t.hash(k, h.hash0 as usize) };
                    if hash & bucket_mask(it.b) != check_bucket {
                        i += 1;
                        continue;
                    }
                } else if (check_bucket >> (it.b - 1)) != (top & 1) as usize {
                    // k != k (NaN): its hash cannot be recomputed, so the
                    // tophash's low bit decides, exactly as evacuate will.
                    i += 1;
                    continue;
                }
            }
            let golden = it.clear_seq == h.clear_seq
                && ((top != EVACUATED_X && top != EVACUATED_Y)
                    || !(t.reflexive_key() || {
                        // SAFETY: `k` is a key of `t` (see above), both times.
                        unsafe { t.key_equal(k, k) }
                    }));
            if golden {
                // The slot is authoritative (not moved, no clear since the
                // start) or its key is a NaN, which no write can reach, and
                // which a lookup could never find anyway: produce it as is.
                it.key = k;
                // SAFETY: 1. `t` has indirect elems: `e` is an out-of-line
                // elem slot.
                it.elem = if t.indirect_elem() { unsafe { deref_live(e, CONCURRENT_ITER_WRITE) } } else { e };
            } else {
                // The entry moved (or the map was cleared since the start):
                // look it up in the live map to get its current key and
                // elem, and skip it if it is gone. The key is re-read too:
                // an update may have stored an equal key with other bits
                // (+0.0 replaced by -0.0).
                // SAFETY: 1. `hp` is a live map of type `t` (point 1), not
                // being written (point 2); 2. `k` is a key of `t` (see
                // above), which `mapaccess_k` allows to point into the map.
                let (rk, re) = unsafe { mapaccess_k(t, hp, k) };
                if rk.is_null() {
                    i += 1;
                    continue; // deleted since
                }
                it.key = rk;
                it.elem = re;
            }
            it.bucket = bucket;
            it.bptr = b;
            it.i = (i + 1) as u8;
            it.check_bucket = check_bucket;
            return;
        }
        // SAFETY: 1. `b` is a bucket of `t`.
        b = unsafe { overflow(t, b) };
        i = 0;
        continue 'next;
    }
}

/// Ends an iteration (gomap only: Go's GC does this by forgetting the
/// iterator). Releases the iterator's hold on memory the map retired; the
/// last live iterator frees the retire list, which holds only blocks no part
/// of the map references (storage that stale old slots still point to waits
/// on `oldstorage` for the old array to go, see `HMap::retire_storage`).
/// Idempotent; a no-op on a fresh iterator.
///
/// # Safety
/// 1. If `it` is a registered iterator, its map and type are still alive.
pub unsafe fn mapiterend(it: &mut HIter) {
    if !it.registered {
        return;
    }
    it.registered = false;
    if it.borrowed {
        // Neither counted nor pinning (`mapiterinit_borrowed`).
        it.borrowed = false;
        return;
    }
    // SAFETY: a registered iterator's map is a live map (point 1), set by
    // `mapiterinit`: aligned, initialised; only shared access is made.
    let h = unsafe { &*it.h };
    // SAFETY: a registered iterator's type is alive (point 1), and was set
    // by `mapiterinit` from a `&MapType`: aligned, initialised.
    let t = unsafe { &*it.t };
    // SAFETY: [`HMap::unpin`]: 1. a live map of type `t` (point 1); the
    // iterator held this pin (registered) and reads nothing any more.
    unsafe { h.unpin(t, it.pins) };
    if h.live_iters.fetch_sub(1, Ordering::AcqRel) == 1 {
        // SAFETY: `live_iters` just dropped to 0: no live iterator remains
        // that could reach retired memory (the map itself references
        // nothing on the retire list). A write running concurrently with
        // this would be the misuse point 1's "alive" and Go's
        // concurrent-iteration check exclude.
        unsafe { h.free_retired(t) };
    }
}

// ---------------------------------------------------------------------------
// Clear (map_noswiss.go:1070-1116)
// ---------------------------------------------------------------------------

/// Calls `f(bucket, slot)` for every live entry: the chains of the current
/// array, then those of old buckets not yet evacuated.
///
/// `f` is called with a bucket of `t` of the map and a filled slot `i`.
///
/// # Safety
/// 1. `h` is a live map of type `t`, not written by another thread during
///    the call;
/// 2. `f` does not change the chains (overflow pointers) or tophashes.
pub(crate) unsafe fn for_each_live(t: &MapType, h: &HMap, mut f: impl FnMut(*mut u8, usize)) {
    let mut chain = |mut b: *mut u8| {
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: 1. `b` is a bucket of a chain of the map (points 1
                // and 2); 2. `i < 8`: the loop bound.
                if !is_empty(unsafe { th(b, i) }) {
                    f(b, i);
                }
            }
            // SAFETY: 1. `b` is a bucket of `t`.
            b = unsafe { overflow(t, b) };
        }
    };
    if h.buckets.is_null() {
        return;
    }
    for i in 0..bucket_shift(h.b) {
        // SAFETY: 1. `h.buckets` is the map's array of 2^B buckets of `t`
        // (point 1), `i < 2^B`.
        chain(unsafe { bucket_at(t, h.buckets, i) });
    }
    if h.growing() {
        for i in 0..h.noldbuckets() {
            // SAFETY: 1. `h.oldbuckets` is the map's old array of
            // `noldbuckets()` buckets of `t` (growing), `i` below that.
            let b = unsafe { bucket_at(t, h.oldbuckets, i) };
            // SAFETY: 1. `b` is a bucket (`bucket_at`, just above).
            if !unsafe { evacuated(b) } {
                chain(b);
            }
        }
    }
}

/// Releases every live entry's key and elem (drop hooks, out-of-line storage).
///
/// # Safety
/// 1. `h` is a live map of type `t`, under a write (or private to the
///    caller, as in `mapfree`);
/// 2. all its entries are being removed: no filled slot is used as live
///    again.
#[inline(always)]
pub(crate) unsafe fn release_all(t: &MapType, h: &HMap) {
    // Plain inline keys and elems own nothing: decided here, at no call.
    if t.indirect_key() || t.indirect_elem() || t.key_drop.is_some() || t.elem_drop.is_some() {
        // SAFETY: [`release_all_owned`]: points 1 and 2 are this function's.
        unsafe { release_all_owned(t, h) };
    }
}

/// [`release_all`] for a type whose keys or elems own something.
///
/// # Safety
/// As for [`release_all`].
#[inline(never)]
unsafe fn release_all_owned(t: &MapType, h: &HMap) {
    let release = |b, i| {
        // SAFETY: 1. `for_each_live` passes a bucket of `t` of the map;
        // 2. and a slot `i < 8`.
        let k = unsafe { key_at(t, b, i) };
        // SAFETY: `k` is the key slot of a filled slot of this map (so a
        // live key slot), whose entry is being removed (point 2); each slot
        // is visited once.
        if unsafe { h.release_key(t, k) }.is_err() {
            fatal("out of memory");
        }
        // SAFETY: 1. and 2. as for `key_at`.
        let e = unsafe { elem_at(t, b, i) };
        // SAFETY: `e` is the live elem slot of the same entry, being
        // removed (point 2).
        unsafe { h.release_elem(t, e) };
    };
    // SAFETY: 1. `h` is a live map of type `t`, under a write (point 1);
    // 2. `release` changes no chain or tophash (it releases what slots own,
    // not the slots).
    unsafe { for_each_live(t, h, release) };
}

/// `clear(m)` (`mapclear`, :1070): removes every entry, keeps the bucket
/// array (cleared in place), draws a new seed, and bumps `clear_seq` so live
/// iterators stop producing old entries.
///
/// # Safety
/// 1. `h` is null (a nil map) or a live map of type `t` that no other thread
///    reads or writes during the call (the call puts it under a write).
pub unsafe fn mapclear(t: &MapType, h: *mut HMap) {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised,
    // and used by no one else during this call.
    let Some(h) = (unsafe { h.as_mut() }) else { return };
    if h.count == 0 {
        return;
    }
    if h.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_WRITES);
    }
    // `h` is the write's guard from here: an early exit clears the flag.
    let mut h = h.start_writing();
    // gomap: the overflow buckets this clear cuts off, and the keys of the
    // cleared entries, get a record first if an iterator may be in them.
    h.prepare_clear_record();

    // gomap: give back what the entries own (drop hooks, out-of-line
    // storage). A drop hook may unwind part-way: the guard then still
    // clears the map, so that no value already dropped stays in it to be
    // dropped again; the entries not reached are leaked, not dropped (as
    // hashbrown's `clear` does).
    let h = guard(h, |h| {
        // SAFETY: 1. a live map of type `t` (point 1), under this write;
        // 2. its entries were being released when a drop hook unwound: none
        // is to be released again (the ones not reached are leaked).
        unsafe { clear_buckets(t, h) }
    });
    // SAFETY: 1. a live map of type `t` (point 1), under this write; 2. all
    // its entries are being removed: `clear_buckets` empties every slot
    // next, whether this returns or unwinds.
    unsafe { release_all(t, &h) };
    let mut h = ScopeGuard::into_inner(h);
    // SAFETY: 1. a live map of type `t`, under this write; 2. every entry
    // was just released.
    unsafe { clear_buckets(t, &mut h) };

    let h = h.end_writing();
    if h.shrink_policy.is_some() {
        // SAFETY: `h` is a live map of type `t` (point 1), just cleared by
        // this call.
        unsafe { crate::shrink::after_clear(t, h) };
    }
}

/// The rest of [`mapclear`] once the entries are released (or, after a
/// drop hook unwound, abandoned): drops the old array, resets the growth
/// state, draws a fresh seed and zeroes the array in place
/// (`mapclear`, :1086-1110). Runs no caller-supplied code.
///
/// # Safety
/// 1. `h` is a live map of type `t`, under a write;
/// 2. none of its entries is to be released again (all were released, or
///    are abandoned).
unsafe fn clear_buckets(t: &MapType, h: &mut HMap) {
    // gomap: the memory the cleared array stops referencing (Go's GC would
    // find it unreachable). The old array goes with its overflow buckets
    // and the storage kept for its stale slots (release_all may just have
    // added to it).
    if h.growing() {
        // SAFETY: [`HMap::release_old_array`]: 1. a live growing map of
        // type `t` (point 1); 2. under a write, and nothing below reads the
        // old array.
        unsafe { h.release_old_array(t) };
    }

    // Reset the growth state and draw a fresh seed (golang/go#25237, as in
    // mapdelete); clear_seq tells live iterators their snapshot is void.
    // gomap: `oldbuckets` before the flag (`HMap::old_array`).
    h.oldbuckets = ptr::null_mut();
    core::sync::atomic::fence(Ordering::Release);
    h.set_flags(h.flags() & !SAME_SIZE_GROW);
    h.nevacuate = 0;
    h.noverflow = 0;
    h.count = 0;
    h.clear_seq += 1;

    h.hash0 = crate::rand::rand() as u32;

    // Go: `*h.extra = mapextra{}`, dropping the overflow slices. gomap also
    // releases the heap overflow buckets on them: the array is about to be
    // cleared, so its chains no longer reach them.
    // `extra.oldoverflow` went with the old array above.
    let ovf = h.extra.overflow;
    h.extra = MapExtra::new();
    let cut = crate::pins::PinRange { lo: h.ovf_epoch, hi: h.generation };
    if let Some(r) = NonNull::new(core::mem::replace(&mut h.clear_rec, ptr::null_mut())) {
        // SAFETY: [`HMap::link_record`]: 1. the fresh record
        // `prepare_clear_record` made, on no list (the cleared keys were
        // added to its key list); 2. `ovf` is the list of the current
        // array's heap overflow buckets, taken off `extra`; 3. under a
        // write (point 1).
        unsafe { h.link_record(r, ovf) };
    } else if core::mem::replace(&mut h.clear_fallback, false) {
        // SAFETY: [`HMap::retire_overflow`]: 1. `ovf`, taken off `extra`;
        // 2. the array whose chains reached them is zeroed below; 3. under
        // a write (point 1). An iterator is live: they wait on the retire
        // list, with the cleared keys.
        unsafe { h.retire_overflow(t, ovf) };
    } else {
        // SAFETY: [`HMap::retire_range`]: 1. no array; 2. `ovf` is the list
        // of the current array's heap overflow buckets, taken off `extra`
        // (the array is zeroed below, which cuts them off); 3. they were
        // hung in since `ovf_epoch`; 4. under a write (point 1).
        unsafe { h.retire_range(t, cut, ptr::null_mut(), 0, 0, ovf, ptr::null_mut()) };
    }
    // A new generation: iterators that start from here on cannot reach
    // what the clear cut off.
    h.generation += 1;
    h.ovf_epoch = h.generation;

    // Zero the array in place; its preallocated overflow buckets become
    // available again, exactly as for a fresh array.
    // SAFETY: 1. `h.alloc` is the map's own allocator, valid while the map
    // is live; 2. `h.buckets` (not null: the map had entries) is the array
    // `make_bucket_array` made for this `t` and `h.b` (`b` changes only with
    // a new array; for B = 0, `alloc_first_bucket`'s bucket has the same
    // size), used by no one else (under a write, point 1); its entries are
    // abandoned (point 2).
    let (_, next_overflow) =
        unsafe { make_bucket_array(t, &h.alloc, h.b, h.buckets) }.unwrap_or_else(|| throw("bad map state"));
    h.extra.next_overflow = next_overflow;
}

// ---------------------------------------------------------------------------
// Growth (map_noswiss.go:1118-1386)
// ---------------------------------------------------------------------------

/// Starts growing (`hashGrow`, :1118): twice the buckets if over the load
/// factor, else the same number (to squeeze out overflow buckets). Only
/// allocates and swaps arrays; [`grow_work`] moves the entries later.
///
/// # Safety
/// 1. `h` is a live map of type `t`, with a bucket array, not growing,
///    under a write.
#[doc(alias = "hashGrow")]
pub(crate) unsafe fn hash_grow(t: &MapType, h: &mut HMap) -> Result<(), MapError> {
    let mut bigger = 1u8;
    let same = !over_load_factor(h.count as isize + 1, h.b);
    if same {
        bigger = 0;
    }
    let oldbuckets = h.buckets;
    // SAFETY: 1. `h.alloc` is the map's own allocator, valid while the map is
    // live (point 1); 2. `dirtyalloc` is null: a fresh array.
    let (newbuckets, next_overflow) =
        unsafe { make_bucket_array(t, &h.alloc, h.b + bigger, ptr::null_mut()) }.ok_or(MapError::AllocFailed)?;
    if same {
        h.set_flags(h.flags() | SAME_SIZE_GROW);
    }

    let mut flags = h.flags() & !(ITERATOR | OLD_ITERATOR);
    if h.flags() & ITERATOR != 0 {
        flags |= OLD_ITERATOR;
    }
    // Install the new array; the old one waits for evacuation. gomap:
    // the arrays before B (Go sets B first; `HMap::b`).
    h.set_flags(flags);
    h.oldbuckets = oldbuckets;
    h.buckets = newbuckets;
    core::sync::atomic::fence(Ordering::Release);
    h.b += bigger;
    h.nevacuate = 0;
    h.noverflow = 0;

    // gomap: the previous growth released the storage kept for its old
    // array's stale slots when that array left the map.
    debug_assert!(h.oldstorage.load(Ordering::Relaxed).is_null(), "oldstorage kept past a growth");
    debug_assert!(h.oldkeys.load(Ordering::Relaxed).is_null(), "oldkeys kept past a growth");
    // gomap: a new generation, for the new array; the old one remembers
    // where it started and the seed its entries were placed with.
    h.old_first = h.cur_first;
    h.old_hash0 = h.hash0;
    h.chains_cut = false;
    h.generation += 1;
    h.cur_first = h.generation;
    h.ovf_epoch = h.generation;

    // The current heap overflow buckets now belong to the old array's
    // chains; they are released together when growth ends.
    if !h.extra.overflow.is_null() {
        if !h.extra.oldoverflow.is_null() {
            throw("oldoverflow is not nil");
        }
        h.extra.oldoverflow = h.extra.overflow;
        h.extra.overflow = ptr::null_mut();
    }
    h.extra.next_overflow = next_overflow;

    // Nothing moves yet: each later write evacuates a bucket or two.
    Ok(())
}

/// Reports whether `count` entries in 2^b buckets exceed the load factor
/// (`overLoadFactor`, :1162).
#[doc(alias = "overLoadFactor")]
#[inline]
pub fn over_load_factor(count: isize, b: u8) -> bool {
    count > BUCKET_CNT as isize && count as usize > LOAD_FACTOR_NUM * (bucket_shift(b) / LOAD_FACTOR_DEN)
}

/// Reports whether there are too many overflow buckets for 2^b buckets
/// (`tooManyOverflowBuckets`, :1169): about as many as main buckets (the
/// threshold stops at 2^15, matching the u16 counter).
#[doc(alias = "tooManyOverflowBuckets")]
#[inline]
pub fn too_many_overflow_buckets(noverflow: u16, b: u8) -> bool {
    let b = b.min(15);
    noverflow >= 1u16 << (b & 15)
}

/// Does a little growth work (`growWork`, :1210): evacuates the old bucket
/// that `bucket` maps to, then one more to keep growth moving.
///
/// Fails (`AllocFailed`) only before anything moved, when evacuation runs
/// its pre-pass and the room for it cannot be had ([`grow_work_decided`],
/// see [`evac_decisions`]).
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write;
/// 2. reserved: the spare list holds
///    [`crate::reserve::grow_work_need`]`(t, h, bucket)` overflow buckets.
#[doc(alias = "growWork")]
#[inline]
pub(crate) unsafe fn grow_work(t: &MapType, h: &mut HMap, bucket: usize) -> Result<(), MapError> {
    if needs_decisions(t, h) {
        // gomap: the same work, with room for the pre-pass; out of line.
        // SAFETY: `grow_work_decided`'s points: 1. a live growing map of
        // type `t`, under a write (point 1), reserved (point 2), and
        // `needs_decisions` holds (checked); 2. `evacuate` is the generic
        // path's evacuation function, for any `t`.
        return unsafe { grow_work_decided(t, h, bucket, evacuate) };
    }

    // First the old bucket feeding the bucket this write touches, so the
    // write sees all its entries in the new array...
    // SAFETY: 1. growing, under a write (point 1), reserved (point 2);
    // 2. `bucket & oldbucketmask() < noldbuckets()`; 3. `None`: no pre-pass
    // runs (`needs_decisions` is false).
    unsafe { evacuate(t, h, bucket & h.oldbucketmask(), None) };

    // ...then the oldest unevacuated one, so growth always finishes.
    if h.growing() {
        // SAFETY: 1. still growing (checked), under a write; the reserve
        // covers both evacuations (point 2); 2. `nevacuate <
        // noldbuckets()` while growing (growth ends when it gets there);
        // 3. `None`, as above.
        unsafe { evacuate(t, h, h.nevacuate, None) };
    }
    Ok(())
}

/// Reports whether old bucket `bucket` is evacuated (`bucketEvacuated`, :1221).
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing;
/// 2. `bucket < h.noldbuckets()`.
#[doc(alias = "bucketEvacuated")]
pub(crate) unsafe fn bucket_evacuated(t: &MapType, h: &HMap, bucket: usize) -> bool {
    // SAFETY: 1. `h.oldbuckets` is the old array of `noldbuckets()` buckets
    // of `t` (point 1), `bucket` below that (point 2).
    let b = unsafe { bucket_at(t, h.oldbuckets, bucket) };
    // SAFETY: 1. `b` is a bucket (`bucket_at`, just above).
    unsafe { evacuated(b) }
}

/// An evacuation destination (`evacDst`, :1227).
pub(crate) struct EvacDst {
    /// The bucket being filled.
    pub(crate) b: *mut u8,
    /// Next free slot of `b` (8 = full).
    pub(crate) i: usize,
    /// Key slot `i` of `b`.
    pub(crate) k: *mut u8,
    /// Elem slot `i` of `b`.
    pub(crate) e: *mut u8,
}

/// Moves the entries of old bucket `oldbucket` (and its chain) to the new
/// array (`evacuate`, :1234): to X (same index) or, when doubling, Y (index +
/// old size), by the hash bit the larger mask adds. Old slots get
/// `evacuatedX/Y/Empty` markers; their data stays for iterators unless no
/// iterator can be in the old array and the buckets hold pointers.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write, reserved (as
///    [`grow_work`]'s points 1 and 2);
/// 2. `oldbucket < h.noldbuckets()`;
/// 3. `decisions` is `Some` exactly when evacuation runs a pre-pass
///    ([`needs_decisions`]), with room for every live entry of the chain
///    ([`grow_work_decided`]).
pub(crate) unsafe fn evacuate(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // gomap: one body, compiled twice: here without a pre-pass (the common
    // case, whose loop then carries nothing of it), and out of line with one.
    match decisions {
        // SAFETY: `evacuate_body`'s points are this function's: 1. and 2.
        // (points 1 and 2); 3. `None`, as `decisions` (point 3).
        None => unsafe { evacuate_body(t, h, oldbucket, None) },
        // SAFETY: `evacuate_decided`'s points are this function's: 1. and
        // 2. (points 1 and 2); 3. `Some(out)`, as `decisions` (point 3).
        Some(out) => unsafe { evacuate_decided(t, h, oldbucket, out) },
    }
}

/// [`evacuate`] with a pre-pass.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write, reserved (as
///    [`grow_work`]'s points 1 and 2);
/// 2. `oldbucket < h.noldbuckets()`;
/// 3. evacuation runs a pre-pass ([`needs_decisions`]), and `out` has room
///    for every live entry of the chain ([`grow_work_decided`]).
#[cold]
#[inline(never)]
unsafe fn evacuate_decided(t: &MapType, h: &mut HMap, oldbucket: usize, out: &mut [u8]) {
    // SAFETY: 1. point 1; 2. point 2; 3. `Some(out)`, with a pre-pass and
    // room for the chain (point 3).
    unsafe { evacuate_body(t, h, oldbucket, Some(out)) }
}

/// The body of [`evacuate`].
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write, reserved (as
///    [`grow_work`]'s points 1 and 2);
/// 2. `oldbucket < h.noldbuckets()`;
/// 3. `decisions` is `Some` exactly when evacuation runs a pre-pass
///    ([`needs_decisions`]), with room for every live entry of the chain
///    ([`grow_work_decided`]).
#[inline(always)]
unsafe fn evacuate_body(t: &MapType, h: &mut HMap, oldbucket: usize, decisions: Option<&mut [u8]>) {
    // SAFETY: 1. `h.oldbuckets` is the old array of `noldbuckets()` buckets
    // of `t` (point 1), `oldbucket` below that (point 2).
    let mut b = unsafe { bucket_at(t, h.oldbuckets, oldbucket) };
    let newbit = h.noldbuckets();
    // SAFETY: 1. `b` is a bucket (`bucket_at`, just above).
    if !unsafe { evacuated(b) } {
        // Destinations: X, the bucket with the same index, and when
        // doubling Y, the one `newbit` higher.
        let dst = |i: usize| {
            // SAFETY: 1. `h.buckets` is the new array of buckets of `t`:
            // `newbit` of them (same size) or `2 * newbit` (doubling), and
            // `i` is `oldbucket < newbit` or, doubling only, `oldbucket +
            // newbit` (point 2).
            let b = unsafe { bucket_at(t, h.buckets, i) };
            // SAFETY: 1. `b` is a bucket of `t`; 2. `0 < 8`.
            let k = unsafe { key_at(t, b, 0) };
            // SAFETY: 1. and 2. as for `key_at`.
            let e = unsafe { elem_at(t, b, 0) };
            EvacDst { b, i: 0, k, e }
        };
        let mut xy = [dst(oldbucket), EvacDst { b: ptr::null_mut(), i: 0, k: ptr::null_mut(), e: ptr::null_mut() }];
        if !h.same_size_grow() {
            xy[1] = dst(oldbucket + newbit);
        }

        // gomap: with callbacks that may unwind, decide every entry's
        // destination before moving anything (see `evac_decisions`).
        debug_assert_eq!(decisions.is_some(), needs_decisions(t, h));
        let mut pre = decisions;
        if let Some(out) = pre.as_deref_mut() {
            // SAFETY: `evac_decisions`' points: 1. `h` is a live growing map
            // of type `t` (point 1), `b` an old bucket not yet evacuated
            // (checked above); 2. `out` has room for its chain's live
            // entries (point 3).
            unsafe { evac_decisions(t, h, b, newbit, out) };
        }
        let mut n = 0usize;

        let first = b;
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: 1. `b` is a bucket of the old chain; 2. `i < 8`:
                // the loop bound.
                let top = unsafe { th(b, i) };
                if is_empty(top) {
                    // SAFETY: 1. and 2. as for `th`; 3. under a write
                    // (point 1).
                    unsafe { set_th(b, i, EVACUATED_EMPTY) };
                    continue;
                }
                if top < MIN_TOP_HASH {
                    throw("bad map state");
                }
                // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`.
                let k = unsafe { key_at(t, b, i) };
                // SAFETY: 1. `t` has indirect keys: `k` is an out-of-line
                // key slot.
                let k2 = if t.indirect_key() { unsafe { deref_slot(k) } } else { k };
                let (use_y, top) = match &pre {
                    Some(d) => decode_decision(d[n], top),
                    // SAFETY: `evac_decision`'s points: 1. `h` is a live
                    // growing map of type `t` (point 1); 2. slot `i` is
                    // filled (`top >= MIN_TOP_HASH`), so `k2` is a key of `t`
                    // whose old tophash is `top`.
                    None => unsafe { evac_decision(t, h, k2, top, newbit) },
                };
                n += 1;

                // SAFETY: 1. and 2. as for `th`; 3. under a write (point 1).
                unsafe { set_th(b, i, EVACUATED_X + use_y as u8) }; // X + 1 is Y
                let d = &mut xy[use_y];

                if d.i == BUCKET_CNT {
                    // SAFETY: 1. a live map of type `t` under a write
                    // (point 1); 2. `d.b` is a bucket of `t` of the new array
                    // that ends its chain (the destination only moves to the
                    // overflow buckets it adds). Reserved (point 1): cannot
                    // fail.
                    d.b = unsafe { h.newoverflow(t, d.b) }.unwrap_or_else(|_| fatal("out of memory"));
                    d.i = 0;
                    // SAFETY: 1. `d.b` is a bucket of `t` (`newoverflow`
                    // returned it); 2. `0 < 8`.
                    d.k = unsafe { key_at(t, d.b, 0) };
                    // SAFETY: 1. and 2. as for `key_at`.
                    d.e = unsafe { elem_at(t, d.b, 0) };
                }
                // SAFETY: 1. `d.b` is a bucket of the new array; 2. the index
                // is masked below 8 (as Go's; `d.i < 8` here anyway); 3. under
                // a write (point 1).
                unsafe { set_th(d.b, d.i & (BUCKET_CNT - 1), top) };
                if t.indirect_key() {
                    // SAFETY: 1. `d.k` is key slot `d.i < 8` of `d.b`, an
                    // out-of-line slot (`t` has indirect keys); 2. under a
                    // write (point 1). The pointer is copied: shared with the
                    // old slot, owned by the new one.
                    unsafe { write_slot_ptr(d.k, k2) };
                } else {
                    // SAFETY: 1. `k` is a filled key slot of `t`: readable
                    // for `t.key.size` bytes, initialised; 2. `d.k` is key
                    // slot `d.i < 8` of `d.b`, writable for as many.
                    unsafe { memmove(d.k, k, t.key.size) };
                }
                // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`.
                let e = unsafe { elem_at(t, b, i) };
                if t.indirect_elem() {
                    // SAFETY: 1. `t` has indirect elems: `e` is an
                    // out-of-line elem slot.
                    let ep = unsafe { deref_slot(e) };
                    // SAFETY: 1. `d.e` is elem slot `d.i < 8` of `d.b`, an
                    // out-of-line slot; 2. under a write (point 1).
                    unsafe { write_slot_ptr(d.e, ep) };
                } else {
                    // SAFETY: 1. `e` is a filled elem slot of `t`: readable
                    // for `t.elem.size` bytes; 2. `d.e` is elem slot `d.i < 8`
                    // of `d.b`, writable for as many.
                    unsafe { memmove(d.e, e, t.elem.size) };
                }
                d.i += 1;
                // After slot 7 these point past the slot arrays (into the
                // next array or the overflow word); they are only used
                // after the `d.i == 8` check replaces them.
                d.k = d.k.wrapping_add(t.keysize());
                d.e = d.e.wrapping_add(t.valuesize());
            }
            // SAFETY: 1. `b` is a bucket of `t`.
            b = unsafe { overflow(t, b) };
        }
        // With no iterator on the old array, Go zeroes the first old
        // bucket's data (keys, elems, overflow link) so stale pointers do
        // not keep memory alive.
        if h.flags() & OLD_ITERATOR == 0 && t.bucket_pointers() {
            // This cuts the chain; its heap overflow buckets stay on
            // `extra.oldoverflow` until growth ends (Go's GC would collect
            // them sooner; nothing reads them either way).
            // The tophash bytes stay: they carry the evacuation marks.
            h.chains_cut = true;
            // SAFETY: `DATA_OFFSET < t.bucketsize()`: the keys start inside
            // the bucket `first`.
            let data = unsafe { first.add(DATA_OFFSET) };
            // SAFETY: 1. the bucket's bytes after `tophash[8]`, to its end:
            // writable (a bucket of the map under a write, point 1).
            unsafe { memclr(data, t.bucketsize() - DATA_OFFSET) };
        }
    }

    if oldbucket == h.nevacuate {
        // SAFETY: 1. a live growing map of type `t` under a write (point 1);
        // 2. `newbit` is `h.noldbuckets()`.
        unsafe { advance_evacuation_mark(h, t, newbit) };
    }
}

/// Where `evacuate` sends one entry, and the tophash it gets there: X or
/// Y by the hash bit the doubled mask adds, except for keys that are not
/// equal to themselves (NaNs) while an iterator may be walking the new
/// buckets: their hash is not reproducible, so the old tophash's low bit
/// decides (as `mapiternext` assumes) and a fresh tophash is drawn.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing;
/// 2. `k2` is a key of `t` (the followed key of a filled old slot), whose
///    old tophash is `top`.
#[inline(always)]
unsafe fn evac_decision(t: &MapType, h: &HMap, k2: *const u8, top: u8, newbit: usize) -> (usize, u8) {
    if h.same_size_grow() {
        return (0, top);
    }
    // SAFETY: 1. `k2` is a key of `t` (point 2).
    let hash = unsafe { t.hash(k2, h.hash0 as usize) };
    if h.flags() & ITERATOR != 0
        && !t.reflexive_key()
        && !{
            // SAFETY: 1. `k2` is a key of `t`, both times (point 2).
            unsafe { t.key_equal(k2, k2) }
        }
    {
        ((top & 1) as usize, tophash(hash))
    } else if hash & newbit != 0 {
        (1, top)
    } else {
        (0, top)
    }
}

/// One [`evac_decision`] in a byte: an entry that keeps its tophash is its
/// half, 0 (X) or 1 (Y); one that gets a fresh tophash (a NaN key while
/// iterators may walk the new array) is that tophash, at least
/// [`MIN_TOP_HASH`], its half being the old tophash's low bit.
#[inline(always)]
fn encode_decision((use_y, newtop): (usize, u8), top: u8) -> u8 {
    if newtop == top { use_y as u8 } else { newtop }
}

/// The `(use_y, tophash)` an [`encode_decision`] byte stands for, for an
/// entry whose old tophash is `top`.
#[inline(always)]
pub(crate) fn decode_decision(d: u8, top: u8) -> (usize, u8) {
    if d < MIN_TOP_HASH { (d as usize, top) } else { ((top & 1) as usize, d) }
}

/// Runs [`evac_decision`] for every live entry of the chain at `b` before
/// anything is moved (gomap only), writing one [`encode_decision`] byte per
/// entry, in chain order, to `out`: if a caller-supplied hasher or equality
/// unwinds here, nothing has moved and every entry is where it was. Same
/// calls in the same order as the single pass, so random draws (NaN hashes)
/// are taken identically.
///
/// The whole chain is decided first because a chain is evacuated or not as
/// a whole: `evacuated` reads only the first bucket's first tophash, so a
/// chain whose first bucket had moved while a later one could not be
/// decided would hide the later entries from every lookup. That rules out
/// deciding a bucket at a time, and the old buckets cannot hold the
/// decisions either (a slot's tophash must survive until its entry moves,
/// and a decision needs one more bit). So the decisions go to a buffer
/// sized for the chain before the write changed anything ([`grow_work_decided`]):
/// on the stack for up to 64 entries, else a block of the map's own
/// allocator, whose failure is the write's `AllocFailed`. Never the global
/// allocator: embedders control a map's memory through its `Allocator`,
/// and a failing global allocation aborts the process.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing; `b` is a bucket of `t` of its
///    old array, not yet evacuated;
/// 2. the chain at `b` holds at most `out.len()` filled slots.
pub(crate) unsafe fn evac_decisions(t: &MapType, h: &HMap, mut b: *mut u8, newbit: usize, out: &mut [u8]) {
    let mut n = 0;
    while !b.is_null() {
        for i in 0..BUCKET_CNT {
            // SAFETY: 1. `b` is a bucket of the old chain (point 1); 2. `i <
            // 8`: the loop bound.
            let top = unsafe { th(b, i) };
            if is_empty(top) {
                continue;
            }
            // SAFETY: 1. `b` is a bucket of `t`; 2. `i < 8`.
            let k2 = unsafe { key_of(t, b, i) };
            // SAFETY: 1. a live growing map of type `t` (point 1); 2. slot
            // `i` is filled (not empty, not evacuated: the chain is not), so
            // `k2` is a key of `t`, with old tophash `top`.
            out[n] = encode_decision(unsafe { evac_decision(t, h, k2, top, newbit) }, top);
            n += 1;
        }
        // SAFETY: 1. `b` is a bucket of `t`.
        b = unsafe { overflow(t, b) };
    }
}

/// Moves `nevacuate` past evacuated buckets (`advanceEvacuationMark`, :1348),
/// scanning at most 1024 ahead; when every old bucket is done, drops the old
/// array and ends the growth.
///
/// # Safety
/// 1. `h` is a live map of type `t`, growing, under a write;
/// 2. `newbit` is `h.noldbuckets()`, and `h.nevacuate < newbit`.
#[doc(alias = "advanceEvacuationMark")]
pub(crate) unsafe fn advance_evacuation_mark(h: &mut HMap, t: &MapType, newbit: usize) {
    h.nevacuate += 1;
    // Scan at most 1024 buckets ahead, bounding the work of one write.
    let stop = (h.nevacuate + 1024).min(newbit);
    // SAFETY: 1. a live growing map of type `t` (point 1); 2. `nevacuate <
    // stop <= newbit = noldbuckets()` (point 2).
    while h.nevacuate != stop && unsafe { bucket_evacuated(t, h, h.nevacuate) } {
        h.nevacuate += 1;
    }
    if h.nevacuate == newbit {
        // Every old bucket is evacuated: the growth is over.
        // gomap: the old array, its heap overflow buckets and the storage
        // kept for its stale slots are freed, or kept as a record while an
        // iterator may still walk the old array.
        // SAFETY: [`HMap::release_old_array`]: 1. a live growing map of
        // type `t` (point 1); 2. under a write, and the map never reads the
        // old array again (`oldbuckets` is cleared by the call).
        unsafe { h.release_old_array(t) };
        // gomap: `oldbuckets` (cleared by the call) before the flag
        // (`HMap::old_array`).
        core::sync::atomic::fence(Ordering::Release);
        h.set_flags(h.flags() & !SAME_SIZE_GROW);
    }
}

// ---------------------------------------------------------------------------
// Clone (map_noswiss.go:1595-1764)
// ---------------------------------------------------------------------------

/// Writes a copy of the value at `src` into `dst`: the clone hook's copy,
/// or the bytes (Go's `typedmemmove`).
///
/// # Safety
/// 1. `src` is a live value of `size` bytes, of the type `hook` copies,
///    aligned for it;
/// 2. `dst` is valid for writing `size` bytes, aligned for that type, and
///    holds no value the caller owns (it is overwritten, not dropped);
/// 3. the two do not overlap;
/// 4. `ctx` is the context of the descriptor `hook` comes from.
#[inline]
unsafe fn copy_value(dst: *mut u8, src: *const u8, size: usize, hook: Option<CloneFn>, ctx: *const ()) {
    match hook {
        // SAFETY: `CloneFn`'s points: `src` is a live value of the hook's
        // type, readable and aligned (point 1); `dst` is writable for its
        // size, aligned, holding no live value (point 2), not overlapping
        // `src` (point 3); `ctx` is the descriptor's own (point 4).
        Some(c) => unsafe { c(dst, src, ctx) },
        // SAFETY: 1. `src` is readable for `size` bytes, initialised (a live
        // value, point 1); 2. `dst` is writable for `size` bytes (point 2).
        None => unsafe { memmove(dst, src, size) },
    }
}

/// Copies one key (`key`) or elem into slot `dst` of the clone `h`, all or
/// nothing: an out-of-line value gets a block of its own, which the slot
/// points to only once the copy is complete. On error or unwind nothing new
/// is owned: the block is freed, and an inline slot holds bytes nobody owns.
///
/// # Safety
/// 1. `h` is the clone under construction, of type `t`, ours alone;
/// 2. `dst` is a key (`key`) or elem slot of a bucket of `h` whose entry is
///    not live (its tophash empty, or a byte copy the clone does not own);
/// 3. `src` is a live key (elem) of the source map, of type `t`, already
///    followed if out of line.
#[inline]
unsafe fn clone_value_into(t: &MapType, h: &HMap, dst: *mut u8, src: *const u8, key: bool) -> Result<(), MapError> {
    let (size, indirect, hook) =
        if key { (t.key.size, t.indirect_key(), t.key_clone) } else { (t.elem.size, t.indirect_elem(), t.elem_clone) };
    if !indirect {
        // SAFETY: 1. `src` is a live key (elem) of `t`, of `size` bytes,
        // aligned (point 3); 2. `dst` is an inline slot of `size` bytes,
        // aligned for the type (slots are), holding nothing the clone owns
        // (point 2); 3. the source's and the clone's buckets are distinct
        // blocks; 4. `t.hook_ctx` is the hook context of `t`, whose hook this is.
        unsafe { copy_value(dst, src, size, hook, t.hook_ctx) };
        return Ok(());
    }
    // SAFETY: the caller's points 1-3, for an out-of-line (`indirect`) slot.
    unsafe { clone_value_out_of_line(t, h, dst, src, key) }
}

/// [`clone_value_into`] for an out-of-line key (`key`) or elem: a block of
/// its own, allocated and filled, then published in the slot. Kept out of
/// the inline copy path (an allocation dwarfs the call), so that cloning
/// maps of inline keys and elems stays one loop of copies.
///
/// # Safety
/// As [`clone_value_into`], and the key (elem) of `t` is out of line.
#[inline(never)]
unsafe fn clone_value_out_of_line(
    t: &MapType,
    h: &HMap,
    dst: *mut u8,
    src: *const u8,
    key: bool,
) -> Result<(), MapError> {
    let (ti, hook) = if key { (t.key, t.key_clone) } else { (t.elem, t.elem_clone) };
    // The block is ours until the slot points to it: freed by its guard if
    // the hook unwinds.
    // SAFETY: 1. the clone's own allocator, valid while it is live (point
    // 1); 2. a validated alignment, a power of two.
    let p = unsafe { OwnedBlock::alloc_aligned(&h.alloc, ti.size, ti.align, Kind::Plain) }?;
    // SAFETY: 1. `src` is a live key (elem) of `t`, of `ti.size` bytes,
    // aligned (point 3); 2. a fresh block of `ti.size` bytes, aligned for
    // the type (`ti.align`), holding no value; 3. distinct blocks;
    // 4. `t.hook_ctx` is the hook context of `t`, whose hook this is.
    unsafe { copy_value(p.as_ptr(), src, ti.size, hook, t.hook_ctx) };
    // SAFETY: 1. `dst` is an out-of-line slot (the caller's contract) of a
    // bucket of `h` (point 2); 2. the clone is private to the caller (point 1).
    unsafe { write_slot_ptr(dst, p.publish().as_ptr()) };
    Ok(())
}

/// Copies the entry at `src_k`/`src_e` of the source into slot `i` of
/// bucket `b` of the clone `h`, all or nothing: if the elem cannot be
/// copied, the key just copied is released. The tophash and count are the
/// caller's to set, once this returns `Ok`.
///
/// # Safety
/// 1. `h` is the clone under construction, of type `t`, ours alone, with no
///    iterators;
/// 2. `b` is a bucket of `h`, `i < BUCKET_CNT`, and slot `i`'s entry is not
///    live (tophash empty, or a byte copy the clone does not own);
/// 3. `src_k` and `src_e` are a live key and elem of the source, of type
///    `t`, followed if out of line.
unsafe fn clone_entry_into(
    t: &MapType,
    h: &HMap,
    b: *mut u8,
    i: usize,
    src_k: *const u8,
    src_e: *const u8,
) -> Result<(), MapError> {
    // SAFETY: 1. `b` is a bucket of `t`; 2. `i < BUCKET_CNT` (point 2).
    let k = unsafe { key_at(t, b, i) };
    // SAFETY: 1. and 2. as for `key_at`.
    let e = unsafe { elem_at(t, b, i) };
    // SAFETY: 1. the private clone (point 1); 2. `k` is the key slot of a
    // slot whose entry is not live (point 2); 3. `src_k` is a live source
    // key, followed (point 3).
    unsafe { clone_value_into(t, h, k, src_k, true) }?;
    // The key is the clone's now: released if the elem fails or unwinds.
    let key = guard(k, |k| {
        // SAFETY: `*k` is a key slot of `h` holding a key the clone owns
        // (copied above), whose entry is abandoned: no slot will make it
        // live. No iterators (point 1), so the release cannot fail.
        let r = unsafe { h.release_key(t, *k) };
        debug_assert!(r.is_ok());
    });
    // SAFETY: 1. the private clone (point 1); 2. `e` is the elem slot of the
    // same slot (point 2); 3. `src_e` is a live source elem, followed
    // (point 3).
    unsafe { clone_value_into(t, h, e, src_e, false) }?;
    ScopeGuard::into_inner(key);
    Ok(())
}

/// Copies the live entries of `src` (one bucket) into `dst` from slot `pos`
/// on, chaining new overflow buckets as needed (`moveToBmap`, :1603). A slot
/// gets its tophash only once its entry is the clone's own, so the clone
/// holds no half-copied entry whether this returns or unwinds.
///
/// # Safety
/// 1. `h` is the clone under construction, a live map of type `t`, private
///    to the caller, with no iterators;
/// 2. `dst` is a bucket of `t` of `h` that ends its chain, and `pos <=
///    BUCKET_CNT`;
/// 3. `src` is a bucket of `t` of the source map (a live map of type `t`
///    not being written), not evacuated.
#[doc(alias = "moveToBmap")]
unsafe fn move_to_bmap(
    t: &MapType,
    h: &mut HMap,
    mut dst: *mut u8,
    mut pos: usize,
    src: *mut u8,
) -> Result<(*mut u8, usize), MapError> {
    for i in 0..BUCKET_CNT {
        // SAFETY: 1. `src` is a bucket (point 3); 2. `i < 8`: the loop bound.
        if is_empty(unsafe { th(src, i) }) {
            continue;
        }

        // SAFETY: 1. `dst` is a bucket (point 2); 2. `pos < 8`, checked
        // first.
        while pos < BUCKET_CNT && !is_empty(unsafe { th(dst, pos) }) {
            pos += 1;
        }

        if pos == BUCKET_CNT {
            // SAFETY: 1. the clone, a live map of type `t`, private (point
            // 1); 2. `dst` is a bucket of `h` ending its chain (point 2, or
            // the bucket the last call added).
            dst = unsafe { h.newoverflow(t, dst) }?;
            pos = 0;
        }

        // SAFETY: 1. `src` is a bucket of `t` (point 3); 2. `i < 8`.
        let src_k = unsafe { key_of(t, src, i) };
        // SAFETY: 1. and 2. as for `key_of`.
        let src_e = unsafe { elem_of(t, src, i) };
        // SAFETY: 1. the private clone, no iterators (point 1); 2. slot
        // `pos < 8` of the bucket `dst` of `h` is empty (found above, or the
        // fresh overflow bucket's first); 3. slot `i` of `src` is filled
        // (checked above), so `src_k`/`src_e` are its live key and elem,
        // followed.
        unsafe { clone_entry_into(t, h, dst, pos, src_k, src_e) }?;
        // SAFETY: 1. `src` is a bucket; 2. `i < 8`.
        let top = unsafe { th(src, i) };
        // SAFETY: 1. `dst` is a bucket; 2. `pos < 8`; 3. the clone is
        // private (point 1). The entry in slot `pos` is the clone's now.
        unsafe { set_th(dst, pos, top) };

        pos += 1;
        h.count += 1;
    }
    Ok((dst, pos))
}

/// Offset of the elem copy in [`reinsert_entry`]'s scratch block: past the
/// key copy at offset 0, aligned for the elem (and to 8). The block is
/// [`scratch_elem_offset`]` + t.elem.size` bytes, aligned for both types.
#[inline]
fn scratch_elem_offset(t: &MapType) -> usize {
    t.key.size.next_multiple_of(t.elem.align.max(8))
}

/// Re-inserts one source entry into the clone with `mapassign` (the clone
/// has more buckets than the source's old array: the entries of one old
/// bucket spread over several; Go: `mapassign`, then `typedmemmove` of the
/// elem, :1754-1755). `mapassign` copies the key's bytes, so a
/// hooked key is cloned into `scratch` first; so is a hooked elem, so that
/// nothing that can fail or unwind comes after `mapassign`, and the clone
/// never holds an entry without its elem. Copies not yet handed to the map
/// are dropped on error or unwind.
///
/// # Safety
/// 1. `h` is the clone under construction, of type `t`, with no iterators;
/// 2. `src_k`/`src_e` are a live key and elem of the source, followed;
/// 3. `scratch` is null when `t` has no clone hooks, else a block of `h`,
///    aligned for the key and the elem, with room for a key at offset 0
///    and an elem at [`scratch_elem_offset`], holding no value.
unsafe fn reinsert_entry(
    t: &MapType,
    h: &mut HMap,
    src_k: *const u8,
    src_e: *const u8,
    scratch: *mut u8,
) -> Result<(), MapError> {
    // A copy in scratch, dropped by its guard unless the map takes it.
    let owned = |drop_fn: Option<crate::maptype::DropFn>| {
        guard(ptr::null_mut::<u8>(), move |p| {
            if let (false, Some(d)) = (p.is_null(), drop_fn) {
                // SAFETY: `DropFn`'s points: `*p` is the copy the clone hook
                // made in `scratch` (aligned, see point 3), owned by nobody
                // else and never used again (the guard is disarmed when the
                // map takes it); `t.hook_ctx` is `t`'s hook context.
                unsafe { d(*p, t.hook_ctx) };
            }
        })
    };
    let mut key = owned(t.key_drop);
    let mut elem = owned(t.elem_drop);
    let k = match t.key_clone {
        Some(c) => {
            // SAFETY: `CloneFn`'s points: `src_k` is a live key of `t`
            // (point 2); `scratch` has room for a key at offset 0, aligned
            // for it, holding none, distinct from the source (point 3);
            // `t.hook_ctx` is `t`'s hook context.
            unsafe { c(scratch, src_k, t.hook_ctx) };
            *key = scratch;
            scratch
        }
        None => src_k,
    };
    let e = match t.elem_clone {
        Some(c) => {
            // SAFETY: the elem's room at `scratch_elem_offset(t)` is inside
            // the `scratch` block (point 3; not null: `t` has a hook).
            let se = unsafe { scratch.add(scratch_elem_offset(t)) };
            // SAFETY: `CloneFn`'s points: `src_e` is a live elem of `t`
            // (point 2); `se` has room for an elem, aligned for it (the
            // block's alignment and the offset are), holding none,
            // not overlapping the key's room or the source (point 3);
            // `t.hook_ctx` is `t`'s hook context.
            unsafe { c(se, src_e, t.hook_ctx) };
            *elem = se;
            se
        }
        None => src_e,
    };
    // SAFETY: 1. the clone, a live map of type `t`, private to the caller
    // (point 1); 2. `k` is a key of `t` outside the clone's memory: the
    // source's key (point 2) or its copy in `scratch`, a block the clone
    // does not use as map memory.
    let slot = unsafe { mapassign(t, h, k) }?;
    if slot.inserted || t.need_key_update() {
        // The map holds the key's bytes now (otherwise it kept its own
        // equal key, and the guard drops ours).
        ScopeGuard::into_inner(key);
    }
    if !slot.inserted {
        if let Some(d) = t.elem_drop {
            // SAFETY: `DropFn`'s points: `slot.elem` is the live elem of an
            // entry of the clone (the key was already there), aligned, and
            // never used as a value again: overwritten just below;
            // `t.hook_ctx` is `t`'s hook context.
            unsafe { d(slot.elem.as_ptr(), t.hook_ctx) };
        }
    }
    // SAFETY: 1. `e` is an elem of `t`, readable for `t.elem.size` bytes
    // (the source's, point 2, or its copy in `scratch`); 2. `slot.elem` is
    // writable for as many (its old value, if any, was dropped above).
    unsafe { memmove(slot.elem.as_ptr(), e, t.elem.size) };
    ScopeGuard::into_inner(elem);
    Ok(())
}

/// `maps.Clone(m)` (`mapclone2`, :1654): a new map with the same seed and
/// entries, laid out the way Go lays it out (bucket order and slot order
/// preserved where Go preserves them). Errors leave `src` untouched and
/// free the partial copy.
///
/// # Safety
/// 1. `src` is a live map of type `t`, not written by another thread during
///    the call.
#[doc(alias = "mapclone")]
pub unsafe fn mapclone2(t: &MapType, src: *const HMap) -> Result<NonNull<HMap>, MapError> {
    // SAFETY: `src` is a live map (point 1): aligned, initialised; not
    // written during this call, so the shared reference is sound.
    let srch = unsafe { &*src };
    let mut hint = srch.count as isize;
    if over_load_factor(hint, srch.b) {
        // A map can hold more than its B allows (more inserts after a
        // same-size grow started): cap the hint at B's capacity, so the
        // clone has the same B (golang/go#69110).
        hint = (LOAD_FACTOR_NUM * (bucket_shift(srch.b) / LOAD_FACTOR_DEN)) as isize;
    }
    let dstp = makemap_in(t, hint, &srch.alloc)?;
    // Frees the partial clone if filling it fails or unwinds (a clone hook
    // panicking, a fatal hook that panics). The clone is valid at every
    // step, and holds as live only entries that are its own, so freeing it
    // releases exactly what was copied.
    let clone = guard(dstp, |h| {
        // SAFETY: `h` is the clone: a live map of type `t` (valid at every
        // step, holding as live only entries it owns), with no iterators,
        // not used again after this.
        let r = unsafe { mapfree(t, h.as_ptr()) };
        debug_assert!(r.is_ok());
    });
    // SAFETY: `dstp` is the fresh hmap `makemap_in` returned: aligned,
    // initialised, and ours alone (not yet returned to anyone).
    let dst = unsafe { &mut *clone.as_ptr() };
    // SAFETY: 1. `src` is a live map of type `t`, not being written (point
    // 1); 2. `dst` is the fresh clone, of type `t`, private.
    unsafe { mapclone_fill(t, srch, dst) }?;
    Ok(ScopeGuard::into_inner(clone))
}

/// The body of [`mapclone2`] after `makemap`.
///
/// # Safety
/// 1. `src` is a live map of type `t`, not written by another thread during
///    the call;
/// 2. `dst` is a fresh map of type `t`, private to the caller, with no
///    iterators, made by `makemap_in` with a hint at most `src`'s B allows
///    (so `dst.b <= src.b`, and `dst.b == 0` if `src.b == 0`).
unsafe fn mapclone_fill(t: &MapType, src: &HMap, dst: &mut HMap) -> Result<(), MapError> {
    dst.hash0 = src.hash0;
    dst.nevacuate = 0;
    // Flags start clear, as in a fresh map.

    if src.count == 0 {
        return Ok(());
    }

    if src.flags() & HASH_WRITING != 0 {
        fatal(CONCURRENT_CLONE_WRITE);
    }

    // Go's condition (map_noswiss.go:1677), kept whole although gomap never
    // shares out-of-line keys: the byte-for-byte copy keeps holes (deleted
    // slots) where the entry-by-entry path below packs the entries from
    // slot 0, so the two layouts differ and iteration orders with them.
    if src.b == 0 && !(t.indirect_key() && t.need_key_update()) && !t.indirect_elem() {
        // The clone has B = 0 too (its hint is at most 8), so no bucket yet.
        // SAFETY: 1. the clone, a live map of type `t`, private (point 2).
        unsafe { dst.ensure_buckets(t) }?;
        // SAFETY: 1. `src.buckets` is the source's one bucket (B = 0, and
        // not null: it has entries), readable for `t.bucketsize()` bytes
        // (point 1); 2. `dst.buckets` the clone's one bucket, writable for
        // as many, a distinct block.
        unsafe { memmove(dst.buckets, src.buckets, t.bucketsize()) };
        // The copied overflow pointer of a B = 0 bucket is always null: a
        // B = 0 map with an overflow bucket would have grown first.
        // SAFETY: 1. `dst.buckets` is a bucket of `t`; 2. the clone is
        // private (point 2).
        unsafe { set_overflow(t, dst.buckets, ptr::null_mut()) };
        if t.indirect_key() || t.key_clone.is_some() || t.elem_clone.is_some() {
            let (b, srcb) = (dst.buckets, src.buckets);
            // The copied slots still hold the source's bytes, which the
            // clone does not own: each entry is then copied over its slot
            // (hooks, out-of-line blocks). `done` counts the slots dealt
            // with; if copying stops early (an error, or a hook unwinding),
            // the guard empties the live slots from `done` on, so that
            // freeing the clone releases exactly the entries it copied.
            let mut done = guard(0, |done: &mut usize| {
                for j in *done..BUCKET_CNT {
                    // SAFETY: 1. `b` is the clone's one bucket; 2. `j < 8`:
                    // the loop bound.
                    if !is_empty(unsafe { th(b, j) }) {
                        // SAFETY: 1. and 2. as for `th`; 3. the clone is
                        // private (point 2). Not the clone's entry: dropped
                        // from it, bytes left behind.
                        unsafe { set_th(b, j, EMPTY_ONE) };
                    }
                }
            });
            for i in 0..BUCKET_CNT {
                // SAFETY: 1. `b` is the clone's one bucket; 2. `i < 8`: the
                // loop bound.
                if !is_empty(unsafe { th(b, i) }) {
                    // SAFETY: 1. `srcb` is the source's one bucket, a
                    // bucket of `t` (point 1, B = 0); 2. `i < 8`: the loop
                    // bound.
                    let src_k = unsafe { key_of(t, srcb, i) };
                    // SAFETY: 1. and 2. as for `key_of`.
                    let src_e = unsafe { elem_of(t, srcb, i) };
                    // SAFETY: 1. the private clone, no iterators (point 2);
                    // 2. `b` is its bucket, `i < 8`, and slot `i` holds a
                    // byte copy the clone does not own yet; 3. slot `i` of
                    // `srcb` is filled (its tophash was copied), so
                    // `src_k`/`src_e` are its live key and elem, followed.
                    unsafe { clone_entry_into(t, dst, b, i, src_k, src_e) }?;
                    dst.count += 1;
                }
                *done = i + 1;
            }
            ScopeGuard::into_inner(done);
        } else {
            dst.count = src.count;
        }
        return Ok(());
    }

    if dst.b == 0 {
        // SAFETY: 1. the clone, a live map of type `t`, private (point 2).
        unsafe { dst.ensure_buckets(t) }?;
    }
    let dst_array_size = bucket_shift(dst.b);
    let src_array_size = bucket_shift(src.b);
    for i in 0..dst_array_size {
        // SAFETY: 1. `dst.buckets` is the clone's array of `2^dst.b`
        // buckets of `t`, and `i < 2^dst.b`.
        let mut dst_bmap = unsafe { bucket_at(t, dst.buckets, i) };
        let mut pos = 0;
        let mut j = 0;
        while j < src_array_size {
            // SAFETY: 1. `src.buckets` is the source's array of `2^src.b`
            // buckets of `t` (point 1); `dst.b <= src.b` (point 2), so `j`
            // steps by `2^dst.b` through multiples below `2^src.b`, and `i +
            // j < 2^src.b`.
            let mut src_bmap = unsafe { bucket_at(t, src.buckets, i + j) };
            while !src_bmap.is_null() {
                // SAFETY: 1. the private clone, no iterators (point 2);
                // 2. `dst_bmap` ends its chain (a main bucket the clone has
                // not chained yet, or the last bucket the previous call
                // returned), `pos <= 8`; 3. `src_bmap` is a bucket of the
                // source's current array or its chain: never evacuated.
                (dst_bmap, pos) = unsafe { move_to_bmap(t, dst, dst_bmap, pos, src_bmap) }?;
                // SAFETY: 1. `src_bmap` is a bucket of `t`.
                src_bmap = unsafe { overflow(t, src_bmap) };
            }
            j += dst_array_size;
        }
    }

    if src.oldbuckets.is_null() {
        return Ok(());
    }

    let mut old_b = src.b;
    let src_oldbuckets = src.oldbuckets;
    if !src.same_size_grow() {
        old_b -= 1;
    }
    let old_src_array_size = bucket_shift(old_b);

    // Room for one hooked key and elem copy on their way into the clone
    // (see `reinsert_entry`), for the whole loop; freed on any exit.
    let scratch = if old_b < dst.b && (t.key_clone.is_some() || t.elem_clone.is_some()) {
        let size = scratch_elem_offset(t) + t.elem.size;
        let align = t.key.align.max(t.elem.align);
        // SAFETY: 1. the clone's own allocator, valid while it is live; 2.
        // the larger of two validated alignments, a power of two. The
        // guard frees the block on every exit: it holds no value between
        // entries (`reinsert_entry` drops or hands over its copies).
        Some(unsafe { OwnedBlock::alloc_reusable(&dst.alloc, size, align) }?)
    } else {
        None
    };
    let scratch_ptr = scratch.as_ref().map_or(ptr::null_mut(), OwnedBlock::as_ptr);

    for i in 0..old_src_array_size {
        // SAFETY: 1. `src_oldbuckets` is the source's old array of
        // `2^old_b` buckets of `t` (growing, point 1), and `i < 2^old_b`.
        let mut src_bmap = unsafe { bucket_at(t, src_oldbuckets, i) };
        // SAFETY: 1. `src_bmap` is a bucket (`bucket_at`, just above).
        if unsafe { evacuated(src_bmap) } {
            continue;
        }

        if old_b >= dst.b {
            // The clone has no more buckets than the old array: the whole
            // old chain goes to the end of one clone chain.
            // SAFETY: 1. `dst.buckets` is the clone's array of `2^dst.b`
            // buckets of `t`, and the index is masked below `2^dst.b`.
            let mut dst_bmap = unsafe { bucket_at(t, dst.buckets, i & bucket_mask(dst.b)) };
            // SAFETY: 1. `dst_bmap` is a bucket of `t` of the clone's chain.
            while !unsafe { overflow(t, dst_bmap) }.is_null() {
                // SAFETY: 1. as above: the chain's next bucket is one too.
                dst_bmap = unsafe { overflow(t, dst_bmap) };
            }
            let mut pos = 0;
            while !src_bmap.is_null() {
                // SAFETY: 1. the private clone, no iterators (point 2);
                // 2. `dst_bmap` ends its chain (walked to its end above, or
                // returned by the previous call), `pos <= 8`; 3. `src_bmap`
                // is a bucket of a source old chain not evacuated (checked
                // on its first bucket: chains are evacuated whole).
                (dst_bmap, pos) = unsafe { move_to_bmap(t, dst, dst_bmap, pos, src_bmap) }?;
                // SAFETY: 1. `src_bmap` is a bucket of `t`.
                src_bmap = unsafe { overflow(t, src_bmap) };
            }
            continue;
        }

        // The clone has more buckets than the old array: one old bucket
        // spreads over several new ones, so insert entry by entry.
        while !src_bmap.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: 1. `src_bmap` is a bucket; 2. `i < 8`: the loop
                // bound.
                if is_empty(unsafe { th(src_bmap, i) }) {
                    continue;
                }

                if src.flags() & HASH_WRITING != 0 {
                    fatal(CONCURRENT_CLONE_WRITE);
                }

                // SAFETY: 1. `src_bmap` is a bucket of `t` of the source's
                // old chain; 2. `i < 8`: the loop bound.
                let src_k = unsafe { key_of(t, src_bmap, i) };
                // SAFETY: 1. and 2. as for `key_of`.
                let src_e = unsafe { elem_of(t, src_bmap, i) };
                // SAFETY: 1. the private clone, no iterators (point 2);
                // 2. slot `i` is filled (not empty, and the chain is not
                // evacuated), so `src_k`/`src_e` are its live key and elem,
                // followed; 3. `scratch_ptr` is null when `t` has no clone
                // hooks, else the block allocated above with the room
                // `reinsert_entry` needs, holding no value.
                unsafe { reinsert_entry(t, dst, src_k, src_e, scratch_ptr) }?;
            }
            // SAFETY: 1. `src_bmap` is a bucket of `t`.
            src_bmap = unsafe { overflow(t, src_bmap) };
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// keys and values (map_noswiss.go:1766-1888)
// ---------------------------------------------------------------------------

/// Copies every key into `out` (room for `cap` keys), in Go's order for
/// `maps.Keys`-style bulk copies (`keys`, :1766): buckets from a random
/// start, slots from a random offset, then old buckets not yet evacuated.
/// Returns how many keys were written.
///
/// The copies are bytewise, as Go's are: for a type with drop or clone
/// hooks (keys that own memory) they alias the map's own keys, and the
/// caller must neither drop them nor use them after the map changes.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`, not being written during the
///    call;
/// 2. `out` is valid for writes of `cap` keys of `t` (`cap * t.key().size`
///    bytes) and does not overlap the map.
pub unsafe fn keys(t: &MapType, h: *const HMap, out: *mut u8, cap: usize) -> usize {
    // SAFETY: `copy_all`'s points: 1. point 1; 2. `out` has room for `cap`
    // keys, the values `want_keys = true` copies (point 2).
    unsafe { copy_all(t, h, out, cap, true) }
}

/// As [`keys`], for elems (`values`, :1830).
///
/// # Safety
/// 1. `h` is null or a live map of type `t`, not being written during the
///    call;
/// 2. `out` is valid for writes of `cap` elems of `t` (`cap *
///    t.elem().size` bytes) and does not overlap the map.
pub unsafe fn values(t: &MapType, h: *const HMap, out: *mut u8, cap: usize) -> usize {
    // SAFETY: `copy_all`'s points: 1. point 1; 2. `out` has room for `cap`
    // elems, the values `want_keys = false` copies (point 2).
    unsafe { copy_all(t, h, out, cap, false) }
}

/// The shared body of `keys`/`values`.
///
/// # Safety
/// 1. `h` is null or a live map of type `t`, not being written during the
///    call;
/// 2. `out` is valid for writes of `cap` keys of `t` if `want_keys`, else of
///    `cap` elems, and does not overlap the map.
unsafe fn copy_all(t: &MapType, h: *const HMap, out: *mut u8, cap: usize, want_keys: bool) -> usize {
    // SAFETY: `h` is null or a live map (point 1): aligned, initialised,
    // only read here.
    let Some(h) = (unsafe { h.as_ref() }) else { return 0 };
    if h.count == 0 {
        return 0;
    }
    let mut len = 0usize;
    let r = crate::rand::rand() as usize;
    let offset = (r >> h.b) & (BUCKET_CNT - 1);
    let mut copy = |b: *mut u8| {
        // SAFETY: `copy_bucket`'s points: 1. `h` is a live map of type `t`,
        // not being written (point 1); 2. every `b` passed below is a bucket
        // of `t` of `h`, not evacuated; 3. `out` as point 2, and `len` counts
        // the values written to it so far (`copy_bucket` stops at `cap`).
        unsafe { copy_bucket(t, h, b, out, cap, &mut len, offset, want_keys) }
    };
    if h.b == 0 {
        // A map with entries has buckets: B = 0, one bucket.
        copy(h.buckets);
        return len;
    }
    let array_size = bucket_shift(h.b);
    for i in 0..array_size {
        let bucket = (i + r) & (array_size - 1);
        // SAFETY: 1. `h.buckets` is the map's array of `2^B` buckets of `t`
        // (point 1), `bucket` is masked below `2^B`.
        copy(unsafe { bucket_at(t, h.buckets, bucket) });
    }
    if h.growing() {
        let old_array_size = h.noldbuckets();
        for i in 0..old_array_size {
            let bucket = (i + r) & (old_array_size - 1);
            // SAFETY: 1. `h.oldbuckets` is the old array of
            // `noldbuckets()` buckets of `t` (growing), `bucket` masked
            // below that.
            let b = unsafe { bucket_at(t, h.oldbuckets, bucket) };
            // SAFETY: 1. `b` is a bucket (`bucket_at`, just above).
            if unsafe { evacuated(b) } {
                continue;
            }
            copy(b);
        }
    }
    len
}

/// `copyKeys`/`copyValues` (:1803, :1866).
///
/// # Safety
/// 1. `h` is a live map of type `t`, not being written during the call;
/// 2. `b` is a bucket of `t` of `h`, not evacuated;
/// 3. `out` is valid for writes of `cap` keys of `t` if `want_keys`, else of
///    `cap` elems, not overlapping the map; `*len <= cap`.
#[expect(clippy::too_many_arguments, reason = "Go's copyKeys/copyValues signature plus the output cursor")]
#[doc(alias = "copyKeys")]
#[doc(alias = "copyValues")]
unsafe fn copy_bucket(
    t: &MapType,
    h: &HMap,
    mut b: *mut u8,
    out: *mut u8,
    cap: usize,
    len: &mut usize,
    offset: usize,
    want_keys: bool,
) {
    while !b.is_null() {
        for i in 0..BUCKET_CNT {
            let offi = (i + offset) & (BUCKET_CNT - 1);
            // SAFETY: 1. `b` is a bucket of the chain (point 2); 2. `offi`
            // is masked below 8.
            if is_empty(unsafe { th(b, offi) }) {
                continue;
            }
            if h.flags() & HASH_WRITING != 0 {
                fatal(CONCURRENT_READ_WRITE);
            }
            if *len >= cap {
                fatal(CONCURRENT_READ_WRITE);
            }
            let (src, size) = if want_keys {
                // SAFETY: 1. `b` is a bucket of `t`; 2. `offi < 8`.
                (unsafe { key_of(t, b, offi) }, t.key.size)
            } else {
                // SAFETY: 1. `b` is a bucket of `t`; 2. `offi < 8`.
                (unsafe { elem_of(t, b, offi) }, t.elem.size)
            };
            // SAFETY: `*len < cap` (checked above), so value `*len` of
            // `out` lies inside its `cap * size` bytes (point 3).
            let dst = unsafe { out.add(*len * size) };
            // SAFETY: 1. slot `offi` is filled (not empty; the chain is not
            // evacuated, point 2), so `src` is a live key (elem) of `t`,
            // readable for `size` bytes; 2. `dst` is writable for `size`
            // bytes (point 3).
            unsafe { memmove(dst, src, size) };
            *len += 1;
        }
        // SAFETY: 1. `b` is a bucket of `t`.
        b = unsafe { overflow(t, b) };
    }
}
