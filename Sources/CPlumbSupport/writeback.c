// Starts writeback of a file range without waiting for it (Linux sync_file_range), so that a
// later fsync finds most pages already on disk. Not a durability guarantee by itself.
#define _GNU_SOURCE
#include "plumb_support.h"
#if defined(__linux__)
#include <fcntl.h>
int plumb_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
}
#else
int plumb_start_writeback(int fd, int64_t offset, int64_t length) { (void)fd; (void)offset; (void)length; return -1; }
#endif
