/* C tests of the gomap C API (include/gomap.h). Driven by tests/c_abi.rs,
 * built with ASan/UBSan and run under valgrind. Exit status 0 = all passed. */
#define _GNU_SOURCE
#include "gomap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                       \
        }                                                                     \
    } while (0)
#define OK(e) CHECK((e) == GOMAP_OK)

/* ---- a counting allocator that tracks every live block ------------------- */

typedef struct counting {
    void **live;
    size_t *sizes;
    size_t nlive, cap;
    size_t allocs, frees;
    size_t fail_at; /* 1-based allocation number to fail; 0 = never */
} counting;

static void *c_alloc(void *ctx, size_t size) {
    counting *c = ctx;
    c->allocs++;
    if (c->fail_at && c->allocs == c->fail_at) return NULL;
    void *p = calloc(1, size);
    if (!p) return NULL;
    if (c->nlive == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->live = realloc(c->live, c->cap * sizeof *c->live);
        c->sizes = realloc(c->sizes, c->cap * sizeof *c->sizes);
    }
    c->live[c->nlive] = p;
    c->sizes[c->nlive] = size;
    c->nlive++;
    return p;
}

static void c_free(void *ctx, void *p, size_t size) {
    counting *c = ctx;
    c->frees++;
    for (size_t i = 0; i < c->nlive; i++) {
        if (c->live[i] == p) {
            CHECK(c->sizes[i] == size);
            c->live[i] = c->live[c->nlive - 1];
            c->sizes[i] = c->sizes[c->nlive - 1];
            c->nlive--;
            free(p);
            return;
        }
    }
    fprintf(stderr, "free of unknown block %p\n", p);
    failures++;
}

static void counting_done(counting *c) {
    free(c->live);
    free(c->sizes);
    memset(c, 0, sizeof *c);
}

/* ---- helpers --------------------------------------------------------------- */

static gomap_type *u64_u64(void) {
    gomap_type *t = NULL;
    OK(gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, &t));
    return t;
}

static void put_u64(gomap_map *m, uint64_t k, uint64_t v) {
    void *e = NULL;
    OK(gomap_mapassign(m, &k, &e));
    if (e) memcpy(e, &v, 8);
}

static int get_u64(const gomap_map *m, uint64_t k, uint64_t *v) {
    const void *e = NULL;
    bool ok = false;
    OK(gomap_mapaccess2(m, &k, &e, &ok));
    if (ok) memcpy(v, e, 8);
    return ok;
}

static size_t len_of(const gomap_map *m) {
    size_t n = 12345;
    OK(gomap_len(m, &n));
    return n;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_basic(void) {
    /* the library this program runs with is the one its header describes */
    CHECK(strcmp(gomap_version(), GOMAP_VERSION_STRING) == 0);
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap(t, 0, &m));
    gomap_type_free(t); /* the map keeps its own reference */
    for (uint64_t i = 0; i < 2000; i++) put_u64(m, i, i * 3);
    CHECK(len_of(m) == 2000);
    for (uint64_t i = 0; i < 2000; i++) {
        uint64_t v = 0;
        CHECK(get_u64(m, i, &v) && v == i * 3);
    }
    uint64_t absent = 99999, v = 1;
    CHECK(!get_u64(m, absent, &v));
    const void *z = NULL;
    OK(gomap_mapaccess1(m, &absent, &z));
    CHECK(z && memcmp(z, "\0\0\0\0\0\0\0\0", 8) == 0);
    uint64_t seven = 7;
    OK(gomap_mapaccess1(m, &seven, &z));
    CHECK(*(const uint64_t *)z == 21);
    for (uint64_t i = 0; i < 2000; i += 2) OK(gomap_mapdelete(m, &i));
    OK(gomap_mapdelete(m, &absent));
    CHECK(len_of(m) == 1000);
    for (uint64_t i = 0; i < 2000; i++) CHECK(get_u64(m, i, &v) == (i % 2 == 1));
    /* overwrite returns the existing slot */
    void *e1 = NULL, *e2 = NULL;
    uint64_t k = 1;
    OK(gomap_mapassign(m, &k, &e1));
    OK(gomap_mapassign(m, &k, &e2));
    CHECK(e1 == e2 && *(uint64_t *)e1 == 3);
    OK(gomap_mapclear(m));
    CHECK(len_of(m) == 0);
    CHECK(!get_u64(m, k, &v));
    OK(gomap_free(m));

    gomap_type *t2 = u64_u64();
    OK(gomap_makemap64(t2, INT64_MAX, &m)); /* absurd hint counts as 0 */
    put_u64(m, 1, 2);
    OK(gomap_free(m));
    OK(gomap_makemap(t2, -5, &m));
    OK(gomap_free(m));
    OK(gomap_makemap_small(t2, &m));
    CHECK(len_of(m) == 0);
    put_u64(m, 5, 6);
    CHECK(get_u64(m, 5, &v) && v == 6);
    OK(gomap_free(m));
    gomap_type_free(t2);
}

static void test_iteration_growth(void) {
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap_small(t, &m));
    enum { N0 = 50, N = 3000 };
    for (uint64_t i = 0; i < N0; i++) put_u64(m, i, i);
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    gomap_hiter it = GOMAP_HITER_INIT;
    OK(gomap_mapiterinit(m, &it));
    uint64_t next = N0;
    size_t steps = 0;
    while (gomap_hiter_key(&it)) {
        uint64_t k = *(uint64_t *)gomap_hiter_key(&it);
        uint64_t v = *(uint64_t *)gomap_hiter_elem(&it);
        CHECK(k == v && k < N);
        if (k < N) {
            CHECK(!seen[k]);
            seen[k] = 1;
        }
        /* grow the map under the iterator */
        for (int j = 0; j < 20 && next < N; j++, next++) put_u64(m, next, next);
        OK(gomap_mapiternext(&it));
        steps++;
    }
    CHECK(gomap_hiter_elem(&it) == NULL);
    for (uint64_t i = 0; i < N0; i++) CHECK(seen[i]); /* present throughout: seen once */
    CHECK(steps >= N0);
    for (; next < N; next++) put_u64(m, next, next);
    CHECK(len_of(m) == N);
    /* the iterator ended itself: the map can be freed */
    OK(gomap_mapiterend(&it)); /* idempotent */

    /* delete during iteration (Go's range-with-delete), using the iterator's key */
    size_t count = 0;
    OK(gomap_mapiterinit(m, &it));
    while (gomap_hiter_key(&it)) {
        OK(gomap_mapdelete(m, gomap_hiter_key(&it)));
        count++;
        OK(gomap_mapiternext(&it));
    }
    CHECK(count == N);
    CHECK(len_of(m) == 0);

    /* assign with the iterator's key (aliases map memory) */
    for (uint64_t i = 0; i < 100; i++) put_u64(m, i, i);
    OK(gomap_mapiterinit(m, &it));
    while (gomap_hiter_key(&it)) {
        void *e = NULL;
        OK(gomap_mapassign(m, gomap_hiter_key(&it), &e));
        *(uint64_t *)e += 1000;
        OK(gomap_mapiternext(&it));
    }
    for (uint64_t i = 0; i < 100; i++) {
        uint64_t v = 0;
        CHECK(get_u64(m, i, &v) && v == i + 1000);
    }

    /* free with a live iterator (a loop left without ending it): the map
     * and everything it kept for the iterator are freed; the iterator is
     * dead, and its storage must be zeroed before reuse */
    OK(gomap_mapiterinit(m, &it));
    CHECK(gomap_hiter_key(&it) != NULL);
    for (uint64_t i = 0; i < 100; i++) OK(gomap_mapdelete(m, &i));
    OK(gomap_free(m));
    memset(&it, 0, sizeof it);

    /* iterating an empty map and a nil map */
    OK(gomap_makemap(t, 0, &m));
    OK(gomap_mapiterinit(m, &it));
    CHECK(gomap_hiter_key(&it) == NULL);
    OK(gomap_mapiterinit(NULL, &it));
    CHECK(gomap_hiter_key(&it) == NULL);
    OK(gomap_mapiternext(&it));
    OK(gomap_free(m));
    gomap_type_free(t);
}

/* gomap_mapiternext_kv: the one-call-per-entry loop, equal to
 * gomap_mapiternext plus the accessors, with growth and deletes under it. */
static void test_iteration_kv(void) {
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap_small(t, &m));
    enum { N0 = 50, N = 3000 };
    for (uint64_t i = 0; i < N0; i++) put_u64(m, i, i);
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    gomap_hiter it = GOMAP_HITER_INIT;
    OK(gomap_mapiterinit(m, &it));
    void *k = gomap_hiter_key(&it), *v = gomap_hiter_elem(&it);
    uint64_t next = N0;
    size_t steps = 0;
    while (k) {
        uint64_t kk = *(uint64_t *)k;
        CHECK(kk == *(uint64_t *)v && kk < N);
        if (kk < N) {
            CHECK(!seen[kk]);
            seen[kk] = 1;
        }
        for (int j = 0; j < 20 && next < N; j++, next++) put_u64(m, next, next);
        k = v = (void *)1; /* must be overwritten */
        OK(gomap_mapiternext_kv(&it, &k, &v));
        CHECK(k == gomap_hiter_key(&it) && v == gomap_hiter_elem(&it));
        steps++;
    }
    CHECK(k == NULL && v == NULL);
    for (uint64_t i = 0; i < N0; i++) CHECK(seen[i]);
    CHECK(steps >= N0);
    /* ended itself: stepping again stays at the end, and free succeeds */
    OK(gomap_mapiternext_kv(&it, &k, &v));
    CHECK(k == NULL && v == NULL);
    for (; next < N; next++) put_u64(m, next, next);
    CHECK(len_of(m) == N);

    /* a full pass sees every entry once, values intact */
    size_t count = 0;
    uint64_t sum = 0;
    OK(gomap_mapiterinit(m, &it));
    for (k = gomap_hiter_key(&it), v = gomap_hiter_elem(&it); k;) {
        CHECK(*(uint64_t *)k == *(uint64_t *)v);
        sum += *(uint64_t *)v;
        count++;
        OK(gomap_mapiternext_kv(&it, &k, &v));
    }
    CHECK(count == N && sum == (uint64_t)N * (N - 1) / 2);

    /* delete during iteration with the iterator's key; mixing both styles */
    count = 0;
    OK(gomap_mapiterinit(m, &it));
    k = gomap_hiter_key(&it);
    while (k) {
        OK(gomap_mapdelete(m, k));
        count++;
        if (count % 2) {
            OK(gomap_mapiternext_kv(&it, &k, &v));
        } else {
            OK(gomap_mapiternext(&it));
            k = gomap_hiter_key(&it);
        }
    }
    CHECK(count == N && len_of(m) == 0);

    /* errors: NULLs and garbage storage; out-parameters untouched */
    k = v = (void *)1;
    CHECK(gomap_mapiternext_kv(NULL, &k, &v) == GOMAP_ERR_NULL);
    CHECK(gomap_mapiternext_kv(&it, NULL, &v) == GOMAP_ERR_NULL);
    CHECK(gomap_mapiternext_kv(&it, &k, NULL) == GOMAP_ERR_NULL);
    gomap_hiter garbage;
    memset(&garbage, 0xFF, sizeof garbage);
    CHECK(gomap_mapiternext_kv(&garbage, &k, &v) == GOMAP_ERR_BAD_ARG);
    CHECK(k == (void *)1 && v == (void *)1);

    /* a nil map iterates nothing */
    OK(gomap_mapiterinit(NULL, &it));
    OK(gomap_mapiternext_kv(&it, &k, &v));
    CHECK(k == NULL && v == NULL);
    OK(gomap_free(m));
    gomap_type_free(t);
}

/* delete + reassign inside a range loop (docs/c-api.md, "Pointer
 * lifetimes"): after gomap_mapdelete(m, it.key) the slot of a string key is
 * zeroed, so the iterator's key pointer must not be reused; a copy must.
 * A pointer-free key's bytes stay; an inline elem is always zeroed. */
static void test_delete_reassign_in_range(void) {
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "epsilon",
                                  "zeta", "eta", "theta", "iota", "kappa"};
    enum { N = sizeof words / sizeof *words };
    gomap_type *t = NULL;
    OK(gomap_type_preset(GOMAP_KEY_STRING, 8, 8, false, &t));
    gomap_map *m = NULL;
    OK(gomap_makemap_small(t, &m));
    for (uint64_t i = 0; i < N; i++) {
        gomap_string k = {(const uint8_t *)words[i], strlen(words[i])};
        void *e = NULL;
        OK(gomap_mapassign(m, &k, &e));
        memcpy(e, &i, 8);
    }
    gomap_hiter it = GOMAP_HITER_INIT;
    OK(gomap_mapiterinit(m, &it));
    size_t seen = 0;
    for (void *k = gomap_hiter_key(&it); k; k = gomap_hiter_key(&it)) {
        gomap_string copy = *(gomap_string *)k; /* what a compiler must do */
        OK(gomap_mapdelete(m, k));              /* the pointer itself: fine once */
        const gomap_string *stale = k;
        CHECK(stale->ptr == NULL && stale->len == 0); /* the documented trap */
        uint64_t zero = 1;
        memcpy(&zero, gomap_hiter_elem(&it), 8);
        CHECK(zero == 0);
        void *e = NULL;
        OK(gomap_mapassign(m, &copy, &e)); /* re-insert through the copy */
        uint64_t v = seen + 100;
        memcpy(e, &v, 8);
        seen++;
        OK(gomap_mapiternext(&it));
    }
    OK(gomap_mapiterend(&it));
    CHECK(seen >= N);
    CHECK(len_of(m) == N); /* every word is back, and no "" key */
    gomap_string empty = {(const uint8_t *)"", 0};
    const void *e = NULL;
    bool ok = true;
    OK(gomap_mapaccess2(m, &empty, &e, &ok));
    CHECK(!ok);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* a pointer-free key keeps its bytes after the delete */
    t = u64_u64();
    OK(gomap_makemap_small(t, &m));
    for (uint64_t i = 0; i < 20; i++) put_u64(m, i * 3, i);
    OK(gomap_mapiterinit(m, &it));
    for (void *k = gomap_hiter_key(&it); k; k = gomap_hiter_key(&it)) {
        uint64_t before = *(uint64_t *)k;
        OK(gomap_mapdelete(m, k));
        CHECK(*(uint64_t *)k == before);
        CHECK(*(uint64_t *)gomap_hiter_elem(&it) == 0);
        OK(gomap_mapiternext(&it));
    }
    CHECK(len_of(m) == 0);
    OK(gomap_free(m));
    gomap_type_free(t);
}

static void test_clear_during_iteration(void) {
    counting c = {0};
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap_with_allocator(t, 0, c_alloc, c_free, &c, &m));
    for (uint64_t i = 0; i < 500; i++) put_u64(m, i, i);
    gomap_hiter it = GOMAP_HITER_INIT;
    OK(gomap_mapiterinit(m, &it));
    CHECK(gomap_hiter_key(&it) != NULL);
    OK(gomap_mapclear(m));
    CHECK(len_of(m) == 0);
    /* entries inserted after the clear may appear; old ones must not */
    for (uint64_t i = 1000; i < 1010; i++) put_u64(m, i, i);
    OK(gomap_mapiternext(&it));
    size_t n = 0;
    while (gomap_hiter_key(&it)) {
        CHECK(*(uint64_t *)gomap_hiter_key(&it) >= 1000);
        n++;
        OK(gomap_mapiternext(&it));
    }
    CHECK(n <= 10);
    OK(gomap_free(m));
    CHECK(c.nlive == 0 && c.allocs == c.frees);
    counting_done(&c);
    gomap_type_free(t);
}

static void test_clone(void) {
    gomap_type *t = u64_u64();
    gomap_map *m = NULL, *cl = NULL;
    OK(gomap_makemap(t, 0, &m));
    for (uint64_t i = 0; i < 777; i++) put_u64(m, i, i + 1);
    OK(gomap_mapclone(m, &cl));
    CHECK(len_of(cl) == 777);
    put_u64(m, 5, 0);
    uint64_t k = 6;
    OK(gomap_mapdelete(m, &k));
    for (uint64_t i = 0; i < 777; i++) {
        uint64_t v = 0;
        CHECK(get_u64(cl, i, &v) && v == i + 1);
    }
    gomap_map *nil_clone = (gomap_map *)1;
    OK(gomap_mapclone(NULL, &nil_clone));
    CHECK(nil_clone == NULL);
    OK(gomap_free(m));
    OK(gomap_free(cl));
    gomap_type_free(t);
}

/* visitor: collects allocations and counts keys/elems */
typedef struct visit_state {
    void *blocks[4096];
    size_t sizes[4096];
    size_t nblocks, nkeys, nelems;
    size_t key_size, elem_size;
    int bad;
} visit_state;

static void visitor(void *ctx, uint32_t what, void *ptr, size_t size) {
    visit_state *s = ctx;
    if (GOMAP_VISIT_IS_ALLOC(what)) {
        if (s->nblocks < 4096) {
            s->blocks[s->nblocks] = ptr;
            s->sizes[s->nblocks] = size;
        }
        s->nblocks++;
    } else if (what == GOMAP_VISIT_KEY) {
        s->nkeys++;
        if (size != s->key_size || !ptr) s->bad++;
    } else if (what == GOMAP_VISIT_ELEM) {
        s->nelems++;
        if (size != s->elem_size || !ptr) s->bad++;
    } else {
        s->bad++;
    }
}

/* Every live allocation of `c` is reported exactly once, and nothing else. */
static void check_visit(const gomap_map *m, counting *c, size_t ks, size_t es) {
    static visit_state s;
    memset(&s, 0, sizeof s);
    s.key_size = ks;
    s.elem_size = es;
    OK(gomap_visit(m, visitor, &s));
    CHECK(s.bad == 0);
    CHECK(s.nkeys == len_of(m) && s.nelems == len_of(m));
    CHECK(s.nblocks == c->nlive);
    for (size_t i = 0; i < s.nblocks && i < 4096; i++) {
        int found = 0;
        for (size_t j = 0; j < c->nlive; j++)
            if (c->live[j] == s.blocks[i]) found += c->sizes[j] == s.sizes[i];
        CHECK(found == 1);
        for (size_t j = 0; j < i; j++) CHECK(s.blocks[j] != s.blocks[i]);
    }
}

typedef struct big { uint64_t w[20]; } big; /* 160 bytes: stored out of line */

static uint64_t big_hash(void *ctx, const void *key, uint64_t seed, int *err) {
    (void)ctx;
    (void)err;
    const big *b = key;
    uint64_t h = seed ^ 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20; i++) h = (h ^ b->w[i]) * 0x100000001B3ull;
    return h;
}
static bool big_equal(void *ctx, const void *a, const void *b) {
    (void)ctx;
    return memcmp(a, b, sizeof(big)) == 0;
}

static void test_allocator_and_visit(void) {
    counting c = {0};
    /* process default allocator */
    OK(gomap_set_allocator(c_alloc, c_free, &c));
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap(t, 100, &m));
    OK(gomap_set_allocator(NULL, NULL, NULL));
    CHECK(c.allocs > 0);
    check_visit(m, &c, 8, 8);
    for (uint64_t i = 0; i < 5000; i++) {
        put_u64(m, i, i);
        if (i % 397 == 0) check_visit(m, &c, 8, 8); /* includes mid-growth states */
    }
    /* with a live iterator and deletes: retired blocks are reported too */
    gomap_hiter it = GOMAP_HITER_INIT;
    OK(gomap_mapiterinit(m, &it));
    for (uint64_t i = 5000; i < 9000; i++) put_u64(m, i, i);
    for (uint64_t i = 0; i < 3000; i++) OK(gomap_mapdelete(m, &i));
    check_visit(m, &c, 8, 8);
    OK(gomap_mapclear(m));
    check_visit(m, &c, 8, 8);
    OK(gomap_mapiterend(&it));
    check_visit(m, &c, 8, 8);
    gomap_map *cl = NULL;
    for (uint64_t i = 0; i < 300; i++) put_u64(m, i, i);
    OK(gomap_mapclone(m, &cl)); /* same allocator */
    OK(gomap_free(m));
    check_visit(cl, &c, 8, 8);
    OK(gomap_free(cl));
    CHECK(c.nlive == 0 && c.allocs == c.frees);
    gomap_type_free(t);

    /* out-of-line keys and elems */
    gomap_type_desc d = {
        .key_size = sizeof(big), .key_align = 8, .elem_size = sizeof(big), .elem_align = 8,
        .flags = GOMAP_DESC_REFLEXIVE, .hash = big_hash, .equal = big_equal,
    };
    OK(gomap_type_custom(&d, &t));
    size_t ks = 0, es = 0;
    uint32_t fl = 0;
    OK(gomap_type_info(t, &ks, &es, &fl));
    CHECK(ks == 160 && es == 160 && (fl & 3) == 3);
    OK(gomap_makemap_with_allocator(t, 0, c_alloc, c_free, &c, &m));
    big k;
    memset(&k, 0, sizeof k);
    for (uint64_t i = 0; i < 400; i++) {
        k.w[3] = i;
        void *e = NULL;
        OK(gomap_mapassign(m, &k, &e));
        ((big *)e)->w[0] = i;
    }
    check_visit(m, &c, 160, 160);
    OK(gomap_mapiterinit(m, &it));
    for (uint64_t i = 0; i < 200; i++) {
        k.w[3] = i;
        OK(gomap_mapdelete(m, &k));
    }
    check_visit(m, &c, 160, 160);
    gomap_stats st;
    OK(gomap_map_stats(m, &st));
    /* (Before pins this asserted retired_blocks > 0.) The map did not grow
     * under the iterator, so no stale slot points to a deleted key or elem:
     * nothing is kept for it. */
    CHECK(st.live_iterators == 1 && st.retired_blocks == 0);
    OK(gomap_mapiterend(&it));
    k.w[3] = 300;
    const void *e = NULL;
    OK(gomap_mapaccess1(m, &k, &e));
    CHECK(((const big *)e)->w[0] == 300);
    OK(gomap_free(m));
    CHECK(c.nlive == 0 && c.allocs == c.frees);
    gomap_type_free(t);
    counting_done(&c);
}

static void test_nomem(void) {
    /* Fail the n-th allocation, for every n the workload reaches: the failing
     * operation returns GOMAP_ERR_NOMEM and the map is unchanged. */
    gomap_type *t = u64_u64();
    for (size_t fail = 1;; fail++) {
        counting c = {0};
        c.fail_at = fail;
        gomap_map *m = NULL;
        gomap_status s = gomap_makemap_with_allocator(t, 0, c_alloc, c_free, &c, &m);
        if (s != GOMAP_OK) {
            CHECK(s == GOMAP_ERR_NOMEM && c.nlive == 0);
            counting_done(&c);
            continue;
        }
        size_t failed = 0;
        uint64_t present = 0;
        for (uint64_t i = 0; i < 600; i++) {
            void *e = NULL;
            size_t before = len_of(m);
            s = gomap_mapassign(m, &i, &e);
            if (s == GOMAP_OK) {
                memcpy(e, &i, 8);
                present++;
            } else {
                CHECK(s == GOMAP_ERR_NOMEM);
                CHECK(len_of(m) == before);
                failed++;
            }
        }
        CHECK(len_of(m) == present);
        size_t reached = c.allocs;
        OK(gomap_free(m));
        CHECK(c.nlive == 0);
        counting_done(&c);
        if (failed == 0 && fail > reached) break;
    }
    gomap_type_free(t);
}

static void test_strings_floats_composite(void) {
    gomap_type *t = NULL;
    OK(gomap_type_preset(GOMAP_KEY_STRING, 4, 4, false, &t));
    gomap_map *m = NULL;
    OK(gomap_makemap(t, 0, &m));
    const char *words[] = {"alpha", "beta", "gamma", "", "delta"};
    for (int i = 0; i < 5; i++) {
        gomap_string s = {(const uint8_t *)words[i], strlen(words[i])};
        void *e = NULL;
        OK(gomap_mapassign(m, &s, &e));
        *(int32_t *)e = i;
    }
    char buf[8] = "gamma";
    gomap_string q = {(const uint8_t *)buf, 5};
    const void *e = NULL;
    bool ok = false;
    OK(gomap_mapaccess2(m, &q, &e, &ok));
    CHECK(ok && *(const int32_t *)e == 2);
    OK(gomap_free(m));
    gomap_type_free(t);

    OK(gomap_type_preset(GOMAP_KEY_F64, 8, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    double nan = NAN, z = 0.0, nz = -0.0;
    void *slot = NULL;
    OK(gomap_mapassign(m, &nan, &slot));
    OK(gomap_mapassign(m, &nan, &slot));
    CHECK(len_of(m) == 2); /* NaN != NaN */
    OK(gomap_mapaccess2(m, &nan, &e, &ok));
    CHECK(!ok);
    OK(gomap_mapassign(m, &z, &slot));
    OK(gomap_mapassign(m, &nz, &slot)); /* same key, key bits updated */
    CHECK(len_of(m) == 3);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* struct { int32 a; float32 b; gomap_string s; } */
    gomap_field f[] = {{0, 4, GOMAP_FIELD_MEM}, {4, 4, GOMAP_FIELD_F32}, {8, 16, GOMAP_FIELD_STRING}};
    OK(gomap_type_composite(f, 3, 24, 8, 8, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    struct {
        int32_t a;
        float b;
        gomap_string s;
    } key = {1, 2.0f, {(const uint8_t *)"x", 1}};
    OK(gomap_mapassign(m, &key, &slot));
    *(uint64_t *)slot = 42;
    key.b = -0.0f;
    OK(gomap_mapaccess2(m, &key, &e, &ok));
    CHECK(!ok);
    key.b = 2.0f;
    char x[2] = "x";
    key.s.ptr = (const uint8_t *)x;
    OK(gomap_mapaccess2(m, &key, &e, &ok));
    CHECK(ok && *(const uint64_t *)e == 42);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* every preset kind and [n]byte */
    for (uint32_t k = GOMAP_KEY_BOOL; k <= GOMAP_KEY_STRING; k++) {
        OK(gomap_type_preset(k, 1, 1, false, &t));
        OK(gomap_makemap(t, 10, &m));
        unsigned char kb[16] = {0};
        OK(gomap_mapassign(m, kb, &slot));
        CHECK(len_of(m) == 1);
        OK(gomap_free(m));
        gomap_type_free(t);
    }
    OK(gomap_type_bytes(3, 0, 1, false, &t));
    OK(gomap_makemap(t, 0, &m));
    OK(gomap_mapassign(m, "abc", &slot));
    OK(gomap_mapassign(m, "abd", &slot));
    OK(gomap_mapaccess2(m, "abc", &e, &ok));
    CHECK(ok && len_of(m) == 2);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* elems larger than GOMAP_ZERO_SIZE: a zero elem of the full size */
    OK(gomap_type_preset(GOMAP_KEY_U32, 4096, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    uint32_t k32 = 9;
    OK(gomap_mapaccess1(m, &k32, &e));
    for (int i = 0; i < 4096; i++) CHECK(((const unsigned char *)e)[i] == 0);
    OK(gomap_mapassign(m, &k32, &slot));
    memset(slot, 0xAB, 4096);
    OK(gomap_mapaccess1(m, &k32, &e));
    CHECK(((const unsigned char *)e)[4095] == 0xAB);
    OK(gomap_free(m));
    gomap_type_free(t);
}

static uint64_t bad_hash(void *ctx, const void *key, uint64_t seed, int *err) {
    (void)ctx;
    uint64_t k;
    memcpy(&k, key, 8);
    if (k == 666) {
        *err = 1;
        return 0;
    }
    return (k ^ seed) * 0x9E3779B97F4A7C15ull;
}
static bool u64_equal(void *ctx, const void *a, const void *b) {
    (void)ctx;
    return memcmp(a, b, 8) == 0;
}
static bool check_not_13(void *ctx, const void *key) {
    (void)ctx;
    uint64_t k;
    memcpy(&k, key, 8);
    return k != 13;
}

static void test_errors(void) {
    gomap_type *t = NULL;
    gomap_map *m = NULL;
    void *slot = NULL;
    const void *e = NULL;
    bool ok = false;
    size_t n = 0;
    uint64_t k = 1;

    /* NULL everywhere */
    CHECK(gomap_type_preset(GOMAP_KEY_U64, 8, 8, false, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_type_bytes(4, 8, 8, false, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_type_composite(NULL, 1, 8, 8, 8, 8, false, &t) == GOMAP_ERR_NULL);
    CHECK(gomap_type_custom(NULL, &t) == GOMAP_ERR_NULL);
    CHECK(gomap_type_info(NULL, &n, &n, (uint32_t *)&k) == GOMAP_ERR_NULL);
    CHECK(gomap_makemap(NULL, 0, &m) == GOMAP_ERR_NULL);
    CHECK(gomap_makemap64(NULL, 0, &m) == GOMAP_ERR_NULL);
    CHECK(gomap_makemap_small(NULL, &m) == GOMAP_ERR_NULL);
    CHECK(gomap_makemap_with_allocator(NULL, 0, c_alloc, c_free, NULL, &m) == GOMAP_ERR_NULL);
    CHECK(m == NULL); /* out-params untouched on failure */
    t = u64_u64();
    CHECK(gomap_makemap(t, 0, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_makemap_with_allocator(t, 0, NULL, c_free, NULL, &m) == GOMAP_ERR_NULL);
    CHECK(gomap_set_allocator(c_alloc, NULL, NULL) == GOMAP_ERR_NULL);
    OK(gomap_makemap(t, 0, &m));
    CHECK(gomap_mapaccess1(m, NULL, &e) == GOMAP_ERR_NULL);
    CHECK(gomap_mapaccess1(m, &k, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapaccess2(m, &k, &e, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapassign(m, NULL, &slot) == GOMAP_ERR_NULL);
    CHECK(gomap_mapassign(m, &k, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapdelete(m, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapclone(m, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_len(m, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_visit(m, NULL, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapiterinit(m, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapiternext(NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapiterend(NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_hiter_key(NULL) == NULL && gomap_hiter_elem(NULL) == NULL);
    gomap_type_free(NULL);
    OK(gomap_free(NULL));

    /* a garbage iterator is rejected, not trusted */
    gomap_hiter garbage;
    memset(&garbage, 0xFF, sizeof garbage);
    CHECK(gomap_mapiterinit(m, &garbage) == GOMAP_ERR_BAD_ARG);

    /* nil map: Go's semantics */
    CHECK(gomap_mapassign(NULL, &k, &slot) == GOMAP_ERR_NIL_MAP_ASSIGN);
    CHECK(slot == NULL);
    OK(gomap_mapaccess2(NULL, &k, &e, &ok));
    CHECK(!ok && e && ((const unsigned char *)e)[GOMAP_ZERO_SIZE - 1] == 0);
    OK(gomap_mapdelete(NULL, &k));
    OK(gomap_mapclear(NULL));
    OK(gomap_len(NULL, &n));
    CHECK(n == 0);
    OK(gomap_visit(NULL, visitor, NULL));
    OK(gomap_free(m));
    gomap_type_free(t);

    /* bad descriptors */
    t = NULL;
    CHECK(gomap_type_preset(999, 8, 8, false, &t) == GOMAP_ERR_BAD_ARG);
    CHECK(gomap_type_preset(GOMAP_KEY_U64, 8, 0, false, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(gomap_type_preset(GOMAP_KEY_U64, 8, 3, false, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(gomap_type_preset(GOMAP_KEY_U64, 16, 16, false, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(gomap_type_preset(GOMAP_KEY_U64, 6, 4, false, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(gomap_type_preset(GOMAP_KEY_U64, SIZE_MAX - 7, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(gomap_type_bytes(SIZE_MAX, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    gomap_field overlap[] = {{0, 8, GOMAP_FIELD_MEM}, {4, 4, GOMAP_FIELD_MEM}};
    CHECK(gomap_type_composite(overlap, 2, 8, 8, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    gomap_field past[] = {{0, 16, GOMAP_FIELD_MEM}};
    CHECK(gomap_type_composite(past, 1, 8, 8, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    gomap_field wrongf[] = {{0, 8, GOMAP_FIELD_F32}};
    CHECK(gomap_type_composite(wrongf, 1, 8, 8, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    gomap_field badkind[] = {{0, 8, 77}};
    CHECK(gomap_type_composite(badkind, 1, 8, 8, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    gomap_field ovf[] = {{SIZE_MAX, 2, GOMAP_FIELD_MEM}};
    CHECK(gomap_type_composite(ovf, 1, 8, 8, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(gomap_type_composite(NULL, 0, 12, 8, 8, 8, false, &t) == GOMAP_ERR_BAD_TYPE);
    gomap_type_desc d = {
        .key_size = 8, .key_align = 8, .elem_size = 8, .elem_align = 8,
        .flags = GOMAP_DESC_REFLEXIVE, .hash = bad_hash, .equal = u64_equal,
    };
    gomap_type_desc bad = d;
    bad.hash = NULL;
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.equal = NULL;
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.key_align = 5;
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.key_size = 12;
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.elem_size = (size_t)1 << 40;
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.flags |= 1u << 30;
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.flags |= GOMAP_DESC_HASH_MIGHT_PANIC; /* without key_check */
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    bad = d;
    bad.key_check = check_not_13; /* without the flag */
    CHECK(gomap_type_custom(&bad, &t) == GOMAP_ERR_BAD_TYPE);
    CHECK(t == NULL);

    /* unhashable keys: a failing hasher, and a key check */
    d.flags |= GOMAP_DESC_HASH_MIGHT_PANIC;
    d.key_check = check_not_13;
    OK(gomap_type_custom(&d, &t));
    OK(gomap_makemap(t, 0, &m));
    for (uint64_t i = 0; i < 100; i++) {
        if (i == 13) continue;
        OK(gomap_mapassign(m, &i, &slot));
    }
    uint64_t k666 = 666, k13 = 13;
    slot = NULL;
    CHECK(gomap_mapassign(m, &k666, &slot) == GOMAP_ERR_UNHASHABLE);
    CHECK(slot == NULL);
    CHECK(gomap_mapaccess2(m, &k666, &e, &ok) == GOMAP_ERR_UNHASHABLE);
    CHECK(gomap_mapdelete(m, &k666) == GOMAP_ERR_UNHASHABLE);
    CHECK(gomap_mapassign(m, &k13, &slot) == GOMAP_ERR_UNHASHABLE);
    CHECK(gomap_mapaccess1(m, &k13, &e) == GOMAP_ERR_UNHASHABLE);
    CHECK(gomap_mapdelete(m, &k13) == GOMAP_ERR_UNHASHABLE);
    /* the map is intact and writable afterwards */
    CHECK(len_of(m) == 99);
    uint64_t k100 = 100;
    OK(gomap_mapassign(m, &k100, &slot));
    CHECK(len_of(m) == 100);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* strerror */
    for (int s = 0; s <= 9; s++) CHECK(gomap_strerror(s) != NULL && gomap_strerror(s)[0]);
    CHECK(strcmp(gomap_strerror(GOMAP_ERR_NIL_MAP_ASSIGN), "assignment to entry in nil map") == 0);
    CHECK(strcmp(gomap_strerror(-1), "unknown gomap status") == 0);
}

static uint64_t counter_rand(void *ctx) {
    uint64_t *s = ctx;
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s;
}

static void iteration_order(uint64_t seed, uint64_t *out, size_t n) {
    uint64_t state = seed;
    OK(gomap_set_rand(counter_rand, &state));
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap(t, 0, &m));
    for (uint64_t i = 0; i < n; i++) put_u64(m, i, i);
    gomap_hiter it = GOMAP_HITER_INIT;
    size_t j = 0;
    OK(gomap_mapiterinit(m, &it));
    while (gomap_hiter_key(&it)) {
        out[j++] = *(uint64_t *)gomap_hiter_key(&it);
        OK(gomap_mapiternext(&it));
    }
    CHECK(j == n);
    OK(gomap_set_rand(NULL, NULL));
    OK(gomap_free(m));
    gomap_type_free(t);
}

static void test_rand(void) {
    uint64_t a[200], b[200], c[200];
    iteration_order(1, a, 200);
    iteration_order(1, b, 200);
    iteration_order(2, c, 200);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
}

/* ---- fatal handler: re-entrant write from an equality callback ------------- */

static gomap_map *reentrant_map;
static bool reentrant_equal(void *ctx, const void *a, const void *b) {
    (void)ctx;
    void *slot;
    uint64_t k = 12345;
    gomap_mapassign(reentrant_map, &k, &slot); /* a second writer: fatal */
    return memcmp(a, b, 8) == 0;
}
static uint64_t const_hash(void *ctx, const void *key, uint64_t seed, int *err) {
    (void)ctx;
    (void)key;
    (void)err;
    return seed;
}
static void fatal_handler(const char *msg, void *ctx) {
    (void)ctx;
    _exit(strcmp(msg, "concurrent map writes") == 0 ? 42 : 43);
}

static void test_fatal_handler(void) {
    if (!getenv("GOMAP_TEST_FORK")) return; /* skipped under valgrind */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        gomap_set_fatal_handler(fatal_handler, NULL);
        gomap_type_desc d = {
            .key_size = 8, .key_align = 8, .elem_size = 8, .elem_align = 8,
            .flags = GOMAP_DESC_REFLEXIVE, .hash = const_hash, .equal = reentrant_equal,
        };
        gomap_type *t;
        gomap_type_custom(&d, &t);
        gomap_makemap(t, 0, &reentrant_map);
        uint64_t k = 1;
        void *slot;
        gomap_mapassign(reentrant_map, &k, &slot); /* first insert: no equal call */
        gomap_mapassign(reentrant_map, &k, &slot); /* equal runs inside the write */
        _exit(1);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    OK(gomap_set_fatal_handler(NULL, NULL));
}

static void test_fast_paths(void) {
    gomap_type *t = NULL;
    gomap_map *m = NULL;
    void *slot = NULL;
    const void *e = NULL;
    bool ok = false;

    /* fast32 mixed with the generic path on one map */
    OK(gomap_type_preset(GOMAP_KEY_U32, 4, 4, false, &t));
    OK(gomap_makemap(t, 0, &m));
    for (uint32_t i = 0; i < 1500; i++) {
        OK(gomap_mapassign_fast32(m, i, &slot));
        *(uint32_t *)slot = i ^ 0x5555;
    }
    for (uint32_t i = 0; i < 1500; i++) {
        OK(gomap_mapaccess2_fast32(m, i, &e, &ok));
        CHECK(ok && *(const uint32_t *)e == (i ^ 0x5555));
        OK(gomap_mapaccess1(m, &i, &e));
        CHECK(*(const uint32_t *)e == (i ^ 0x5555));
    }
    OK(gomap_mapaccess1_fast32(m, 99999, &e));
    CHECK(*(const uint32_t *)e == 0);
    for (uint32_t i = 0; i < 1500; i += 2) OK(gomap_mapdelete_fast32(m, i));
    CHECK(len_of(m) == 750);
    CHECK(gomap_mapassign_fast64(m, 1, &slot) == GOMAP_ERR_BAD_TYPE); /* wrong width */
    CHECK(gomap_mapaccess1_faststr(m, (gomap_string){0}, &e) == GOMAP_ERR_BAD_TYPE);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* fast64 and fast64ptr */
    OK(gomap_type_preset(GOMAP_KEY_PTR, 8, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    static int objs[300];
    for (int i = 0; i < 300; i++) {
        OK(gomap_mapassign_fast64ptr(m, &objs[i], &slot));
        *(int64_t *)slot = i;
    }
    for (int i = 0; i < 300; i++) {
        OK(gomap_mapaccess2_fast64(m, (uint64_t)(uintptr_t)&objs[i], &e, &ok));
        CHECK(ok && *(const int64_t *)e == i);
    }
    OK(gomap_mapdelete_fast64(m, (uint64_t)(uintptr_t)&objs[0]));
    OK(gomap_mapassign_fast64(m, 7, &slot));
    OK(gomap_mapaccess1_fast64(m, 7, &e));
    CHECK(e == slot);
    CHECK(len_of(m) == 300);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* floats never take the fast paths; big elems neither */
    OK(gomap_type_preset(GOMAP_KEY_F64, 8, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    CHECK(gomap_mapassign_fast64(m, 1, &slot) == GOMAP_ERR_BAD_TYPE);
    OK(gomap_free(m));
    gomap_type_free(t);
    OK(gomap_type_preset(GOMAP_KEY_U64, 256, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    CHECK(gomap_mapassign_fast64(m, 1, &slot) == GOMAP_ERR_BAD_TYPE);
    CHECK(len_of(m) == 0);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* faststr */
    OK(gomap_type_preset(GOMAP_KEY_STRING, 8, 8, false, &t));
    OK(gomap_makemap(t, 0, &m));
    static char names[400][8];
    for (int i = 0; i < 400; i++) {
        int n = snprintf(names[i], sizeof names[i], "k%d", i);
        gomap_string k = {(const uint8_t *)names[i], (size_t)n};
        OK(gomap_mapassign_faststr(m, k, &slot));
        *(int64_t *)slot = i;
    }
    for (int i = 0; i < 400; i++) {
        char q[8];
        int n = snprintf(q, sizeof q, "k%d", i);
        gomap_string k = {(const uint8_t *)q, (size_t)n};
        OK(gomap_mapaccess2_faststr(m, k, &e, &ok));
        CHECK(ok && *(const int64_t *)e == i);
        OK(gomap_mapaccess1(m, &k, &e));
        CHECK(*(const int64_t *)e == i);
    }
    gomap_string k5 = {(const uint8_t *)"k5", 2};
    OK(gomap_mapdelete_faststr(m, k5));
    OK(gomap_mapaccess1_faststr(m, k5, &e));
    CHECK(*(const int64_t *)e == 0);
    CHECK(len_of(m) == 399);
    OK(gomap_free(m));
    gomap_type_free(t);

    /* nil maps */
    CHECK(gomap_mapassign_fast32(NULL, 1, &slot) == GOMAP_ERR_NIL_MAP_ASSIGN);
    CHECK(gomap_mapassign_fast64(NULL, 1, &slot) == GOMAP_ERR_NIL_MAP_ASSIGN);
    CHECK(gomap_mapassign_fast64ptr(NULL, NULL, &slot) == GOMAP_ERR_NIL_MAP_ASSIGN);
    CHECK(gomap_mapassign_faststr(NULL, k5, &slot) == GOMAP_ERR_NIL_MAP_ASSIGN);
    OK(gomap_mapaccess2_fast64(NULL, 1, &e, &ok));
    CHECK(!ok);
    OK(gomap_mapdelete_fast32(NULL, 1));
    OK(gomap_mapdelete_faststr(NULL, k5));
    CHECK(gomap_mapaccess1_fast32(NULL, 1, NULL) == GOMAP_ERR_NULL);
    CHECK(gomap_mapassign_fast64(NULL, 1, NULL) == GOMAP_ERR_NULL);
}

/* Many concurrent readers (lookups and iterations) on one map are allowed. */
static gomap_map *shared_map;
static void *reader(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    long bad = 0;
    for (int round = 0; round < 20; round++) {
        for (uint64_t i = 0; i < 1000; i++) {
            uint64_t v = 0;
            const void *e = NULL;
            bool ok = false;
            uint64_t k = (i * 7 + id) % 1000;
            if (gomap_mapaccess2(shared_map, &k, &e, &ok) != GOMAP_OK || !ok) bad++;
            else if ((memcpy(&v, e, 8), v) != k * 2) bad++;
        }
        gomap_hiter it = GOMAP_HITER_INIT;
        size_t n = 0;
        if (gomap_mapiterinit(shared_map, &it) != GOMAP_OK) bad++;
        while (gomap_hiter_key(&it)) {
            n++;
            if (n == 500 && round % 2) { /* break out early: end it explicitly */
                gomap_mapiterend(&it);
                break;
            }
            gomap_mapiternext(&it);
        }
        if (n != (round % 2 ? 500u : 1000u)) bad++;
    }
    return (void *)bad;
}

static void test_concurrent_readers(void) {
    gomap_type *t = u64_u64();
    OK(gomap_makemap(t, 0, &shared_map));
    for (uint64_t i = 0; i < 1000; i++) put_u64(shared_map, i, i * 2);
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, reader, (void *)i) == 0);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        CHECK(pthread_join(th[i], &r) == 0);
        CHECK(r == NULL);
    }
    OK(gomap_free(shared_map)); /* no iterator left live */
    gomap_type_free(t);
}

static void test_shrink(void) {
    counting c = {0};
    gomap_type *t = u64_u64();
    gomap_map *m = NULL;
    OK(gomap_makemap_with_allocator(t, 0, c_alloc, c_free, &c, &m));
    for (uint64_t i = 0; i < 20000; i++) put_u64(m, i, i * 3);
    for (uint64_t i = 0; i < 20000; i++)
        if (i % 100 != 0) OK(gomap_mapdelete(m, &i));
    size_t before = 0, after = 0, n = 0;
    for (size_t i = 0; i < c.nlive; i++) before += c.sizes[i];
    /* refused while an iterator is live, the map untouched */
    gomap_hiter it = GOMAP_HITER_INIT;
    OK(gomap_mapiterinit(m, &it));
    CHECK(gomap_mapshrink(m, 0) == GOMAP_ERR_BUSY);
    OK(gomap_mapiterend(&it));
    OK(gomap_mapshrink(m, 0));
    for (size_t i = 0; i < c.nlive; i++) after += c.sizes[i];
    CHECK(after < before / 10);
    OK(gomap_len(m, &n));
    CHECK(n == 200);
    for (uint64_t i = 0; i < 20000; i += 100) {
        uint64_t v = 0;
        CHECK(get_u64(m, i, &v) && v == i * 3);
    }
    OK(gomap_mapshrink(NULL, 0));
    OK(gomap_free(m));
    CHECK(c.nlive == 0 && c.allocs == c.frees);
    counting_done(&c);
    gomap_type_free(t);
}

/* ---- ownership callbacks and statistics ------------------------------------ */

/* Reference counts of key objects (the key value is the object) and elem
 * objects (the elem value is the object). */
static int64_t key_refs[256], elem_refs[512];

static void c_key_retain(void *ctx, void *p) { (void)ctx; key_refs[*(uint64_t *)p]++; }
static void c_key_release(void *ctx, void *p) { (void)ctx; key_refs[*(uint64_t *)p]--; }
static void c_elem_retain(void *ctx, void *p) { (void)ctx; elem_refs[*(uint64_t *)p]++; }
static void c_elem_release(void *ctx, void *p) { (void)ctx; elem_refs[*(uint64_t *)p]--; }

static int64_t refs_total(void) {
    int64_t n = 0;
    for (int i = 0; i < 256; i++) { CHECK(key_refs[i] >= 0); n += key_refs[i]; }
    for (int i = 0; i < 512; i++) { CHECK(elem_refs[i] >= 0); n += elem_refs[i]; }
    return n;
}

/* m[k] = new elem object `e`, following gomap.h's protocol. */
static void own_set(gomap_map *m, uint64_t k, uint64_t e) {
    key_refs[k]++; elem_refs[e]++; /* the runtime's references */
    void *slot; uint32_t flags;
    OK(gomap_mapassign2(m, &k, &slot, &flags));
    if (!(flags & GOMAP_ASSIGN_KEY_STORED)) key_refs[k]--;
    if (!(flags & GOMAP_ASSIGN_INSERTED)) elem_refs[*(uint64_t *)slot]--;
    *(uint64_t *)slot = e;
}

static void test_ownership_and_stats(void) {
    gomap_type *base, *t;
    OK(gomap_type_preset(GOMAP_KEY_U64, 8, 8, true, &base));
    gomap_ownership o = {c_key_retain, c_key_release, c_elem_retain, c_elem_release, NULL};
    OK(gomap_type_with_ownership(base, &o, &t));
    gomap_type_free(base);
    gomap_map *m;
    OK(gomap_makemap(t, 0, &m));
    for (uint64_t k = 0; k < 200; k++) own_set(m, k, k);
    for (uint64_t k = 0; k < 200; k += 2) own_set(m, k, 200 + k); /* updates */
    CHECK(refs_total() == 2 * 200);
    for (uint64_t k = 0; k < 200; k += 5) OK(gomap_mapdelete(m, &k));
    int taken = 0;
    for (uint64_t k = 1; k < 200; k += 7) {
        uint64_t kk = 0, ee = 0; bool found;
        OK(gomap_mapdelete2(m, &k, &kk, &ee, &found));
        if (found) { CHECK(kk == k); key_refs[kk]--; elem_refs[ee]--; taken++; }
    }
    CHECK(taken > 0);
    size_t n = len_of(m);
    CHECK(refs_total() == 2 * (int64_t)n);
    uint64_t k3 = 3; void *sk, *se;
    OK(gomap_mapaccessK(m, &k3, &sk, &se));
    CHECK(sk && *(uint64_t *)sk == 3 && *(uint64_t *)se == 3);
    gomap_stats st;
    OK(gomap_map_stats(m, &st));
    CHECK(st.count == n && st.live_iterators == 0 && st.total_bytes > st.bucket_array_bytes);
    gomap_map *c;
    OK(gomap_mapclone(m, &c));
    CHECK(refs_total() == 4 * (int64_t)n);
    OK(gomap_mapclear(c));
    CHECK(refs_total() == 2 * (int64_t)n);
    OK(gomap_free(c));
    OK(gomap_free(m));
    CHECK(refs_total() == 0);
    gomap_type_free(t);
}

int main(void) {
    test_basic();
    test_iteration_growth();
    test_iteration_kv();
    test_delete_reassign_in_range();
    test_clear_during_iteration();
    test_clone();
    test_allocator_and_visit();
    test_shrink();
    test_nomem();
    test_strings_floats_composite();
    test_errors();
    test_rand();
    test_fast_paths();
    test_concurrent_readers();
    test_fatal_handler();
    test_ownership_and_stats();
    if (failures) {
        fprintf(stderr, "test_gomap: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_gomap: all checks passed\n");
    return 0;
}
