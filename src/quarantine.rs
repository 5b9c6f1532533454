//! Deferred reclamation for programs that race on a map (gomap only: Go's
//! GC keeps whatever a racing goroutine still reads alive).
//!
//! A program with a map race reads a map while another thread writes it.
//! Go detects that on a best-effort basis ("concurrent map read and map
//! write"), and until it does, the racing reader reads memory the writer
//! has dropped: an old bucket array after a growth, overflow buckets cut
//! off by `clear`, the out-of-line elem of a deleted entry, or an elem
//! whose pointer a lookup returned. Go's GC keeps those alive, so the
//! reader gets stale data, never freed memory. gomap frees them when the
//! write ends, so without help a racing reader reads freed memory.
//!
//! A map with a quarantine (every map of the C ABI unless its host turns it
//! off) gives such blocks back in two stages.
//!
//! 1. **The queue.** `alloc::free_block` appends a released block
//!    to the map's queue, oldest first, untouched: a racing reader that
//!    still holds a pointer into it reads exactly the stale data Go's
//!    reader would. A block leaves the queue once the blocks queued after
//!    it add up to more than the *grace*: the larger of the map's floor
//!    (64 KiB by default) and the largest block the map ever queued (its
//!    biggest retired bucket array). So a growth's old array stays as it
//!    was until at least as many bytes again were released after it (in
//!    practice the next growth of that size); a deleted 200-byte elem for
//!    300 further deletes of its size.
//! 2. **The pool.** A block past its grace goes to a pool of its *role*:
//!    bucket arrays (reused by an array of the same size: a same-size
//!    growth, a shrink back, a growth to a size seen before), overflow
//!    buckets, out-of-line keys, out-of-line elems. `alloc::alloc_reusable`
//!    takes from the pool before the allocator. The memory therefore
//!    stays *type-stable* while the map lives: a racing reader that
//!    stalled for longer than any grace still reads a bucket of the same
//!    type, or a key or elem of the same type (another entry's, or zeroes),
//!    never freed memory or memory of another kind. A role whose block
//!    size another role shares (a 144-byte elem in a map whose buckets are
//!    144 bytes, keys and elems of one size) does not pool: its blocks are
//!    freed after the grace. Over-aligned blocks (alignment above 8) do not
//!    pool either.
//!
//! Memory: the queue holds the grace plus one block; the pool holds what
//! the map once used and no longer does, so the map never holds more than
//! its own high-water mark plus the grace (docs/memory.md, "Racing
//! threads", measures it). A host that knows when no thread can be inside
//! a map (a safepoint, a pause of all threads) gives it all back with
//! [`release`] (`gomap_map_quiesce`); an explicit `mapshrink` and
//! [`crate::retire::mapfree`] do too. Queueing and pooling use the blocks'
//! own headers (the `next` link of `crate::alloc::Header`): they never
//! allocate and never fail. Both sit behind one spin lock, taken where
//! other threads may be in the map (queueing: iterators, readers that run
//! concurrently, release records when they end; reuse; a clone reading its
//! source's setting) and skipped where the caller holds the map alone
//! (setting it, draining it, `make`).

use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::alloc::{self, Allocator, Header, Kind};
use crate::fatal::MapError;
use crate::map::HMap;
use crate::maptype::MapType;

/// The floor of the grace that maps of the C ABI get (64 KiB).
pub const DEFAULT_MIN: usize = 64 << 10;

/// What `Allocator::with_quarantine` points to: never queues anything
/// (`alloc::free_block` is only ever given a map's own allocator), only
/// tells `makemap` to give the new map a quarantine of its own, with the
/// default floor and no pooled roles until `set_quarantine` names them.
pub(crate) static TEMPLATE: Quarantine = Quarantine::with(DEFAULT_MIN, Roles([0; 3]));

/// A map's queue of freed blocks waiting to go back to its allocator.
pub struct Quarantine {
    /// The spin lock over `queue`.
    locked: AtomicBool,
    /// Whether the pools may hold a block: set under the lock when a block
    /// is pooled, cleared by `drain`; read without the lock by `reuse`, so
    /// a map whose pools are empty (every map that never released a
    /// block past its grace) allocates without taking the lock.
    any_pooled: AtomicBool,
    /// Oldest first; read and written only under `locked`.
    queue: UnsafeCell<Queue>,
}

/// The queue proper.
struct Queue {
    /// The oldest block's header, or null.
    head: *mut Header,
    /// The newest block's header, or null.
    tail: *mut Header,
    /// Sum of the queued blocks' allocation sizes.
    bytes: usize,
    /// Number of queued blocks.
    blocks: usize,
    /// The largest allocation size ever queued.
    largest: usize,
    /// The grace's floor.
    min: usize,
    /// Blocks past their grace, kept for reuse by the same role
    /// ([`POOL_BUCKET`], [`POOL_KEY`], [`POOL_ELEM`]): type-stable memory.
    pool: [Pool; 3],
    /// Bucket arrays past their grace, of any size, kept for reuse by an
    /// array of the same size.
    arrays: *mut Header,
    /// Blocks and bytes on `pool` and `arrays`.
    pooled_blocks: usize,
    pooled_bytes: usize,
}

/// Pool of overflow buckets (payload: the type's bucket size).
const POOL_BUCKET: usize = 0;
/// Pool of out-of-line keys.
const POOL_KEY: usize = 1;
/// Pool of out-of-line elems.
const POOL_ELEM: usize = 2;

/// The blocks of one role that wait for reuse.
#[derive(Clone, Copy)]
struct Pool {
    /// Payload size of the role's blocks (a multiple of 8); 0: this role
    /// does not pool (the map has no such blocks, or another role's blocks
    /// have the same size, so a block could not tell which it was).
    size: usize,
    /// `push_retired` list.
    head: *mut Header,
}

impl Queue {
    /// Sets the floor and the pooled roles' sizes. A map's type, and so its
    /// roles, never change: blocks pooled under an earlier setting keep
    /// their role.
    fn set(&mut self, min: usize, roles: Roles) {
        self.min = min;
        for (r, s) in self.pool.iter_mut().zip(roles.0) {
            r.size = s;
        }
    }

    /// The pool for a block of `kind` with a payload of `size` bytes, if
    /// its role pools.
    fn role(&self, size: usize, kind: Kind) -> Option<usize> {
        if size == 0 || matches!(kind, Kind::Array | Kind::Hmap) {
            return None;
        }
        self.pool.iter().position(|r| r.size == size)
    }
}

// SAFETY: the queue's pointers are blocks of the map's allocator, which may
// be freed from any thread (`Allocator::new` point 3); every access to the
// queue holds the spin lock.
unsafe impl Sync for Quarantine {}
// SAFETY: as for Sync.
unsafe impl Send for Quarantine {}

/// Holds the spin lock; releases it when dropped.
struct Locked<'a>(&'a Quarantine);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.0.locked.store(false, Ordering::Release);
    }
}

impl Locked<'_> {
    /// The queue, for the lock's lifetime.
    #[allow(clippy::mut_from_ref)]
    fn queue(&mut self) -> &mut Queue {
        // SAFETY: the lock is held (this guard), so no other reference to
        // the queue exists; the borrow ends with `&mut self`'s.
        unsafe { &mut *self.0.queue.get() }
    }
}

impl Quarantine {
    /// Makes the zeroed memory at `q` an empty quarantine with this floor
    /// and these roles, writing only what is not zero (a quarantine in an
    /// hmap block costs `make` four stores, not a struct's worth).
    ///
    /// # Safety
    /// 1. `q` is valid for reads and writes of a `Quarantine`, aligned,
    ///    all zero, and used by no one else during the call.
    pub(crate) unsafe fn init_zeroed(q: *mut Quarantine, min: usize, roles: Roles) {
        // All zero is an empty, unlocked quarantine with no floor and no
        // pooled roles: `AtomicBool` false, null pointers, zero counts.
        // SAFETY: `q` is aligned and initialised (zeroes are a valid
        // `Quarantine`, above), used by no one else (point 1).
        let qr = unsafe { &*q };
        // SAFETY: [`Quarantine::exclusive`]: 1. no other user (point 1).
        unsafe { qr.exclusive() }.set(min, roles);
    }

    /// An empty quarantine with this floor and these roles.
    pub(crate) const fn with(min: usize, roles: Roles) -> Self {
        Quarantine {
            locked: AtomicBool::new(false),
            any_pooled: AtomicBool::new(false),
            queue: UnsafeCell::new(Queue {
                head: ptr::null_mut(),
                tail: ptr::null_mut(),
                bytes: 0,
                blocks: 0,
                largest: 0,
                min,
                pool: [
                    Pool { size: roles.0[0], head: ptr::null_mut() },
                    Pool { size: roles.0[1], head: ptr::null_mut() },
                    Pool { size: roles.0[2], head: ptr::null_mut() },
                ],
                arrays: ptr::null_mut(),
                pooled_blocks: 0,
                pooled_bytes: 0,
            }),
        }
    }

    /// The queue without the lock, for callers that hold the map alone.
    ///
    /// # Safety
    /// 1. No other thread uses the quarantine during the borrow: the
    ///    caller uses the map exclusively (a write's contract, or the
    ///    host's word that no thread is inside the map), so no iterator
    ///    ends and no write frees into it meanwhile.
    #[allow(clippy::mut_from_ref)]
    unsafe fn exclusive(&self) -> &mut Queue {
        // SAFETY: no other reference to the queue exists while the borrow
        // lives (point 1).
        unsafe { &mut *self.queue.get() }
    }

    fn lock(&self) -> Locked<'_> {
        while self.locked.swap(true, Ordering::Acquire) {
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
        Locked(self)
    }

    /// Bytes (allocation sizes) and blocks queued.
    pub fn held(&self) -> (usize, usize) {
        let mut l = self.lock();
        let q = l.queue();
        (q.bytes + q.pooled_bytes, q.blocks + q.pooled_blocks)
    }

    /// Calls `f` with the payload of every queued block, oldest first,
    /// holding the lock (`f` must not free or queue blocks of the map).
    pub(crate) fn for_each(&self, mut f: impl FnMut(NonNull<u8>)) {
        let mut l = self.lock();
        // SAFETY: [`alloc::first_on_list`]: 1. the queue's head is null or
        // heads a list of live blocks linked through their headers.
        let mut p = unsafe { alloc::first_on_list(l.queue().head) };
        while let Some(b) = p {
            f(b);
            // SAFETY: [`alloc::next_on_list`]: 1. `b` is on the queue, whose
            // links no one changes while the lock is held.
            p = unsafe { alloc::next_on_list(b) };
        }
        let q = l.queue();
        let lists = [q.pool[0].head, q.pool[1].head, q.pool[2].head, q.arrays];
        for list in lists {
            // SAFETY: [`alloc::first_on_list`]: 1. a pool list: live blocks
            // linked through their headers.
            let mut p = unsafe { alloc::first_on_list(list) };
            while let Some(b) = p {
                f(b);
                // SAFETY: [`alloc::next_on_list`]: 1. `b` is on a pool list,
                // unchanged while the lock is held.
                p = unsafe { alloc::next_on_list(b) };
            }
        }
    }

    /// A pooled block for a new block of `size` payload bytes and `kind`,
    /// zeroed and ready, if the map pools that role and has one.
    pub(crate) fn reuse(&self, size: usize, kind: Kind) -> Option<NonNull<u8>> {
        if !self.any_pooled.load(Ordering::Relaxed) {
            return None;
        }
        let size = size.checked_next_multiple_of(8)?;
        let mut l = self.lock();
        let q = l.queue();
        let p = if kind == Kind::Array {
            // Arrays of every size share one list: find one of this size.
            let mut prev: *mut Header = ptr::null_mut();
            // SAFETY: [`alloc::first_on_list`]: 1. the array pool is a list
            // of live blocks linked through their headers.
            let mut cur = unsafe { alloc::first_on_list(q.arrays) };
            loop {
                let b = cur?;
                // SAFETY: a live pooled block's payload.
                if unsafe { alloc::block_size(b) } == size {
                    // SAFETY: [`alloc::next_on_list`]: 1. `b` is on the list,
                    // which only this thread changes (the lock is held).
                    let next = unsafe { alloc::next_on_list(b) };
                    let next_h = next.map_or(ptr::null_mut(), |n| {
                        // SAFETY: a live block's payload.
                        unsafe { alloc::header_of(n) }.as_ptr()
                    });
                    match NonNull::new(prev) {
                        None => q.arrays = next_h,
                        // SAFETY: `prev` is the live header of the block
                        // before `b` on the list; the lock is held.
                        Some(pv) => unsafe { (*pv.as_ptr()).set_next(next_h) },
                    }
                    break b;
                }
                // SAFETY: a live block's payload.
                prev = unsafe { alloc::header_of(b) }.as_ptr();
                // SAFETY: [`alloc::next_on_list`]: 1. `b` is on the list.
                cur = unsafe { alloc::next_on_list(b) };
            }
        } else {
            let r = q.role(size, kind)?;
            // SAFETY: [`alloc::pop_retired`]: 1. a pool list of live blocks.
            unsafe { alloc::pop_retired(&mut q.pool[r].head) }?
        };
        // SAFETY: a live block's payload.
        let total = unsafe { alloc::block_total(p) };
        q.pooled_blocks -= 1;
        q.pooled_bytes -= total;
        drop(l);
        // SAFETY: [`alloc::renew_block`]: 1. a live block of `alloc_block`
        // (pooled blocks are never over-aligned), off every list; only
        // racing readers may still read it.
        unsafe { alloc::renew_block(p, kind) };
        Some(p)
    }

    /// Puts a block whose grace is over in its role's pool; `false` if its
    /// role does not pool (then it is to be freed).
    ///
    /// # Safety
    /// 1. `p` is the payload of a live block of the map, on no list.
    unsafe fn stash(q: &mut Queue, p: NonNull<u8>) -> bool {
        // SAFETY: a live block's payload (point 1).
        if unsafe { alloc::is_overaligned(p) } {
            return false;
        }
        // SAFETY: as above.
        let size = unsafe { alloc::block_size(p) };
        // SAFETY: as above.
        let kind = unsafe { alloc::block_kind(p) };
        let list = if kind == Kind::Array {
            &mut q.arrays
        } else {
            match q.role(size, kind) {
                Some(r) => &mut q.pool[r].head,
                None => return false,
            }
        };
        // SAFETY: [`alloc::push_retired`]: 1. a live block on no list
        // (point 1); 2. a pool list built by push_retired.
        unsafe { alloc::push_retired(list, p) };
        q.pooled_blocks += 1;
        // SAFETY: a live block's payload.
        q.pooled_bytes += unsafe { alloc::block_total(p) };
        true
    }

    /// Queues a block the map no longer uses, then frees the oldest blocks
    /// while the queue holds more than the grace (never `p` itself: the
    /// grace is at least `p`'s size).
    ///
    /// # Safety
    /// 1. `q` is the quarantine of a live map whose allocator is `a`;
    /// 2. `p` is the payload of a live block allocated with `a`, on no
    ///    list, which nothing writes any more (racing readers may read it).
    pub(crate) unsafe fn defer(q: NonNull<Quarantine>, a: &Allocator, p: NonNull<u8>) {
        // SAFETY: [`alloc::block_total`]: a live block's payload (point 2).
        let total = unsafe { alloc::block_total(p) };
        // SAFETY: [`alloc::header_of`]: a live block's payload (point 2).
        let h = unsafe { alloc::header_of(p) }.as_ptr();
        // SAFETY: `q` points to a live map's field (point 1), shared.
        let qr = unsafe { q.as_ref() };
        let mut evicted: *mut Header = ptr::null_mut();
        {
            let mut l = qr.lock();
            let queue = l.queue();
            // SAFETY: `h` is the live block's header, on no list (point 2),
            // so its link is ours to set.
            unsafe { (*h).set_next(ptr::null_mut()) };
            match NonNull::new(queue.tail) {
                None => queue.head = h,
                // SAFETY: the tail is a queued block's live header; the lock
                // is held, so no one else reads or writes its link.
                Some(t) => unsafe { (*t.as_ptr()).set_next(h) },
            }
            queue.tail = h;
            queue.bytes += total;
            queue.blocks += 1;
            queue.largest = queue.largest.max(total);
            let grace = queue.min.max(queue.largest);
            while queue.bytes > grace {
                // SAFETY: [`alloc::pop_retired`]: 1. the queue is a list of
                // live blocks linked through their headers (built above).
                // It is not empty: `bytes > grace >= total`, so a block
                // older than `p` is queued.
                let Some(old) = (unsafe { alloc::pop_retired(&mut queue.head) }) else { break };
                if queue.head.is_null() {
                    queue.tail = ptr::null_mut();
                }
                // SAFETY: a live block's payload, just unlinked.
                queue.bytes -= unsafe { alloc::block_total(old) };
                queue.blocks -= 1;
                // SAFETY: [`Quarantine::stash`]: 1. a live block of the map,
                // unlinked above.
                if unsafe { Self::stash(queue, old) } {
                    qr.any_pooled.store(true, Ordering::Relaxed);
                    continue;
                }
                // SAFETY: [`alloc::push_retired`]: 1. `old` is a live block
                // on no list (unlinked above); 2. `evicted` is a list built
                // by push_retired.
                unsafe { alloc::push_retired(&mut evicted, old) };
            }
        }
        // Freed outside the lock: the host's `free` may take its own.
        // SAFETY: [`alloc::pop_retired`]: 1. a list built by push_retired.
        while let Some(old) = unsafe { alloc::pop_retired(&mut evicted) } {
            // SAFETY: [`alloc::free_block_now`]: 1. a live block of `a`
            // (point 1: every block of the queue came through `free_block`
            // with the map's allocator); 2. its grace is over: the map
            // released it long ago and nothing but a stalled racer reads
            // it.
            unsafe { alloc::free_block_now(a, old) };
        }
    }

    /// Frees every queued and pooled block.
    ///
    /// # Safety
    /// 1. Every queued block was allocated with `a` (the map's allocator);
    /// 2. no thread reads any of them any more, or uses the quarantine (the
    ///    map is being freed or shrunk, or its host says no thread is
    ///    inside it).
    pub(crate) unsafe fn drain(&self, a: &Allocator) {
        let mut list = {
            // SAFETY: [`Quarantine::exclusive`]: 1. no other thread uses it
            // (point 2).
            let queue = unsafe { self.exclusive() };
            if queue.blocks == 0 && queue.pooled_blocks == 0 {
                return;
            }
            let head = queue.head;
            queue.head = ptr::null_mut();
            queue.tail = ptr::null_mut();
            queue.bytes = 0;
            queue.blocks = 0;
            queue.pooled_blocks = 0;
            queue.pooled_bytes = 0;
            let pools = [queue.pool[0].head, queue.pool[1].head, queue.pool[2].head, queue.arrays];
            for r in &mut queue.pool {
                r.head = ptr::null_mut();
            }
            queue.arrays = ptr::null_mut();
            self.any_pooled.store(false, Ordering::Relaxed);
            (head, pools)
        };
        for l in core::iter::once(&mut list.0).chain(list.1.iter_mut()) {
            // SAFETY: [`alloc::pop_retired`]: 1. the queue's or a pool's
            // list: live blocks linked through their headers, now ours
            // alone.
            while let Some(p) = unsafe { alloc::pop_retired(l) } {
                // SAFETY: [`alloc::free_block_now`]: 1. a live block of `a`
                // (point 1); 2. unused from now on (point 2).
                unsafe { alloc::free_block_now(a, p) };
            }
        }
    }
}

/// Gives a map a quarantine whose grace is at least `min` bytes (`Some`),
/// or takes it away (`None`: what it holds is freed, and blocks the map
/// releases from then on are freed at once). Clones of the map get the
/// same setting. The quarantine is a block of the map's allocator of its
/// own unless the map was made with one (in its hmap block, after the
/// `HMap`: a field would alias every `&mut HMap`);
/// [`MapError::AllocFailed`] if it cannot be allocated, the map unchanged.
///
/// # Safety
/// 1. `h` is a live map of type `t`;
/// 2. no other thread uses it during the call.
pub unsafe fn set_quarantine(t: &MapType, h: NonNull<HMap>, min: Option<usize>) -> Result<(), MapError> {
    // SAFETY: `&mut *`: a live map (point 1), used by no one else (point 2).
    let hr = unsafe { &mut *h.as_ptr() };
    match min {
        Some(m) => hr.enable_quarantine(m, Roles::of(t)),
        None => {
            hr.drop_quarantine();
            Ok(())
        }
    }
}

impl HMap {
    /// Names the pooled roles of a map just made with a quarantine in its
    /// block (`makemap_in`, which knows the type).
    pub(crate) fn init_roles(&mut self, t: &MapType) {
        if let Some(q) = self.quarantine() {
            // SAFETY: [`Quarantine::exclusive`]: 1. `&mut self` on a map
            // not yet published: no other thread uses it.
            let queue = unsafe { q.exclusive() };
            queue.set(queue.min, Roles::of(t));
        }
    }
}

/// The payload sizes of a map's pooled roles (0: not pooled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Roles(pub(crate) [usize; 3]);

impl Roles {
    /// The roles of a map of type `t`, derived with its layout
    /// ([`pool_roles`]) and kept in the descriptor, so that `make` copies
    /// three words instead of deriving them per map.
    #[inline]
    pub(crate) fn of(t: &MapType) -> Roles {
        Roles(t.pool_roles)
    }
}

/// The payload sizes a map's pooled roles would have: its overflow
/// buckets (`bucketsize`), and its out-of-line keys and elems (if it has
/// them, aligned at most 8); 0 for a role that does not pool. A size two
/// roles share pools for neither, as a block could not tell which it was.
/// A `const fn`, for descriptors built at compile time.
pub(crate) const fn pool_roles(bucketsize: usize, key: (bool, usize, usize), elem: (bool, usize, usize)) -> [usize; 3] {
    const fn ool((indirect, size, align): (bool, usize, usize)) -> usize {
        if indirect && align <= 8 { size.next_multiple_of(8) } else { 0 }
    }
    let b = bucketsize.next_multiple_of(8);
    let k = ool(key);
    let e = ool(elem);
    // `b` is never 0; `k` and `e` are 0 when not pooled.
    let mut r = [0; 3];
    r[POOL_BUCKET] = if b == k || b == e { 0 } else { b };
    r[POOL_KEY] = if k == b || (k != 0 && k == e) { 0 } else { k };
    r[POOL_ELEM] = if e == b || (e != 0 && e == k) { 0 } else { e };
    r
}

/// The setting a map made from an allocator whose quarantine pointer is
/// `q` starts with: none (null), the default (the template: read without
/// its lock, so maps made on many threads at once do not contend on it),
/// or a clone's source's.
///
/// # Safety
/// 1. `q` is null, [`TEMPLATE`], or a live map's quarantine.
#[inline]
pub(crate) unsafe fn setting_of(q: *const Quarantine) -> Option<(usize, Roles)> {
    if q.is_null() {
        None
    } else if ptr::eq(q, &raw const TEMPLATE) {
        Some((DEFAULT_MIN, Roles([0; 3])))
    } else {
        // SAFETY: a live map's quarantine (point 1), read shared.
        Some(unsafe { &*q }.setting())
    }
}

impl Quarantine {
    /// The floor and roles, for a clone's quarantine.
    pub(crate) fn setting(&self) -> (usize, Roles) {
        let mut l = self.lock();
        let q = l.queue();
        (q.min, Roles([q.pool[0].size, q.pool[1].size, q.pool[2].size]))
    }
}

impl HMap {
    /// The map's quarantine, if it has one.
    #[inline]
    pub(crate) fn quarantine(&self) -> Option<&Quarantine> {
        // SAFETY: a non-null `alloc.q` is the map's own live quarantine
        // block (`enable_quarantine`), freed only by `drop_quarantine`,
        // which needs `&mut self`.
        unsafe { self.alloc.q.as_ref() }
    }

    /// Gives the map a quarantine with this floor and these roles (or sets
    /// them on the one it has).
    pub(crate) fn enable_quarantine(&mut self, min: usize, roles: Roles) -> Result<(), MapError> {
        let q = match NonNull::new(self.alloc.q.cast_mut()) {
            Some(q) => q,
            // The quarantine in the hmap's block, made with the map.
            None if !self.qtail.is_null() => {
                // SAFETY: `qtail` points to the quarantine in the map's own
                // block, initialised by `new_hmap`, empty since
                // `drop_quarantine` drained it; nothing else uses it.
                let q = unsafe { NonNull::new_unchecked(self.qtail.cast_mut()) };
                self.alloc.q = q.as_ptr();
                q
            }
            None => {
                let inner = self.alloc.without_quarantine();
                // SAFETY: [`alloc::alloc_block`]: 1. the map's allocator,
                // valid while the map lives.
                let p = unsafe { alloc::alloc_block(&inner, core::mem::size_of::<Quarantine>(), Kind::Plain) }
                    .ok_or(MapError::AllocFailed)?;
                let q = p.cast::<Quarantine>();
                // SAFETY: a fresh block of `size_of::<Quarantine>()` bytes,
                // 8-aligned (block payloads are; the type needs 8), ours.
                unsafe { q.write(Quarantine::with(min, roles)) };
                self.alloc.q = q.as_ptr();
                q
            }
        };
        // SAFETY: the map's live quarantine (just made, or kept), read
        // shared.
        let qr = unsafe { q.as_ref() };
        // SAFETY: [`Quarantine::exclusive`]: 1. `&mut self`: no other
        // thread uses the map, so none uses its quarantine.
        let queue = unsafe { qr.exclusive() };
        queue.set(min, roles);
        Ok(())
    }

    /// Frees what the quarantine holds and the quarantine itself; the map
    /// frees at once from then on. No-op without one.
    #[inline]
    pub(crate) fn drop_quarantine(&mut self) {
        if !self.alloc.q.is_null() {
            self.drop_quarantine_slow();
        }
    }

    /// [`HMap::drop_quarantine`] with a quarantine (kept out of line:
    /// `mapfree` is on the path of every map's end).
    #[inline(never)]
    fn drop_quarantine_slow(&mut self) {
        let Some(q) = NonNull::new(self.alloc.q.cast_mut()) else { return };
        let a = self.alloc.without_quarantine();
        // SAFETY: the map's live quarantine, read shared.
        let qr = unsafe { q.as_ref() };
        // SAFETY: [`Quarantine::drain`]: 1. the queue holds only blocks of
        // the map's allocator, `a` without the quarantine pointer; 2.
        // `&mut self`: no other thread uses the map, so none reads them.
        unsafe { qr.drain(&a) };
        if q.as_ptr().cast_const() != self.qtail {
            // SAFETY: [`alloc::free_block_now`]: 1. a quarantine of its own
            // block, allocated with `a` by `enable_quarantine`; 2. unused
            // from here: the map forgets it below, and `&mut self` rules
            // out other users.
            unsafe { alloc::free_block_now(&a, q.cast()) };
        }
        self.alloc = a;
    }
}

/// Frees every block a map's quarantine holds, now: for a host at a point
/// where no thread can be inside the map (a safepoint, a pause of all
/// threads). The map keeps its quarantine.
///
/// # Safety
/// 1. `h` is a live map;
/// 2. no other thread is inside any operation on it, and none reads memory
///    an operation on it returned (an elem pointer) before the last write.
pub unsafe fn release(h: NonNull<HMap>) {
    // SAFETY: a live map (point 1); only shared access is needed.
    let hr = unsafe { h.as_ref() };
    if let Some(q) = hr.quarantine() {
        // SAFETY: [`Quarantine::drain`]: 1. the queue holds only blocks the
        // map's allocator made; 2. no thread reads them (point 2).
        unsafe { q.drain(&hr.alloc) };
    }
}

/// Bytes and blocks a map's quarantine holds (0, 0 without one).
///
/// # Safety
/// 1. `h` is a live map.
pub unsafe fn held(h: NonNull<HMap>) -> (usize, usize) {
    // SAFETY: a live map (point 1), read through a shared reference.
    let hr = unsafe { h.as_ref() };
    hr.quarantine().map_or((0, 0), Quarantine::held)
}

/// Whether a map has a quarantine, and its grace's floor.
///
/// # Safety
/// 1. `h` is a live map.
pub unsafe fn floor(h: NonNull<HMap>) -> Option<usize> {
    // SAFETY: a live map (point 1), read through a shared reference.
    let hr = unsafe { h.as_ref() };
    hr.quarantine().map(|q| q.setting().0)
}
