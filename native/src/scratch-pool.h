/* A process-wide pool of large scratch buffers reused between decodes (see scratch-pool.c). */
#ifndef DHASH_SCRATCH_POOL_H
#define DHASH_SCRATCH_POOL_H

#include <stddef.h>
#include <stdint.h>

/* A buffer of at least `size` bytes, from the pool when one fits, else newly allocated; NULL when out of memory. */
uint8_t *dhash_take_scratch(size_t size);
/* Gives a buffer from dhash_take_scratch back (kept for the next decode, or freed past the pool's cap). NULL is a no-op. */
void dhash_release_scratch(uint8_t *buffer);

#endif
