/* PNG IDAT → Pillow's L rows: streaming zlib inflate, unfilter, Pillow's unpack + convert("L"), then the horizontal pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "rows.h"

typedef struct {
  z_stream zs;
  png_job_t *job;
  int segment; /* next IDAT segment to feed */
} inflater_t;

static int get_channels(int color_type) {
  switch (color_type) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
    default: return 0;
  }
}

/* Fills exactly `length` bytes; -1 if the stream ends or breaks first. */
static int inflate_exactly(inflater_t *in, uint8_t *out, size_t length) {
  in->zs.next_out = out;
  in->zs.avail_out = (uInt)length;
  while (in->zs.avail_out > 0) {
    if (in->zs.avail_in == 0) {
      if (in->segment >= in->job->segment_count) return -1;
      in->zs.next_in = (Bytef *)(in->job->data + in->job->segments[in->segment * 2]);
      in->zs.avail_in = (uInt)in->job->segments[in->segment * 2 + 1];
      in->segment++;
      continue;
    }
    int status = inflate(&in->zs, Z_NO_FLUSH);
    if (status == Z_STREAM_END && in->zs.avail_out > 0) return -1;
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) return -1;
  }
  return 0;
}

/* After the last row the zlib stream must end (checksum verified) with no pixel data left over. */
static int finish_stream(inflater_t *in) {
  uint8_t extra;
  for (;;) {
    in->zs.next_out = &extra;
    in->zs.avail_out = 1;
    int status = inflate(&in->zs, Z_NO_FLUSH);
    if (status == Z_STREAM_END) return in->zs.avail_out == 1 ? 0 : -1;
    if (in->zs.avail_out == 0 || (status != Z_OK && status != Z_BUF_ERROR)) return -1;
    if (in->zs.avail_in == 0) {
      if (in->segment >= in->job->segment_count) return -1;
      in->zs.next_in = (Bytef *)(in->job->data + in->job->segments[in->segment * 2]);
      in->zs.avail_in = (uInt)in->job->segments[in->segment * 2 + 1];
      in->segment++;
    }
  }
}

static inline uint8_t paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* Reverses the PNG filter of one row in place; prev is the unfiltered previous row (zeros for the first). */
static int unfilter_row(uint8_t *row, const uint8_t *prev, size_t length, int bpp, int filter) {
  size_t i;
  switch (filter) {
    case 0: return 0;
    case 1:
      for (i = bpp; i < length; i++) row[i] = (uint8_t)(row[i] + row[i - bpp]);
      return 0;
    case 2:
      for (i = 0; i < length; i++) row[i] = (uint8_t)(row[i] + prev[i]);
      return 0;
    case 3:
      for (i = 0; i < (size_t)bpp && i < length; i++) row[i] = (uint8_t)(row[i] + (prev[i] >> 1));
      for (; i < length; i++) row[i] = (uint8_t)(row[i] + ((row[i - bpp] + prev[i]) >> 1));
      return 0;
    case 4:
      for (i = 0; i < (size_t)bpp && i < length; i++) row[i] = (uint8_t)(row[i] + prev[i]);
      for (; i < length; i++) row[i] = (uint8_t)(row[i] + paeth(row[i - bpp], prev[i], prev[i - bpp]));
      return 0;
    default: return -1;
  }
}

/* Pillow 9's modes and convert("L"): 1/2/4-bit grey scaled to 0–255, 16-bit grey ("I") clipped at 255,
 * other 16-bit samples by their high byte, palette through its L table, alpha ignored, no gamma. */
static void convert_row_to_luma(const png_job_t *job, const uint8_t *row, int n, uint8_t *out) {
  int depth = job->bit_depth;
  switch (job->color_type) {
    case 0:
      if (depth == 8) memcpy(out, row, (size_t)n);
      else if (depth == 16) for (int x = 0; x < n; x++) out[x] = row[x * 2] ? 255 : row[x * 2 + 1];
      else {
        int scale = depth == 1 ? 255 : depth == 2 ? 85 : 17;
        int per_byte = 8 / depth, mask = (1 << depth) - 1;
        for (int x = 0; x < n; x++) out[x] = (uint8_t)(((row[x / per_byte] >> (8 - depth * (x % per_byte + 1))) & mask) * scale);
      }
      return;
    case 3:
      if (depth == 8) for (int x = 0; x < n; x++) out[x] = job->palette_luma[row[x]];
      else {
        int per_byte = 8 / depth, mask = (1 << depth) - 1;
        for (int x = 0; x < n; x++) out[x] = job->palette_luma[(row[x / per_byte] >> (8 - depth * (x % per_byte + 1))) & mask];
      }
      return;
    case 4: {
      int stride = depth == 16 ? 4 : 2;
      for (int x = 0; x < n; x++) out[x] = row[x * stride];
      return;
    }
    default: { /* 2: RGB, 6: RGBA */
      int step = (job->color_type == 2 ? 3 : 4) * (depth == 16 ? 2 : 1);
      int c = depth == 16 ? 2 : 1;
      const uint8_t *p = row;
      for (int x = 0; x < n; x++, p += step) out[x] = dhash_luma24(p[0], p[c], p[2 * c]);
      return;
    }
  }
}

static size_t get_row_bytes(const png_job_t *job, int pixels) {
  return ((size_t)pixels * get_channels(job->color_type) * job->bit_depth + 7) / 8;
}

/* Adam7: pass origin and step, column then row. */
static const int ADAM7[7][4] = {{0, 8, 0, 8}, {4, 8, 0, 8}, {0, 4, 4, 8}, {2, 4, 0, 4}, {0, 2, 2, 4}, {1, 2, 0, 2}, {0, 1, 1, 2}};

static int decode_rows(png_job_t *job, inflater_t *in, uint8_t *cur, uint8_t *prev, uint8_t *luma, uint8_t *image) {
  int bpp = (get_channels(job->color_type) * job->bit_depth + 7) / 8;
  int passes = job->is_interlaced ? 7 : 1;
  for (int pass = 0; pass < passes; pass++) {
    int x0 = job->is_interlaced ? ADAM7[pass][0] : 0, dx = job->is_interlaced ? ADAM7[pass][1] : 1;
    int y0 = job->is_interlaced ? ADAM7[pass][2] : 0, dy = job->is_interlaced ? ADAM7[pass][3] : 1;
    int pass_width = (job->width - x0 + dx - 1) / dx, pass_height = (job->height - y0 + dy - 1) / dy;
    if (pass_width <= 0 || pass_height <= 0) continue;
    size_t row_bytes = get_row_bytes(job, pass_width);
    memset(prev, 0, row_bytes + 1);
    for (int j = 0; j < pass_height; j++) {
      if (inflate_exactly(in, cur, row_bytes + 1) != 0) {
        snprintf(job->error, DHASH_ERROR_BYTES, "the IDAT stream ended or broke at row %d of pass %d", j, pass + 1);
        return -1;
      }
      if (unfilter_row(cur + 1, prev + 1, row_bytes, bpp, cur[0]) != 0) {
        snprintf(job->error, DHASH_ERROR_BYTES, "unknown filter type %d", cur[0]);
        return -1;
      }
      int y = y0 + j * dy;
      if (image == NULL) {
        if (y >= job->h.first_row && y < job->h.first_row + job->h.row_count) {
          convert_row_to_luma(job, cur + 1, pass_width, luma);
          dhash_hpass_row(&job->h, luma, y);
        }
      } else {
        convert_row_to_luma(job, cur + 1, pass_width, luma);
        uint8_t *target = image + (size_t)y * job->width;
        for (int i = 0; i < pass_width; i++) target[x0 + i * dx] = luma[i];
      }
      uint8_t *swap = prev;
      prev = cur;
      cur = swap;
    }
  }
  return 0;
}

int dhash_decode_png_rows(png_job_t *job) {
  if (get_channels(job->color_type) == 0 || (job->color_type == 3 && job->palette_luma == NULL)) {
    snprintf(job->error, DHASH_ERROR_BYTES, "unsupported colour type %d", job->color_type);
    return -1;
  }
  size_t row_bytes = get_row_bytes(job, job->width);
  /* cur/prev carry the filter byte at [0]; prev's is never read, and a zero first row serves the filters. */
  uint8_t *cur = malloc(row_bytes + 1), *prev = calloc(row_bytes + 1, 1), *luma = malloc((size_t)job->width);
  /* Interlaced rows arrive pass by pass, so the whole L image is assembled first (the pixel limit was checked). */
  uint8_t *image = job->is_interlaced ? malloc((size_t)job->width * job->height) : NULL;
  inflater_t in = {.job = job, .segment = 0};
  int result = -1;
  if (cur == NULL || prev == NULL || luma == NULL || (job->is_interlaced && image == NULL)) {
    snprintf(job->error, DHASH_ERROR_BYTES, "out of memory for a %dx%d PNG", job->width, job->height);
  } else if (inflateInit(&in.zs) != Z_OK) {
    snprintf(job->error, DHASH_ERROR_BYTES, "zlib cannot start");
  } else {
    result = decode_rows(job, &in, cur, prev, luma, image);
    if (result == 0 && finish_stream(&in) != 0) {
      snprintf(job->error, DHASH_ERROR_BYTES, "the IDAT stream does not end cleanly after the last row");
      result = -1;
    }
    inflateEnd(&in.zs);
    if (result == 0 && image != NULL) {
      for (int y = job->h.first_row; y < job->h.first_row + job->h.row_count; y++) dhash_hpass_row(&job->h, image + (size_t)y * job->width, y);
    }
  }
  free(cur);
  free(prev);
  free(luma);
  free(image);
  return result;
}
