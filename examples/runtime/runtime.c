/* A small language runtime on libgomap: what a VM for Go programs does with
 * its maps, and the proof that it can ship gomap (issue 15).
 *
 * The runtime has 16-byte tagged values (nil, int, float, string),
 * reference-counted strings and boxes, and two map shapes:
 *   map[string]int  keys are gomap_string headers into refcounted strings;
 *                   lookups and deletes through the faststr fast paths;
 *   map[any]any     keys are interface values (gomap_iface) over boxed ints,
 *                   floats and strings; elems are tagged values.
 * Both map types carry ownership callbacks, so the map retains and releases
 * exactly what it holds. The "program" below is what a compiler would emit
 * for a Go program using m[k] op= v, delete inside range, range left by
 * break, insert during range, maps.Clone, clear, nil maps, NaN and +-0 keys.
 * At the end every map and type is freed and the runtime checks that every
 * object it allocated was released exactly once: "refcounts balanced".
 *
 * --seed N fixes gomap's random source and hash key material: two runs
 * with the same N print the same iteration order (Go's maps are random;
 * a reproducible mode is for record/replay and tests).
 *
 * Built against the installed library (examples/runtime/run.sh):
 *   cc runtime.c $(pkg-config --static --cflags --libs gomap)
 * and run in CI under ASan+UBSan (libgomap instrumented too) and valgrind.
 */
#include <gomap.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failure --------------------------------------------------------------- */

static void die(const char *what, gomap_status s) {
    fprintf(stderr, "runtime: %s: %s\n", what, gomap_strerror(s));
    exit(1);
}

#define TRY(e)                                                                 \
    do {                                                                       \
        gomap_status s_ = (e);                                                 \
        if (s_ != GOMAP_OK) die(#e, s_);                                       \
    } while (0)

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "runtime: check failed at line %d: %s\n", __LINE__, \
                    #c);                                                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* ---- objects: reference-counted, and counted --------------------------------- */

typedef struct obj {
    long rc;
    long pad; /* keeps the payload 16-aligned */
} obj;

static long live_objects, n_allocs, n_retains, n_releases;

static void *obj_new(size_t payload) {
    obj *o = calloc(1, sizeof(obj) + payload);
    if (!o) {
        fprintf(stderr, "runtime: out of memory\n");
        exit(1);
    }
    o->rc = 1;
    live_objects++;
    n_allocs++;
    return o + 1;
}

static obj *obj_of(const void *payload) { return (obj *)payload - 1; }

static void retain(const void *p) {
    obj_of(p)->rc++;
    n_retains++;
}

static void release(const void *p) {
    obj *o = obj_of(p);
    CHECK(o->rc > 0);
    n_releases++;
    if (--o->rc == 0) {
        live_objects--;
        free(o);
    }
}

/* ---- strings ------------------------------------------------------------------ */

typedef struct str {
    size_t len;
    char bytes[];
} str;

static str *str_new(const char *c) {
    size_t n = strlen(c);
    str *s = obj_new(sizeof(str) + n + 1);
    s->len = n;
    memcpy(s->bytes, c, n);
    return s;
}

static str *str_cat(const str *a, const char *b) {
    size_t n = strlen(b);
    str *s = obj_new(sizeof(str) + a->len + n + 1);
    s->len = a->len + n;
    memcpy(s->bytes, a->bytes, a->len);
    memcpy(s->bytes + a->len, b, n);
    return s;
}

static gomap_string str_key(const str *s) {
    gomap_string g = {(const uint8_t *)s->bytes, s->len};
    return g;
}

/* The string a map's key header points into. */
static str *str_of_key(const gomap_string *g) {
    return (str *)((const char *)g->ptr - offsetof(str, bytes));
}

/* ---- values: 16 bytes, tagged --------------------------------------------------- */

enum { T_NIL, T_INT, T_FLOAT, T_STR };

typedef struct value {
    uint64_t tag;
    union {
        int64_t i;
        double f;
        str *s;
    } u;
} value;

_Static_assert(sizeof(value) == 16, "16-byte values");

static value v_int(int64_t i) { value v = {T_INT, {.i = i}}; return v; }
static value v_float(double f) { value v = {T_FLOAT, {.f = f}}; return v; }
static value v_str(str *s) { value v = {T_STR, {.s = s}}; return v; } /* takes s's reference */

static void v_retain(const value *v) { if (v->tag == T_STR) retain(v->u.s); }
static void v_release(const value *v) { if (v->tag == T_STR) release(v->u.s); }

/* ---- interface values (`any`) as map keys ---------------------------------------- */

static gomap_dyntype *t_int, *t_float, *t_string;

/* A boxed string: the header the key's data points to, then the bytes. */
typedef struct strbox {
    gomap_string hdr;
    char bytes[];
} strbox;

/* An `any` holding v, in a new box (the caller owns the reference). */
static gomap_iface to_any(value v) {
    gomap_iface k = {NULL, NULL};
    switch (v.tag) {
    case T_INT: {
        int64_t *b = obj_new(sizeof *b);
        *b = v.u.i;
        k.type_ = t_int;
        k.data = b;
        break;
    }
    case T_FLOAT: {
        double *b = obj_new(sizeof *b);
        *b = v.u.f;
        k.type_ = t_float;
        k.data = b;
        break;
    }
    case T_STR: {
        strbox *b = obj_new(sizeof(strbox) + v.u.s->len);
        memcpy(b->bytes, v.u.s->bytes, v.u.s->len);
        b->hdr.ptr = (const uint8_t *)b->bytes;
        b->hdr.len = v.u.s->len;
        k.type_ = t_string;
        k.data = b;
        break;
    }
    }
    return k;
}

/* An `any` holding a string constant. */
static gomap_iface any_str(const char *c) {
    str *s = str_new(c);
    gomap_iface k = to_any(v_str(s));
    release(s); /* the box has its own copy */
    return k;
}

static void any_release(const gomap_iface *k) { if (k->data) release(k->data); }

static void print_any(const gomap_iface *k) {
    if (k->type_ == t_int) printf("%lld", (long long)*(const int64_t *)k->data);
    else if (k->type_ == t_float) printf("%g", *(const double *)k->data);
    else if (k->type_ == t_string) {
        const gomap_string *g = k->data;
        printf("%.*s", (int)g->len, (const char *)g->ptr);
    } else printf("nil");
}

static void print_value(const value *v) {
    switch (v->tag) {
    case T_INT: printf("%lld", (long long)v->u.i); break;
    case T_FLOAT: printf("%g", v->u.f); break;
    case T_STR: printf("\"%.*s\"", (int)v->u.s->len, v->u.s->bytes); break;
    default: printf("nil");
    }
}

/* ---- ownership callbacks: what the maps hold -------------------------------------- */

static void skey_retain(void *ctx, void *k) { (void)ctx; retain(str_of_key(k)); }
static void skey_release(void *ctx, void *k) { (void)ctx; release(str_of_key(k)); }
static void akey_retain(void *ctx, void *k) { (void)ctx; const gomap_iface *i = k; if (i->data) retain(i->data); }
static void akey_release(void *ctx, void *k) { (void)ctx; any_release(k); }
static void val_retain(void *ctx, void *e) { (void)ctx; v_retain(e); }
static void val_release(void *ctx, void *e) { (void)ctx; v_release(e); }

static gomap_type *string_int_type, *any_any_type;

/* ---- the compiler's lowering ------------------------------------------------------ */

/* for k, v := range m: the loop is
 *   gomap_mapiterinit(m, &it);
 *   for (k = gomap_hiter_key(&it), e = gomap_hiter_elem(&it); k; next(&it, &k, &e)) body
 * (mapiterinit positions on the first entry, as Go's does); reaching the
 * end ends the iterator, and every other exit calls gomap_mapiterend. */
static void next(gomap_hiter *it, void **k, void **e) { TRY(gomap_mapiternext_kv(it, k, e)); }

/* m[k] += d for map[string]int: one assignment, reporting whether the map
 * took the key reference we pass. */
static void str_add(gomap_map *m, str *k, int64_t d) {
    gomap_string key = str_key(k);
    void *slot;
    uint32_t flags;
    retain(k); /* the reference the map may take */
    TRY(gomap_mapassign2(m, &key, &slot, &flags));
    if (!(flags & GOMAP_ASSIGN_KEY_STORED)) release(k); /* it kept its own key */
    *(int64_t *)slot += d; /* a new entry's slot is zero */
}

/* m[k] = v for map[any]any: the map takes both references on success. */
static void any_set(gomap_map *m, gomap_iface k, value v) {
    void *slot;
    uint32_t flags;
    gomap_status s = gomap_mapassign2(m, &k, &slot, &flags);
    if (s != GOMAP_OK) { /* an unhashable key, a nil map: nothing was stored */
        any_release(&k);
        v_release(&v);
        die("m[k] = v", s);
    }
    if (!(flags & GOMAP_ASSIGN_KEY_STORED)) any_release(&k);
    if (!(flags & GOMAP_ASSIGN_INSERTED)) v_release(slot); /* the old value */
    memcpy(slot, &v, sizeof v);
}

static int64_t str_get(const gomap_map *m, const str *k, int *ok) {
    const void *e;
    bool found;
    TRY(gomap_mapaccess2_faststr(m, str_key(k), &e, &found));
    *ok = found;
    return *(const int64_t *)e; /* the zero elem when absent */
}

static size_t len_of(const gomap_map *m) {
    size_t n;
    TRY(gomap_len(m, &n));
    return n;
}

/* Entries of map[string]int, sorted, for output that does not depend on
 * iteration order. */
typedef struct kv {
    char key[32];
    int64_t v;
} kv;

static int kv_cmp(const void *a, const void *b) { return strcmp(((const kv *)a)->key, ((const kv *)b)->key); }

static void print_counts(const char *label, const gomap_map *m) {
    kv items[128];
    size_t n = 0;
    gomap_hiter it = GOMAP_HITER_INIT;
    void *k, *e;
    TRY(gomap_mapiterinit(m, &it));
    for (k = gomap_hiter_key(&it), e = gomap_hiter_elem(&it); k; next(&it, &k, &e)) {
        const gomap_string *g = k;
        CHECK(n < 128 && g->len < sizeof items[0].key);
        memcpy(items[n].key, g->ptr, g->len);
        items[n].key[g->len] = 0;
        items[n].v = *(int64_t *)e;
        n++;
    }
    qsort(items, n, sizeof items[0], kv_cmp);
    printf("%s (len %zu):", label, len_of(m));
    int shouted = 0; /* "k!" keys: which k depends on the iteration order */
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(items[i].key);
        if (l && items[i].key[l - 1] == '!') shouted++;
        else printf(" %s=%lld", items[i].key, (long long)items[i].v);
    }
    if (shouted) printf(" + %d shouted", shouted);
    printf("\n");
}

/* ---- fixed-seed mode --------------------------------------------------------------- */

static uint64_t seed_state;

static uint64_t fixed_rand(void *ctx) {
    (void)ctx; /* splitmix64 */
    uint64_t z = (seed_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- the program ---------------------------------------------------------------------- */

static const char *text =
    "the quick brown fox jumps over the lazy dog the dog barks and the fox "
    "runs away over the hill and far away";

int main(int argc, char **argv) {
    int fixed = argc == 3 && strcmp(argv[1], "--seed") == 0;
    if (fixed) {
        uint8_t material[GOMAP_HASH_KEY_SIZE];
        seed_state = strtoull(argv[2], NULL, 10);
        for (size_t i = 0; i < sizeof material; i++) material[i] = (uint8_t)fixed_rand(NULL);
        TRY(gomap_set_hash_key(material, sizeof material));
        TRY(gomap_set_rand(fixed_rand, NULL));
    }

    /* types */
    gomap_type *t;
    TRY(gomap_type_preset(GOMAP_KEY_STRING, sizeof(int64_t), 8, false, &t));
    gomap_ownership own_s = {skey_retain, skey_release, NULL, NULL, NULL};
    TRY(gomap_type_with_ownership(t, &own_s, &string_int_type));
    gomap_type_free(t);
    TRY(gomap_dyntype_new("int", 8, false, GOMAP_DYN_MEMORY, NULL, 0, NULL, 0, &t_int));
    TRY(gomap_dyntype_new("float64", 8, false, GOMAP_DYN_F64, NULL, 0, NULL, 0, &t_float));
    TRY(gomap_dyntype_new("string", sizeof(gomap_string), false, GOMAP_DYN_STRING, NULL, 0, NULL, 0,
                          &t_string));
    TRY(gomap_type_iface(sizeof(value), 8, true, &t));
    gomap_ownership own_a = {akey_retain, akey_release, val_retain, val_release, NULL};
    TRY(gomap_type_with_ownership(t, &own_a, &any_any_type));
    gomap_type_free(t);

    /* counts := map[string]int{}; for _, w := range words { counts[w]++ } */
    gomap_map *counts;
    TRY(gomap_makemap_small(string_int_type, &counts));
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        str *s = str_new(w);
        str_add(counts, s, 1);
        release(s); /* the program's own reference goes out of scope */
    }
    print_counts("counts", counts);

    if (fixed) { /* the iteration order itself, reproducible with --seed */
        gomap_hiter it = GOMAP_HITER_INIT;
        void *k, *e;
        printf("order:");
        TRY(gomap_mapiterinit(counts, &it));
        for (k = gomap_hiter_key(&it), e = gomap_hiter_elem(&it); k; next(&it, &k, &e)) {
            const gomap_string *g = k;
            printf(" %.*s", (int)g->len, (const char *)g->ptr);
        }
        printf("\n");
    }

    /* for k, v := range counts { if v == 1 { delete(counts, k) } } */
    {
        gomap_hiter it = GOMAP_HITER_INIT;
        void *k, *e;
        TRY(gomap_mapiterinit(counts, &it));
        for (k = gomap_hiter_key(&it), e = gomap_hiter_elem(&it); k; next(&it, &k, &e)) {
            gomap_string key = *(gomap_string *)k; /* copied before the body */
            if (*(int64_t *)e == 1) TRY(gomap_mapdelete_faststr(counts, key));
        }
    }
    print_counts("repeated words", counts);

    /* for k := range counts { counts[k+"!"] = 100; break }: the loop is
     * left by break, so the compiler ends the iterator on that exit too. */
    {
        gomap_hiter it = GOMAP_HITER_INIT;
        void *k;
        TRY(gomap_mapiterinit(counts, &it));
        k = gomap_hiter_key(&it);
        if (k) {
            str *shout = str_cat(str_of_key(k), "!");
            str_add(counts, shout, 100);
            release(shout);
        }
        TRY(gomap_mapiterend(&it)); /* break */
    }
    CHECK(len_of(counts) == 7);

    /* c2 := maps.Clone(counts); clear(counts) */
    gomap_map *c2;
    TRY(gomap_mapclone(counts, &c2));
    TRY(gomap_mapclear(counts));
    CHECK(len_of(counts) == 0 && len_of(c2) == 7);
    {
        str *the = str_new("the");
        int ok;
        CHECK(str_get(c2, the, &ok) == 5 && ok);
        CHECK(str_get(counts, the, &ok) == 0 && !ok);
        release(the);
    }
    print_counts("clone", c2);

    /* var nilm map[string]int: reads see nothing, len 0, range runs zero
     * times, and m[k] = v panics ("assignment to entry in nil map"). */
    {
        gomap_map *nilm = NULL;
        str *x = str_new("x");
        int ok;
        gomap_hiter it = GOMAP_HITER_INIT;
        void *k;
        gomap_string key = str_key(x);
        void *slot;
        uint32_t flags;
        CHECK(str_get(nilm, x, &ok) == 0 && !ok);
        CHECK(len_of(nilm) == 0);
        TRY(gomap_mapiterinit(nilm, &it));
        k = gomap_hiter_key(&it);
        CHECK(k == NULL);
        CHECK(gomap_mapassign2(nilm, &key, &slot, &flags) == GOMAP_ERR_NIL_MAP_ASSIGN);
        TRY(gomap_mapdelete_faststr(nilm, key)); /* delete on a nil map is a no-op */
        printf("nil map: reads zero, len 0, no iterations, assignment: %s\n",
               gomap_strerror(GOMAP_ERR_NIL_MAP_ASSIGN));
        release(x);
    }

    /* anym := map[any]any{1: "one", "one": 1, 1.5: "x", NaN: 1, NaN: 2,
     * 0.0: "zero", -0.0: "minus zero", "two": 2} */
    gomap_map *anym;
    TRY(gomap_makemap(any_any_type, 0, &anym));
    any_set(anym, to_any(v_int(1)), v_str(str_new("one")));
    any_set(anym, any_str("one"), v_int(1));
    any_set(anym, to_any(v_float(1.5)), v_str(str_new("x")));
    any_set(anym, to_any(v_float(NAN)), v_int(1)); /* NaN != NaN: two entries */
    any_set(anym, to_any(v_float(NAN)), v_int(2));
    any_set(anym, to_any(v_float(0.0)), v_str(str_new("zero")));
    any_set(anym, to_any(v_float(-0.0)), v_str(str_new("minus zero"))); /* same key as +0 */
    any_set(anym, any_str("two"), v_int(2));
    any_set(anym, to_any(v_float(1.5)), v_str(str_new("y"))); /* update: old value released */
    CHECK(len_of(anym) == 7);
    {
        /* int(1) and float64(1) are different keys: different dynamic types */
        gomap_iface f1 = to_any(v_float(1.0));
        const void *e;
        bool ok;
        TRY(gomap_mapaccess2(anym, &f1, &e, &ok));
        CHECK(!ok);
        any_release(&f1);
        gomap_iface i1 = to_any(v_int(1));
        TRY(gomap_mapaccess2(anym, &i1, &e, &ok));
        CHECK(ok && ((const value *)e)->tag == T_STR);
        any_release(&i1);
        /* delete(anym, "one") */
        gomap_iface one = any_str("one");
        TRY(gomap_mapdelete(anym, &one));
        any_release(&one);
        CHECK(len_of(anym) == 6);
    }
    {
        /* for k, v := range anym: print, in an order-independent way (sum
         * of ints, count by key type) */
        gomap_hiter it = GOMAP_HITER_INIT;
        void *k, *e;
        int nan_keys = 0, ints = 0, floats = 0, strs = 0;
        TRY(gomap_mapiterinit(anym, &it));
        for (k = gomap_hiter_key(&it), e = gomap_hiter_elem(&it); k; next(&it, &k, &e)) {
            const gomap_iface *key = k;
            if (key->type_ == t_float && isnan(*(const double *)key->data)) nan_keys++;
            ints += key->type_ == t_int;
            floats += key->type_ == t_float;
            strs += key->type_ == t_string;
            if (fixed) {
                printf("  any ");
                print_any(key);
                printf(" -> ");
                print_value(e);
                printf("\n");
            }
        }
        printf("map[any]any: len %zu, keys: %d int, %d float64 (%d NaN), %d string\n",
               len_of(anym), ints, floats, nan_keys, strs);
        CHECK(nan_keys == 2 && ints == 1 && floats == 4 && strs == 1);
    }
    {
        gomap_map *a2;
        TRY(gomap_mapclone(anym, &a2)); /* retains every key box and string value */
        TRY(gomap_mapclear(anym));      /* releases anym's */
        CHECK(len_of(a2) == 6 && len_of(anym) == 0);
        TRY(gomap_free(a2));
    }

    /* the end of the program: every map, type and dynamic type goes */
    TRY(gomap_free(counts));
    TRY(gomap_free(c2));
    TRY(gomap_free(anym));
    gomap_type_free(string_int_type);
    gomap_type_free(any_any_type);
    gomap_dyntype_free(t_int);
    gomap_dyntype_free(t_float);
    gomap_dyntype_free(t_string);

    printf("refcounts balanced: %ld allocations + %ld retains = %ld releases, %ld live objects\n",
           n_allocs, n_retains, n_releases, live_objects);
    CHECK(live_objects == 0 && n_allocs + n_retains == n_releases);
    return 0;
}
