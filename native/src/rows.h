/* Shared types of the dhash native decoders: the horizontal LANCZOS pass applied to each decoded luma row. */
#ifndef DHASH_ROWS_H
#define DHASH_ROWS_H

#include <stddef.h>
#include <stdint.h>

#define DHASH_ERROR_BYTES 256

/* Pillow's horizontal pass (Resample.c, 8bpc): coefficients computed by the caller, rows [first_row, first_row + row_count) kept. */
typedef struct {
  const int32_t *bounds;  /* 2 per output pixel: first input index, tap count */
  const int32_t *weights; /* kernel_size per output pixel, 22-bit fixed point */
  int kernel_size;
  int out_width;
  int first_row;
  int row_count;
  uint8_t *out; /* row_count * out_width */
} hpass_t;

/* Resamples one luma row (image row y) into h->out when y is one of the kept rows; otherwise does nothing. */
void dhash_hpass_row(const hpass_t *h, const uint8_t *luma, int y);

/* Pillow's L24 (Convert.c): Rec.601 luma in 16-bit fixed point. */
static inline uint8_t dhash_luma24(unsigned r, unsigned g, unsigned b) {
  return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/* 8-bit RGB(A) pixels `stride` bytes apart → L24 luma for n pixels; SIMD for strides 3 and 4 with SSSE3, same integers. */
void dhash_convert_rgb_to_luma(const uint8_t *rgb, int stride, int n, uint8_t *out);

typedef struct {
  const uint8_t *data;
  size_t size;
  int scale_denom; /* 1 (exact) or 8 (fast: DCT scaling) */
  int is_fast;     /* fast: also the fast IDCT and plain upsampling */
  hpass_t h;
  char error[DHASH_ERROR_BYTES];
} jpeg_job_t;

/* info: width, height, components, jpeg_color_space, output width, output height (at scale_denom), progressive. */
int dhash_read_jpeg_info(const uint8_t *data, size_t size, int scale_denom, int info[7], char *error);
/* Decodes every row, luma → horizontal pass; any libjpeg warning counts as a failure. 0 on success. */
int dhash_decode_jpeg_rows(jpeg_job_t *job);

/* How IDAT is inflated: auto (ours for streams that open with a fixed-Huffman block, else libdeflate, else zlib), or one
 * inflater forced, for benchmarks and tests. The values are the addon's `inflater` argument. */
typedef enum { PNG_INFLATE_AUTO = 0, PNG_INFLATE_ZLIB = 1, PNG_INFLATE_LIBDEFLATE = 2, PNG_INFLATE_OWN = 3 } png_inflater_t;

typedef struct {
  const uint8_t *data;
  size_t size;
  const int32_t *segments; /* IDAT payloads: offset, length pairs into data */
  int segment_count;
  int width, height, bit_depth, color_type, is_interlaced;
  const uint8_t *palette_luma; /* 256 entries for colour type 3, else NULL */
  png_inflater_t inflater;
  int step;                    /* 1, or 2 in fast mode: only every 2nd row and column is converted and resampled */
  hpass_t h;
  char error[DHASH_ERROR_BYTES];
} png_job_t;

/* "libdeflate" when libdeflate.so.0 loaded (whole-buffer inflate), else "zlib" (streaming). Thread-safe. */
const char *dhash_get_png_inflater(void);

/* Inflates the IDAT stream, unfilters, converts to Pillow's L and resamples; 0 on success. */
int dhash_decode_png_rows(png_job_t *job);

#endif
