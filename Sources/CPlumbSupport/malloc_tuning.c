// mallopt is declared in <malloc.h>, which Swift's Glibc module does not import.
#include "plumb_support.h"
#if defined(__GLIBC__)
#include <malloc.h>
void plumb_tune_malloc(int arena_max, int mmap_threshold, int trim_threshold, int top_pad) {
    mallopt(M_ARENA_MAX, arena_max);
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_TOP_PAD, top_pad);
}
#else
void plumb_tune_malloc(int arena_max, int mmap_threshold, int trim_threshold, int top_pad) {
    (void)arena_max; (void)mmap_threshold; (void)trim_threshold; (void)top_pad;
}
#endif
