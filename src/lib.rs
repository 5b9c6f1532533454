//! gomap: a faithful, type-erased Rust port of Go's classic runtime hash map
//! (`runtime/map_noswiss.go` and `map_fast{32,64,str}_noswiss.go`, Go 1.24.11).
//!
//! See `docs/` for the design, the concordance with map.go and the semantics.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[cfg(not(target_pointer_width = "64"))]
compile_error!("gomap supports 64-bit targets only (Go's layout constants assume 8-byte pointers)");

pub mod alg;
pub mod maptype;
pub mod presets;
pub mod rand;
pub mod alloc;
pub mod fatal;
pub mod map;
pub mod msize;
pub mod inspect;
pub mod gomap;
pub use gomap::{GoKey, GoMap};
