//! gomap: a faithful, type-erased Rust port of Go's classic runtime hash map
//! (`runtime/map_noswiss.go` and `map_fast{32,64,str}_noswiss.go`, Go 1.24.11).
//!
//! See `docs/` for the design, the concordance with map.go and the semantics.

#[cfg(not(target_pointer_width = "64"))]
compile_error!("gomap supports 64-bit targets only (Go's layout constants assume 8-byte pointers)");

pub mod alg;
pub mod alloc;
pub mod fast32;
pub mod fast64;
pub mod faststr;
pub mod fatal;
pub mod gomap;
pub mod gostr;
pub mod hook;
pub mod inspect;
mod iter_inline;
pub mod map;
pub mod maptype;
mod mem;
pub mod msize;
pub mod presets;
pub mod rand;
mod reserve;
mod retire;
mod scan;
mod scopeguard;
pub mod shrink;
pub mod visit;
pub use gomap::{GoKey, GoMap, GoStr, GoStrRef};
