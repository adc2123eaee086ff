/* N-API face of the dhash decoders: header reads run inline, decodes on the libuv thread pool and return a Promise. */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
#include <string.h>
#include <zlib.h>
#include "rows.h"
#include "hash-probe.h"

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return throw_last(env);    \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool is_pending = false;
  napi_is_exception_pending(env, &is_pending);
  if (!is_pending) napi_throw_error(env, "EDHASHNATIVE", info && info->error_message ? info->error_message : "N-API call failed");
  return NULL;
}

typedef struct {
  void *data;
  size_t length;
} bytes_t;

/* Any TypedArray or Buffer argument: its bytes and byte length (the memory stays owned by JavaScript). */
static int get_bytes(napi_env env, napi_value value, bytes_t *out) {
  napi_typedarray_type type;
  size_t length;
  napi_value arraybuffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, &out->data, &arraybuffer, &offset) != napi_ok) return -1;
  static const size_t SIZES[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 8};
  out->length = length * SIZES[type];
  return 0;
}

typedef enum { JOB_JPEG, JOB_PNG } job_kind_t;

typedef struct {
  job_kind_t kind;
  jpeg_job_t jpeg;
  png_job_t png;
  hpass_t *h;
  char *error;
  int status;
  napi_ref refs[5];
  int ref_count;
  napi_deferred deferred;
  napi_async_work work;
} job_t;

static void execute_job(napi_env env, void *data) {
  (void)env;
  job_t *job = data;
  job->status = job->kind == JOB_JPEG ? dhash_decode_jpeg_rows(&job->jpeg) : dhash_decode_png_rows(&job->png);
}

static void complete_job(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value result;
  if (status == napi_ok && job->status == 0) {
    void *copy;
    napi_create_buffer_copy(env, (size_t)job->h->row_count * job->h->out_width, job->h->out, &copy, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, job->error[0] ? job->error : "decode failed", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  for (int i = 0; i < job->ref_count; i++) napi_delete_reference(env, job->refs[i]);
  napi_delete_async_work(env, job->work);
  free(job->h->out);
  free(job);
}

/* Keeps an argument's memory alive until the job completes. */
static int hold(napi_env env, job_t *job, napi_value value) {
  return napi_create_reference(env, value, 1, &job->refs[job->ref_count++]) == napi_ok ? 0 : -1;
}

/* Reads the shared trailing arguments (bounds, weights, kernelSize, outWidth, firstRow, rowCount) from argv[at]. */
static int read_hpass(napi_env env, job_t *job, napi_value *argv, int at) {
  bytes_t bounds, weights;
  hpass_t *h = job->h;
  if (get_bytes(env, argv[at], &bounds) || get_bytes(env, argv[at + 1], &weights)) return -1;
  if (hold(env, job, argv[at]) || hold(env, job, argv[at + 1])) return -1;
  if (napi_get_value_int32(env, argv[at + 2], &h->kernel_size) || napi_get_value_int32(env, argv[at + 3], &h->out_width) ||
      napi_get_value_int32(env, argv[at + 4], &h->first_row) || napi_get_value_int32(env, argv[at + 5], &h->row_count)) return -1;
  if (h->out_width <= 0 || h->row_count <= 0 || h->kernel_size <= 0) return -1;
  if (bounds.length < (size_t)h->out_width * 8 || weights.length < (size_t)h->out_width * h->kernel_size * 4) return -1;
  h->bounds = bounds.data;
  h->weights = weights.data;
  h->out = calloc((size_t)h->row_count * h->out_width, 1);
  return h->out == NULL ? -1 : 0;
}

static napi_value queue_job(napi_env env, job_t *job) {
  napi_value promise, name;
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  CHECK(napi_create_string_utf8(env, job->kind == JOB_JPEG ? "dhashJpegRows" : "dhashPngRows", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, execute_job, complete_job, job, &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  return promise;
}

static napi_value fail_job(napi_env env, job_t *job, const char *message) {
  for (int i = 0; i < job->ref_count; i++) napi_delete_reference(env, job->refs[i]);
  free(job->h->out);
  free(job);
  napi_throw_type_error(env, "EDHASHNATIVE", message);
  return NULL;
}

/* readJpegInfo(bytes, scaleDenom) → [width, height, components, jpegColorSpace, outWidth, outHeight, isProgressive]; throws. */
static napi_value read_jpeg_info(napi_env env, napi_callback_info cb) {
  size_t argc = 2;
  napi_value argv[2], result;
  int scale_denom, info[7];
  char error[DHASH_ERROR_BYTES] = {0};
  bytes_t bytes;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (argc < 2 || get_bytes(env, argv[0], &bytes) || napi_get_value_int32(env, argv[1], &scale_denom)) {
    napi_throw_type_error(env, "EDHASHNATIVE", "readJpegInfo(bytes, scaleDenom)");
    return NULL;
  }
  if (dhash_read_jpeg_info(bytes.data, bytes.length, scale_denom, info, error) != 0) {
    napi_throw_error(env, "EDHASHJPEG", error);
    return NULL;
  }
  CHECK(napi_create_array_with_length(env, 7, &result));
  for (uint32_t i = 0; i < 7; i++) {
    napi_value v;
    CHECK(napi_create_int32(env, info[i], &v));
    CHECK(napi_set_element(env, result, i, v));
  }
  return result;
}

/* decodeJpegRows(bytes, scaleDenom, isFast, bounds, weights, kernelSize, outWidth, firstRow, rowCount) → Promise<Buffer>. */
static napi_value decode_jpeg_rows(napi_env env, napi_callback_info cb) {
  size_t argc = 9;
  napi_value argv[9];
  bytes_t bytes;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  job_t *job = calloc(1, sizeof(job_t));
  if (job == NULL) return fail_job(env, job, "out of memory");
  job->kind = JOB_JPEG;
  job->h = &job->jpeg.h;
  job->error = job->jpeg.error;
  bool is_fast = false;
  if (argc < 9 || get_bytes(env, argv[0], &bytes) || hold(env, job, argv[0]) ||
      napi_get_value_int32(env, argv[1], &job->jpeg.scale_denom) || napi_get_value_bool(env, argv[2], &is_fast) ||
      read_hpass(env, job, argv, 3)) {
    return fail_job(env, job, "decodeJpegRows(bytes, scaleDenom, isFast, bounds, weights, kernelSize, outWidth, firstRow, rowCount)");
  }
  job->jpeg.data = bytes.data;
  job->jpeg.size = bytes.length;
  job->jpeg.is_fast = is_fast;
  return queue_job(env, job);
}

/* decodePngRows(bytes, segments, width, height, bitDepth, colorType, isInterlaced, paletteLuma | null,
 *               bounds, weights, kernelSize, outWidth, firstRow, rowCount, inflater, step) → Promise<Buffer>.
 * inflater: 0 auto, 1 streaming zlib, 2 libdeflate, 3 our own (png_inflater_t); 2 falls back to zlib without libdeflate.
 * step 2 (fast mode) converts and resamples only every 2nd row and column; firstRow/rowCount count kept rows. */
static napi_value decode_png_rows(napi_env env, napi_callback_info cb) {
  size_t argc = 16;
  napi_value argv[16];
  bytes_t bytes, segments, palette = {NULL, 0};
  napi_valuetype palette_type;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  job_t *job = calloc(1, sizeof(job_t));
  if (job == NULL) return fail_job(env, job, "out of memory");
  job->kind = JOB_PNG;
  job->h = &job->png.h;
  job->error = job->png.error;
  png_job_t *png = &job->png;
  bool is_interlaced = false;
  int32_t inflater = 0;
  if (argc < 16 || get_bytes(env, argv[0], &bytes) || hold(env, job, argv[0]) || get_bytes(env, argv[1], &segments) ||
      hold(env, job, argv[1]) || napi_get_value_int32(env, argv[2], &png->width) || napi_get_value_int32(env, argv[3], &png->height) ||
      napi_get_value_int32(env, argv[4], &png->bit_depth) || napi_get_value_int32(env, argv[5], &png->color_type) ||
      napi_get_value_bool(env, argv[6], &is_interlaced) || napi_typeof(env, argv[7], &palette_type) ||
      (palette_type != napi_null && (get_bytes(env, argv[7], &palette) || palette.length < 256 || hold(env, job, argv[7]))) ||
      read_hpass(env, job, argv, 8) || napi_get_value_int32(env, argv[14], &inflater) || inflater < 0 || inflater > 3 ||
      napi_get_value_int32(env, argv[15], &png->step) || png->width <= 0 || png->height <= 0) {
    return fail_job(env, job, "decodePngRows(bytes, segments, width, height, bitDepth, colorType, isInterlaced, paletteLuma, bounds, weights, kernelSize, outWidth, firstRow, rowCount, inflater, step)");
  }
  int32_t *pairs = segments.data;
  png->segment_count = (int)(segments.length / 8);
  for (int i = 0; i < png->segment_count; i++) {
    if (pairs[i * 2] < 0 || pairs[i * 2 + 1] < 0 || (size_t)pairs[i * 2] + (size_t)pairs[i * 2 + 1] > bytes.length) {
      return fail_job(env, job, "an IDAT segment lies outside the bytes");
    }
  }
  png->data = bytes.data;
  png->size = bytes.length;
  png->segments = pairs;
  png->is_interlaced = is_interlaced;
  png->palette_luma = palette.data;
  png->inflater = (png_inflater_t)inflater;
  return queue_job(env, job);
}

/* A typed array argument of the given type: its data and element count. */
static int get_typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *count) {
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, count, data, &arraybuffer, &offset) != napi_ok) return -1;
  return type == want ? 0 : -1;
}

/*
 * probeTable(offsets, filter, rest, at, hi, lo, alive, masks, query, out) → hit count (may exceed out's room).
 * query: Uint32Array [key, filter, rest, hi, lo, radius]; out: Uint32Array of (position, distance) pairs. Runs
 * inline: a probe takes microseconds, far less than handing it to the thread pool would.
 */
static napi_value probe_table(napi_env env, napi_callback_info cb) {
  size_t argc = 10;
  napi_value argv[10], result;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  void *offsets, *filter, *rest, *at, *hi, *lo, *alive, *masks, *query, *out;
  size_t offset_count, filter_count, rest_count, at_count, hi_count, lo_count, alive_count, mask_count, query_count,
      out_count;
  if (argc < 10 || get_typed(env, argv[0], napi_uint32_array, &offsets, &offset_count) ||
      get_typed(env, argv[1], napi_uint32_array, &filter, &filter_count) ||
      get_typed(env, argv[2], napi_uint16_array, &rest, &rest_count) ||
      get_typed(env, argv[3], napi_uint32_array, &at, &at_count) ||
      get_typed(env, argv[4], napi_uint32_array, &hi, &hi_count) ||
      get_typed(env, argv[5], napi_uint32_array, &lo, &lo_count) ||
      get_typed(env, argv[6], napi_uint8_array, &alive, &alive_count) ||
      get_typed(env, argv[7], napi_uint32_array, &masks, &mask_count) ||
      get_typed(env, argv[8], napi_uint32_array, &query, &query_count) ||
      get_typed(env, argv[9], napi_uint32_array, &out, &out_count) || offset_count < 1 ||
      filter_count != rest_count + 1 || at_count != rest_count || lo_count != hi_count || alive_count != hi_count ||
      query_count < 6 || rest_count > UINT32_MAX || hi_count > UINT32_MAX || offset_count > UINT32_MAX) {
    napi_throw_type_error(env, "EDHASHNATIVE", "probeTable(offsets, filter, rest, at, hi, lo, alive, masks, query, out)");
    return NULL;
  }
  const uint32_t *q = query;
  probe_table_t table = {offsets, filter, rest, at, (uint32_t)offset_count - 1, (uint32_t)rest_count,
                         hi, lo, alive, (uint32_t)hi_count};
  probe_query_t probe = {q[0], q[1], q[2], q[3], q[4], (int)q[5]};
  long hits = dhash_probe_table(&table, masks, (uint32_t)mask_count, &probe, out, (uint32_t)(out_count / 2));
  if (hits < 0) {
    napi_throw_error(env, "EDHASHNATIVE", hits == -1 ? "probeTable: a table offset or entry lies outside its arrays"
                                                     : "probeTable: out of memory");
    return NULL;
  }
  CHECK(napi_create_double(env, (double)hits, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    {"readJpegInfo", NULL, read_jpeg_info, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decodeJpegRows", NULL, decode_jpeg_rows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decodePngRows", NULL, decode_png_rows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"probeTable", NULL, probe_table, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties));
  napi_value jpeg_version, zlib_text, inflater;
  CHECK(napi_create_string_utf8(env, dhash_get_png_inflater(), NAPI_AUTO_LENGTH, &inflater));
  CHECK(napi_set_named_property(env, exports, "pngInflater", inflater));
  CHECK(napi_create_int32(env, JPEG_LIB_VERSION, &jpeg_version));
  CHECK(napi_set_named_property(env, exports, "jpegLibVersion", jpeg_version));
  CHECK(napi_create_string_utf8(env, zlibVersion(), NAPI_AUTO_LENGTH, &zlib_text));
  CHECK(napi_set_named_property(env, exports, "zlibVersion", zlib_text));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
