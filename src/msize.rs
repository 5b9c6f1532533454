//! Go's malloc size-class rounding (`roundupsize`, runtime/msize.go:13), which
//! `makeBucketArray` uses to decide how many overflow buckets fit for free at
//! the end of a bucket array. gomap does not use Go's allocator, but it must
//! round the same way so that it preallocates exactly as many overflow buckets
//! as Go does: that count decides where overflow buckets come from and when
//! `nextOverflow` runs out, which the parity traces check.

use crate::maptype::PTR_SIZE;

/// Largest small-object size (`maxSmallSize`, sizeclasses.go).
const MAX_SMALL_SIZE: usize = 32768;
/// Bytes of the malloc header that Go puts in front of pointerful objects
/// larger than [`MIN_SIZE_FOR_MALLOC_HEADER`] (`mallocHeaderSize`, mbitmap.go).
const MALLOC_HEADER_SIZE: usize = 8;
/// `minSizeForMallocHeader` = ptrSize * ptrBits (mbitmap.go:101): 512 on
/// 64-bit, 128 on 32-bit.
const MIN_SIZE_FOR_MALLOC_HEADER: usize = PTR_SIZE * PTR_SIZE * 8;
/// Go's page size (`_PageShift` = 13).
const PAGE_SIZE: usize = 8192;
/// `maxAlloc` (malloc.go:217): 1 << heapAddrBits on 64-bit Linux (48
/// bits), (1 << 32) - 1 on 32-bit.
#[cfg(target_pointer_width = "64")]
pub const MAX_ALLOC: usize = 1 << 48;
/// `maxAlloc` (malloc.go:217): 1 << heapAddrBits on 64-bit Linux (48
/// bits), (1 << 32) - 1 on 32-bit.
#[cfg(target_pointer_width = "32")]
pub const MAX_ALLOC: usize = usize::MAX;

/// Reports whether `mem` bytes exceed [`MAX_ALLOC`] (`mem > maxAlloc` in
/// `makemap`, map_noswiss.go:326); never on 32-bit targets, where only the
/// multiplication's overflow makes a hint too large.
#[cfg_attr(
    target_pointer_width = "32",
    expect(clippy::absurd_extreme_comparisons, reason = "maxAlloc is usize::MAX on 32-bit targets")
)]
pub fn exceeds_max_alloc(mem: usize) -> bool {
    mem > MAX_ALLOC
}

/// Go 1.24's size classes (`class_to_size`, sizeclasses.go:95); class 0 is unused.
/// Every class above 1024 is a multiple of 128 and every one below a multiple
/// of 8, so "the smallest class not below the request" gives exactly what Go's
/// two lookup tables (`size_to_class8`, `size_to_class128`) give.
const CLASS_TO_SIZE: [u16; 68] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448,
    480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096,
    4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
    20480, 21760, 24576, 27264, 28672, 32768,
];

/// Returns the size Go's allocator would really hand out for a request of
/// `size` bytes (`roundupsize`). `noscan` is true when the object holds no
/// pointers; pointerful objects over 512 bytes carry an 8-byte header that
/// counts against their size class but is not returned to the caller.
pub fn roundupsize(size: usize, noscan: bool) -> usize {
    let mut req = size;
    if req <= MAX_SMALL_SIZE - MALLOC_HEADER_SIZE {
        if !noscan && req > MIN_SIZE_FOR_MALLOC_HEADER {
            req += MALLOC_HEADER_SIZE;
        }
        let class = CLASS_TO_SIZE.iter().position(|&c| c as usize >= req).expect("request fits a small size class");
        return CLASS_TO_SIZE[class] as usize - (req - size);
    }
    match req.checked_add(PAGE_SIZE - 1) {
        Some(r) => r & !(PAGE_SIZE - 1),
        None => size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_classes() {
        // Exact class sizes stay put; others round up to the next class.
        assert_eq!(roundupsize(144, true), 144);
        assert_eq!(roundupsize(145, true), 160);
        assert_eq!(roundupsize(1025, true), 1152);
        // Pointerful objects above 512 bytes pay the 8-byte header inside the
        // class: 1024 + 8 needs class 1152, of which 1144 are usable.
        assert_eq!(roundupsize(1024, false), 1144);
        assert_eq!(roundupsize(1024, true), 1024);
        // The boundary itself (512 bytes on 64-bit, 128 on 32-bit) carries
        // no header.
        assert_eq!(roundupsize(MIN_SIZE_FOR_MALLOC_HEADER, false), MIN_SIZE_FOR_MALLOC_HEADER);
    }

    #[test]
    fn large_objects_round_to_pages() {
        // Past 32760 bytes objects are large: whole 8 KiB pages.
        assert_eq!(roundupsize(32761, true), 32768);
        assert_eq!(roundupsize(32769, true), 40960);
        assert_eq!(roundupsize(32768, true), 32768);
        assert_eq!(roundupsize(100_000, false), 106_496);
        assert_eq!(roundupsize(usize::MAX - 3, true), usize::MAX - 3);
    }

    #[test]
    fn b4_u64_bucket_array_matches_go_arithmetic() {
        // makeBucketArray(B=4) for 144-byte noscan buckets: 16 + 1 buckets =
        // 2448 bytes, class 2688, so 2688/144 = 18 buckets: 2 preallocated.
        let sz = 144 * 17;
        assert_eq!(roundupsize(sz, true) / 144, 18);
    }
}
