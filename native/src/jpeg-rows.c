/* JPEG → Pillow's L rows through the system libjpeg-turbo, with the settings Pillow's JpegDecode uses (islow, fancy upsampling). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "rows.h"

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf escape;
  char *error;
} error_mgr_t;

static void on_error_exit(j_common_ptr cinfo) {
  error_mgr_t *mgr = (error_mgr_t *)cinfo->err;
  char message[JMSG_LENGTH_MAX];
  mgr->base.format_message(cinfo, message);
  snprintf(mgr->error, DHASH_ERROR_BYTES, "%s", message);
  longjmp(mgr->escape, 1);
}

/* A warning (premature end of data, corrupt entropy data) fails the fast path: the caller then asks sharp,
 * so such files get exactly the answer they got before this decoder existed. */
static void on_emit_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) on_error_exit(cinfo);
}

static void open_decoder(struct jpeg_decompress_struct *cinfo, error_mgr_t *mgr, char *error) {
  cinfo->err = jpeg_std_error(&mgr->base);
  mgr->base.error_exit = on_error_exit;
  mgr->base.emit_message = on_emit_message;
  mgr->error = error;
}

int dhash_read_jpeg_info(const uint8_t *data, size_t size, int scale_denom, int info[7], char *error) {
  struct jpeg_decompress_struct cinfo;
  error_mgr_t mgr;
  open_decoder(&cinfo, &mgr, error);
  if (setjmp(mgr.escape)) {
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned)scale_denom;
  jpeg_calc_output_dimensions(&cinfo);
  info[0] = (int)cinfo.image_width;
  info[1] = (int)cinfo.image_height;
  info[2] = cinfo.num_components;
  info[3] = (int)cinfo.jpeg_color_space;
  info[4] = (int)cinfo.output_width;
  info[5] = (int)cinfo.output_height;
  info[6] = cinfo.progressive_mode ? 1 : 0;
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

int dhash_decode_jpeg_rows(jpeg_job_t *job) {
  struct jpeg_decompress_struct cinfo;
  error_mgr_t mgr;
  /* volatile: these are read after a longjmp back into this frame. */
  uint8_t *volatile row = NULL;
  uint8_t *volatile luma = NULL;
  open_decoder(&cinfo, &mgr, job->error);
  if (setjmp(mgr.escape)) {
    jpeg_destroy_decompress(&cinfo);
    free(row);
    free(luma);
    return -1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, job->data, (unsigned long)job->size);
  jpeg_read_header(&cinfo, TRUE);
  /* Pillow opens 1 component as L and 3 as RGB; CMYK/YCCK (4) and anything else stay with sharp. */
  int is_gray = cinfo.num_components == 1;
  if (!is_gray && cinfo.num_components != 3) {
    snprintf(job->error, DHASH_ERROR_BYTES, "unsupported JPEG with %d components", cinfo.num_components);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  cinfo.out_color_space = is_gray ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned)job->scale_denom;
  if (job->is_fast) {
    cinfo.dct_method = JDCT_IFAST;
    cinfo.do_fancy_upsampling = FALSE;
  }
  jpeg_start_decompress(&cinfo);
  int width = (int)cinfo.output_width;
  int components = cinfo.output_components;
  row = malloc((size_t)width * components);
  luma = is_gray ? NULL : malloc((size_t)width);
  if (row == NULL || (!is_gray && luma == NULL)) {
    snprintf(job->error, DHASH_ERROR_BYTES, "out of memory for a %d-pixel row", width);
    longjmp(mgr.escape, 1);
  }
  JSAMPROW rows[1] = {row};
  while (cinfo.output_scanline < cinfo.output_height) {
    int y = (int)cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, rows, 1);
    if (y < job->h.first_row || y >= job->h.first_row + job->h.row_count) continue;
    if (!is_gray) {
      dhash_convert_rgb_to_luma(row, 3, width, luma);
    }
    dhash_hpass_row(&job->h, is_gray ? row : luma, y);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(row);
  free(luma);
  return 0;
}
