/* PNG IDAT → Pillow's L rows: whole-buffer or streaming inflate, unfilter, Pillow's unpack + convert("L"), then the horizontal pass. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "inflate.h"
#include "scratch-pool.h"
#include "rows.h"

/* Whole-buffer inflate (ours or libdeflate, about twice zlib's speed) up to this much raw data; past it, zlib streams. */
#define FLAT_INFLATE_MAX_BYTES ((size_t)96 << 20)

/* libdeflate's stable C API (libdeflate.h), loaded at run time: libdeflate0 ships with libtiff, so it is on any
 * machine with Pillow, while its -dev package usually is not. Without it, zlib streams every image. */
typedef struct {
  void *(*alloc_decompressor)(void);
  int (*zlib_decompress)(void *decompressor, const void *in, size_t in_bytes, void *out, size_t out_bytes, size_t *actual_out);
  void (*free_decompressor)(void *decompressor);
  uint32_t (*crc32)(uint32_t crc, const void *data, size_t length);
  uint32_t (*adler32)(uint32_t adler, const void *data, size_t length);
} libdeflate_t;

static libdeflate_t libdeflate;
static pthread_once_t libdeflate_once = PTHREAD_ONCE_INIT;

static void load_libdeflate(void) {
  void *library = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) return;
  libdeflate_t found = {
    .alloc_decompressor = (void *(*)(void))dlsym(library, "libdeflate_alloc_decompressor"),
    .zlib_decompress = (int (*)(void *, const void *, size_t, void *, size_t, size_t *))dlsym(library, "libdeflate_zlib_decompress"),
    .free_decompressor = (void (*)(void *))dlsym(library, "libdeflate_free_decompressor"),
    .crc32 = (uint32_t(*)(uint32_t, const void *, size_t))dlsym(library, "libdeflate_crc32"),
    .adler32 = (uint32_t(*)(uint32_t, const void *, size_t))dlsym(library, "libdeflate_adler32"),
  };
  if (found.alloc_decompressor && found.zlib_decompress && found.free_decompressor && found.crc32 && found.adler32) libdeflate = found;
}

/* Adler-32 for our own inflater: libdeflate's (SIMD) when loaded, else zlib's. */
static uint32_t get_adler32(const uint8_t *data, size_t length) {
  if (libdeflate.adler32) return libdeflate.adler32(1, data, length);
  return (uint32_t)adler32_z(adler32(0, NULL, 0), data, length);
}

const char *dhash_get_png_inflater(void) {
  pthread_once(&libdeflate_once, load_libdeflate);
  return libdeflate.zlib_decompress ? "libdeflate" : "zlib";
}

typedef struct {
  z_stream zs;
  png_job_t *job;
  int segment; /* next IDAT segment to feed */
  /* Streaming: rows alternate between two buffers. Flat: the whole inflated stream, rows unfiltered in place. */
  uint8_t *rows[2];
  int next;
  uint8_t *flat;
  size_t flat_at, flat_size;
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

/* The next filtered row (filter byte first), or NULL when the stream ends or breaks first. */
static uint8_t *read_row(inflater_t *in, size_t length) {
  if (in->flat != NULL) {
    if (in->flat_at + length > in->flat_size) return NULL;
    uint8_t *row = in->flat + in->flat_at;
    in->flat_at += length;
    return row;
  }
  uint8_t *row = in->rows[in->next];
  in->next ^= 1;
  return inflate_exactly(in, row, length) == 0 ? row : NULL;
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
      if (depth == 8) {
        dhash_convert_rgb_to_luma(row, step, n, out);
        return;
      }
      const uint8_t *p = row;
      for (int x = 0; x < n; x++, p += step) out[x] = dhash_luma24(p[0], p[2], p[4]);
      return;
    }
  }
}

/* convert_row_to_luma on every job->step-th pixel (fast mode), written densely. */
static void convert_sampled_row(const png_job_t *job, const uint8_t *row, int n, uint8_t *out) {
  if (job->step == 1) {
    convert_row_to_luma(job, row, n, out);
    return;
  }
  int kept = (n + job->step - 1) / job->step;
  if (job->bit_depth == 8 && (job->color_type == 2 || job->color_type == 6)) {
    dhash_convert_rgb_to_luma(row, (job->color_type == 2 ? 3 : 4) * job->step, kept, out);
    return;
  }
  convert_row_to_luma(job, row, n, out);
  for (int i = 0; i < kept; i++) out[i] = out[i * job->step];
}

static size_t get_row_bytes(const png_job_t *job, int pixels) {
  return ((size_t)pixels * get_channels(job->color_type) * job->bit_depth + 7) / 8;
}

/* Adam7: pass origin and step, column then row. */
static const int ADAM7[7][4] = {{0, 8, 0, 8}, {4, 8, 0, 8}, {0, 4, 4, 8}, {2, 4, 0, 4}, {0, 2, 2, 4}, {1, 2, 0, 2}, {0, 1, 1, 2}};

static int decode_rows(png_job_t *job, inflater_t *in, const uint8_t *zeros, uint8_t *luma, uint8_t *image) {
  int bpp = (get_channels(job->color_type) * job->bit_depth + 7) / 8;
  int passes = job->is_interlaced ? 7 : 1;
  for (int pass = 0; pass < passes; pass++) {
    int x0 = job->is_interlaced ? ADAM7[pass][0] : 0, dx = job->is_interlaced ? ADAM7[pass][1] : 1;
    int y0 = job->is_interlaced ? ADAM7[pass][2] : 0, dy = job->is_interlaced ? ADAM7[pass][3] : 1;
    int pass_width = (job->width - x0 + dx - 1) / dx, pass_height = (job->height - y0 + dy - 1) / dy;
    if (pass_width <= 0 || pass_height <= 0) continue;
    size_t row_bytes = get_row_bytes(job, pass_width);
    const uint8_t *prev = zeros;
    for (int j = 0; j < pass_height; j++) {
      uint8_t *cur = read_row(in, row_bytes + 1);
      if (cur == NULL) {
        snprintf(job->error, DHASH_ERROR_BYTES, "the IDAT stream ended or broke at row %d of pass %d", j, pass + 1);
        return -1;
      }
      if (unfilter_row(cur + 1, prev + 1, row_bytes, bpp, cur[0]) != 0) {
        snprintf(job->error, DHASH_ERROR_BYTES, "unknown filter type %d", cur[0]);
        return -1;
      }
      int y = y0 + j * dy;
      if (image == NULL) {
        int kept = y / job->step; /* the row's index in the (possibly subsampled) image */
        if (y % job->step == 0 && kept >= job->h.first_row && kept < job->h.first_row + job->h.row_count) {
          convert_sampled_row(job, cur + 1, pass_width, luma);
          dhash_hpass_row(&job->h, luma, kept);
        }
      } else {
        convert_row_to_luma(job, cur + 1, pass_width, luma);
        uint8_t *target = image + (size_t)y * job->width;
        for (int i = 0; i < pass_width; i++) target[x0 + i * dx] = luma[i];
      }
      prev = cur;
    }
  }
  return 0;
}

/* Every IDAT's CRC (the 4 bytes before its payload are its type, the 4 after its CRC): libpng, and so sharp, refuse a bad one. */
static int check_idat_crcs(const png_job_t *job) {
  for (int i = 0; i < job->segment_count; i++) {
    size_t at = (size_t)job->segments[i * 2], length = (size_t)job->segments[i * 2 + 1];
    if (at < 4 || at + length + 4 > job->size) return -1;
    const uint8_t *tail = job->data + at + length;
    uint32_t expected = ((uint32_t)tail[0] << 24) | ((uint32_t)tail[1] << 16) | ((uint32_t)tail[2] << 8) | tail[3];
    const uint8_t *start = job->data + at - 4;
    uint32_t actual = libdeflate.crc32 ? libdeflate.crc32(0, start, length + 4) : (uint32_t)crc32(0, start, (uInt)(length + 4));
    if (actual != expected) return -1;
  }
  return 0;
}

static size_t get_stream_bytes(const png_job_t *job) {
  if (!job->is_interlaced) return (get_row_bytes(job, job->width) + 1) * job->height;
  size_t total = 0;
  for (int pass = 0; pass < 7; pass++) {
    int pass_width = (job->width - ADAM7[pass][0] + ADAM7[pass][1] - 1) / ADAM7[pass][1];
    int pass_height = (job->height - ADAM7[pass][2] + ADAM7[pass][3] - 1) / ADAM7[pass][3];
    if (pass_width > 0 && pass_height > 0) total += (get_row_bytes(job, pass_width) + 1) * pass_height;
  }
  return total;
}

/*
 * Which whole-buffer inflater takes a stream. Ours (inflate.c) decodes fixed-Huffman blocks about 1.3× as fast as
 * libdeflate 1.14 (two literals per dependent table load), while libdeflate is about 1.2× as fast on dynamic blocks
 * (bench:hash measures both). A stream's blocks are nearly always all of one kind, chosen by its encoder's settings,
 * so its first block header (the 3 bits after the 2-byte zlib header) decides.
 */
static int should_use_own_inflater(png_inflater_t choice, const uint8_t *input, size_t input_bytes) {
  if (choice == PNG_INFLATE_OWN) return 1;
  if (choice == PNG_INFLATE_LIBDEFLATE) return 0;
  return input_bytes > 2 && ((input[2] >> 1) & 3) == 1;
}

/* Inflates into one buffer; the stream must fill it exactly (and its Adler-32 match), else -1. */
static int inflate_flat(png_job_t *job, inflater_t *in) {
  size_t input_bytes = 0;
  for (int i = 0; i < job->segment_count; i++) input_bytes += (size_t)job->segments[i * 2 + 1];
  const uint8_t *input = job->data + (job->segment_count > 0 ? job->segments[0] : 0);
  uint8_t *joined = NULL;
  if (job->segment_count > 1) {
    joined = dhash_take_scratch(input_bytes);
    if (joined == NULL) return -1;
    for (size_t i = 0, at = 0; i < (size_t)job->segment_count; at += (size_t)job->segments[i * 2 + 1], i++) {
      memcpy(joined + at, job->data + job->segments[i * 2], (size_t)job->segments[i * 2 + 1]);
    }
    input = joined;
  }
  int status;
  if (should_use_own_inflater(job->inflater, input, input_bytes)) {
    status = dhash_inflate_zlib(input, input_bytes, in->flat, in->flat_size, get_adler32);
  } else {
    void *decompressor = libdeflate.alloc_decompressor();
    status = decompressor == NULL ? -1 : libdeflate.zlib_decompress(decompressor, input, input_bytes, in->flat, in->flat_size, NULL);
    if (decompressor != NULL) libdeflate.free_decompressor(decompressor);
  }
  dhash_release_scratch(joined);
  return status == 0 ? 0 : -1;
}

int dhash_decode_png_rows(png_job_t *job) {
  if (job->step != 1 && (job->step != 2 || job->is_interlaced)) {
    snprintf(job->error, DHASH_ERROR_BYTES, "row step %d is not supported here", job->step);
    return -1;
  }
  if (get_channels(job->color_type) == 0 || (job->color_type == 3 && job->palette_luma == NULL)) {
    snprintf(job->error, DHASH_ERROR_BYTES, "unsupported colour type %d", job->color_type);
    return -1;
  }
  /* Loaded before the CRC check: libdeflate's CRC-32 and Adler-32 are the fast ones. */
  int has_libdeflate = strcmp(dhash_get_png_inflater(), "libdeflate") == 0;
  if (check_idat_crcs(job) != 0) {
    snprintf(job->error, DHASH_ERROR_BYTES, "an IDAT chunk fails its CRC");
    return -1;
  }
  size_t row_bytes = get_row_bytes(job, job->width);
  size_t stream_bytes = get_stream_bytes(job);
  int is_flat = job->inflater != PNG_INFLATE_ZLIB && stream_bytes <= FLAT_INFLATE_MAX_BYTES &&
                (job->inflater == PNG_INFLATE_OWN || has_libdeflate);
  inflater_t in = {.job = job, .segment = 0};
  /* zeros stands in for the row above the first row of each pass (filter byte slot included). */
  uint8_t *zeros = calloc(row_bytes + 1, 1), *luma = malloc((size_t)job->width);
  in.rows[0] = is_flat ? NULL : malloc(row_bytes + 1);
  in.rows[1] = is_flat ? NULL : malloc(row_bytes + 1);
  in.flat = is_flat ? dhash_take_scratch(stream_bytes) : NULL;
  in.flat_size = stream_bytes;
  /* Interlaced rows arrive pass by pass, so the whole L image is assembled first (the pixel limit was checked). */
  uint8_t *image = job->is_interlaced ? malloc((size_t)job->width * job->height) : NULL;
  int result = -1;
  if (zeros == NULL || luma == NULL || (is_flat ? in.flat == NULL : in.rows[0] == NULL || in.rows[1] == NULL) ||
      (job->is_interlaced && image == NULL)) {
    snprintf(job->error, DHASH_ERROR_BYTES, "out of memory for a %dx%d PNG", job->width, job->height);
  } else if (is_flat) {
    if (inflate_flat(job, &in) != 0) snprintf(job->error, DHASH_ERROR_BYTES, "the IDAT stream is truncated, corrupt or too long");
    else result = decode_rows(job, &in, zeros, luma, image);
  } else if (inflateInit(&in.zs) != Z_OK) {
    snprintf(job->error, DHASH_ERROR_BYTES, "zlib cannot start");
  } else {
    result = decode_rows(job, &in, zeros, luma, image);
    if (result == 0 && finish_stream(&in) != 0) {
      snprintf(job->error, DHASH_ERROR_BYTES, "the IDAT stream does not end cleanly after the last row");
      result = -1;
    }
    inflateEnd(&in.zs);
  }
  if (result == 0 && image != NULL) {
    for (int y = job->h.first_row; y < job->h.first_row + job->h.row_count; y++) dhash_hpass_row(&job->h, image + (size_t)y * job->width, y);
  }
  free(zeros);
  free(luma);
  free(in.rows[0]);
  free(in.rows[1]);
  dhash_release_scratch(in.flat);
  free(image);
  return result;
}
