/* A process-wide pool of large scratch buffers reused between decodes, so their pages fault in once. */
#include <pthread.h>
#include <stdlib.h>
#include "scratch-pool.h"

/*
 * Why a pool: a fresh multi-megabyte malloc is an mmap whose every page faults and is zeroed on first touch, which
 * costs about a tenth of a decode. It is shared by all threads because the libuv pool hands consecutive decodes to
 * different threads: buffers kept per thread were cold for the next image about as often as not. The cap bounds what
 * an idle process holds (the old per-thread scratch could hold 4 threads × 2 × 8 MiB, the same 64 MiB).
 */
#define POOL_SLOTS 4
#define POOL_CAP_BYTES ((size_t)64 << 20)

/* Each buffer carries its size in a header just before the bytes handed out. */
typedef struct {
  size_t size;
  size_t padding; /* keeps the bytes 16-byte aligned, as malloc's are */
} header_t;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static header_t *pool[POOL_SLOTS];
static size_t pool_bytes;

uint8_t *dhash_take_scratch(size_t size) {
  header_t *found = NULL;
  pthread_mutex_lock(&pool_lock);
  int best = -1;
  for (int i = 0; i < POOL_SLOTS; i++)
    if (pool[i] != NULL && pool[i]->size >= size && (best < 0 || pool[i]->size < pool[best]->size)) best = i;
  if (best >= 0) {
    found = pool[best];
    pool[best] = NULL;
    pool_bytes -= found->size;
  }
  pthread_mutex_unlock(&pool_lock);
  if (found == NULL) {
    /* An eighth more than asked, so the next image of about the same size reuses it instead of faulting in new pages. */
    size_t room = size + size / 8;
    found = malloc(sizeof(header_t) + room);
    if (found == NULL) return NULL;
    found->size = room;
  }
  return (uint8_t *)(found + 1);
}

void dhash_release_scratch(uint8_t *buffer) {
  if (buffer == NULL) return;
  header_t *header = (header_t *)buffer - 1;
  pthread_mutex_lock(&pool_lock);
  /* Keep it if there is room; else let it replace the smallest kept buffer when it is larger (more reusable). */
  int slot = -1, smallest = -1;
  for (int i = 0; i < POOL_SLOTS; i++) {
    if (pool[i] == NULL) {
      if (slot < 0) slot = i;
    } else if (smallest < 0 || pool[i]->size < pool[smallest]->size) {
      smallest = i;
    }
  }
  header_t *evicted = NULL;
  if (slot < 0 && smallest >= 0 && pool[smallest]->size < header->size) {
    evicted = pool[smallest];
    pool[smallest] = NULL;
    pool_bytes -= evicted->size;
    slot = smallest;
  }
  if (slot >= 0 && pool_bytes + header->size <= POOL_CAP_BYTES) {
    pool[slot] = header;
    pool_bytes += header->size;
    header = NULL;
  }
  pthread_mutex_unlock(&pool_lock);
  free(evicted);
  free(header);
}
