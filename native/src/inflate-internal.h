/* Internals shared by the inflater's two halves: table entries, decode tables, and the bit reader. */
#ifndef DHASH_INFLATE_INTERNAL_H
#define DHASH_INFLATE_INTERNAL_H

#include <stdint.h>
#include <string.h>

#define LITLEN_BITS 11
#define DIST_BITS 8
/* Table sizes with every subtable (zlib's `enough` for 288 symbols, 11 root bits, and 30 symbols, 8 root bits). */
#define LITLEN_ENOUGH 2342
#define DIST_ENOUGH 402
#define MAX_CODE_BITS 15
/* The pair table's index bits: two 8- or 9-bit literal codes, the second's length known from its first 5 bits. */
#define PAIR_BITS 14
/* The longest pair the table takes, so that three fit in the 56 bits of a refill. */
#define PAIR_MAX_BITS 18

/*
 * Entry layout, as libdeflate's: bits 0–7 the bits to consume (code and extra bits together, so one shift takes
 * both), bits 8–15 the code's own bits (where its extra bits start) or a subtable's index bits, bits 16 and up the
 * value: literal byte, length base or subtable offset (bits 16–27, flags above), distance base (bits 16–30). An
 * entry of 0 is an invalid code.
 */
#define E_LITERAL (1u << 31)
#define E_LINK (1u << 30) /* literal/length subtable */
#define E_LENGTH (1u << 29)
#define E_END (1u << 28)
#define LITLEN_VALUE_MASK 0xfffu
#define D_LINK (1u << 31) /* distance subtable */
#define DIST_VALUE_MASK 0x7fffu

typedef struct {
  uint32_t litlen[LITLEN_ENOUGH];
  uint32_t dist[DIST_ENOUGH];
  /* For the fixed code only, the total bits of the two literal codes each PAIR_BITS-bit input starts with (0 when
   * it does not start with two): building one per dynamic block would cost more than the block saves. */
  const uint8_t *pairs;
} tables_t;

/* The input bits and the output; decoders copy it into a local while they run (see decode_fast). */
typedef struct {
  const uint8_t *in, *in_end;
  uint64_t bits;     /* next input bits, first bit lowest; any bits above `count` are the same data read early, or 0 */
  unsigned count;    /* how many of `bits` are valid */
  unsigned overread; /* zero bytes supplied past the end of the input (each counted in `count` once) */
  uint8_t *out_start, *out, *out_end;
} stream_t;

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the inflater reads the bit stream 8 bytes at a time and assumes a little-endian host"
#endif

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* At least 56 valid bits from 8 bytes read at once: the caller has made sure 8 bytes remain. */
static inline void refill_fast(stream_t *s) {
  s->bits |= load_le64(s->in) << s->count;
  s->in += (63 - s->count) >> 3;
  s->count |= 56;
}

/* At least 56 valid bits, reading 8 bytes at once when there is room, else byte by byte with zeros past the end. */
static inline void refill(stream_t *s) {
  if (s->in_end - s->in >= 8) {
    refill_fast(s);
    return;
  }
  while (s->count <= 56) {
    uint64_t byte = 0;
    if (s->in < s->in_end) byte = *s->in++;
    else s->overread++;
    s->bits |= byte << s->count;
    s->count += 8;
  }
}

static inline void consume(stream_t *s, unsigned n) {
  s->bits >>= n;
  s->count -= n;
}

static inline unsigned take(stream_t *s, unsigned n) {
  unsigned v = (unsigned)(s->bits & ((1u << n) - 1));
  consume(s, n);
  return v;
}

/* An entry's value (value_mask picks it out of the flags) plus the extra bits after its code in `before`, the bits
 * the entry was looked up with. */
static inline unsigned get_value(uint32_t entry, uint64_t before, unsigned value_mask) {
  return ((entry >> 16) & value_mask) + (unsigned)((before & ((1ull << (entry & 0xff)) - 1)) >> ((entry >> 8) & 0xff));
}

/* The entry a subtable link points to, for the bits after the link's own. */
static inline uint32_t follow_link(const uint32_t *table, uint32_t link, uint64_t bits) {
  return table[((link >> 16) & 0xfff) + (bits & ((1u << ((link >> 8) & 0xff)) - 1))];
}

static inline void consume_entry(stream_t *s, uint32_t entry) {
  consume(s, entry & 0xff);
}

/* Whether decoding has used any of the zeros supplied past the end: the stream is truncated. */
static inline int is_overread(const stream_t *s) {
  return s->overread != 0 && s->count < 8 * s->overread;
}

/* The fixed-Huffman tables (RFC 1951 3.2.6), built once; thread-safe. */
const tables_t *dhash_get_fixed_tables(void);
/* Reads a dynamic block's header into t; 0 on success, -1 for a corrupt or truncated one. */
int dhash_read_dynamic_tables(stream_t *s, tables_t *t);

#endif
