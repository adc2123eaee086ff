/*
 * Differential test of native/src/inflate.c (with inflate-tables.c) against zlib: streams zlib writes (every level, strategy, memory level
 * and window, with flushes that leave stored and empty blocks) must inflate to the same bytes; the same streams with
 * flipped bits, cut short, asked for the wrong size, or replaced by garbage must be accepted or refused exactly as
 * zlib does, with the same bytes when accepted. Built with ASan and UBSan by test/service/hash/inflate.int.test.ts.
 *
 * Usage: inflate-differential ITERATIONS SEED → prints one summary line; exit 0 when every case agreed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "../src/inflate.h"

static uint64_t state;

static uint64_t next_random(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

/* zlib's verdict: 0 when the stream ends cleanly after exactly `size` bytes (with room for one more to tell). */
static int inflate_with_zlib(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t size) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit(&z) != Z_OK) return -2;
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)in_bytes;
  z.next_out = out;
  z.avail_out = (uInt)size + 1;
  int status = inflate(&z, Z_FINISH);
  size_t produced = z.total_out;
  inflateEnd(&z);
  return status == Z_STREAM_END && produced == size ? 0 : -1;
}

/* Photo-like, text-like, runs, noise and self-similar data, the shapes that pick each kind of block. */
static void fill(uint8_t *data, size_t n, int kind) {
  uint8_t v = 0;
  for (size_t i = 0; i < n; i++) {
    switch (kind) {
      case 0: data[i] = (uint8_t)next_random(); break;
      case 1: data[i] = (uint8_t)"abcde fghij\n"[next_random() % 12]; break;
      case 2: if (next_random() % 50 == 0) v = (uint8_t)next_random(); data[i] = v; break;
      case 3: data[i] = (uint8_t)(128 + (int)(next_random() % 9) - 4 + (int)(i % 300) / 10); break;
      case 4: data[i] = i < 64 ? (uint8_t)next_random() : data[i - 1 - next_random() % 64]; break;
      default: data[i] = next_random() % 7 == 0 ? (uint8_t)next_random() : (uint8_t)(i * 31 / 7); break;
    }
  }
}

/* Both verdicts on one input and size; 1 when they differ. Buffers are exact-size copies so ASan sees any overread. */
static int compare(const uint8_t *stream, size_t stream_bytes, size_t size, const char *what, long iteration) {
  uint8_t *in = malloc(stream_bytes ? stream_bytes : 1), *ours = malloc(size ? size : 1), *theirs = malloc(size + 1);
  memcpy(in, stream, stream_bytes);
  int a = dhash_inflate_zlib(in, stream_bytes, ours, size, NULL), b = inflate_with_zlib(in, stream_bytes, theirs, size);
  int differs = a != b || (a == 0 && memcmp(ours, theirs, size) != 0);
  if (differs) printf("MISMATCH %s at iteration %ld: ours %d, zlib %d, %zu bytes\n", what, iteration, a, b, size);
  free(in);
  free(ours);
  free(theirs);
  return differs;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: inflate-differential ITERATIONS SEED\n");
    return 2;
  }
  long iterations = atol(argv[1]);
  state = strtoull(argv[2], NULL, 10) | 1;
  size_t capacity = 1 << 20;
  uint8_t *raw = malloc(capacity), *stream = malloc(capacity * 2);
  long clean = 0, cases = 0, mismatches = 0;
  for (long it = 0; it < iterations; it++) {
    size_t n = next_random() % 4 == 0 ? next_random() % 64 : next_random() % (next_random() % 2 ? 4096 : capacity);
    fill(raw, n, (int)(next_random() % 6));
    z_stream z;
    memset(&z, 0, sizeof z);
    int level = (int)(next_random() % 10), window = 9 + (int)(next_random() % 7), memory = 1 + (int)(next_random() % 9);
    deflateInit2(&z, level, Z_DEFLATED, window, memory, (int)(next_random() % 5));
    z.next_in = raw;
    z.next_out = stream;
    z.avail_out = (uInt)capacity * 2;
    z.avail_in = (uInt)n;
    if (n > 100 && next_random() % 3 == 0) {
      z.avail_in = (uInt)(n / 2);
      deflate(&z, next_random() % 2 ? Z_SYNC_FLUSH : Z_FULL_FLUSH);
      z.avail_in = (uInt)(n - n / 2);
    }
    deflate(&z, Z_FINISH);
    size_t stream_bytes = z.total_out;
    deflateEnd(&z);

    uint8_t *out = malloc(n ? n : 1), *in = malloc(stream_bytes);
    memcpy(in, stream, stream_bytes);
    if (dhash_inflate_zlib(in, stream_bytes, out, n, NULL) != 0 || memcmp(out, raw, n) != 0) {
      printf("MISMATCH clean stream at iteration %ld: %zu bytes, level %d\n", it, n, level);
      mismatches++;
    } else {
      clean++;
    }
    free(out);
    free(in);
    mismatches += compare(stream, stream_bytes, n + 1, "one byte too many asked", it);
    if (n > 0) mismatches += compare(stream, stream_bytes, n - 1, "one byte too few asked", it);
    mismatches += compare(stream, stream_bytes - 1 - next_random() % 4, n, "cut short", it);
    cases += 4;
    for (int m = 0; m < 8; m++, cases += 2) {
      uint8_t *damaged = malloc(stream_bytes);
      memcpy(damaged, stream, stream_bytes);
      /* The 2-byte zlib header stays: its window size is a limit zlib enforces and a whole-buffer inflater need not. */
      for (int flips = 1 + (int)(next_random() % 4); flips > 0; flips--)
        if (stream_bytes > 2) damaged[2 + next_random() % (stream_bytes - 2)] ^= (uint8_t)(1 << (next_random() % 8));
      size_t kept = next_random() % 4 == 0 ? 2 + next_random() % (stream_bytes - 1) : stream_bytes;
      mismatches += compare(damaged, kept, n, "damaged", it);
      mismatches += compare(damaged, kept, next_random() % (n + 2), "damaged, another size", it);
      free(damaged);
    }
    uint8_t garbage[302] = {0x78, 0x01};
    size_t garbage_bytes = 2 + next_random() % 300;
    for (size_t i = 2; i < garbage_bytes; i++) garbage[i] = (uint8_t)next_random();
    mismatches += compare(garbage, garbage_bytes, next_random() % 2000, "garbage", it);
    cases++;
  }
  printf("%ld clean streams inflated, %ld cases compared with zlib, %ld mismatches\n", clean, cases, mismatches);
  free(raw);
  free(stream);
  return mismatches == 0 ? 0 : 1;
}
