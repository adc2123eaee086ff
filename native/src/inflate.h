/* Whole-buffer zlib inflate for PNG IDAT streams (see inflate.c for why it exists). */
#ifndef DHASH_INFLATE_H
#define DHASH_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Inflates the zlib stream in[0, in_bytes) into exactly out_bytes bytes and checks its Adler-32 with adler32_of
 * (zlib's when NULL). Bytes after the stream's checksum are ignored, as libdeflate does. 0 on success; -1 when the
 * stream is corrupt, truncated, or inflates to more or fewer bytes. Thread-safe; reads nothing outside its buffers.
 */
int dhash_inflate_zlib(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t out_bytes,
                       uint32_t (*adler32_of)(const uint8_t *data, size_t length));

#endif
