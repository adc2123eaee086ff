/* The inflater's decode tables: canonical Huffman tables from code lengths, the fixed code, dynamic block headers. */
#include <pthread.h>
#include "inflate-internal.h"

static const uint16_t LENGTH_BASE[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                         31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LENGTH_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static unsigned reverse_bits(unsigned code, unsigned length) {
  unsigned reversed = 0;
  for (unsigned i = 0; i < length; i++, code >>= 1) reversed = (reversed << 1) | (code & 1);
  return reversed;
}

/*
 * Canonical Huffman decode table from code lengths, indexed by the next `root_bits` input bits, with subtables for
 * longer codes (linked with link_flag). template[symbol] is the entry without its code bits (its extra bits already in
 * its bit count). Like zlib: an over-subscribed set fails, and an incomplete one fails unless its only code has length
 * 1; unused slots stay invalid (0). 0 on success.
 */
static int build_table(uint32_t *table, unsigned capacity, unsigned root_bits, const uint8_t *lengths, unsigned count,
                       const uint32_t *template, uint32_t link_flag) {
  unsigned counts[MAX_CODE_BITS + 1] = {0}, offsets[MAX_CODE_BITS + 2], next_code[MAX_CODE_BITS + 1];
  uint16_t sorted[288];
  for (unsigned s = 0; s < count; s++) counts[lengths[s]]++;
  counts[0] = 0;
  unsigned max = MAX_CODE_BITS;
  while (max > 0 && counts[max] == 0) max--;
  memset(table, 0, sizeof(uint32_t) << root_bits);
  if (max == 0) return 0;
  int left = 1;
  for (unsigned length = 1; length <= MAX_CODE_BITS; length++) {
    left = (left << 1) - (int)counts[length];
    if (left < 0) return -1;
  }
  if (left > 0 && max != 1) return -1;
  offsets[1] = 0;
  next_code[1] = 0;
  for (unsigned length = 1; length <= MAX_CODE_BITS; length++) {
    offsets[length + 1] = offsets[length] + counts[length];
    if (length > 1) next_code[length] = (next_code[length - 1] + counts[length - 1]) << 1;
  }
  for (unsigned s = 0; s < count; s++)
    if (lengths[s] != 0) sorted[offsets[lengths[s]]++] = (uint16_t)s;
  unsigned used = 1u << root_bits, root_mask = used - 1, sub_prefix = ~0u, sub_offset = 0, sub_bits = 0;
  unsigned remaining[MAX_CODE_BITS + 1];
  memcpy(remaining, counts, sizeof remaining);
  for (unsigned i = 0, n = offsets[max + 1]; i < n; i++) {
    unsigned symbol = sorted[i], length = lengths[symbol];
    unsigned code = reverse_bits(next_code[length]++, length);
    if (length <= root_bits) {
      for (unsigned at = code; at <= root_mask; at += 1u << length) table[at] = template[symbol] + (length << 8 | length);
    } else {
      if ((code & root_mask) != sub_prefix) {
        /* A new subtable, just wide enough for every remaining code that shares this prefix (zlib's rule). */
        sub_prefix = code & root_mask;
        sub_bits = length - root_bits;
        int room = 1 << sub_bits;
        while (sub_bits + root_bits < max) {
          room -= (int)remaining[sub_bits + root_bits];
          if (room <= 0) break;
          sub_bits++;
          room <<= 1;
        }
        sub_offset = used;
        used += 1u << sub_bits;
        if (used > capacity) return -1;
        memset(table + sub_offset, 0, sizeof(uint32_t) << sub_bits);
        table[sub_prefix] = link_flag | (sub_offset << 16) | (sub_bits << 8) | root_bits;
      }
      for (unsigned at = code >> root_bits; at < (1u << sub_bits); at += 1u << (length - root_bits))
        table[sub_offset + at] = template[symbol] + ((length - root_bits) << 8 | (length - root_bits));
    }
    remaining[length]--;
  }
  return 0;
}

/* Entries without their bit counts, by symbol; 0 (invalid) for literal/length 286–287 and distance 30–31. */
static uint32_t LITLEN_TEMPLATE[288], DIST_TEMPLATE[32], CODE_TEMPLATE[19];
static tables_t fixed_tables;
static uint8_t fixed_pairs[1u << PAIR_BITS];
static pthread_once_t fixed_once = PTHREAD_ONCE_INIT;

/*
 * The pair table from a built literal/length table: for each PAIR_BITS-bit input, the total length of two literal
 * codes it starts with when both lengths are decided by those bits, else 0. decided[r] holds, for each r-bit prefix,
 * the length of the literal code it starts (0 when the prefix does not decide it, or the code is not a literal).
 */
static void build_pair_table(uint8_t *pairs, const uint32_t *litlen) {
  static uint8_t decided[LITLEN_BITS + 1][1u << LITLEN_BITS]; /* built once, under pthread_once */
  for (unsigned i = 0; i < (1u << LITLEN_BITS); i++) decided[LITLEN_BITS][i] = litlen[i] & E_LITERAL ? litlen[i] & 0xff : 0;
  for (unsigned r = LITLEN_BITS; r-- > 1;)
    for (unsigned p = 0; p < (1u << r); p++) {
      uint8_t a = decided[r + 1][p], b = decided[r + 1][p | 1u << r];
      decided[r][p] = a == b ? a : 0;
    }
  for (unsigned i = 0; i < (1u << PAIR_BITS); i++) {
    unsigned first = decided[LITLEN_BITS][i & ((1u << LITLEN_BITS) - 1)], known = PAIR_BITS - first, second = 0;
    if (first != 0 && known >= LITLEN_BITS) second = decided[LITLEN_BITS][(i >> first) & ((1u << LITLEN_BITS) - 1)];
    else if (first != 0 && known >= 1) second = decided[known][i >> first];
    pairs[i] = second != 0 && first + second <= PAIR_MAX_BITS ? (uint8_t)(first + second) : 0;
  }
}

static void build_fixed_tables(void) {
  for (unsigned s = 0; s < 288; s++) {
    if (s < 256) LITLEN_TEMPLATE[s] = (s << 16) | E_LITERAL;
    else if (s == 256) LITLEN_TEMPLATE[s] = E_END;
    else if (s < 286) LITLEN_TEMPLATE[s] = ((uint32_t)LENGTH_BASE[s - 257] << 16) | LENGTH_EXTRA[s - 257] | E_LENGTH;
    else LITLEN_TEMPLATE[s] = 0; /* 286 and 287 have fixed codes but are invalid */
  }
  for (unsigned s = 0; s < 30; s++) DIST_TEMPLATE[s] = ((uint32_t)DIST_BASE[s] << 16) | DIST_EXTRA[s];
  for (unsigned s = 0; s < 19; s++) CODE_TEMPLATE[s] = (s << 16) | E_LITERAL; /* code-length symbols read as literals */
  uint8_t lengths[320];
  for (unsigned s = 0; s < 288; s++) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
  build_table(fixed_tables.litlen, LITLEN_ENOUGH, LITLEN_BITS, lengths, 288, LITLEN_TEMPLATE, E_LINK);
  build_pair_table(fixed_pairs, fixed_tables.litlen);
  fixed_tables.pairs = fixed_pairs;
  /* Distance symbols 30 and 31 have fixed 5-bit codes but are invalid (their template entries are 0). */
  for (unsigned s = 0; s < 32; s++) lengths[s] = 5;
  build_table(fixed_tables.dist, DIST_ENOUGH, DIST_BITS, lengths, 32, DIST_TEMPLATE, D_LINK);
}

/* A dynamic block's header: the code-length code, then the literal/length and distance code lengths. 0 on success. */
int dhash_read_dynamic_tables(stream_t *s, tables_t *t) {
  static const uint8_t ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  refill(s);
  unsigned literal_count = take(s, 5) + 257, dist_count = take(s, 5) + 1, code_count = take(s, 4) + 4;
  if (literal_count > 286 || dist_count > 30) return -1;
  uint8_t code_lengths[19] = {0}, lengths[286 + 30];
  for (unsigned i = 0; i < code_count; i++) {
    refill(s);
    code_lengths[ORDER[i]] = (uint8_t)take(s, 3);
  }
  uint32_t code_table[1u << 7];
  if (build_table(code_table, 1u << 7, 7, code_lengths, 19, CODE_TEMPLATE, E_LINK) != 0) return -1;
  /* zlib refuses an incomplete code-length code even with a single code. */
  unsigned total = 0;
  for (unsigned i = 0; i < 19; i++) total += code_lengths[i] ? 1u << (7 - code_lengths[i]) : 0;
  if (total != 1u << 7) return -1;
  for (unsigned i = 0; i < literal_count + dist_count;) {
    refill(s);
    uint32_t e = code_table[s->bits & 127];
    if (!(e & E_LITERAL)) return -1;
    consume_entry(s, e);
    unsigned symbol = (e >> 16) & LITLEN_VALUE_MASK, repeat, value = 0;
    if (symbol < 16) {
      lengths[i++] = (uint8_t)symbol;
      continue;
    }
    if (symbol == 16) {
      if (i == 0) return -1;
      value = lengths[i - 1];
      repeat = 3 + take(s, 2);
    } else if (symbol == 17) {
      repeat = 3 + take(s, 3);
    } else {
      repeat = 11 + take(s, 7);
    }
    if (i + repeat > literal_count + dist_count) return -1;
    memset(lengths + i, (int)value, repeat);
    i += repeat;
  }
  if (is_overread(s) || lengths[256] == 0) return -1;
  if (build_table(t->litlen, LITLEN_ENOUGH, LITLEN_BITS, lengths, literal_count, LITLEN_TEMPLATE, E_LINK) != 0) return -1;
  if (build_table(t->dist, DIST_ENOUGH, DIST_BITS, lengths + literal_count, dist_count, DIST_TEMPLATE, D_LINK) != 0) return -1;
  t->pairs = NULL;
  return 0;
}

const tables_t *dhash_get_fixed_tables(void) {
  pthread_once(&fixed_once, build_fixed_tables);
  return &fixed_tables;
}


