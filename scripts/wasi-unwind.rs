//! The few `_Unwind_*` entry points Rust's std needs to unwind on
//! wasm32-wasip1 with WebAssembly exception handling, for
//! scripts/wasm32.sh's `-Cpanic=unwind` build of gomap's tests.
//!
//! std built with `-Cpanic=unwind` for WASI links `-lunwind` (its `unwind`
//! crate, `libunwind.rs`), which the wasm32-wasip1 sysroot does not ship.
//! On wasm, unwinding needs no unwinder: `_Unwind_RaiseException` is the
//! `throw` instruction with LLVM's C++ tag, which the landing pads LLVM emits
//! for Rust's cleanups and `catch_unwind` catch, and `_Unwind_Resume` is
//! never reached (a cleanup pad ends in `rethrow`). This is what Rust's own
//! `unwind/src/wasm.rs` does for wasm32-unknown-unknown.
//!
//! Built as an object (`--emit=obj`), no_std and with no calls into `core`,
//! so that it links beside any std.
#![no_std]
#![feature(link_llvm_intrinsics, asm_experimental_arch)]
#![allow(internal_features, non_camel_case_types)]

// The tag LLVM's wasm exception handling throws and catches C++ (and Rust)
// exceptions with; the toolchain (here, this file) must define it.
core::arch::global_asm!(".globl __cpp_exception", ".tagtype __cpp_exception i32", "__cpp_exception:");

/// The unwinder's view of an exception: `_Unwind_Exception` of the Itanium
/// ABI, as std's `unwind` crate declares it for wasm32.
#[repr(C)]
pub struct _Unwind_Exception {
    exception_class: u64,
    exception_cleanup: Option<extern "C" fn(code: i32, exception: *mut _Unwind_Exception)>,
    private: [usize; 2],
}

/// `_URC_FOREIGN_EXCEPTION_CAUGHT`, the reason a deleted exception is
/// cleaned up with.
const URC_FOREIGN_EXCEPTION_CAUGHT: i32 = 1;

/// LLVM's C++ exception tag (`llvm::WebAssembly::Tag::CPP_EXCEPTION`).
const CPP_EXCEPTION_TAG: i32 = 0;

unsafe extern "C-unwind" {
    /// Lowered by LLVM to the wasm `throw` instruction.
    #[link_name = "llvm.wasm.throw"]
    fn wasm_throw(tag: i32, ptr: *mut u8) -> !;
}

/// Throws `exception` to the nearest landing pad.
///
/// # Safety
///
/// * `exception` points to a live `_Unwind_Exception` that the catching
///   code (std's `panic_unwind`) owns from then on.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn _Unwind_RaiseException(exception: *mut _Unwind_Exception) -> i32 {
    // SAFETY: `wasm_throw` has no precondition beyond a valid tag; the
    // exception pointer is handed to the catcher as the caller requires.
    unsafe { wasm_throw(CPP_EXCEPTION_TAG, exception.cast()) }
}

/// Resumes unwinding after a cleanup (not reached on wasm, where cleanup
/// pads rethrow; throws again to be safe).
///
/// # Safety
///
/// * as for [`_Unwind_RaiseException`].
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn _Unwind_Resume(exception: *mut _Unwind_Exception) -> ! {
    // SAFETY: as in `_Unwind_RaiseException`: the caller hands `exception` on.
    unsafe { wasm_throw(CPP_EXCEPTION_TAG, exception.cast()) }
}

/// Calls the exception's cleanup function, which frees it.
///
/// # Safety
///
/// * `exception` points to a live `_Unwind_Exception`, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _Unwind_DeleteException(exception: *mut _Unwind_Exception) {
    // SAFETY: the caller guarantees `exception` is live and readable.
    let cleanup = unsafe { (*exception).exception_cleanup };
    if let Some(cleanup) = cleanup {
        cleanup(URC_FOREIGN_EXCEPTION_CAUGHT, exception);
    }
}
