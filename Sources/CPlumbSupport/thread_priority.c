// Per-thread nice value: on Linux, setpriority(PRIO_PROCESS, tid, ...) applies to one thread.
#define _GNU_SOURCE
#include "plumb_support.h"
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
int plumb_lower_thread_priority(int nice_value) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice_value);
}
#else
int plumb_lower_thread_priority(int nice_value) { (void)nice_value; return -1; }
#endif

// Whether this thread's segment reads skip the process's page cache (a background writer
// reading each segment once must not push out what queries read again).
static __thread int page_cache_bypass = 0;
void plumb_set_page_cache_bypass(int on) { page_cache_bypass = on; }
int plumb_page_cache_bypass(void) { return page_cache_bypass; }
