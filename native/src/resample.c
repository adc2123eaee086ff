/* The horizontal LANCZOS pass of Pillow's 8-bit resampler: int32 multiply-adds, clipped, as ImagingResampleHorizontal_8bpc. */
#include "rows.h"

#define PRECISION_BITS 22

/* Integer sums are exact in any order (no overflow for 8-bit × 22-bit weights within Pillow's headroom), so a
 * vectorised build gives the same bytes as Pillow's sequential loop; target_clones picks AVX2 where the CPU has it. */
__attribute__((target_clones("avx2", "default")))
static int32_t sum_taps(const uint8_t *src, const int32_t *weights, int taps) {
  int32_t acc = 1 << (PRECISION_BITS - 1);
  for (int x = 0; x < taps; x++) acc += (int32_t)src[x] * weights[x];
  return acc;
}

void dhash_hpass_row(const hpass_t *h, const uint8_t *luma, int y) {
  int row = y - h->first_row;
  if (row < 0 || row >= h->row_count) return;
  uint8_t *out = h->out + (size_t)row * h->out_width;
  for (int xx = 0; xx < h->out_width; xx++) {
    int32_t acc = sum_taps(luma + h->bounds[xx * 2], h->weights + (size_t)xx * h->kernel_size, h->bounds[xx * 2 + 1]);
    int32_t v = acc >> PRECISION_BITS;
    out[xx] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}
