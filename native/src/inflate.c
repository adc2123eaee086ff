/* A whole-buffer zlib inflater (RFC 1950/1951) for PNG IDAT streams, decoding two literals per table step. */
#include <zlib.h>
#include "inflate.h"
#include "inflate-internal.h"

/*
 * Why our own: a photo's IDAT stream written at zlib's fastest level (level 1, as the benchmark's fixtures and
 * encoders set for speed write it) is nearly all 8–9-bit fixed-Huffman literals, and zlib, libdeflate 1.14 and
 * ISA-L all spend one dependent table load per literal, since a code's length is known only after its entry is
 * read. Here one load of a pair table gives the total length of the next two literal codes, so the chain of
 * dependent loads is halved; the literals' own lookups run beside it. That is about 1.3× libdeflate on such
 * streams. On dynamic-Huffman, match-heavy streams (libpng's defaults) libdeflate is still about 1.2× faster, so
 * png-rows.c gives those to libdeflate. bench:hash measures both kinds.
 */

/* Room left for the fast loop's unchecked writes per step: 7 literals and a 258-byte match copied in 16-byte words. */
#define FAST_OUT_MARGIN 296
/* Three unchecked 8-byte refills per step, each moving on at most 7 bytes. */
#define FAST_IN_MARGIN 32

/* Drops to the next byte boundary and hands the whole bytes still buffered back to the input. */
static int align_to_byte(stream_t *s) {
  consume(s, s->count & 7);
  unsigned buffered = s->count / 8;
  if (buffered < s->overread) return -1;
  s->in -= buffered - s->overread;
  s->bits = 0;
  s->count = 0;
  s->overread = 0;
  return 0;
}

/* Copies a match with room for 16 bytes past its end (the fast loop's margin); the bytes past it are rewritten later. */
static inline void copy_match_fast(uint8_t *out, unsigned distance, unsigned length) {
  const uint8_t *from = out - distance;
  uint8_t *end = out + length;
  if (distance >= 16) {
    memcpy(out, from, 16);
    for (out += 16, from += 16; out < end; out += 16, from += 16) memcpy(out, from, 16);
  } else if (distance >= 8) {
    memcpy(out, from, 8);
    memcpy(out + 8, from + 8, 8);
    for (out += 16, from += 16; out < end; out += 8, from += 8) memcpy(out, from, 8);
  } else if (distance == 1) {
    uint64_t run = 0x0101010101010101ull * *from;
    for (; out < end; out += 8) memcpy(out, &run, 8);
  } else {
    for (; out < end; out++, from++) *out = *from;
  }
}

enum { BLOCK_DONE = 0, BLOCK_BROKEN = -1, BLOCK_NEAR_END = 1 };

/* The entry for the next code in a table, through its subtable link if it has one (the link's bits consumed). */
static inline uint32_t look_up(stream_t *l, const uint32_t *table, unsigned root_bits, uint32_t link_flag) {
  uint32_t entry = table[l->bits & ((1u << root_bits) - 1)];
  if (entry & link_flag) {
    consume_entry(l, entry);
    entry = follow_link(table, entry, l->bits);
  }
  return entry;
}

/* The distance code and its extra bits after a length (at most 28 bits): the distance, or 0 for an invalid code
 * (its entry is 0, so its value is too). */
static inline unsigned read_distance(stream_t *l, const uint32_t *dist) {
  uint32_t d = look_up(l, dist, DIST_BITS, D_LINK);
  uint64_t before = l->bits;
  consume_entry(l, d);
  return get_value(d, before, DIST_VALUE_MASK);
}

/* On x86-64, a second build of the block decoder for CPUs with BMI2 (x86-64-v3), chosen at load time: its
 * shift-by-register and bit-field instructions (shrx, bzhi) cut the instructions per stream by 10–16 % (callgrind). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WITH_CPU_VARIANTS __attribute__((target_clones("default", "arch=x86-64-v3")))
#else
#define WITH_CPU_VARIANTS
#endif

/*
 * The hot loop: decodes symbols with no bounds checks while at least FAST_IN_MARGIN input bytes and FAST_OUT_MARGIN
 * output bytes remain (a step reads at most 56 bits per refill and writes at most 7 literals and 258 + 15 bytes of
 * a match). Returns
 * BLOCK_NEAR_END when the margins run out, for decode_careful to finish the block.
 */
static inline __attribute__((always_inline)) int decode_fast(stream_t *stream, const tables_t *t, const int use_pairs) {
  /* The state lives in a local copy while decoding: through the pointer, every output byte store could alias it
   * (uint8_t aliases anything) and force its fields back to memory on each symbol. */
  stream_t local = *stream, *l = &local;
  if (l->in_end - l->in < FAST_IN_MARGIN || l->out_end - l->out < FAST_OUT_MARGIN) return BLOCK_NEAR_END;
  const uint8_t *in_fast_end = l->in_end - FAST_IN_MARGIN;
  const uint8_t *out_fast_end = l->out_end - FAST_OUT_MARGIN;
  const uint32_t *litlen = t->litlen, *dist = t->dist;
  const uint8_t *pairs = t->pairs;
  const unsigned mask = (1u << LITLEN_BITS) - 1;
  int status = BLOCK_NEAR_END;
  refill_fast(l);
  /* Each step starts with at least 56 bits and e, the entry for the next of them, looked up ahead. */
  uint32_t e = litlen[l->bits & mask];
  do {
    if (e & E_LITERAL) {
      if (use_pairs) {
        /* Three pairs fit in 56 bits (each at most PAIR_MAX_BITS). Only the pair table's load is on the chain
         * from one pair to the next; the literals' own lookups run beside it. The first two pairs go together:
         * the second pair's entry is loaded at each offset the first pair's length can have (16, 17 or 18 bits
         * for the fixed code's 8- and 9-bit literals) while the first is loaded, and the first picks one. */
        int n = 0;
        uint64_t bits = l->bits;
        unsigned first = pairs[bits & ((1u << PAIR_BITS) - 1)], second = pairs[(bits >> 18) & ((1u << PAIR_BITS) - 1)];
        unsigned after16 = pairs[(bits >> 16) & ((1u << PAIR_BITS) - 1)], after17 = pairs[(bits >> 17) & ((1u << PAIR_BITS) - 1)];
        if (first == 16) second = after16;
        if (first == 17) second = after17;
        if (first - 16 <= 2 && second != 0) {
          uint32_t e1 = litlen[bits & mask];
          uint32_t e2 = litlen[(bits >> (e1 & 0xff)) & mask];
          uint64_t next = bits >> first;
          uint32_t e3 = litlen[next & mask];
          uint32_t e4 = litlen[(next >> (e3 & 0xff)) & mask];
          l->out[0] = (uint8_t)(e1 >> 16);
          l->out[1] = (uint8_t)(e2 >> 16);
          l->out[2] = (uint8_t)(e3 >> 16);
          l->out[3] = (uint8_t)(e4 >> 16);
          l->out += 4;
          consume(l, first + second);
          n = 2;
        }
        for (; n < 3; n++) {
          uint64_t bits = l->bits;
          unsigned both = pairs[bits & ((1u << PAIR_BITS) - 1)];
          if (both == 0) break;
          uint32_t e1 = litlen[bits & mask];
          uint32_t e2 = litlen[(bits >> (e1 & 0xff)) & mask];
          l->out[0] = (uint8_t)(e1 >> 16);
          l->out[1] = (uint8_t)(e2 >> 16);
          l->out += 2;
          consume(l, both);
        }
        refill_fast(l);
        e = litlen[l->bits & mask];
        /* After a pair that does not fit (a literal before a length code, say), the literal path goes on. */
        if (n == 3 || !(e & E_LITERAL)) continue;
      }
      /* Up to three main-table literals (at most 33 bits), then a refill. */
      consume_entry(l, e);
      *l->out++ = (uint8_t)(e >> 16);
      e = litlen[l->bits & mask];
      if (e & E_LITERAL) {
        consume_entry(l, e);
        *l->out++ = (uint8_t)(e >> 16);
        e = litlen[l->bits & mask];
        if (e & E_LITERAL) {
          consume_entry(l, e);
          *l->out++ = (uint8_t)(e >> 16);
          e = litlen[l->bits & mask];
        }
      }
      refill_fast(l);
      continue;
    }
    /* A length code with its extra bits and a distance code with its extra bits take at most 48 bits. */
    if (e & E_LINK) {
      consume_entry(l, e);
      e = follow_link(litlen, e, l->bits);
      if (e & E_LITERAL) {
        consume_entry(l, e);
        *l->out++ = (uint8_t)(e >> 16);
        refill_fast(l);
        e = litlen[l->bits & mask];
        continue;
      }
    }
    if (!(e & E_LENGTH)) {
      consume_entry(l, e);
      status = e & E_END ? BLOCK_DONE : BLOCK_BROKEN;
      break;
    }
    uint64_t before = l->bits;
    consume_entry(l, e);
    unsigned length = get_value(e, before, LITLEN_VALUE_MASK);
    unsigned distance = read_distance(l, dist);
    /* Distance 0 (an invalid code) is refused by this one comparison too. */
    if ((size_t)distance - 1 >= (size_t)(l->out - l->out_start)) {
      status = BLOCK_BROKEN;
      break;
    }
    refill_fast(l);
    e = litlen[l->bits & mask];
    copy_match_fast(l->out, distance, length);
    l->out += length;
  } while (l->in < in_fast_end && l->out < out_fast_end);
  *stream = local;
  return status;
}

/* decode_fast built twice, so that blocks without a pair table carry no test for one. */
WITH_CPU_VARIANTS static int decode_fast_with_pairs(stream_t *stream, const tables_t *t) {
  return decode_fast(stream, t, 1);
}

WITH_CPU_VARIANTS static int decode_fast_without_pairs(stream_t *stream, const tables_t *t) {
  return decode_fast(stream, t, 0);
}

/* One symbol at a time with every bound checked: the last bytes of input or output. */
static int decode_careful(stream_t *l, const tables_t *t) {
  const uint32_t *litlen = t->litlen, *dist = t->dist;
  for (;;) {
    refill(l);
    uint32_t e = look_up(l, litlen, LITLEN_BITS, E_LINK);
    uint64_t before = l->bits;
    consume_entry(l, e);
    if (is_overread(l)) return BLOCK_BROKEN;
    if (e & E_LITERAL) {
      if (l->out == l->out_end) return BLOCK_BROKEN;
      *l->out++ = (uint8_t)(e >> 16);
      continue;
    }
    if (!(e & E_LENGTH)) return e & E_END ? BLOCK_DONE : BLOCK_BROKEN;
    unsigned length = get_value(e, before, LITLEN_VALUE_MASK);
    unsigned distance = read_distance(l, dist);
    if (distance == 0 || is_overread(l) || distance > (size_t)(l->out - l->out_start) ||
        length > (size_t)(l->out_end - l->out))
      return BLOCK_BROKEN;
    for (const uint8_t *from = l->out - distance, *end = l->out + length; l->out < end;) *l->out++ = *from++;
  }
}

/* Decodes one block's symbols up to its end code (the same local-copy reason as decode_fast). 0 on success. */
static int inflate_block(stream_t *s, const tables_t *t) {
  stream_t l = *s;
  int status = t->pairs != NULL ? decode_fast_with_pairs(&l, t) : decode_fast_without_pairs(&l, t);
  if (status == BLOCK_NEAR_END) status = decode_careful(&l, t);
  *s = l;
  return status == BLOCK_DONE ? 0 : -1;
}

static int inflate_stored(stream_t *s) {
  if (align_to_byte(s) != 0 || s->in_end - s->in < 4) return -1;
  unsigned length = s->in[0] | (unsigned)s->in[1] << 8, check = s->in[2] | (unsigned)s->in[3] << 8;
  s->in += 4;
  if ((length ^ 0xffff) != check || (size_t)(s->in_end - s->in) < length || (size_t)(s->out_end - s->out) < length) return -1;
  memcpy(s->out, s->in, length);
  s->in += length;
  s->out += length;
  return 0;
}

int dhash_inflate_zlib(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t out_bytes,
                       uint32_t (*adler32_of)(const uint8_t *data, size_t length)) {
  const tables_t *fixed = dhash_get_fixed_tables();
  if (in_bytes < 6) return -1;
  unsigned header = (unsigned)in[0] << 8 | in[1];
  /* Deflate, a window of at most 32 KiB, no preset dictionary, and the header's own check. */
  if ((in[0] & 15) != 8 || (in[0] >> 4) > 7 || (in[1] & 0x20) || header % 31 != 0) return -1;
  stream_t s = {.in = in + 2, .in_end = in + in_bytes, .out_start = out, .out = out, .out_end = out + out_bytes};
  tables_t dynamic;
  for (int is_final = 0; !is_final;) {
    refill(&s);
    is_final = (int)take(&s, 1);
    unsigned type = take(&s, 2);
    int status;
    if (type == 0) status = inflate_stored(&s);
    else if (type == 1) status = inflate_block(&s, fixed);
    else if (type == 2) status = dhash_read_dynamic_tables(&s, &dynamic) != 0 ? -1 : inflate_block(&s, &dynamic);
    else status = -1;
    if (status != 0) return -1;
  }
  if (s.out != s.out_end || align_to_byte(&s) != 0 || s.in_end - s.in < 4) return -1;
  uint32_t expected = (uint32_t)s.in[0] << 24 | (uint32_t)s.in[1] << 16 | (uint32_t)s.in[2] << 8 | s.in[3];
  uint32_t actual = adler32_of ? adler32_of(out, out_bytes) : (uint32_t)adler32(adler32(0, NULL, 0), out, (uInt)out_bytes);
  return actual == expected ? 0 : -1;
}
