/* The HashIndex probe kernel (see src/service/library/hash-index-segment.ts): one table, every neighbour key. */
#ifndef DHASH_HASH_PROBE_H
#define DHASH_HASH_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* One table of a segment, as the JS builds it: CSR offsets by key, and per slot the filter word, rest bits, entry. */
typedef struct {
  const uint32_t *offsets; /* key_count + 1 */
  const uint32_t *filter;  /* slot_count + 1 */
  const uint16_t *rest;    /* slot_count */
  const uint32_t *at;      /* slot_count: position of the entry */
  uint32_t key_count;
  uint32_t slot_count;
  const uint32_t *hi; /* entry_count */
  const uint32_t *lo;
  const uint8_t *alive;
  uint32_t entry_count;
} probe_table_t;

typedef struct {
  uint32_t key, filter, rest, hi, lo;
  int radius;
} probe_query_t;

/*
 * Every live entry in the buckets key ^ masks[m] within `radius` of the query: writes (position, distance) pairs to
 * out (room for `capacity` pairs) and returns how many there are, which may exceed capacity (then call again with
 * more room). Returns -1 when a mask or an offset points outside the table (never for tables the JS built).
 */
long dhash_probe_table(const probe_table_t *t, const uint32_t *masks, uint32_t mask_count, const probe_query_t *q,
                       uint32_t *out, uint32_t capacity);

#endif
