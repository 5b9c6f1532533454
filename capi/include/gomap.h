/*
 * SPDX-License-Identifier: BSD-3-Clause (see LICENSE: gomap and The Go Authors)
 * gomap.h - C API of gomap, Go 1.24.11's classic runtime hash map
 * (runtime/map_noswiss.go) as a library for language runtimes.
 *
 * Hand-written; the Rust side (src/ffi.rs) asserts the same sizes and
 * alignments. Full documentation: docs/c-api.md.
 *
 * Conventions
 *   - Every fallible function returns a gomap_status; out-parameters come
 *     last and are written only when GOMAP_OK is returned.
 *   - Every pointer argument is checked for NULL (GOMAP_ERR_NULL), except
 *     where NULL has a documented meaning: a NULL gomap_map* is Go's nil map
 *     (reads see nothing, assignment fails with GOMAP_ERR_NIL_MAP_ASSIGN,
 *     delete/clear are no-ops); *_free(NULL) is a no-op.
 *   - No panic ever crosses the boundary (GOMAP_ERR_PANIC instead).
 *   - Allocation failure is GOMAP_ERR_NOMEM and leaves the map unchanged.
 *
 * Thread safety (Go's rules)
 *   A map may be used by many readers at once (mapaccess*, len, iteration,
 *   clone, visit) OR by exactly one writer (mapassign, mapdelete, mapclear,
 *   free) with no concurrent reader. Iterating while the same thread writes
 *   is allowed (Go's range-with-insert/delete). Misuse is detected on a
 *   best-effort basis with Go's fatal messages ("concurrent map writes",
 *   "concurrent map read and map write", "concurrent map iteration and map
 *   write", "concurrent map clone and map write"), which go to the fatal
 *   handler and then abort the process. Type handles are immutable and may
 *   be shared freely. The hook setters are process-wide and thread-safe.
 *
 * Pointer lifetimes
 *   Elem and key pointers returned by mapaccess*, mapassign and the iterator
 *   point into the map: they stay valid until the next write to the map
 *   (assign, delete, clear, free); iterator key/elem pointers too (the
 *   iterator itself survives writes). A delete of that entry zeroes its
 *   inline elem and, for key types with pointers (strings), its key, and
 *   frees an out-of-line elem: copy the key out of the iterator before
 *   passing it to any call but a single gomap_mapdelete (docs/c-api.md,
 *   "Pointer lifetimes").
 */
#ifndef GOMAP_H
#define GOMAP_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes: values are ABI and never change ---------------------- */

typedef enum gomap_status {
    GOMAP_OK = 0,
    GOMAP_ERR_NULL = 1,           /* a required pointer was NULL */
    GOMAP_ERR_BAD_TYPE = 2,       /* malformed type descriptor */
    GOMAP_ERR_NIL_MAP_ASSIGN = 3, /* "assignment to entry in nil map" */
    GOMAP_ERR_UNHASHABLE = 4,     /* "runtime error: hash of unhashable type" */
    GOMAP_ERR_NOMEM = 5,          /* allocation failed; map unchanged */
    GOMAP_ERR_BUSY = 6,           /* live iterators (shrink), or too late */
    GOMAP_ERR_PANIC = 7,          /* internal panic caught at the boundary */
    GOMAP_ERR_BAD_ARG = 8         /* unknown kind, misaligned/garbage iterator */
} gomap_status;

/* Static description of a status (never NULL; unknown codes included). */
const char *gomap_strerror(int status);

/* ---- version ------------------------------------------------------------- */

/* The version of this header; gomap_version() gives the library's, as
 * "MAJOR.MINOR.PATCH". They differ when a program runs against another
 * libgomap than it was compiled with. */
#define GOMAP_VERSION_MAJOR 0
#define GOMAP_VERSION_MINOR 1
#define GOMAP_VERSION_PATCH 0
#define GOMAP_VERSION_STRING "0.1.0"
const char *gomap_version(void);

/* ---- types --------------------------------------------------------------- */

typedef struct gomap_type gomap_type; /* opaque, immutable */
typedef struct gomap_map gomap_map;   /* opaque */

/* Go's string header: the layout of GOMAP_KEY_STRING keys. The map stores
 * the header only; the bytes must stay valid while the key is in the map. */
typedef struct gomap_string {
    const uint8_t *ptr;
    size_t len;
} gomap_string;

/* Largest key or elem size accepted (1 GiB). */
#define GOMAP_MAX_TYPE_SIZE ((size_t)1 << 30)
/* For a NULL (nil) map, mapaccess returns a pointer to this many zero bytes. */
#define GOMAP_ZERO_SIZE 1024

/* Key kinds for gomap_type_preset. */
#define GOMAP_KEY_BOOL 1u
#define GOMAP_KEY_U8 2u
#define GOMAP_KEY_U16 3u
#define GOMAP_KEY_U32 4u
#define GOMAP_KEY_U64 5u
#define GOMAP_KEY_I8 6u
#define GOMAP_KEY_I16 7u
#define GOMAP_KEY_I32 8u
#define GOMAP_KEY_I64 9u
#define GOMAP_KEY_UINTPTR 10u /* uintptr, uint, int */
#define GOMAP_KEY_PTR 11u     /* a pointer, hashed by address */
#define GOMAP_KEY_F32 12u
#define GOMAP_KEY_F64 13u
#define GOMAP_KEY_C64 14u  /* float _Complex (two floats) */
#define GOMAP_KEY_C128 15u /* double _Complex (two doubles) */
#define GOMAP_KEY_STRING 16u

/* Built-in key kind with Go's hash, equality and flags. Elem: size, a
 * power-of-two alignment <= 8, and whether it holds pointers (affects only
 * Go's layout decisions, never correctness). */
gomap_status gomap_type_preset(uint32_t kind, size_t elem_size, size_t elem_align,
                               bool elem_has_pointers, gomap_type **out);

/* [n]byte keys. */
gomap_status gomap_type_bytes(size_t n, size_t elem_size, size_t elem_align,
                              bool elem_has_pointers, gomap_type **out);

/* Composite (struct) keys, hashed the way Go's generated hash does. */
#define GOMAP_FIELD_MEM 0u    /* plain memory, no pointers */
#define GOMAP_FIELD_PTR 1u    /* plain memory holding a pointer */
#define GOMAP_FIELD_F32 2u
#define GOMAP_FIELD_F64 3u
#define GOMAP_FIELD_C64 4u
#define GOMAP_FIELD_C128 5u
#define GOMAP_FIELD_STRING 6u /* a gomap_string */
#define GOMAP_FIELD_BLANK 7u  /* `_`: neither hashed nor compared */

typedef struct gomap_field {
    size_t offset;
    size_t size;
    uint32_t kind; /* GOMAP_FIELD_* */
} gomap_field;

/* fields sorted by offset, non-overlapping, inside [0, size); float,
 * complex and string fields of their natural size. */
gomap_status gomap_type_composite(const gomap_field *fields, size_t nfields, size_t size,
                                  size_t align, size_t elem_size, size_t elem_align,
                                  bool elem_has_pointers, gomap_type **out);

/* Interface keys (map[any]V, map[error]V). Describe each dynamic type once;
 * the handle's address is the type's identity (one handle per Go type). A key
 * is a gomap_iface: type NULL for a nil interface; data is the value itself
 * for a direct (pointer-shaped, 8-byte) type, else a pointer to the value. */
typedef struct gomap_dyntype gomap_dyntype; /* opaque, immutable */

typedef struct gomap_iface {
    const gomap_dyntype *type_;
    const void *data;
} gomap_iface;

#define GOMAP_DYN_UNHASHABLE 0u /* slices, maps, funcs, what holds them */
#define GOMAP_DYN_MEMORY 1u     /* regular memory of `size` bytes */
#define GOMAP_DYN_F32 2u
#define GOMAP_DYN_F64 3u
#define GOMAP_DYN_C64 4u
#define GOMAP_DYN_C128 5u
#define GOMAP_DYN_STRING 6u    /* a gomap_string */
#define GOMAP_DYN_INTERFACE 7u /* a gomap_iface */
#define GOMAP_DYN_ARRAY 8u     /* len elements of elem */
#define GOMAP_DYN_STRUCT 9u    /* nfields fields */

typedef struct gomap_dynfield {
    size_t offset;
    const gomap_dyntype *type_;
    bool blank; /* `_`: neither hashed nor compared */
} gomap_dynfield;

/* name: Go's type string (printed by the unhashable error). elem/len for
 * arrays, fields/nfields (in offset order) for structs, ignored otherwise. */
gomap_status gomap_dyntype_new(const char *name, size_t size, bool direct, uint32_t kind,
                               const gomap_dyntype *elem, size_t len,
                               const gomap_dynfield *fields, size_t nfields,
                               gomap_dyntype **out);
void gomap_dyntype_free(gomap_dyntype *t); /* NULL: no-op */
gomap_status gomap_type_iface(size_t elem_size, size_t elem_align, bool elem_has_pointers,
                              gomap_type **out);
/* GOMAP_OK (*out_len = 0) if key is hashable, else GOMAP_ERR_UNHASHABLE with
 * "runtime error: hash of unhashable type T" in buf (truncated, NUL-terminated
 * when cap > 0) and its full length in *out_len. */
gomap_status gomap_iface_key_error(const gomap_iface *key, char *buf, size_t cap,
                                   size_t *out_len);

/* Custom keys. Callbacks receive the descriptor's ctx and must be callable
 * from any thread for as long as any map of the type lives.
 *
 * hash: return the hash of *key for seed. Set *err non-zero if the key
 *   cannot be hashed: the operation then returns GOMAP_ERR_UNHASHABLE.
 *   The map stays valid only if the failure happens before the operation
 *   begins writing, i.e. on the caller's key: a hasher should fail only for
 *   keys that were never inserted (rehashing stored keys during growth must
 *   succeed). Prefer GOMAP_DESC_HASH_MIGHT_PANIC + key_check, which is
 *   always checked before anything else.
 * equal: report whether *a == *b. Must not call into the same map.
 * key_check: with GOMAP_DESC_HASH_MIGHT_PANIC, Go's mapKeyError: return
 *   false for an unhashable key (GOMAP_ERR_UNHASHABLE, map untouched). */
typedef uint64_t (*gomap_hash_fn)(void *ctx, const void *key, uint64_t seed, int *err);
typedef bool (*gomap_equal_fn)(void *ctx, const void *a, const void *b);
typedef bool (*gomap_key_check_fn)(void *ctx, const void *key);

#define GOMAP_DESC_KEY_POINTERS 1u     /* the key holds pointers */
#define GOMAP_DESC_ELEM_POINTERS 2u    /* the elem holds pointers */
#define GOMAP_DESC_REFLEXIVE 4u        /* k == k for every key (no NaN-like keys) */
#define GOMAP_DESC_NEED_KEY_UPDATE 8u  /* overwrite stores the new key's bytes */
#define GOMAP_DESC_HASH_MIGHT_PANIC 16u /* requires key_check */

typedef struct gomap_type_desc {
    size_t key_size, key_align;   /* align: power of two <= 8; size % align == 0 */
    size_t elem_size, elem_align;
    uint32_t flags;               /* GOMAP_DESC_*; unknown bits are rejected */
    gomap_hash_fn hash;           /* required */
    gomap_equal_fn equal;         /* required */
    gomap_key_check_fn key_check; /* iff GOMAP_DESC_HASH_MIGHT_PANIC */
    void *ctx;
} gomap_type_desc;

gomap_status gomap_type_custom(const gomap_type_desc *desc, gomap_type **out);

/* Key size, elem size and Go's type flags (IndirectKey 1, IndirectElem 2,
 * ReflexiveKey 4, NeedKeyUpdate 8, HashMightPanic 16). */
gomap_status gomap_type_info(const gomap_type *t, size_t *out_key_size, size_t *out_elem_size,
                             uint32_t *out_flags);

/* Maps hold their own reference: a type may be freed while its maps live. */
void gomap_type_free(gomap_type *t);

/* Ownership callbacks for refcounting hosts (retain/release pairs: both
 * NULL or both set, for keys and for elems). The map calls *_release on
 * every key and elem it discards (delete, clear, free, and the stored key a
 * key update replaces) and *_retain on every key and elem a clone copies;
 * nothing else: an insert takes the caller's key bytes as they are (see
 * gomap_mapassign2's flags), and the host writes elems itself. A release
 * may run later than the delete, when the last iterator that may still
 * hash the old key through a stale slot ends, on the thread that ends it.
 * Callable from any thread; they must not unwind or longjmp. */
typedef void (*gomap_ref_fn)(void *ctx, void *value);
typedef struct gomap_ownership {
    gomap_ref_fn key_retain;
    gomap_ref_fn key_release;
    gomap_ref_fn elem_retain;
    gomap_ref_fn elem_release;
    void *ctx;
} gomap_ownership;
/* A new type handle: t plus the callbacks (t itself is unchanged). */
gomap_status gomap_type_with_ownership(const gomap_type *t, const gomap_ownership *o,
                                       gomap_type **out);

/* ---- maps (Go's names) --------------------------------------------------- */

gomap_status gomap_makemap(const gomap_type *t, ptrdiff_t hint, gomap_map **out);
gomap_status gomap_makemap64(const gomap_type *t, int64_t hint, gomap_map **out);
gomap_status gomap_makemap_small(const gomap_type *t, gomap_map **out);

/* v := m[k]: *out points to the elem or to a zero elem. */
gomap_status gomap_mapaccess1(const gomap_map *m, const void *key, const void **out);
/* v, ok := m[k] */
gomap_status gomap_mapaccess2(const gomap_map *m, const void *key, const void **out_elem,
                              bool *out_ok);
/* m[k] = v: *out_elem is the elem slot to write v into (zeroed if new). The
 * key's bytes are copied into the map (key may point into the map itself,
 * e.g. an iterator's key). */
gomap_status gomap_mapassign(gomap_map *m, const void *key, void **out_elem);
/* gomap_mapassign reporting what happened: GOMAP_ASSIGN_INSERTED if a new
 * entry was made; GOMAP_ASSIGN_KEY_STORED if the map now holds the caller's
 * key bytes (a new entry, or a key update that replaced and released the
 * stored key): a refcounting host hands over its key reference then and
 * keeps it otherwise. For an existing entry *out_elem holds the old elem. */
#define GOMAP_ASSIGN_INSERTED 1u
#define GOMAP_ASSIGN_KEY_STORED 2u
gomap_status gomap_mapassign2(gomap_map *m, const void *key, void **out_elem, uint32_t *out_flags);
/* k, v := the stored key and elem (Go's mapaccessK), or NULL, NULL. An
 * unhashable key is GOMAP_ERR_UNHASHABLE, as for mapaccess1/2; unlike them
 * (and like Go's mapaccessK) it does not detect a concurrent write. */
gomap_status gomap_mapaccessK(const gomap_map *m, const void *key, void **out_key, void **out_elem);
/* delete(m, k)
 * gomap_mapdelete2 also hands the entry over: the stored key is copied to
 * out_key (and retained, if the type has key_retain; the map releases its
 * own copy as any delete does) and the elem moved to out_elem (the caller
 * owns it: not released). NULL buffers discard that half. *out_found tells
 * whether the key was there (buffers untouched if not); on error the map,
 * the buffers and every reference count are as before. */
gomap_status gomap_mapdelete(gomap_map *m, const void *key);
gomap_status gomap_mapdelete2(gomap_map *m, const void *key, void *out_key, void *out_elem,
                              bool *out_found);
/* clear(m) */
gomap_status gomap_mapclear(gomap_map *m);
/* gomap only (Go maps never shrink): rebuild at the smallest size holding
 * the entries (at least min_capacity), giving memory back, the quarantine's
 * included. GOMAP_ERR_BUSY while an iterator is live; GOMAP_ERR_NOMEM
 * leaves the map unchanged. */
gomap_status gomap_mapshrink(gomap_map *m, size_t min_capacity);
/* maps.Clone(m): same type and allocator; a NULL map clones to NULL. */
gomap_status gomap_mapclone(const gomap_map *m, gomap_map **out);
/* len(m) */
gomap_status gomap_len(const gomap_map *m, size_t *out);
/* Frees the map and everything it owns, also while iterators of it are
 * live (a loop left without gomap_mapiterend): they are dead from then on,
 * and their storage must be zeroed before it is used again. */
gomap_status gomap_free(gomap_map *m);

/* ---- fast paths (map_fast32/64/str_noswiss.go) ------------------------------
 * Same map, same results as the generic functions, minus the generic work
 * (keys passed by value, compared as integers / by content). They require a
 * type whose key is 4 (fast32) or 8 (fast64, fast64ptr) bytes of plain memory
 * (GOMAP_KEY_U32/I32, U64/I64/UINTPTR/PTR; not floats; [4]/[8]byte and
 * regular-memory composites) or a string (faststr), with an elem of at most
 * 128 bytes; any other type gets GOMAP_ERR_BAD_TYPE. NULL maps behave as in
 * the generic functions. */
gomap_status gomap_mapaccess1_fast32(const gomap_map *m, uint32_t key, const void **out);
gomap_status gomap_mapaccess2_fast32(const gomap_map *m, uint32_t key, const void **out_elem,
                                     bool *out_ok);
gomap_status gomap_mapassign_fast32(gomap_map *m, uint32_t key, void **out_elem);
gomap_status gomap_mapdelete_fast32(gomap_map *m, uint32_t key);
gomap_status gomap_mapaccess1_fast64(const gomap_map *m, uint64_t key, const void **out);
gomap_status gomap_mapaccess2_fast64(const gomap_map *m, uint64_t key, const void **out_elem,
                                     bool *out_ok);
gomap_status gomap_mapassign_fast64(gomap_map *m, uint64_t key, void **out_elem);
gomap_status gomap_mapassign_fast64ptr(gomap_map *m, void *key, void **out_elem);
gomap_status gomap_mapdelete_fast64(gomap_map *m, uint64_t key);
gomap_status gomap_mapaccess1_faststr(const gomap_map *m, gomap_string key, const void **out);
gomap_status gomap_mapaccess2_faststr(const gomap_map *m, gomap_string key,
                                      const void **out_elem, bool *out_ok);
gomap_status gomap_mapassign_faststr(gomap_map *m, gomap_string key, void **out_elem);
gomap_status gomap_mapdelete_faststr(gomap_map *m, gomap_string key);

/* ---- iteration ------------------------------------------------------------ */

#define GOMAP_HITER_SIZE 112
#define GOMAP_HITER_ALIGN 8

/* Caller-owned (typically on the stack), zero-initialised. Keep it at a
 * fixed address while live; do not copy a live iterator. The storage
 * remembers where it was started: a byte copy (or a moved copy) of a live
 * iterator is refused by mapiternext, mapiternext_kv and mapiterend with
 * GOMAP_ERR_BAD_ARG, leaving the original and the map's count of live
 * iterators intact; mapiterinit on such a copy starts afresh. */
typedef struct gomap_hiter {
    alignas(8) unsigned char opaque[GOMAP_HITER_SIZE];
} gomap_hiter;

#define GOMAP_HITER_INIT {{0}}

/* Starts at a random entry (ending any live iteration in *it first). An
 * iterator is live from a mapiterinit that found entries until it returns
 * the last one (it then ends itself) or gomap_mapiterend is called. While
 * live it keeps memory the map retires alive. An iterator abandoned while
 * live keeps that memory until the map is freed: call gomap_mapiterend when
 * breaking out of a loop. */
gomap_status gomap_mapiterinit(const gomap_map *m, gomap_hiter *it);
gomap_status gomap_mapiternext(gomap_hiter *it);
/* gomap_mapiternext, then the new current key and elem (both NULL at the
 * end) in *out_key / *out_elem: one call per entry instead of three. */
gomap_status gomap_mapiternext_kv(gomap_hiter *it, void **out_key, void **out_elem);
gomap_status gomap_mapiterend(gomap_hiter *it); /* idempotent */
void *gomap_hiter_key(const gomap_hiter *it);  /* NULL at the end */
void *gomap_hiter_elem(const gomap_hiter *it); /* NULL at the end */

/* ---- host hooks ----------------------------------------------------------- */

/* Allocator: return NULL or `size` zeroed bytes aligned to 8; free gets the
 * same size. Callable from any thread while any map made with it lives.
 * Each map keeps its (alloc_fn, free_fn, ctx) itself, as do its clones:
 * distinct contexts (one per map or arena) cost nothing process-wide. */
typedef void *(*gomap_calloc_fn)(void *ctx, size_t size);
typedef void (*gomap_free_fn)(void *ctx, void *p, size_t size);

/* Process default for maps made from now on (existing maps keep theirs).
 * (NULL, NULL, _) restores calloc/free. */
gomap_status gomap_set_allocator(gomap_calloc_fn alloc_fn, gomap_free_fn free_fn, void *ctx);
gomap_status gomap_makemap_with_allocator(const gomap_type *t, ptrdiff_t hint,
                                          gomap_calloc_fn alloc_fn, gomap_free_fn free_fn,
                                          void *ctx, gomap_map **out);

/* What a map holds, for a host watching its memory (all zero for NULL).
 * Byte counts are what the map's allocator was asked for; total_bytes is
 * their sum plus the map header. retired_* are blocks kept only because an
 * iterator may still reach them (freed when the last one ends) or because
 * stale slots of the old array point at them (freed when growth ends).
 * Walks the map: for watching, not for hot paths. */
typedef struct gomap_stats {
    size_t count;              /* live entries */
    size_t b;                  /* log2 of the bucket count */
    size_t growing;            /* 1 while a growth is under way */
    size_t bucket_array_bytes; /* current and old arrays */
    size_t overflow_buckets;   /* heap overflow buckets */
    size_t overflow_bytes;
    size_t out_of_line_bytes;  /* keys/elems over 128 bytes */
    size_t retired_blocks;
    size_t retired_bytes;
    size_t spare_bytes;        /* overflow buckets reserved ahead of a write */
    size_t live_iterators;     /* started and not ended */
    size_t total_bytes;
    size_t quarantined_blocks; /* released, held for racing readers */
    size_t quarantined_bytes;
} gomap_stats;
gomap_status gomap_map_stats(const gomap_map *m, gomap_stats *out);

/* Racing programs. A map made by gomap_makemap* keeps the blocks its writes
 * release (old bucket arrays, overflow buckets, out-of-line keys and elems)
 * untouched in a quarantine until more than max(min_bytes, its largest
 * released block) bytes were released after them, then reuses them for
 * blocks of the same kind and size: a thread racing with a write reads
 * stale memory, as in Go, never freed memory. The map holds at most its
 * high-water mark plus the grace. Clones inherit the setting.
 * gomap_map_quarantine(m, 0) removes it (for hosts whose programs never
 * share a map between threads; turning it on again may need an allocation:
 * GOMAP_ERR_NOMEM, map unchanged); gomap_map_quiesce frees what it holds at a
 * point where no thread is inside the map or reading what it returned (a
 * safepoint); gomap_mapshrink and gomap_free free it too. See
 * docs/memory.md, "Racing threads". */
#define GOMAP_QUARANTINE_DEFAULT ((size_t)64 * 1024)
gomap_status gomap_map_quarantine(gomap_map *m, size_t min_bytes);
gomap_status gomap_map_quiesce(gomap_map *m);

/* GC visitor. For GOMAP_VISIT_KEY/ELEM, ptr/size are a live key or elem and
 * its type size. For GOMAP_VISIT_ALLOC_* (>= 16), ptr/size are exactly what
 * the map's allocator returned / was asked for: together they are every
 * live allocation of the map (the map handle lives in the ALLOC_HMAP
 * block; it is no separate allocation). The visitor must not use the map. */
#define GOMAP_VISIT_KEY 1u
#define GOMAP_VISIT_ELEM 2u
#define GOMAP_VISIT_ALLOC_HMAP 16u
#define GOMAP_VISIT_ALLOC_BUCKETS 17u  /* current or old bucket array */
#define GOMAP_VISIT_ALLOC_OVERFLOW 18u /* heap overflow bucket */
#define GOMAP_VISIT_ALLOC_KEY 19u      /* out-of-line key (> 128 bytes) */
#define GOMAP_VISIT_ALLOC_ELEM 20u     /* out-of-line elem (> 128 bytes) */
#define GOMAP_VISIT_ALLOC_RETIRED 21u  /* kept for live iterators or stale old slots */
#define GOMAP_VISIT_ALLOC_SPARE 22u    /* reserved overflow bucket */
#define GOMAP_VISIT_ALLOC_QUARANTINED 23u /* released, held for racing readers */
#define GOMAP_VISIT_IS_ALLOC(what) ((what) >= 16u)
typedef void (*gomap_visitor)(void *ctx, uint32_t what, void *ptr, size_t size);
gomap_status gomap_visit(const gomap_map *m, gomap_visitor visitor, void *ctx);

/* Fatal errors (Go's fatal/throw): msg is Go's message without "fatal
 * error: ". The handler should not return (exit, abort); if it does, gomap
 * prints the message and aborts. It must not longjmp out. NULL removes it. */
typedef void (*gomap_fatal_fn)(const char *msg, void *ctx);
gomap_status gomap_set_fatal_handler(gomap_fatal_fn f, void *ctx);

/* Random source for hash seeds, iteration starts and NaN hashes (default:
 * an OS-seeded generator). NULL restores the default.
 * Both setters publish (function, ctx) as one pair and return once no
 * thread runs the previous pair or can call it again: its ctx may be freed
 * then. Called from inside the hook being replaced: GOMAP_ERR_BUSY. */
typedef uint64_t (*gomap_rand_fn)(void *ctx);
gomap_status gomap_set_rand(gomap_rand_fn f, void *ctx);

/* Hash key material: Go's per-process secrets (aeskeysched, 128 bytes,
 * then hashkey[0..4] as little-endian uint64s), drawn from the OS at the
 * first hash unless set before. With it and the random source fixed, every
 * process gets the same hashes, seeds and iteration orders. Only before
 * anything has hashed (making maps is fine while they hold no keys):
 * afterwards GOMAP_ERR_BUSY and nothing changes. len != GOMAP_HASH_KEY_SIZE:
 * GOMAP_ERR_BAD_ARG. Fixing both makes hashes predictable: whoever knows
 * them can pick keys that all share one bucket chain (hash flooding), so
 * only for trusted input. */
#define GOMAP_HASH_KEY_SIZE 160
gomap_status gomap_set_hash_key(const uint8_t *material, size_t len);

/* ---- ABI checks ----------------------------------------------------------- */

#ifndef __cplusplus
_Static_assert(sizeof(void *) == 8, "gomap supports 64-bit targets only");
_Static_assert(sizeof(gomap_status) == 4, "gomap_status is a 32-bit enum");
_Static_assert(sizeof(gomap_string) == 16 && alignof(gomap_string) == 8, "gomap_string");
_Static_assert(sizeof(gomap_field) == 24 && alignof(gomap_field) == 8, "gomap_field");
_Static_assert(sizeof(gomap_type_desc) == 72 && alignof(gomap_type_desc) == 8, "gomap_type_desc");
_Static_assert(sizeof(gomap_stats) == 112 && alignof(gomap_stats) == 8, "gomap_stats");
_Static_assert(sizeof(gomap_ownership) == 40 && alignof(gomap_ownership) == 8, "gomap_ownership");
_Static_assert(sizeof(gomap_hiter) == GOMAP_HITER_SIZE, "gomap_hiter size");
_Static_assert(alignof(gomap_hiter) == GOMAP_HITER_ALIGN, "gomap_hiter align");
#endif

#ifdef __cplusplus
}
#endif

#endif /* GOMAP_H */
