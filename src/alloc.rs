//! Memory for maps without a garbage collector.
//!
//! Every allocation a map makes (the `hmap`, bucket arrays, overflow buckets,
//! out-of-line keys and elems) is a *block*: a 16-byte `Header` followed by
//! zeroed payload. The header is never visible to map code; it exists so that
//! a block can be put on a retire list without allocating (so retiring can
//! never fail) and freed with its size.
//!
//! ```text
//!  base                      payload (what map code sees, 8-aligned)
//!  +-----------+-------------+---------------------------------------+
//!  | next      | size | kind | zeroed bytes ...                      |
//!  +-----------+-------------+---------------------------------------+
//! ```
//!
//! A block for a value aligned above 8 (an out-of-line key or elem of such a
//! type, `alloc_block_aligned`) asks the allocator for `align` bytes more
//! and places its header so that the payload lands on the alignment; the
//! word just before the header records how far the header is from the
//! allocation's base, and `size_kind`'s `OVERALIGNED` bit says the word
//! is there. The payload size recorded then includes the slack after the
//! payload, so base, size and what the allocator was asked for are all
//! recovered from the payload pointer alone, as for any block:
//!
//! ```text
//!  base              header - 8   header            payload (align-aligned)
//!  +----------------+------------+-----------+-----+--------------+-------+
//!  | unused (lead-8)| lead       | next      | s|k | value        | slack |
//!  +----------------+------------+-----------+-----+--------------+-------+
//!  <------------- lead --------->                  <- size (s) includes ->
//! ```
//!
//! An allocator only ever promises 8-aligned memory, so this is how the
//! alignment is met whatever the allocator.
//!
//! Go's GC keeps memory alive while anything can reach it. The places where
//! that matters for the map are old bucket arrays an iterator still walks,
//! overflow buckets cut off by `mapclear`, and out-of-line keys/elems that an
//! iterator may still read through a stale slot. gomap's rule (see
//! `docs/memory.md`): a block that a live iterator could still reach is
//! kept instead of freed (as a record of the generations iterators pin,
//! `crate::pins`), and freed when no iterator pins them any more, or when
//! the map is freed. Out-of-line keys/elems that stale slots of the old
//! bucket array still point to wait for that array to leave the map first.

use core::ffi::c_void;
use core::ptr::{self, NonNull};

/// Allocates `size` zeroed bytes, 8-aligned, or returns null.
///
/// The C calling convention and argument order are the C ABI's
/// (`gomap_calloc_fn`), so a host's allocator is stored in the map as it
/// is: no bridge, no registry.
///
/// # Safety
/// Maps call an [`Allocator`]'s `alloc_zeroed` only with:
/// * `ctx` that allocator's `ctx`;
/// * `0 < size <= isize::MAX`.
pub type AllocZeroedFn = unsafe extern "C" fn(ctx: *mut c_void, size: usize) -> *mut c_void;
/// Frees memory returned by the matching [`AllocZeroedFn`]; `size` is the
/// size that was requested.
///
/// # Safety
/// Maps call an [`Allocator`]'s `free` only with:
/// * `p` a non-null pointer returned by the same allocator's
///   `alloc_zeroed`, not freed since, and not used again;
/// * `size` the size that call was asked for;
/// * `ctx` that allocator's `ctx`.
pub type FreeFn = unsafe extern "C" fn(ctx: *mut c_void, p: *mut c_void, size: usize);

/// Where a map's memory comes from. Each map keeps the allocator it was made
/// with (three words in the `hmap`) and frees every one of its blocks
/// through it. Built only by [`Allocator::new`] (unsafe: the functions are
/// trusted) or [`Allocator::LIBC`].
#[derive(Clone, Copy, Debug)]
pub struct Allocator {
    /// Returns zeroed memory or null.
    alloc_zeroed: AllocZeroedFn,
    /// Releases memory.
    free: FreeFn,
    /// Passed to both.
    ctx: *mut c_void,
    /// In a map's own copy: the map's quarantine, or null; blocks that
    /// [`free_block`] is given wait there before going back to `free`
    /// (`crate::quarantine`). In an allocator a caller builds: null, or
    /// `quarantine::TEMPLATE` ([`Allocator::with_quarantine`]), which only
    /// tells `makemap` to give the new map a quarantine of its own
    /// (`new_hmap`); such an allocator is never handed to `free_block`.
    pub(crate) q: *const crate::quarantine::Quarantine,
}

// SAFETY: an Allocator is two function pointers and a context; whoever builds
// one promises (`Allocator::new` point 3) that they may be called from any
// thread.
unsafe impl Send for Allocator {}
// SAFETY: a shared `Allocator` is only read (no interior mutability), and
// its functions may be called from any thread (`Allocator::new` point 3).
unsafe impl Sync for Allocator {}

/// Below this size `malloc` + zeroing beats `calloc`, which bypasses glibc's
/// per-thread cache; above it `calloc` can hand out fresh pages that are
/// already zero.
const SMALL_BLOCK: usize = 4096;

/// Blocks of at least this many bytes (big bucket arrays) are mapped
/// directly, 2 MiB-aligned, and their whole 2 MiB pages are marked
/// `MADV_HUGEPAGE`: random probes into a multi-megabyte array then miss the
/// TLB far less (the measured gain: docs/benchmarks.md, "Huge pages and
/// streaming stores"). The partial 2 MiB page at the end keeps 4 KiB pages,
/// so resident memory does not grow. Linux only; not under Miri.
const HUGE_BLOCK: usize = 2 << 20;
/// The huge page size (x86_64 and arm64 with 4 KiB base pages).
#[cfg(all(target_os = "linux", not(miri)))]
const HUGE_PAGE: usize = 2 << 20;

/// Whether a block of `size` bytes goes through [`huge_alloc`].
#[inline]
fn is_huge(size: usize) -> bool {
    cfg!(all(target_os = "linux", not(miri))) && size >= HUGE_BLOCK
}

/// A zeroed, 2 MiB-aligned mapping of at least `size` bytes, or null.
#[cfg(all(target_os = "linux", not(miri)))]
fn huge_alloc(size: usize) -> *mut u8 {
    let Some(len) = size.checked_next_multiple_of(HUGE_PAGE) else { return core::ptr::null_mut() };
    let Some(map_len) = len.checked_add(HUGE_PAGE) else { return core::ptr::null_mut() };
    // SAFETY: an anonymous private mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            map_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return core::ptr::null_mut();
    }
    let p = p.cast::<u8>();
    let head = p.addr().next_multiple_of(HUGE_PAGE) - p.addr();
    let tail = map_len - head - len;
    // SAFETY: `p .. p + map_len` is our fresh mapping; `head + len <= map_len`.
    let aligned = unsafe { p.add(head) };
    // Unmap the slack before and after the aligned part (munmap of a part
    // of our own mapping cannot fail for page-aligned arguments; if it did,
    // the slack would only stay mapped).
    if head > 0 {
        // SAFETY: the first `head` bytes of our mapping, page-aligned.
        unsafe { libc::munmap(p.cast(), head) };
    }
    if tail > 0 {
        // SAFETY: `head + len + tail == map_len`: `aligned + len` is inside
        // our mapping.
        let rest = unsafe { aligned.add(len) };
        // SAFETY: the last `tail` bytes of our mapping, page-aligned (`len`
        // is a multiple of the huge page size); nothing points into them.
        unsafe { libc::munmap(rest.cast(), tail) };
    }
    let whole = size / HUGE_PAGE * HUGE_PAGE;
    if whole > 0 {
        // SAFETY: advice on our own mapping; failure (e.g. THP disabled) only
        // means 4 KiB pages.
        unsafe { libc::madvise(aligned.cast(), whole, libc::MADV_HUGEPAGE) };
    }
    aligned
}

#[cfg(not(all(target_os = "linux", not(miri))))]
fn huge_alloc(_size: usize) -> *mut u8 {
    unreachable!("is_huge is false on this target")
}

/// [`Allocator::LIBC`]'s `alloc_zeroed`: `malloc` and zeroing for small
/// blocks, [`huge_alloc`] for huge ones, `calloc` in between.
///
/// # Safety
/// None beyond [`AllocZeroedFn`]'s (any size is a valid request; `ctx` is
/// unused).
unsafe extern "C" fn libc_calloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    if size <= SMALL_BLOCK {
        // SAFETY: malloc may be called with any size; it returns null or
        // memory aligned for any fundamental type (16 bytes on 64-bit Linux).
        let p: *mut u8 = unsafe { libc::malloc(size).cast() };
        // LLVM turns `malloc` followed by zeroing back into `calloc` (and so
        // back into the slow path this branch avoids) unless the pointer
        // escapes in between.
        let p = core::hint::black_box(p);
        if !p.is_null() {
            // SAFETY: a non-null `malloc(size)` result is valid for writes
            // of `size` bytes.
            unsafe { core::ptr::write_bytes(p, 0, size) };
        }
        return p.cast();
    }
    if is_huge(size) {
        // Fresh anonymous pages are zero.
        return huge_alloc(size).cast();
    }
    // SAFETY: `calloc` may be called with any count and size; it returns
    // null or zeroed memory aligned for any fundamental type.
    unsafe { libc::calloc(1, size) }
}

/// [`Allocator::LIBC`]'s `free`.
///
/// # Safety
/// As [`FreeFn`], for [`libc_calloc`]:
/// * `p` came from `libc_calloc(_, size)`, was not freed since, and is not
///   used again;
/// * `size` is the size asked of that call.
unsafe extern "C" fn libc_free(_ctx: *mut c_void, p: *mut c_void, size: usize) {
    if is_huge(size) {
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            // SAFETY: `is_huge(size)`, so `libc_calloc` got `p` from
            // `huge_alloc(size)` (points 1 and 2): a mapping of `size`
            // rounded up to whole huge pages, unused from now on.
            unsafe { libc::munmap(p.cast(), size.next_multiple_of(HUGE_PAGE)) };
        }
        return;
    }
    // SAFETY: not huge, so `libc_calloc` got `p` from `malloc` or `calloc`
    // (points 1 and 2); freed once, unused from now on (point 1).
    unsafe { libc::free(p.cast()) }
}

impl Allocator {
    /// The C library's `calloc`/`free`.
    pub const LIBC: Allocator =
        Allocator { alloc_zeroed: libc_calloc, free: libc_free, ctx: ptr::null_mut(), q: ptr::null() };

    /// An allocator from caller-supplied functions.
    ///
    /// # Safety
    /// * `alloc_zeroed`, called as [`AllocZeroedFn`] says, returns null or a
    ///   pointer to `size` zeroed bytes aligned to 8, valid for reads and
    ///   writes until passed to `free`;
    /// * `free`, called as [`FreeFn`] says, releases such a block;
    /// * both may be called with `ctx` from any thread, for as long as any
    ///   map made with this allocator lives.
    pub const unsafe fn new(alloc_zeroed: AllocZeroedFn, free: FreeFn, ctx: *mut c_void) -> Self {
        Self { alloc_zeroed, free, ctx, q: ptr::null() }
    }

    /// This allocator, for making maps that keep what they release in a
    /// quarantine (`crate::quarantine`): each map made with it gets one of
    /// its own, in its hmap block, with the default floor (the C ABI's
    /// maps). A map's own copy then points to its quarantine.
    pub fn with_quarantine(self) -> Self {
        Self { q: &raw const crate::quarantine::TEMPLATE, ..self }
    }

    /// This allocator without a map's quarantine: what a new map made from
    /// it starts with (each map has its own quarantine, or none).
    pub(crate) const fn without_quarantine(self) -> Self {
        Self { q: ptr::null(), ..self }
    }

    /// The context passed to this allocator's functions.
    pub fn ctx(&self) -> *mut c_void {
        self.ctx
    }
}

static DEFAULT: std::sync::Mutex<Allocator> = std::sync::Mutex::new(Allocator::LIBC);
/// Whether [`DEFAULT`] may differ from [`Allocator::LIBC`]: until an
/// allocator is installed, `make` skips the lock (an uncontended lock and
/// unlock were a third of `make(map)`'s time).
static CUSTOM_DEFAULT: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// The allocator new maps get unless one is given explicitly.
#[inline]
pub fn default_allocator() -> Allocator {
    if !CUSTOM_DEFAULT.load(core::sync::atomic::Ordering::Acquire) {
        return Allocator::LIBC;
    }
    *DEFAULT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Replaces the default allocator for maps made from now on (existing maps
/// keep theirs). The C ABI's allocator hook.
pub fn set_default_allocator(a: Allocator) {
    let mut d = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
    *d = a;
    // Set while holding the lock, so a reader that sees the flag also sees
    // the new allocator once it takes the lock. Never cleared: after the
    // first installation every read takes the lock.
    CUSTOM_DEFAULT.store(true, core::sync::atomic::Ordering::Release);
}

/// The block header. `next` links retired blocks; `size_kind` holds the
/// payload size (a multiple of 8) in its high bits, a [`Kind`] in its low 2
/// and [`OVERALIGNED`] in bit 2.
#[repr(C)]
pub(crate) struct Header {
    next: *mut Header,
    size_kind: usize,
    /// Two unused words on 32-bit targets: the header stays 16 bytes there
    /// too, so payloads keep the offset and 8-alignment of the diagram.
    #[cfg(target_pointer_width = "32")]
    _pad: [usize; 2],
}

impl Header {
    /// A header off every list, recording `size_kind`.
    const fn new(size_kind: usize) -> Header {
        Header {
            next: ptr::null_mut(),
            size_kind,
            #[cfg(target_pointer_width = "32")]
            _pad: [0; 2],
        }
    }

    /// Sets the retire-list link.
    pub(crate) fn set_next(&mut self, next: *mut Header) {
        self.next = next;
    }
}

/// Size of [`Header`]; payloads start this far into a block.
pub(crate) const HEADER: usize = core::mem::size_of::<Header>();
const _: () = assert!(HEADER == 16);

/// `size_kind` bit of a block from [`alloc_block_aligned`] with an
/// alignment above 8: the word before its header holds the distance from
/// the allocation's base to the header (the module docs' diagram).
const OVERALIGNED: usize = 4;

/// Mask of the [`Kind`] bits of `size_kind`.
const KIND_MASK: usize = 3;

/// What a block holds, which decides how it is freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    /// Plain memory: freed as is (overflow buckets, out-of-line elems).
    Plain = 0,
    /// A bucket array: freeing it also frees the heap overflow buckets its
    /// chains reach.
    Array = 1,
    /// A key whose drop hook has not run yet (deferred while iterators live).
    Key = 2,
    /// The `hmap` itself.
    Hmap = 3,
}

/// Allocates a zeroed block with `size` bytes of payload.
///
/// # Safety
/// * `a` is a valid allocator (its functions meet [`Allocator::new`]'s
///   points; [`Allocator::LIBC`] does).
pub(crate) unsafe fn alloc_block(a: &Allocator, size: usize, kind: Kind) -> Option<NonNull<u8>> {
    let size = size.checked_next_multiple_of(8)?;
    let total = size.checked_add(HEADER)?;
    if total > isize::MAX as usize {
        return None;
    }
    // SAFETY: [`AllocZeroedFn`]: 1. `a.ctx` is `a`'s context; 2. `0 < total
    // <= isize::MAX` (checked above; `total >= HEADER`).
    let base = unsafe { (a.alloc_zeroed)(a.ctx, total) };
    let base = NonNull::new(base.cast::<u8>())?;
    let h = base.cast::<Header>();
    // SAFETY: a non-null result is valid for writes of `total >= HEADER`
    // bytes and 8-aligned (point 1, `Allocator::new` point 1), as `Header`
    // needs.
    unsafe { h.write(Header::new(size | kind as usize)) };
    // SAFETY: `HEADER <= total`: the payload pointer stays inside the block
    // (one past its end at most).
    Some(unsafe { base.byte_add(HEADER) })
}

/// Allocates a zeroed block for something a racing reader may read: a
/// bucket array, an overflow bucket, an out-of-line key or elem. Like
/// [`alloc_block_aligned`], except that a map with a quarantine first
/// takes a block of the same role and size from its pool
/// (`crate::quarantine`), zeroed, so that memory racing readers may still
/// reach keeps holding what they expect there.
///
/// # Safety
/// * `a` is a valid allocator (its functions meet [`Allocator::new`]'s
///   points), and if it is a map's copy with a quarantine, that map is
///   live;
/// * `align` is a power of two;
/// * the block is for a bucket array (`kind` [`Kind::Array`]), or, with
///   `kind` [`Kind::Plain`], for an overflow bucket or an out-of-line key
///   or elem of that map.
#[inline]
pub(crate) unsafe fn alloc_reusable(a: &Allocator, size: usize, align: usize, kind: Kind) -> Option<NonNull<u8>> {
    // SAFETY: a non-null `q` is the quarantine of the live map `a` belongs
    // to (point 1).
    if let Some(q) = unsafe { a.q.as_ref() } {
        if align <= 8 {
            if let Some(p) = q.reuse(size, kind) {
                return Some(p);
            }
        }
    }
    // SAFETY: [`alloc_block_aligned`]: 1. `a` is valid (point 1); 2.
    // `align` is a power of two (point 2).
    unsafe { alloc_block_aligned(a, size, align, kind) }
}

/// Makes a pooled block fresh for reuse: zeroes its payload and records
/// `kind` in its header.
///
/// # Safety
/// 1. `p` is the payload of a live block from [`alloc_block`] (not
///    over-aligned), on no list, used by nothing but racing readers.
pub(crate) unsafe fn renew_block(p: NonNull<u8>, kind: Kind) {
    // SAFETY: a live block's payload (point 1).
    let size = unsafe { block_size(p) };
    // SAFETY: the payload is valid for writes of `size` bytes (point 1).
    unsafe { ptr::write_bytes(p.as_ptr(), 0, size) };
    // SAFETY: [`header_of`]: a live block's payload (point 1).
    let h = unsafe { header_of(p) };
    // SAFETY: the block's live, aligned header, on no list (point 1).
    unsafe { h.write(Header::new(size | kind as usize)) };
}

/// Whether a live block is over-aligned (its allocation starts before its
/// header).
///
/// # Safety
/// 1. `p` is the payload of a live block from [`alloc_block`] or
///    [`alloc_block_aligned`].
pub(crate) unsafe fn is_overaligned(p: NonNull<u8>) -> bool {
    // SAFETY: point 1 is `header_of`'s point 1.
    let h = unsafe { header_of(p) };
    // SAFETY: the block's live, aligned header.
    unsafe { (*h.as_ptr()).size_kind & OVERALIGNED != 0 }
}

/// Allocates a zeroed block with `size` bytes of payload aligned to
/// `align`: [`alloc_block`] when `align <= 8`, else the over-aligned
/// layout of the module docs (for out-of-line keys and elems of types
/// aligned above 8). Freed, retired and visited like any other block.
///
/// # Safety
/// * `a` is a valid allocator (its functions meet [`Allocator::new`]'s
///   points; [`Allocator::LIBC`] does);
/// * `align` is a power of two.
#[inline]
pub(crate) unsafe fn alloc_block_aligned(a: &Allocator, size: usize, align: usize, kind: Kind) -> Option<NonNull<u8>> {
    debug_assert!(align.is_power_of_two());
    if align <= 8 {
        // SAFETY: 1. `a` is a valid allocator (point 1).
        return unsafe { alloc_block(a, size, kind) };
    }
    // SAFETY: 1. as above; 2. `align` is a power of two (point 2) above 8.
    unsafe { alloc_overaligned(a, size, align, kind) }
}

/// [`alloc_block_aligned`] for `align > 8`.
///
/// # Safety
/// 1. `a` is a valid allocator;
/// 2. `align` is a power of two above 8.
#[cold]
unsafe fn alloc_overaligned(a: &Allocator, size: usize, align: usize, kind: Kind) -> Option<NonNull<u8>> {
    let size = size.checked_next_multiple_of(8)?;
    // Room for the lead word and header before the payload, plus up to
    // `align - 8` bytes to reach the alignment from an 8-aligned base.
    let total = size.checked_add(HEADER)?.checked_add(align)?;
    if total > isize::MAX as usize {
        return None;
    }
    // SAFETY: [`AllocZeroedFn`]: 1. `a.ctx` is `a`'s context; 2. `0 < total
    // <= isize::MAX` (checked above).
    let base = unsafe { (a.alloc_zeroed)(a.ctx, total) };
    let base = NonNull::new(base.cast::<u8>())?;
    // The first `align`-aligned address at least `HEADER + 8` bytes in. The
    // base is 8-aligned (`Allocator::new` point 1), so `lead` is a multiple
    // of 8 in `8 ..= align` and the payload ends at most `total` bytes in:
    // `payload_off + size = lead + HEADER + size <= align + HEADER + size`.
    let first = HEADER + 8;
    let payload_off = first + (align - (base.as_ptr().addr().wrapping_add(first) & (align - 1))) % align;
    let lead = payload_off - HEADER;
    // SAFETY: `lead < payload_off <= total` (above): inside the block.
    let h = unsafe { base.byte_add(lead) }.cast::<Header>();
    // The payload size recorded covers the slack after the value too, so
    // that `block_extent` recovers `total`.
    let recorded = total - payload_off;
    // SAFETY: `h` is `lead >= 8` bytes into the block, with `HEADER` bytes
    // after it (`payload_off + size <= total`), valid for writes and
    // 8-aligned (an 8-aligned base plus a multiple of 8).
    unsafe { h.write(Header::new(recorded | kind as usize | OVERALIGNED)) };
    // SAFETY: `lead >= 8`: the word before the header is inside the block.
    let lead_word = unsafe { h.cast::<usize>().sub(1) };
    // SAFETY: `lead_word` is inside the block (above), valid for writes and
    // 8-aligned like `h`.
    unsafe { lead_word.write(lead) };
    // SAFETY: `payload_off <= total`: the payload pointer stays inside the
    // block (one past its end at most).
    Some(unsafe { base.byte_add(payload_off) })
}

/// The allocation a block's payload `p` lies in: its base (what the
/// allocator returned) and the size the allocator was asked for.
///
/// # Safety
/// * `p` is the payload pointer of a live block from [`alloc_block`] or
///   [`alloc_block_aligned`].
pub(crate) unsafe fn block_extent(p: NonNull<u8>) -> (NonNull<u8>, usize) {
    // SAFETY: point 1 is `header_of`'s point 1.
    let h = unsafe { header_of(p) };
    // SAFETY: `h` is the block's header: live, aligned, written when the
    // block was allocated (its `size_kind` is never changed afterwards).
    let size_kind = unsafe { (*h.as_ptr()).size_kind };
    let size = size_kind & !7;
    if size_kind & OVERALIGNED == 0 {
        return (h.cast(), size + HEADER);
    }
    // SAFETY: an over-aligned block has its lead word just before the
    // header, inside the same allocation (`alloc_overaligned`).
    let lead_word = unsafe { h.cast::<usize>().sub(1) };
    // SAFETY: the lead word is live, 8-aligned and was written at allocation.
    let lead = unsafe { lead_word.read() };
    // SAFETY: the header is `lead` bytes past the allocation's base, in the
    // same allocation.
    let base = unsafe { h.cast::<u8>().byte_sub(lead) };
    (base, lead + HEADER + size)
}

/// The header of the block whose payload is `p`.
///
/// # Safety
/// * `p` is the payload pointer of a live block from [`alloc_block`] or
///   [`alloc_block_aligned`].
#[inline]
pub(crate) unsafe fn header_of(p: NonNull<u8>) -> NonNull<Header> {
    // SAFETY: `alloc_block` returned `p` as its block's base plus HEADER
    // (point 1), so `p - HEADER` is that base, in the same live allocation.
    unsafe { p.byte_sub(HEADER).cast() }
}

/// Payload size of a block (for an over-aligned block, including the
/// slack after the value).
///
/// # Safety
/// * `p` is the payload pointer of a live block from [`alloc_block`] or
///   [`alloc_block_aligned`].
pub(crate) unsafe fn block_size(p: NonNull<u8>) -> usize {
    // SAFETY: point 1 is `header_of`'s point 1.
    let h = unsafe { header_of(p) };
    // SAFETY: `h` is the block's header: live, aligned, written by
    // `alloc_block` (its `size_kind` is never changed afterwards).
    unsafe { (*h.as_ptr()).size_kind & !7 }
}

/// Kind of a block.
///
/// # Safety
/// * `p` is the payload pointer of a live block from [`alloc_block`] or
///   [`alloc_block_aligned`].
pub(crate) unsafe fn block_kind(p: NonNull<u8>) -> Kind {
    // SAFETY: point 1 is `header_of`'s point 1.
    let h = unsafe { header_of(p) };
    // SAFETY: `h` is the block's header: live, aligned, written by
    // `alloc_block` (its `size_kind` is never changed afterwards).
    match unsafe { (*h.as_ptr()).size_kind } & KIND_MASK {
        0 => Kind::Plain,
        1 => Kind::Array,
        2 => Kind::Key,
        _ => Kind::Hmap,
    }
}

/// Turns a live block into a [`Kind::Key`] block: freeing it will run the
/// key drop hook first. Used for an out-of-line key whose drop is deferred
/// (its storage is kept for stale slots; see `docs/memory.md`).
///
/// # Safety
/// 1. `p` is the payload pointer of a live [`Kind::Plain`] block from
///    [`alloc_block`] or [`alloc_block_aligned`], holding one key of the
///    map's type whose drop is due, aligned for it;
/// 2. no one else reads or writes its header during the call.
pub(crate) unsafe fn set_key_kind(p: NonNull<u8>) {
    // SAFETY: [`header_of`]: 1. a live block's payload (point 1).
    let h = unsafe { header_of(p) }.as_ptr();
    // SAFETY: `h` is the block's live, aligned header, not accessed by
    // anyone else meanwhile (point 2).
    let sk = unsafe { (*h).size_kind };
    // SAFETY: as above.
    unsafe { (*h).size_kind = (sk & !KIND_MASK) | Kind::Key as usize };
}

/// The block after `p` on an intrusive list, without unlinking anything.
///
/// # Safety
/// 1. `p` is the payload of a live block on a list built by
///    [`push_retired`], whose links no one changes during the call.
pub(crate) unsafe fn next_on_list(p: NonNull<u8>) -> Option<NonNull<u8>> {
    // SAFETY: [`header_of`]: 1. a live block's payload (point 1).
    let h = unsafe { header_of(p) }.as_ptr();
    // SAFETY: `h` is the block's live, aligned header (point 1).
    let next = NonNull::new(unsafe { (*h).next })?;
    // SAFETY: the payload starts HEADER bytes into the next live block.
    Some(unsafe { next.cast::<u8>().byte_add(HEADER) })
}

/// The first block of an intrusive list, or `None`.
///
/// # Safety
/// 1. `list` is null or heads a list of live blocks built by
///    [`push_retired`].
pub(crate) unsafe fn first_on_list(list: *mut Header) -> Option<NonNull<u8>> {
    let h = NonNull::new(list)?;
    // SAFETY: [`NonNull::byte_add`]: the payload starts HEADER bytes into
    // the same live block (point 1).
    Some(unsafe { h.cast::<u8>().byte_add(HEADER) })
}

/// Frees a block: at once, or, for a map with a quarantine, once enough
/// newer blocks have followed it there (`crate::quarantine`).
///
/// # Safety
/// * `p` is the payload of a live block that [`alloc_block`] or
///   [`alloc_block_aligned`] allocated with `a`;
/// * nothing uses the block afterwards (a racing thread that still reads
///   it is what the quarantine is for; no one writes it);
/// * if `a` is a map's copy with a quarantine, that map is live.
#[inline]
pub(crate) unsafe fn free_block(a: &Allocator, p: NonNull<u8>) {
    if let Some(q) = NonNull::new(a.q.cast_mut()) {
        debug_assert!(
            !core::ptr::eq(a.q, &raw const crate::quarantine::TEMPLATE),
            "free_block with a template allocator"
        );
        // SAFETY: [`crate::quarantine::Quarantine::defer`]: 1. `q` is the
        // quarantine of a live map (point 3), whose allocator `a` is; 2. `p`
        // is a live block of `a` nothing uses any more (points 1 and 2).
        unsafe { crate::quarantine::Quarantine::defer(q, a, p) };
        return;
    }
    // SAFETY: [`free_block_now`]: points 1 and 2 are this function's.
    unsafe { free_block_now(a, p) }
}

/// Frees a block at once, quarantine or not.
///
/// # Safety
/// * `p` is the payload of a live block that [`alloc_block`] or
///   [`alloc_block_aligned`] allocated with `a`;
/// * nothing uses the block afterwards.
pub(crate) unsafe fn free_block_now(a: &Allocator, p: NonNull<u8>) {
    // SAFETY: a live block's payload (point 1).
    let (base, total) = unsafe { block_extent(p) };
    // SAFETY: [`FreeFn`]: 1. `base` is what `a.alloc_zeroed` returned for
    // this block (point 1, `block_extent`), not freed since (live), unused
    // from now on (point 2); 2. `total` is the size it was asked for
    // (`block_extent`); 3. `a.ctx` is `a`'s.
    unsafe { (a.free)(a.ctx, base.as_ptr().cast(), total) }
}

/// The size the allocator was asked for when it made the block of `p`.
///
/// # Safety
/// * `p` is the payload pointer of a live block from [`alloc_block`] or
///   [`alloc_block_aligned`].
pub(crate) unsafe fn block_total(p: NonNull<u8>) -> usize {
    // SAFETY: point 1 is `block_extent`'s.
    unsafe { block_extent(p) }.1
}

/// Pushes a block on an intrusive retire list.
///
/// # Safety
/// * `p` is the payload of a live block from [`alloc_block`] or
///   [`alloc_block_aligned`], not on any list;
/// * `list` is null or heads a list of live blocks built by
///   [`push_retired`].
pub(crate) unsafe fn push_retired(list: &mut *mut Header, p: NonNull<u8>) {
    // SAFETY: a live block's payload (point 1).
    let h = unsafe { header_of(p) }.as_ptr();
    // SAFETY: `h` is the block's live, aligned header; no list links it
    // (point 1), so no one else reads `next` meanwhile.
    unsafe { (*h).next = *list };
    *list = h;
}

/// Pops one block off a retire list, returning its payload.
///
/// # Safety
/// * `list` is null or heads a list of live blocks built by
///   [`push_retired`].
pub(crate) unsafe fn pop_retired(list: &mut *mut Header) -> Option<NonNull<u8>> {
    let h = NonNull::new(*list)?;
    // SAFETY: `h` is the live, aligned header of the list's first block
    // (point 1).
    *list = unsafe { (*h.as_ptr()).next };
    // SAFETY: the payload starts HEADER bytes into the same block.
    Some(unsafe { h.cast::<u8>().byte_add(HEADER) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn blocks_are_zeroed_and_sized() {
        let a = Allocator::LIBC;
        // SAFETY: `LIBC` is a valid allocator.
        let p = unsafe { alloc_block(&a, 20, Kind::Plain) }.unwrap();
        // SAFETY: `p` is a live block's payload (until `free_block` below).
        assert_eq!(unsafe { block_size(p) }, 24);
        // SAFETY: as for `block_size`.
        assert_eq!(unsafe { block_kind(p) }, Kind::Plain);
        // SAFETY: the payload is valid for reads of its 24 bytes.
        let payload = unsafe { core::slice::from_raw_parts(p.as_ptr(), 24) };
        assert!(payload.iter().all(|&x| x == 0));
        assert_eq!(p.as_ptr().addr() % 8, 0);
        let mut list = ptr::null_mut();
        // SAFETY: 1. a live block on no list; 2. an empty list.
        unsafe { push_retired(&mut list, p) };
        // SAFETY: a list of one live block.
        assert_eq!(unsafe { pop_retired(&mut list) }, Some(p));
        // SAFETY: an empty list.
        assert_eq!(unsafe { pop_retired(&mut list) }, None);
        // SAFETY: 1. a live block from `a`; 2. not used afterwards.
        unsafe { free_block(&a, p) };
    }

    #[test]
    fn overaligned_blocks_round_trip() {
        let a = Allocator::LIBC;
        for align in [16, 32, 64, 4096] {
            for size in [0, 8, 16, 24, 100] {
                // SAFETY: `LIBC` is valid; `align` is a power of two.
                let p = unsafe { alloc_block_aligned(&a, size, align, Kind::Key) }.unwrap();
                assert_eq!(p.as_ptr().addr() % align, 0, "align {align} size {size}");
                // SAFETY: `p` is a live block's payload (until `free_block`).
                assert_eq!(unsafe { block_kind(p) }, Kind::Key);
                // SAFETY: as above.
                let (base, total) = unsafe { block_extent(p) };
                assert_eq!(total, size.next_multiple_of(8) + HEADER + align);
                // SAFETY: as above.
                let recorded = unsafe { block_size(p) };
                assert!(recorded >= size.next_multiple_of(8));
                assert_eq!(p.as_ptr().addr() + recorded, base.as_ptr().addr() + total);
                // SAFETY: the payload is valid for reads of `recorded` bytes.
                let payload = unsafe { core::slice::from_raw_parts(p.as_ptr(), recorded) };
                assert!(payload.iter().all(|&x| x == 0));
                let mut list = ptr::null_mut();
                // SAFETY: 1. a live block on no list; 2. an empty list.
                unsafe { push_retired(&mut list, p) };
                // SAFETY: a list of one live block.
                assert_eq!(unsafe { pop_retired(&mut list) }, Some(p));
                // SAFETY: 1. a live block from `a`; 2. not used afterwards.
                unsafe { free_block(&a, p) };
            }
        }
        // At most 8: the plain layout.
        // SAFETY: `LIBC` is valid; 8 is a power of two.
        let p = unsafe { alloc_block_aligned(&a, 20, 8, Kind::Plain) }.unwrap();
        // SAFETY: a live block's payload.
        let hdr = unsafe { header_of(p) }.cast::<u8>();
        // SAFETY: a live block's payload.
        assert_eq!(unsafe { block_extent(p) }, (hdr, 24 + HEADER));
        // SAFETY: 1. a live block from `a`; 2. not used afterwards.
        unsafe { free_block(&a, p) };
    }

    /// Blocks at 8 mod 16: 8-aligned, never 16-aligned, all an
    /// [`Allocator`] promises. Successive blocks sit at 8, 24, 40 and 56 mod
    /// 64 in turn, so that the test sees every lead an over-aligned block
    /// can take, whatever addresses the C allocator hands out (wasi-libc's
    /// gives a freed block back at the same address).
    static SHIFT_TURN: AtomicUsize = AtomicUsize::new(0);

    /// `calloc` for [`SHIFT_TURN`]'s addresses.
    ///
    /// # Safety
    /// As [`AllocZeroedFn`].
    unsafe extern "C" fn shifted_calloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
        let shift = 8 + 16 * (SHIFT_TURN.fetch_add(1, Ordering::Relaxed) % 4);
        // 64-aligned first (32-bit glibc's `calloc` is only 8-aligned).
        let mut p: *mut c_void = ptr::null_mut();
        // SAFETY: `p` is writable; 64 is a power of two and a multiple of
        // the pointer size.
        if unsafe { libc::posix_memalign(&mut p, 64, size + 56) } != 0 {
            return ptr::null_mut();
        }
        let p = p.cast::<u8>();
        // SAFETY: `p` is a fresh block of `size + 56` bytes, ours.
        unsafe { p.write_bytes(0, size + 56) };
        // SAFETY: `shift <= 56`: `p + shift` and the `size` bytes after it
        // stay inside the block.
        unsafe { p.add(shift) }.cast()
    }

    /// Frees a [`shifted_calloc`] block.
    ///
    /// # Safety
    /// As [`FreeFn`], for [`shifted_calloc`].
    unsafe extern "C" fn shifted_free(_ctx: *mut c_void, p: *mut c_void, _size: usize) {
        // `p` is `shift` bytes past a 64-aligned block, `shift < 64`.
        let shift = p.addr() % 64;
        // SAFETY: `p` is `shift` bytes into a `posix_memalign` block (point 1).
        let base = unsafe { p.cast::<u8>().sub(shift) };
        // SAFETY: that block, freed once (point 1).
        unsafe { libc::free(base.cast()) }
    }

    #[test]
    fn overaligned_blocks_from_an_8_aligned_allocator() {
        // SAFETY: 1. `shifted_calloc` returns null or zeroed, 8-aligned
        // memory valid until freed; 2. `shifted_free` releases it; 3. both
        // are thread-safe (libc).
        let a = unsafe { Allocator::new(shifted_calloc, shifted_free, ptr::null_mut()) };
        let mut leads = std::collections::BTreeSet::new();
        for align in [16, 32, 64] {
            for size in [8, 48] {
                // SAFETY: `a` is valid; `align` is a power of two.
                let p = unsafe { alloc_block_aligned(&a, size, align, Kind::Plain) }.unwrap();
                assert_eq!(p.as_ptr().addr() % align, 0);
                // SAFETY: a live block's payload.
                let (base, total) = unsafe { block_extent(p) };
                assert_eq!(base.as_ptr().addr() % 16, 8, "the allocator's own pointer");
                assert_eq!(total, size + HEADER + align);
                leads.insert(p.as_ptr().addr() - base.as_ptr().addr() - HEADER);
                // SAFETY: 1. a live block from `a`; 2. not used afterwards.
                unsafe { free_block(&a, p) };
            }
        }
        // From a base 8 past a 16-aligned address, the header lands 8 in
        // for 16, and further in for larger alignments.
        assert!(leads.contains(&8) && leads.len() > 1, "{leads:?}");
    }

    #[test]
    fn overflowing_sizes_fail_cleanly() {
        // SAFETY: `LIBC` is valid; the request fails before reaching it.
        assert!(unsafe { alloc_block(&Allocator::LIBC, usize::MAX - 3, Kind::Plain) }.is_none());
        // SAFETY: `LIBC` is valid; this request also fails before reaching it.
        assert!(unsafe { alloc_block(&Allocator::LIBC, isize::MAX as usize, Kind::Plain) }.is_none());
        // SAFETY: `LIBC` is valid; the over-aligned request fails before
        // reaching it.
        assert!(unsafe { alloc_block_aligned(&Allocator::LIBC, isize::MAX as usize - 64, 64, Kind::Plain) }.is_none());
    }
}
