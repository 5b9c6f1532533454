/* A small, copyable example of the gomap C API: map[string]int64.
 *
 * Installed (cargo-c; docs/c-api.md, "Building and linking"):
 *   cargo cinstall -p gomap-capi --prefix /usr/local
 *   cc examples/c/hello.c $(pkg-config --cflags --libs gomap) -o hello && ./hello
 *
 * From the source tree, statically:
 *   cargo build --release -p gomap-capi
 *   cc -std=c11 -Icapi/include examples/c/hello.c target/release/libgomap_capi.a \
 *      -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o hello && ./hello
 */
#include <gomap.h>

#include <stdio.h>
#include <string.h>

#define TRY(e)                                                             \
    do {                                                                   \
        gomap_status s_ = (e);                                             \
        if (s_ != GOMAP_OK) {                                              \
            fprintf(stderr, "%s: %s\n", #e, gomap_strerror(s_));           \
            return 1;                                                      \
        }                                                                  \
    } while (0)

static gomap_string str(const char *s) {
    gomap_string g = {(const uint8_t *)s, strlen(s)};
    return g;
}

int main(void) {
    /* map[string]int64 */
    gomap_type *t;
    TRY(gomap_type_preset(GOMAP_KEY_STRING, sizeof(int64_t), alignof(int64_t), false, &t));
    gomap_map *m;
    TRY(gomap_makemap(t, 0, &m));
    gomap_type_free(t); /* the map holds its own reference */

    /* m[k] = v: mapassign returns the elem slot; write the value into it.
     * String keys store only the header: the bytes must outlive the entry. */
    const char *words[] = {"one", "two", "three"};
    for (int64_t i = 0; i < 3; i++) {
        gomap_string k = str(words[i]);
        void *slot;
        TRY(gomap_mapassign(m, &k, &slot));
        memcpy(slot, &(int64_t){i + 1}, sizeof(int64_t));
    }

    /* v, ok := m["two"] */
    gomap_string k = str("two");
    const void *v;
    bool ok;
    TRY(gomap_mapaccess2(m, &k, &v, &ok));
    printf("two -> %lld (ok=%d)\n", (long long)*(const int64_t *)v, ok);

    /* for k, v := range m (random order, like Go) */
    gomap_hiter it = GOMAP_HITER_INIT;
    TRY(gomap_mapiterinit(m, &it));
    void *key = gomap_hiter_key(&it), *elem = gomap_hiter_elem(&it);
    while (key) {
        const gomap_string *ks = key;
        printf("  %.*s = %lld\n", (int)ks->len, (const char *)ks->ptr, (long long)*(const int64_t *)elem);
        /* advance and fetch the next key and elem in one call */
        TRY(gomap_mapiternext_kv(&it, &key, &elem));
    }
    /* The loop ran to the end, so the iterator has ended itself; after a
     * `break`, call gomap_mapiterend(&it). */

    size_t n;
    TRY(gomap_len(m, &n));
    printf("len=%zu\n", n);
    TRY(gomap_free(m));
    return 0;
}
