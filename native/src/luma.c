/* Pillow's RGB → L (Convert.c L24) over a row: scalar, and an SSSE3 version that computes the same integers. */
#include <immintrin.h>
#include "rows.h"

static void convert_scalar(const uint8_t *rgb, int stride, int n, uint8_t *out) {
  for (int x = 0; x < n; x++, rgb += stride) out[x] = dhash_luma24(rgb[0], rgb[1], rgb[2]);
}

/* 16 pixels at a time. pmaddwd multiplies signed 16-bit pairs, and 38470 does not fit, so G·38470 is computed as
 * G·(38470 − 65536) + (G << 16): (R, G)·(19595, −27066) + (B, 0)·(7471, 0) + (G << 16) + 0x8000 — exactly L24's sum. */
__attribute__((target("ssse3,sse4.1")))
static void convert_ssse3(const uint8_t *rgb, int stride, int n, uint8_t *out) {
  const __m128i rg_weights = _mm_set1_epi32((int32_t)((uint32_t)(uint16_t)-27066 << 16 | 19595u));
  const __m128i b_weights = _mm_set1_epi32(7471);
  const __m128i rounding = _mm_set1_epi32(0x8000);
  const __m128i one_high = _mm_set1_epi32(1 << 16);
  int x = 0;
  /* Reads 16·stride bytes per step; stop early enough to stay inside the row. */
  const int8_t Z = -1; /* pshufb: a negative index writes 0 */
  const __m128i r3[3] = {_mm_setr_epi8(0, 3, 6, 9, 12, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z),
                         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, 2, 5, 8, 11, 14, Z, Z, Z, Z, Z),
                         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 1, 4, 7, 10, 13)};
  const __m128i g3[3] = {_mm_setr_epi8(1, 4, 7, 10, 13, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z),
                         _mm_setr_epi8(Z, Z, Z, Z, Z, 0, 3, 6, 9, 12, 15, Z, Z, Z, Z, Z),
                         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 2, 5, 8, 11, 14)};
  const __m128i b3[3] = {_mm_setr_epi8(2, 5, 8, 11, 14, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z),
                         _mm_setr_epi8(Z, Z, Z, Z, Z, 1, 4, 7, 10, 13, Z, Z, Z, Z, Z, Z),
                         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 0, 3, 6, 9, 12, 15)};
  for (; x + 16 <= n; x += 16, rgb += 16 * stride) {
    __m128i vr = _mm_setzero_si128(), vg = _mm_setzero_si128(), vb = _mm_setzero_si128();
    if (stride == 3) {
      for (int k = 0; k < 3; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(rgb + 16 * k));
        vr = _mm_or_si128(vr, _mm_shuffle_epi8(v, r3[k]));
        vg = _mm_or_si128(vg, _mm_shuffle_epi8(v, g3[k]));
        vb = _mm_or_si128(vb, _mm_shuffle_epi8(v, b3[k]));
      }
    } else {
      /* stride 4 (RGBA): gather each load's 4 pixels as 32-bit lanes R, G, B, A, then transpose the 4×4 lanes. */
      const __m128i gather = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      __m128i p[4];
      for (int k = 0; k < 4; k++) p[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(rgb + 16 * k)), gather);
      __m128i t0 = _mm_unpacklo_epi32(p[0], p[1]), t1 = _mm_unpacklo_epi32(p[2], p[3]);
      __m128i t2 = _mm_unpackhi_epi32(p[0], p[1]), t3 = _mm_unpackhi_epi32(p[2], p[3]);
      vr = _mm_unpacklo_epi64(t0, t1);
      vg = _mm_unpackhi_epi64(t0, t1);
      vb = _mm_unpacklo_epi64(t2, t3);
    }
    __m128i zero = _mm_setzero_si128();
    __m128i result16[2];
    for (int half = 0; half < 2; half++) {
      __m128i r16 = half ? _mm_unpackhi_epi8(vr, zero) : _mm_unpacklo_epi8(vr, zero);
      __m128i g16 = half ? _mm_unpackhi_epi8(vg, zero) : _mm_unpacklo_epi8(vg, zero);
      __m128i b16 = half ? _mm_unpackhi_epi8(vb, zero) : _mm_unpacklo_epi8(vb, zero);
      __m128i sums[2];
      for (int q = 0; q < 2; q++) {
        __m128i rg = q ? _mm_unpackhi_epi16(r16, g16) : _mm_unpacklo_epi16(r16, g16);
        __m128i b32 = q ? _mm_unpackhi_epi16(b16, zero) : _mm_unpacklo_epi16(b16, zero);
        __m128i g32 = q ? _mm_unpackhi_epi16(g16, zero) : _mm_unpacklo_epi16(g16, zero);
        __m128i sum = _mm_add_epi32(_mm_madd_epi16(rg, rg_weights), _mm_add_epi32(_mm_madd_epi16(b32, b_weights), rounding));
        sum = _mm_add_epi32(sum, _mm_mullo_epi32(g32, one_high));
        sums[q] = _mm_srli_epi32(sum, 16);
      }
      result16[half] = _mm_packus_epi32(sums[0], sums[1]);
    }
    _mm_storeu_si128((__m128i *)(out + x), _mm_packus_epi16(result16[0], result16[1]));
  }
  convert_scalar(rgb, stride, n - x, out + x);
}

void dhash_convert_rgb_to_luma(const uint8_t *rgb, int stride, int n, uint8_t *out) {
  static int has_ssse3 = -1;
  if (has_ssse3 < 0) has_ssse3 = __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1");
  if (has_ssse3 && (stride == 3 || stride == 4)) convert_ssse3(rgb, stride, n, out);
  else convert_scalar(rgb, stride, n, out);
}
