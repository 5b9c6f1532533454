//! The runtime's random source: every draw Go's map code takes from
//! `runtime.rand()` comes through [`rand`](fn@rand).
//!
//! Go draws a random number in exactly these places (Go 1.24.11 line numbers):
//!
//! | draw | Go | gomap |
//! |---|---|---|
//! | hash seed of a new map | `makemap_small` (map_noswiss.go:305), `makemap` (:335) | [`crate::map::makemap_small`], [`crate::map::makemap`] |
//! | reseed when the last entry is deleted | `mapdelete` (:852), fast variants | [`crate::map::mapdelete`] |
//! | reseed on clear | `mapclear` (:1094) | [`crate::map::mapclear`] |
//! | iteration start bucket and offset | `mapiterinit` (:919) | [`crate::map::mapiterinit`] |
//! | overflow counter sampling at B >= 16 | `incrnoverflow` (:240) | `HMap::incrnoverflow` |
//! | hash of a NaN key | `f32hash`/`f64hash` (alg.go) | [`crate::alg`] |
//! | `keys`/`values` start | `keys` (:1777) | [`crate::map::keys`] |
//!
//! The source is chosen, from highest priority to lowest:
//! 1. a per-thread override installed with [`with_source`] (deterministic
//!    replay, tests);
//! 2. a process-wide host hook installed with [`set_host_source`] (the C ABI's
//!    random-source hook);
//! 3. the default: a per-thread ChaCha8 generator (`rand_chacha`'s, a
//!    CSPRNG with the round count of Go's per-M chacha8rand), seeded once
//!    per thread from `rand`'s OS-seeded thread generator. A direct
//!    thread-local, because `rand::rng()` costs a reference-count round trip
//!    and a reseeding check per draw, about a quarter of `make(map)`'s time.

use core::cell::{Cell, RefCell, UnsafeCell};
use core::ffi::c_void;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::hook::Hook;

/// A host-supplied random function, as installed by the C ABI.
///
/// # Safety
/// gomap calls it only with the `ctx` it was installed with
/// ([`set_host_source`]), from any thread.
pub type HostRandFn = unsafe extern "C" fn(ctx: *mut c_void) -> u64;

/// The host hook: a [`HostRandFn`] (type-erased) and its context, published
/// as one pair.
static HOST: Hook = Hook::new(0);

/// The state of this thread's draws, in one thread-local: the hot path
/// computes one thread-local address per draw, and, with no destructor
/// (asserted below), the slot needs no registration on first use.
struct Local {
    /// Whether `OVERRIDE` holds a source on this thread: the only look the
    /// hot path takes at overrides.
    overridden: Cell<bool>,
    /// The default generator of this thread, seeded on its first draw. Only
    /// [`rand`](fn@rand) takes a reference to it, for one draw, and neither
    /// the generator nor its seeding draws through [`rand`](fn@rand) again:
    /// no two references to it exist at once.
    rng: UnsafeCell<Option<ChaCha8Rng>>,
}

const _: () = assert!(!core::mem::needs_drop::<Local>());

thread_local! {
    static LOCAL: Local = const { Local { overridden: Cell::new(false), rng: UnsafeCell::new(None) } };
    /// The per-thread override stack's top.
    static OVERRIDE: RefCell<Option<Box<dyn FnMut() -> u64>>> = const { RefCell::new(None) };
}

/// Returns the next random draw, like Go's `runtime.rand` (rand.go:160).
#[inline]
pub fn rand() -> u64 {
    LOCAL.with(|l| {
        if l.overridden.get() {
            if let Some(v) = draw_override() {
                return v;
            }
        }
        if let Some(v) = draw_host() {
            return v;
        }
        // SAFETY: `Local::rng`'s rule: this is the only reference to this
        // thread's generator, and it ends with this draw (the generator and
        // `seed_and_draw` do not call `rand`).
        let rng = unsafe { &mut *l.rng.get() };
        match rng {
            Some(r) => r.random::<u64>(),
            None => seed_and_draw(rng),
        }
    })
}

/// A draw from this thread's override, if one is installed.
#[inline(never)]
fn draw_override() -> Option<u64> {
    OVERRIDE.with(|o| o.borrow_mut().as_mut().map(|f| f()))
}

/// A draw from the host's source, if one is installed.
#[inline]
fn draw_host() -> Option<u64> {
    HOST.with(|f, ctx| {
        // SAFETY: HOST holds only `HostRandFn`s stored by `set_host_source`;
        // data and function pointers have the same size on every supported
        // target.
        let f = unsafe { core::mem::transmute::<*mut (), HostRandFn>(f) };
        // SAFETY: `set_host_source`'s point 1: `f` may be called with
        // `ctx`, its own pair, from any thread while installed, and `HOST`
        // keeps it installed for the duration of this call.
        unsafe { f(ctx) }
    })
}

/// The first draw of this thread's default generator: seeds it from
/// `rand`'s OS-seeded thread generator.
#[cold]
fn seed_and_draw(rng: &mut Option<ChaCha8Rng>) -> u64 {
    rng.insert(ChaCha8Rng::from_rng(&mut rand::rng())).random::<u64>()
}

/// Installs (or with `None`, removes) the process-wide random source.
/// Returns once no thread runs the previous source or can call it again, so
/// its context may be freed then; `false` (nothing changed) when called from
/// inside the random source itself, which would wait for itself.
///
/// # Safety
/// * `f` (if any) may be called with `ctx` from any thread, at any time,
///   for as long as it is installed (until a later call replaces it and
///   returns `true`).
pub unsafe fn set_host_source(f: Option<HostRandFn>, ctx: *mut c_void) -> bool {
    HOST.set(f.map_or(core::ptr::null_mut(), |f| f as *mut ()), ctx).is_some()
}

/// Runs `body` with `source` supplying every draw made on this thread.
/// Overrides nest; the previous source is restored afterwards, also on unwind.
pub fn with_source<R>(source: impl FnMut() -> u64 + 'static, body: impl FnOnce() -> R) -> R {
    struct Restore(Option<Box<dyn FnMut() -> u64>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            OVERRIDE.with(|o| *o.borrow_mut() = prev);
            LOCAL.with(|l| l.overridden.set(self.1));
        }
    }
    let prev = OVERRIDE.with(|o| o.borrow_mut().replace(Box::new(source)));
    let had = LOCAL.with(|l| l.overridden.replace(true));
    let _restore = Restore(prev, had);
    body()
}

/// A deterministic source: a seeded ChaCha generator. Same seed, same draws.
pub fn seeded(seed: u64) -> impl FnMut() -> u64 + 'static {
    let mut rng = StdRng::seed_from_u64(seed);
    move || rng.random::<u64>()
}

/// A scripted source that returns the given draws in order, then panics: used
/// to replay the exact draws a real Go program recorded.
pub fn scripted(draws: Vec<u64>) -> impl FnMut() -> u64 + 'static {
    let mut it = draws.into_iter();
    move || it.next().expect("scripted random source exhausted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_is_deterministic_and_restored() {
        let a: Vec<u64> = with_source(seeded(7), || (0..4).map(|_| rand()).collect());
        let b: Vec<u64> = with_source(seeded(7), || (0..4).map(|_| rand()).collect());
        assert_eq!(a, b);
        let c: Vec<u64> = with_source(scripted(vec![1, 2, 3]), || (0..3).map(|_| rand()).collect());
        assert_eq!(c, [1, 2, 3]);
        assert!(!LOCAL.with(|l| l.overridden.get()));
    }

    #[test]
    #[cfg_attr(target_os = "wasi", ignore = "WASI has no threads: starts one")]
    fn default_draws_advance_and_differ_between_threads() {
        let n = if cfg!(miri) { 64 } else { 1000 };
        let draws = move || (0..n).map(|_| rand()).collect::<std::collections::HashSet<u64>>();
        let here = draws();
        // 64-bit draws of a CSPRNG: a repeat among a few thousand has
        // probability under 2^-40; one would mean the generator did not
        // advance (or was seeded again with the same seed).
        assert_eq!(here.len(), n, "a draw repeated on one thread");
        let there = std::thread::spawn(draws).join().unwrap();
        assert_eq!(there.len(), n);
        assert!(here.is_disjoint(&there), "two threads drew the same values");
    }

    #[test]
    fn overrides_nest() {
        with_source(scripted(vec![10, 11]), || {
            assert_eq!(rand(), 10);
            with_source(scripted(vec![20]), || assert_eq!(rand(), 20));
            assert_eq!(rand(), 11);
        });
    }
}
