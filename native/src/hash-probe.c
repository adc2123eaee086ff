/*
 * The HashIndex probe in C: the same three passes as the JS (bucket bounds, a prefetch of each bucket, then the
 * candidates), with the CPU's popcount instruction where it has one. The JS spends most of a 10M query in its
 * 12-operation popcount over ~65k candidates; this is why the kernel exists. Results are identical by construction
 * (same filter tests, same exact distance); the tests compare both kernels with a full scan.
 */
#include "hash-probe.h"
#include <stdlib.h>

/* Bounds of up to this many buckets live on the stack; more (large radii) are allocated. */
#define STACK_BUCKETS 1024

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* One build for every x86-64: the popcnt clone is picked at load time (ifunc) where the CPU has the instruction. */
#define DHASH_POPCOUNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define DHASH_POPCOUNT_CLONES
#endif

DHASH_POPCOUNT_CLONES
long dhash_probe_table(const probe_table_t *t, const uint32_t *masks, uint32_t mask_count, const probe_query_t *q,
                       uint32_t *out, uint32_t capacity) {
  uint32_t stack_bounds[2 * STACK_BUCKETS];
  uint32_t *bounds = stack_bounds;
  if (mask_count > STACK_BUCKETS) {
    bounds = malloc(sizeof(uint32_t) * 2 * (size_t)mask_count);
    if (bounds == NULL) return -2;
  }
  long status = 0;
  for (uint32_t m = 0; m < mask_count; m++) {
    uint32_t key = q->key ^ masks[m];
    if (key >= t->key_count || t->offsets[key + 1] > t->slot_count || t->offsets[key] > t->offsets[key + 1]) {
      status = -1;
      goto done;
    }
    bounds[2 * m] = t->offsets[key];
    bounds[2 * m + 1] = t->offsets[key + 1];
  }
  /* Independent reads of every bucket's first words: the memory system fetches them while the loop below runs. */
  for (uint32_t m = 0; m < mask_count; m++) __builtin_prefetch(&t->filter[bounds[2 * m]]);
  long hits = 0;
  for (uint32_t m = 0; m < mask_count; m++) {
    int limit = q->radius - __builtin_popcount(masks[m]);
    uint32_t end = bounds[2 * m + 1];
    for (uint32_t p = bounds[2 * m]; p < end; p++) {
      int filter_distance = __builtin_popcount(t->filter[p] ^ q->filter);
      if (filter_distance > limit || filter_distance + __builtin_popcount((uint32_t)(t->rest[p] ^ q->rest)) > limit)
        continue;
      uint32_t i = t->at[p];
      if (i >= t->entry_count) {
        status = -1;
        goto done;
      }
      int distance = __builtin_popcount(t->hi[i] ^ q->hi) + __builtin_popcount(t->lo[i] ^ q->lo);
      if (distance > q->radius || t->alive[i] == 0) continue;
      if (hits < (long)capacity) {
        out[2 * hits] = i;
        out[2 * hits + 1] = (uint32_t)distance;
      }
      hits++;
    }
  }
  status = hits;
done:
  if (bounds != stack_bounds) free(bounds);
  return status;
}
