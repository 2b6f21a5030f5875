#ifndef PLUMB_SUPPORT_H
#define PLUMB_SUPPORT_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SSE4.2 CRC32 instruction.
int plumb_crc32c_hw_available(void);

/// CRC-32C update with the SSE4.2 instruction: `crc` is the running (already inverted) value.
/// Only call when plumb_crc32c_hw_available() returned 1.
uint32_t plumb_crc32c_hw(uint32_t crc, const void *data, size_t length);

/// glibc malloc settings for the store pipeline (see MemoryTuning.swift); no-op elsewhere.
void plumb_tune_malloc(int arena_max, int mmap_threshold, int trim_threshold, int top_pad);
/// Returns free heap pages to the system (malloc_trim(0)); 0 elsewhere.
int plumb_malloc_trim(void);
/// malloc's own figures (mallinfo2): bytes obtained from the system (heap + mmapped), in use, free in the heap.
void plumb_malloc_figures(unsigned long long *system, unsigned long long *in_use, unsigned long long *free_bytes);

/// Lowers the calling thread's scheduling priority (Linux: per-thread nice value), so that
/// background work yields the CPU to request handling. Returns 0 on success.
int plumb_lower_thread_priority(int nice_value);
void plumb_set_page_cache_bypass(int on);
int plumb_page_cache_bypass(void);

/// Starts writing a file range back to disk without waiting (Linux: sync_file_range with
/// SYNC_FILE_RANGE_WRITE); a later fsync then has less left to wait for. Returns 0 on success.
int plumb_start_writeback(int fd, int64_t offset, int64_t length);

/// Spreads `dense` (present values of `width` bytes, 4 or 8) to `rows` rows by `valid` (one
/// 0/1 byte per row; NULL rows get 0) into `out`, as far as it can with AVX-512; returns the
/// number of rows done (0 without AVX-512) and in `used` the values they took. It never reads
/// past `ndense` values: the caller finishes the rest, and rows the values cannot fill, itself.
size_t plumb_spread(const void *dense, size_t ndense, const _Bool *valid, size_t rows, void *out, int width, size_t *used);

#endif
